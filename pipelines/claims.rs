//! The claim pipeline of `livesell run`: the whole dataflow graph, top to bottom.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use std::time::Duration;

use anyhow::{Context, bail};
use timely::dataflow::Stream;
use timely::dataflow::operators::Concat;
use timely::dataflow::operators::vec::Partition;

use crate::domain::notify::Templates;
use crate::engine::{CheckpointSettings, EngineSettings};
use crate::io::checkpoint::{Loaded, Store};
use crate::io::kafka::KafkaShared;
use crate::io::kafka::{
    KafkaAddress, PartitionId, committed_offsets, discover, ensure_topics, watermarks,
};
use crate::io::lines::LineSource;
use crate::ops::apply_claims::ApplyClaims;
use crate::ops::maintain_metrics::MaintainMetrics;
use crate::ops::produce_outputs::ProduceOutputs;
use crate::ops::rank_claimants::RankClaimants;
use crate::ops::read_events::{ReadEvents, SourceHand};
use crate::ops::read_kafka::{KafkaHand, KafkaSourceConfig, ReadKafka};
use crate::ops::select_updates::ViewTimes;
use crate::ops::write_outputs::WriteOutputs;
use crate::records::{GMV_TOPIC, Halt, Input, Kind};
use crate::sinks::commits::KafkaTarget;
use crate::sinks::cuts::{CheckpointTarget, files_hold};
use crate::sinks::hub::LiveHub;
use crate::sinks::producer::{ProducerTarget, Transactions};
use crate::sinks::writer::{RunReport, Targets};

#[derive(Debug, Clone)]
pub struct RunConfig {
    /// JSONL files; `-` is standard input; `.gz` is decompressed.
    pub inputs: Vec<String>,
    pub out: PathBuf,
    pub workers: usize,
    pub allowed_lateness_ms: u64,
    /// Also write the snapshot tables this often while the input goes on (a pipe, a live feed).
    pub snapshot_interval: Option<Duration>,
    /// The buyers' messages' templates (`None`: the built-in English ones).
    pub messages: Option<Arc<Templates>>,
    /// The input starts with a journal an earlier run wrote the same outputs from
    /// (`livesell serve`): what it writes again is checked against the files and not repeated.
    pub replays_journal: bool,
    /// Checkpoints of a line input that can be read again from a position (`livesell serve`'s
    /// journal).
    pub checkpoints: Option<LineCheckpoints>,
}

/// Checkpoints of a run on line inputs: cut every `every_blocks` blocks of input (the line
/// reader's block indexes are the run's times), restored from `loaded`; `committed` is told
/// each complete checkpoint's positions, in source order (the journal trims what is before).
#[derive(Clone)]
pub struct LineCheckpoints {
    pub store: Store,
    pub every_blocks: u64,
    pub loaded: Option<Arc<Loaded>>,
    pub committed: Option<crate::sinks::cuts::Committed>,
}

impl std::fmt::Debug for LineCheckpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineCheckpoints")
            .field("store", &self.store)
            .field("every_blocks", &self.every_blocks)
            .field("restores", &self.loaded.as_ref().map(|l| l.manifest.id))
            .finish()
    }
}

/// Runs the pipeline over finite inputs with `workers` threads; returns worker 0's report.
pub fn run(cfg: RunConfig, progress: Arc<AtomicU64>) -> anyhow::Result<RunReport> {
    if cfg.inputs.is_empty() {
        bail!("no input: give --input FILE (or - for standard input)");
    }
    if cfg.inputs.iter().filter(|p| *p == "-").count() > 1 {
        bail!("standard input (-) can be read only once");
    }
    // Open everything up front so a missing file is a clear error before any work starts.
    let mut opened = Vec::new();
    for path in &cfg.inputs {
        opened.push(LineSource::open(
            path,
            progress.clone(),
            cfg.workers.max(1),
        )?);
    }
    run_sources(opened, &cfg)
}

/// Runs the pipeline over already-opened sources, each dealt to `cfg.workers` hands (tests feed
/// readers of their own here).
pub fn run_sources(sources: Vec<LineSource>, cfg: &RunConfig) -> anyhow::Result<RunReport> {
    run_live(sources, cfg, None)
}

