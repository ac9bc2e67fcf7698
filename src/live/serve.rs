//! Wires `livesell serve` together: the live input (replay and actions), the claim pipeline with its live hub, and the HTTP server.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

use super::app::App;
use super::auth::AuthConfig;
use super::durable::Journaled;
use super::input::{ACK_WAIT, LiveInput};
use super::limits::{BoundedListener, Limits};
use super::routes::router;
use super::webhook_state::WebhookConfig;
use crate::io::kafka::{DEFAULT_INPUT_TOPIC, KafkaAddress};
use crate::io::lines::{Deal, LineSource};
use crate::pipelines::claims::{KafkaRunConfig, LineCheckpoints, RunConfig, run_kafka, run_live};
use crate::sinks::hub::LiveHub;
use crate::sinks::writer::RunReport;

/// The local input's name: its checkpoints' positions name it.
const LIVE_SOURCE: &str = "live";

#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// A recorded or generated show to replay (`-` for standard input, `.gz` accepted).
    pub input: Option<String>,
    /// Or the show's Kafka topics and the consumer group reading them.
    pub source: Option<(KafkaAddress, String)>,
    pub replay_speed: f64,
    pub listen: String,
    pub out: PathBuf,
    pub workers: usize,
    pub allowed_lateness_ms: u64,
    /// A quiet spell after which the input counts as idle and what is pending becomes final.
    pub idle: Duration,
    /// The ticker's shortest gap between frames.
    pub ticker_every: Duration,
    pub auth: AuthConfig,
    pub webhooks: WebhookConfig,
    /// The server's limits (connections, streams, requests in flight, timeouts, bodies, queue).
    pub limits: Limits,
    pub snapshot_interval: Option<Duration>,
    /// End the input (and, once the pipeline has written its outputs, the server) when the
    /// replay is over, instead of waiting for actions for ever.
    pub exit_after_replay: bool,
    /// Journal what the local input takes (`io::journal`); off only for a throwaway demo.
    pub journal: bool,
    /// With the journal, a checkpoint every this many blocks of input (a group of requests
    /// taken at once, or a quiet spell of `idle`); the journal before the newest is deleted.
    pub checkpoint_blocks: u64,
}

/// What a running server tells its caller once it listens.
pub struct Started {
    pub addr: SocketAddr,
    pub input: Arc<LiveInput>,
    pub hub: Arc<LiveHub>,
}