/// How often a changed session's live view goes to the live surfaces.
const LIVE_EVERY: Duration = Duration::from_millis(10);

/// `run_sources`, also keeping `live` (the state `livesell serve` shows) up to date.
pub fn run_live(
    sources: Vec<LineSource>,
    cfg: &RunConfig,
    live: Option<Arc<LiveHub>>,
) -> anyhow::Result<RunReport> {
    let workers = cfg.workers.max(1);
    let messages = cfg.messages.clone().unwrap_or_default();
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    // Every worker gets a hand of every source; the hands of a source share its blocks.
    let mut dealt: Vec<Vec<SourceHand>> = (0..workers).map(|_| Vec::new()).collect();
    for (s, src) in sources.into_iter().enumerate() {
        if src.hands.len() != workers {
            bail!(
                "{} was opened for {} workers, not {workers}",
                src.name,
                src.hands.len()
            );
        }
        for (h, hand) in src.hands.into_iter().enumerate() {
            dealt[(h + s) % workers].push(SourceHand::new(
                s as u32,
                src.name.clone(),
                hand,
                workers,
            ));
        }
    }
    let dealt: Vec<Mutex<Vec<SourceHand>>> = dealt.into_iter().map(Mutex::new).collect();
    let dealt = Arc::new(dealt);
    let lateness_us = cfg.allowed_lateness_ms as i64 * 1000;
    let checkpoints = cfg.checkpoints.clone();
    let engine_checkpoints = checkpoints.as_ref().map(|c| CheckpointSettings {
        store: c.store.clone(),
        every_ms: c.every_blocks.max(1),
        first_id: c.store.next_id(),
        restore: c.loaded.as_ref().map(|l| Arc::new(l.workers.clone())),
    });
    let targets = Targets {
        out_dir: Some(cfg.out.clone()),
        kafka: None,
        snapshot_every: cfg.snapshot_interval,
        live,
        arranged: Default::default(),
        checkpoints: checkpoints.map(|c| CheckpointTarget {
            store: c.store.clone(),
            // A line source is named by its position in the run, as a partition.
            partitions: names
                .iter()
                .map(|n| PartitionId {
                    topic: n.clone(),
                    partition: 0,
                })
                .collect(),
            restore: c
                .loaded
                .as_ref()
                .and_then(|l| l.writer.clone())
                .map(Arc::new),
            every_ms: c.every_blocks.max(1),
            committed: c.committed.clone(),
        }),
        producer: None,
        halt: Default::default(),
        replays_journal: cfg.replays_journal,
    };
    let halt = targets.halt.clone();

    let guards = timely::execute(timely::Config::process(workers), move |worker| {
        let index = worker.index();
        let hands = std::mem::take(
            &mut *dealt[index]
                .lock()
                .expect("no worker panics while holding its hands"),
        );
        let report = Rc::new(RefCell::new(RunReport::default()));
        targets.arranged.track(worker);

        worker.dataflow::<u64, _, _>(|scope| {
            // events in source order, with effective times and rejects
            let inputs = scope.read_events(hands);
            let engine = EngineSettings {
                sources: names.clone(),
                lateness_us,
                tables: true,
                drafts: true,
                cart_updates: targets.live.is_some(),
                messages: Some(messages.clone()),
                snapshot_every: targets.snapshot_every,
                live_every: targets.live.as_ref().map(|_| LIVE_EVERY),
                halt: targets.halt.clone(),
                checkpoints: engine_checkpoints.clone(),
                ..Default::default()
            };
            // Only a run that writes its views at the end may let them change in steps.
            let views = match (&targets.live, targets.snapshot_every) {
                (None, None) => ViewTimes::FILE_RUN,
                _ => ViewTimes::EXACT,
            };
            decide_and_write(inputs, engine, views, &targets, &report, index);
        });

        targets.halt.step(worker);
        report.take()
    })
    .map_err(|e| anyhow::anyhow!("cannot start workers: {e}"))?;
    first_report(guards, &halt)
}

/// The claim engine and its outputs, the same after every kind of source.
fn decide_and_write<'scope>(
    inputs: Stream<'scope, u64, Vec<Input>>,
    engine: EngineSettings,
    views: ViewTimes,
    targets: &Targets,
    report: &Rc<RefCell<RunReport>>,
    worker: usize,
) {
    // decisions per session once final, in SPEC 2 order, and their order drafts
    let outputs = inputs.apply_claims(engine);
    // split without copying: files, metric additions, claim placements
    let mut parts = outputs.partition(3, |o| (o.part(), o)).into_iter();
    let (files, metrics, placements) = (parts.next(), parts.next(), parts.next());
    let (files, metrics, placements) = (
        files.expect("3 parts"),
        metrics.expect("3 parts"),
        placements.expect("3 parts"),
    );
    // gmv_minute totals, maintained incrementally by differential
    let totals = metrics.maintain_metrics(views);
    // each sku's claimants ranked by platform time, maintained by differential
    let ranked = placements.rank_claimants(views);
    // with a Kafka sink, every worker produces its own sessions' records and ticker
    let files = match &targets.producer {
        Some(p) => files.produce_outputs(totals, p.clone()),
        None => files.concat(totals),
    };
    // decisions, dead letters, summary, snapshots, checkpoints and commits, on worker 0
    files
        .concat(ranked)
        .write_outputs(targets.clone(), report.clone(), worker == 0);
}

/// How `livesell run --source kafka://…` runs.
#[derive(Debug, Clone)]
pub struct KafkaRunConfig {
    pub source: KafkaAddress,
    pub group: String,
    /// Brokers of the output topics (`--sink kafka://HOST:PORT`).
    pub sink: Option<String>,
    pub out: Option<PathBuf>,
    pub workers: usize,
    pub allowed_lateness_ms: u64,
    pub idle_timeout: Duration,
    pub exit_when_idle: Option<Duration>,
    pub cluster: Option<Cluster>,
    /// Write the snapshot tables (with `out`) this often during the run.
    pub snapshot_interval: Option<Duration>,
    /// Keep the live surfaces of `livesell serve` up to date.
    pub live: Option<Arc<LiveHub>>,
    /// Take checkpoints, and restart from the newest.
    pub checkpoints: Option<Checkpoints>,
    /// Write the sink in one transaction per worker and checkpoint (`--transactional`).
    pub transactional: bool,
    /// The buyers' messages' templates (`None`: the built-in English ones).
    pub messages: Option<Arc<Templates>>,
}

/// `--checkpoint-dir` and `--checkpoint-interval`.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    pub dir: PathBuf,
    pub every: Duration,
}

/// Reads what earlier runs' transactions committed, and fences the transactional ids of
/// workers they had and this run has not (process 0 does).
fn transactions(
    group: &str,
    sink: &str,
    c: &Checkpoints,
    peers: usize,
    process: usize,
) -> anyhow::Result<Transactions> {
    use crate::io::kafka::{Committed, fence, read_progress, transactional_id};
    let progress = read_progress(sink, Duration::from_secs(10))
        .context("reading the progress of earlier transactions")?;
    let committed = Committed::from_progress(&progress);
    if !committed.is_empty() {
        eprintln!(
            "livesell: transactions: {} committed progress record(s) read; what they cover is not sent again",
            progress.len()
        );
    }
    if process == 0 {
        let ids: Vec<String> = (peers..committed.most_workers)
            .map(|w| transactional_id(group, w))
            .collect();
        fence(sink, &ids)?;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(Transactions {
        group: group.to_string(),
        run: format!("{nanos:x}-{}-{process}", std::process::id()),
        committed: Arc::new(committed),
        // A dead producer's transaction holds back `read_committed` readers until it times
        // out (when no later run fences it): a few checkpoints' worth, within the broker's
        // default limit of 15 minutes.
        timeout: (c.every * 6).clamp(Duration::from_secs(10), Duration::from_secs(900)),
    })
}

/// timely's cluster mode: this is process `process` of `hosts.len()`, each with the same workers.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub process: usize,
    pub hosts: Vec<String>,
}