/// Runs until the pipeline ends (only with `exit_after_replay`, or when standard input ends);
/// `ready` is called once the server listens.
pub fn serve(cfg: ServeConfig, ready: impl FnOnce(&Started)) -> anyhow::Result<RunReport> {
    let listener = std::net::TcpListener::bind(&cfg.listen)
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let replay = open_replay(cfg.input.as_deref())?;
    let hub = Arc::new(LiveHub::default());
    let (input, pipeline, resume) = start_pipeline(&cfg, &hub, replay.is_some())?;
    let stop = Arc::new(AtomicBool::new(false));
    let replayer = replay.map(|r| {
        let (input, stop) = (input.clone(), stop.clone());
        let close = cfg.exit_after_replay;
        std::thread::Builder::new()
            .name("replay".into())
            .spawn(move || {
                if let Err(e) = input.replay_from(r, resume, &stop) {
                    eprintln!("livesell: replay stopped: {e}");
                }
                if close {
                    input.close();
                }
            })
    });
    if cfg.input.is_none() && cfg.exit_after_replay {
        input.close();
    }
    let app = Arc::new(App {
        hub: hub.clone(),
        input: input.clone(),
        auth: cfg.auth.clone(),
        ticker_every: cfg.ticker_every,
        sse_clients: AtomicU64::new(0),
        webhooks: cfg.webhooks.clone(),
        seen: Default::default(),
        limits: cfg.limits.clone(),
    });
    ready(&Started {
        addr,
        input: input.clone(),
        hub: hub.clone(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let waiter = std::thread::spawn(move || {
        let report = pipeline.join();
        let _ = done_tx.send(());
        report
    });
    let served: anyhow::Result<()> = runtime.block_on(async move {
        let listener =
            BoundedListener::new(tokio::net::TcpListener::from_std(listener)?, &cfg.limits);
        let header_timeout = Duration::from_secs_f64(cfg.limits.header_timeout_s);
        // Ticker streams never end by themselves, so the server stops without waiting for them.
        tokio::select! {
            () = listener.serve(router(app), header_timeout) => {}
            _ = done_rx => {}
        }
        Ok(())
    });
    // Closed connections of SSE clients may linger; the runtime is not waited for.
    runtime.shutdown_timeout(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    served?;
    if let Some(Ok(r)) = replayer {
        let _ = r.join();
    }
    match waiter.join() {
        Ok(Ok(report)) => report,
        _ => anyhow::bail!("the pipeline thread failed"),
    }
}

/// The show to replay: a file (`.gz` decompressed), standard input (`-`), or none.
fn open_replay(input: Option<&str>) -> anyhow::Result<Option<Box<dyn BufRead + Send>>> {
    Ok(match input {
        None => None,
        Some("-") => Some(Box::new(BufReader::new(std::io::stdin()))),
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
            Some(if path.ends_with(".gz") {
                Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(
                    BufReader::new(file),
                )))
            } else {
                Box::new(BufReader::with_capacity(1 << 16, file))
            })
        }
    })
}

/// The pipeline's thread, fed by the live input (and the replay) or by Kafka, keeping `hub`
/// current; the input the actions go to.
/// What an earlier run journaled of the replay: where the replay goes on, and the show time then.
type ReplayFrom = Option<(u64, Option<crate::domain::time::Micros>)>;

fn start_pipeline(
    cfg: &ServeConfig,
    hub: &Arc<LiveHub>,
    replayed: bool,
) -> anyhow::Result<(
    Arc<LiveInput>,
    JoinHandle<anyhow::Result<RunReport>>,
    ReplayFrom,
)> {
    let workers = cfg.workers.max(1);
    Ok(match &cfg.source {
        None => {
            let queue = cfg.limits.input_queue_mib.saturating_mul(1 << 20);
            // Everything accepted is journaled and synced before it is answered or decided;
            // a journal an earlier run left is read back first (and the outputs written on).
            // A restart goes on from the newest checkpoint whose outputs are in place, and
            // reads the journal from its position.
            let store = crate::io::checkpoint::Store::new(cfg.out.join("checkpoints"));
            let loaded = match cfg.journal {
                true => store.load_newest_where(
                    |e| eprintln!("livesell: checkpoint refused: {e}; trying the one before"),
                    |l| crate::sinks::cuts::files_hold(&cfg.out, l.writer.as_deref()),
                )?,
                false => None,
            };
            let from = loaded.as_ref().map(|l| {
                l.manifest
                    .positions
                    .iter()
                    .find(|p| p.topic == LIVE_SOURCE)
                    .map_or(0, |p| p.next)
            });
            let path = crate::io::journal::dir_in(&cfg.out);
            let (found, earlier, writer) = match cfg.journal {
                true => crate::io::journal::open(&path, from)
                    .with_context(|| format!("cannot open the journal {}", path.display()))
                    .map(|(f, e, w)| (f, e, Some(w)))?,
                false => Default::default(),
            };
            if let Some(l) = &loaded {
                eprintln!(
                    "livesell: restoring checkpoint {} ({} open session(s)); the journal is read from position {}",
                    l.manifest.id,
                    l.manifest.open_sessions,
                    from.unwrap_or(0)
                );
            }
            let resumed = found.records > 0 || loaded.is_some();
            if found.dropped > 0 {
                eprintln!(
                    "livesell: the journal ended in a record cut short ({} bytes, never acknowledged): dropped",
                    found.dropped
                );
            }
            if resumed {
                eprintln!(
                    "livesell: resuming from the journal {}: {} lines and {} quiet spells are read again",
                    path.display(),
                    found.lines,
                    found.quiet_spells
                );
            }
            let show_clock = Arc::new(std::sync::OnceLock::new());
            let (journaled, journal_clock) = match writer {
                Some(w) => {
                    let (j, c) = Journaled::new(w, earlier, show_clock.clone());
                    (Some(j), Some(c))
                }
                None => (None, None),
            };
            let (input, reader) =
                LiveInput::journaled(cfg.replay_speed, cfg.idle, queue, journaled);
            if replayed {
                input.clock.await_anchor();
            }
            // A quiet input says the show clock's time: a quiet show's holds expire on time
            // (with a journal, the time journaled with the quiet spell).
            let clock: super::durable::Clock = {
                let input = input.clone();
                Arc::new(move || input.clock.reading())
            };
            let _ = show_clock.set(clock.clone());
            let resume = resumed.then_some((found.replay_end.unwrap_or(0), found.newest));
            let source = LineSource::resumed(
                LIVE_SOURCE.into(),
                Box::new(reader),
                workers,
                Deal::RoundRobin,
                Some(journal_clock.unwrap_or(clock)),
                found.start,
            );
            let checkpoints = cfg.journal.then(|| {
                let dir = path.clone();
                // A restart whose newest checkpoint is refused (its files short) takes the one
                // before: the journal is kept from that one's position.
                let before = std::sync::Mutex::new(from);
                let committed: crate::sinks::cuts::Committed = Arc::new(move |at| {
                    let Some(Some(now)) = at.first().copied() else {
                        return;
                    };
                    let mut before = before.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(upto) = before.replace(now) {
                        if let Err(e) = crate::io::journal::trim(&dir, upto) {
                            eprintln!("livesell: the journal's older segments stay: {e}");
                        }
                    }
                });
                LineCheckpoints {
                    store: store.clone(),
                    every_blocks: cfg.checkpoint_blocks.max(1),
                    loaded: loaded.map(Arc::new),
                    committed: Some(committed),
                }
            });
            let run_cfg = RunConfig {
                inputs: vec!["live".into()],
                out: cfg.out.clone(),
                workers,
                allowed_lateness_ms: cfg.allowed_lateness_ms,
                snapshot_interval: cfg.snapshot_interval,
                messages: None,
                replays_journal: resumed,
                checkpoints,
            };
            let hub = hub.clone();
            let pipeline = std::thread::Builder::new()
                .name("pipeline".into())
                .spawn(move || run_live(vec![source], &run_cfg, Some(hub)))?;
            (input, pipeline, resume)
        }
        Some((address, group)) => {
            let topic = address
                .topics
                .first()
                .cloned()
                .unwrap_or_else(|| DEFAULT_INPUT_TOPIC.to_string());
            let input = LiveInput::kafka(&address.brokers, topic, ACK_WAIT)?;
            let run_cfg = KafkaRunConfig {
                source: address.clone(),
                group: group.clone(),
                sink: None,
                out: Some(cfg.out.clone()),
                workers,
                allowed_lateness_ms: cfg.allowed_lateness_ms,
                idle_timeout: cfg.idle,
                exit_when_idle: None,
                cluster: None,
                snapshot_interval: cfg.snapshot_interval,
                live: Some(hub.clone()),
                // A restarted server is back to its shows' state from the newest checkpoint.
                checkpoints: Some(crate::pipelines::claims::Checkpoints {
                    dir: cfg.out.join("checkpoints"),
                    every: Duration::from_secs(10),
                }),
                transactional: false,
                messages: None,
            };
            let pipeline = std::thread::Builder::new()
                .name("pipeline".into())
                .spawn(move || run_kafka(run_cfg))?;
            (input, pipeline, None)
        }
    })
}