/// Runs the pipeline over Kafka partitions (every partition a SPEC 2 source) until the input has
/// been quiet for `exit_when_idle`, or for ever.
pub fn run_kafka(cfg: KafkaRunConfig) -> anyhow::Result<RunReport> {
    if cfg.sink.is_none() && cfg.out.is_none() {
        bail!("nowhere to write: give --sink kafka://HOST:PORT and/or --out DIR");
    }
    let brokers = cfg.source.brokers.clone();
    let timeout = Duration::from_secs(10);
    let parts = discover(&brokers, &cfg.source.topics, timeout)?;
    if let Some(sink) = &cfg.sink {
        // Every output topic is there before the first event is read: a broker without topic
        // auto-creation would otherwise stop the run at a show's first cart or message.
        let outputs: Vec<&str> = Kind::ALL
            .iter()
            .map(|k| k.topic())
            .chain([GMV_TOPIC])
            .collect();
        let per_topic = parts.len() / cfg.source.topics.len().max(1);
        ensure_topics(sink, &outputs, per_topic as i32, timeout)?;
    }
    let store = cfg.checkpoints.as_ref().map(|c| Store::new(&c.dir));
    let loaded = match &store {
        Some(s) => s.load_newest_where(
            |e| eprintln!("livesell: checkpoint refused: {e}; trying the one before"),
            |l| match &cfg.out {
                Some(out) => files_hold(out, l.writer.as_deref()),
                None => Ok(()),
            },
        )?,
        None => None,
    };
    let marks = watermarks(&brokers, &parts, timeout)?;
    let starts = start_positions(&parts, &marks, loaded.as_ref())?;
    let resume = resume_offsets(&cfg, &parts, loaded.is_some(), timeout)?;
    let workers = cfg.workers.max(1);
    let (processes, process) = match &cfg.cluster {
        Some(c) => (c.hosts.len(), c.process),
        None => (1, 0),
    };
    let peers = workers * processes;
    let transactions = transactions_of(&cfg, peers, process)?;
    let shared = Arc::new(KafkaShared::new(parts.len()));
    let source_cfg = KafkaSourceConfig {
        lateness_us: cfg.allowed_lateness_ms as i64 * 1000,
        idle_timeout: cfg.idle_timeout,
        exit_when_idle: cfg.exit_when_idle,
        track_commits: cfg.sink.is_some() && cfg.checkpoints.is_none(),
    };
    let hands = open_hands(&cfg, &parts, &resume, &starts, &marks, &shared, &source_cfg)?;
    let restore_parts = loaded.as_ref().map(|l| Arc::new(l.workers.clone()));
    let engine_checkpoints = match (&store, &cfg.checkpoints) {
        (Some(store), Some(c)) => Some(CheckpointSettings {
            store: store.clone(),
            every_ms: c.every.as_millis().max(1) as u64,
            first_id: store.next_id(),
            restore: restore_parts,
        }),
        _ => None,
    };
    let halt = Halt::default();
    let every_ms = engine_checkpoints.as_ref().map_or(1, |c| c.every_ms);
    let targets = kafka_targets(
        &cfg,
        &parts,
        store.as_ref(),
        loaded.as_ref(),
        every_ms,
        transactions,
        &shared,
        &halt,
    );
    let sources: Vec<String> = parts.iter().map(PartitionId::name).collect();
    let messages = cfg.messages.clone().unwrap_or_default();
    let lateness_us = source_cfg.lateness_us;
    let config = timely_config(&cfg, workers);
    let guards = timely::execute(config, move |worker| {
        let index = worker.index();
        let local = index - process * workers;
        let hand = hands[local]
            .lock()
            .expect("no worker panics while holding its hand")
            .take()
            .expect("each worker takes its own hand once");
        let report = Rc::new(RefCell::new(RunReport::default()));
        targets.arranged.track(worker);
        worker.dataflow::<u64, _, _>(|scope| {
            // every partition's events in offset order, with effective times and rejects
            let inputs = scope.read_kafka(hand);
            let engine = EngineSettings {
                sources: sources.clone(),
                lateness_us,
                drafts: true,
                cart_updates: targets.producer.is_some() || targets.live.is_some(),
                messages: Some(messages.clone()),
                tables: targets.out_dir.is_some(),
                snapshot_every: targets.snapshot_every,
                resume: resume.clone(),
                live_every: targets.live.as_ref().map(|_| LIVE_EVERY),
                checkpoints: engine_checkpoints.clone(),
                halt: targets.halt.clone(),
            };
            // The ticker and live surfaces show the views as they change.
            decide_and_write(inputs, engine, ViewTimes::EXACT, &targets, &report, index);
        });
        targets.halt.step(worker);
        report.take()
    })
    .map_err(|e| anyhow::anyhow!("cannot start workers: {e}"))?;
    first_report(guards, &halt)
}

/// Every partition's reader for this process's workers: partition `s` is read by worker
/// `s % peers`, wherever that worker runs.
fn open_hands(
    cfg: &KafkaRunConfig,
    parts: &[PartitionId],
    resume: &[u64],
    starts: &[Option<u64>],
    marks: &[(u64, u64)],
    shared: &Arc<KafkaShared>,
    source_cfg: &KafkaSourceConfig,
) -> anyhow::Result<Arc<Vec<Mutex<Option<KafkaHand>>>>> {
    let workers = cfg.workers.max(1);
    let (processes, process) = cfg
        .cluster
        .as_ref()
        .map_or((1, 0), |c| (c.hosts.len(), c.process));
    let peers = workers * processes;
    let brokers = &cfg.source.brokers;
    let mut hands = Vec::new();
    for w in process * workers..(process + 1) * workers {
        let mine: Vec<(u32, PartitionId, u64, Option<u64>, u64)> = parts
            .iter()
            .enumerate()
            .filter(|(s, _)| s % peers == w)
            .map(|(s, p)| {
                let committed = resume.get(s).copied().unwrap_or(0);
                (s as u32, p.clone(), committed, starts[s], marks[s].1)
            })
            .collect();
        let hand = KafkaHand::open(
            brokers,
            &cfg.group,
            mine,
            peers,
            shared.clone(),
            source_cfg.clone(),
        )?;
        hands.push(Mutex::new(Some(hand)));
    }
    Ok(Arc::new(hands))
}

/// Per partition, the offset below which an earlier run's outputs reached the sink: the
/// group's commits, when it starts without a checkpoint and sends to Kafka (from a checkpoint,
/// what came after it is sent again: deterministic ids let consumers drop the copies, and
/// transactions, where the broker has them, do not show them).
fn resume_offsets(
    cfg: &KafkaRunConfig,
    parts: &[PartitionId],
    from_checkpoint: bool,
    timeout: Duration,
) -> anyhow::Result<Vec<u64>> {
    let committed = match (&cfg.sink, from_checkpoint) {
        (Some(_), false) => committed_offsets(&cfg.source.brokers, &cfg.group, parts, timeout)?,
        _ => Vec::new(),
    };
    if committed.iter().any(Option::is_some) {
        // Everything is replayed to rebuild the state; only what the sink had not
        // acknowledged before the last commit is sent again.
        eprintln!(
            "livesell: group {} resumes after {} committed message(s): replaying them without sending their outputs again",
            cfg.group,
            committed.iter().flatten().sum::<u64>()
        );
    }
    Ok(committed.iter().map(|c| c.unwrap_or(0)).collect())
}

/// `--transactional`: what earlier runs committed, when the run has a sink and checkpoints.
fn transactions_of(
    cfg: &KafkaRunConfig,
    peers: usize,
    process: usize,
) -> anyhow::Result<Option<Transactions>> {
    Ok(match (cfg.transactional, &cfg.sink, &cfg.checkpoints) {
        (false, _, _) => None,
        (true, Some(sink), Some(c)) => Some(transactions(&cfg.group, sink, c, peers, process)?),
        (true, None, _) => bail!("--transactional needs --sink kafka://HOST:PORT"),
        (true, _, None) => bail!(
            "--transactional needs checkpoints (each transaction ends at one): give --out or --checkpoint-dir, and a --checkpoint-interval above 0"
        ),
    })
}

/// Where a Kafka run's outputs go: every worker's producer, the writer's files and commits,
/// the checkpoints it completes, the live surfaces.
#[allow(clippy::too_many_arguments)]
fn kafka_targets(
    cfg: &KafkaRunConfig,
    parts: &[PartitionId],
    store: Option<&Store>,
    loaded: Option<&Loaded>,
    every_ms: u64,
    transactions: Option<Transactions>,
    shared: &Arc<KafkaShared>,
    halt: &Halt,
) -> Targets {
    let brokers = &cfg.source.brokers;
    let producer = cfg.sink.as_ref().map(|sink| ProducerTarget {
        halt: halt.clone(),
        brokers: sink.clone(),
        forward_lines: cfg.out.is_some() || cfg.live.is_some(),
        forward_carts: cfg.live.is_some(),
        restored: loaded.is_some(),
        store: store.cloned(),
        restore: loaded.map(|l| Arc::new(l.producers.clone())),
        transactions,
    });
    Targets {
        halt: halt.clone(),
        producer,
        checkpoints: store.map(|store| CheckpointTarget {
            store: store.clone(),
            partitions: parts.to_vec(),
            restore: loaded.and_then(|l| l.writer.clone()).map(Arc::new),
            every_ms,
            committed: None,
        }),
        arranged: Default::default(),
        snapshot_every: cfg.snapshot_interval,
        live: cfg.live.clone(),
        out_dir: cfg.out.clone(),
        replays_journal: false,
        kafka: cfg.sink.as_ref().map(|sink| KafkaTarget {
            brokers: sink.clone(),
            commit_brokers: brokers.clone(),
            group: cfg.group.clone(),
            shared: shared.clone(),
        }),
    }
}

/// One process of `workers` threads, or this process's part of a cluster.
fn timely_config(cfg: &KafkaRunConfig, workers: usize) -> timely::Config {
    let communication = match &cfg.cluster {
        Some(c) => timely::CommunicationConfig::Cluster {
            threads: workers,
            process: c.process,
            addresses: c.hosts.clone(),
            report: false,
            zerocopy: false,
        },
        None => timely::CommunicationConfig::Process(workers),
    };
    timely::Config {
        communication,
        worker: timely::WorkerConfig::default(),
    }
}

/// Where each partition starts: the checkpoint's position, or (`None`) its earliest retained
/// offset. A checkpoint's position that retention has already trimmed would silently build
/// a wrong state from what is left: that is an error, as is a start without a checkpoint
/// on partitions retention has trimmed (their shows' run sheets may be gone).
fn start_positions(
    parts: &[PartitionId],
    marks: &[(u64, u64)],
    loaded: Option<&Loaded>,
) -> anyhow::Result<Vec<Option<u64>>> {
    let lows: Vec<u64> = marks.iter().map(|(low, _)| *low).collect();
    let Some(l) = loaded else {
        for (p, low) in parts.iter().zip(&lows) {
            if *low > 0 {
                eprintln!(
                    "livesell: warning: no checkpoint, and retention has trimmed {} below offset {low}: the shows whose events began before it are rebuilt from what is left",
                    p.name()
                );
            }
        }
        return Ok(vec![None; parts.len()]);
    };
    let m = &l.manifest;
    let mut starts = Vec::with_capacity(parts.len());
    for (p, low) in parts.iter().zip(&lows) {
        let at = m
            .positions
            .iter()
            .find(|x| x.topic == p.topic && x.partition == p.partition)
            .map(|x| x.next);
        if at.unwrap_or(0) < *low {
            bail!(
                "checkpoint {} resumes {} at offset {}, but retention has trimmed it below {low}: the events in between are gone. Keep a longer retention, or move {} away to start from what is left",
                m.id,
                p.name(),
                at.unwrap_or(0),
                l.dir.display()
            );
        }
        starts.push(at);
    }
    eprintln!(
        "livesell: restoring checkpoint {} ({} open session(s), {} worker part(s)); resuming {}",
        m.id,
        m.open_sessions,
        m.workers,
        m.positions
            .iter()
            .map(|x| format!("{}/{}@{}", x.topic, x.partition, x.next))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(starts)
}

/// Waits for every worker; worker 0's report (the writer's) is the run's, unless an operator
/// halted the run: then its message is.
fn first_report(
    guards: timely::communication::WorkerGuards<RunReport>,
    halt: &Halt,
) -> anyhow::Result<RunReport> {
    let mut reports = Vec::new();
    for r in guards.join() {
        reports.push(r.map_err(|e| anyhow::anyhow!("a worker failed: {e}"))?);
    }
    if let Some(e) = halt.message() {
        bail!("{e}");
    }
    let report = reports.into_iter().next().context("no workers ran")?;
    if let Some(e) = &report.error {
        bail!("{e}");
    }
    Ok(report)
}
