//! `livesell run` (files or Kafka) and `livesell parse`: the configs from the flags, the progress bar, and the one line a run ends with.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use livesell::io::kafka::{DEFAULT_INPUT_TOPIC, KafkaAddress};
use livesell::pipelines::claims::{
    Checkpoints, Cluster, KafkaRunConfig, RunConfig, run as run_files, run_kafka,
};

use super::secs;

#[derive(clap::Args)]
pub struct RunArgs {
    /// JSONL input files (`-` is standard input, `.gz` is decompressed).
    #[arg(long = "input", num_args = 1.., required_unless_present = "source", conflicts_with = "source")]
    pub inputs: Vec<String>,
    /// Kafka input: kafka://HOST:PORT[/TOPIC[,TOPIC…]] (default topic livesell.events).
    #[arg(long)]
    pub source: Option<String>,
    /// Consumer group of the Kafka input (its commits record what the sink has flushed).
    #[arg(long, default_value = "livesell", requires = "source")]
    pub group: String,
    /// Kafka output brokers: kafka://HOST:PORT (topics livesell.decisions, livesell.gmv,
    /// livesell.dead-letter, livesell.orders-out).
    #[arg(long, requires = "source")]
    pub sink: Option<String>,
    /// End a Kafka run once no partition has delivered anything for this many seconds.
    #[arg(long, requires = "source")]
    pub exit_when_idle: Option<f64>,
    /// A Kafka partition quiet this many seconds stops holding back the others.
    #[arg(long, default_value_t = 5.0, requires = "source")]
    pub idle_timeout: f64,
    /// timely cluster mode: how many processes, which one this is, and a file of their
    /// HOST:PORT addresses, one per line.
    #[arg(long, default_value_t = 1, requires = "source")]
    pub processes: usize,
    #[arg(long, default_value_t = 0)]
    pub process: usize,
    #[arg(long)]
    pub hosts: Option<PathBuf>,
    /// Output directory (required with --input).
    #[arg(long, required_unless_present = "source")]
    pub out: Option<PathBuf>,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// How far behind its source's newest event an event may be before it counts as late.
    #[arg(long, default_value_t = 2000)]
    pub allowed_lateness_ms: u64,
    /// Also write DIR/snapshots every this many seconds while the input goes on (standard
    /// input or Kafka: a live show); they are always written at the end.
    #[arg(long)]
    pub snapshot_interval: Option<f64>,
    /// Kafka: keep checkpoints here and restart from the newest (default DIR/checkpoints
    /// under --out; without --out, none unless given).
    #[arg(long, requires = "source")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Kafka: seconds between two checkpoints (0: none).
    #[arg(long, default_value_t = 10.0, requires = "source")]
    pub checkpoint_interval: f64,
    /// Templates of the buyers' messages (notifications.jsonl): a TOML file with `locale`,
    /// `[templates.LOCALE]` and `[sessions]` (default: built-in English).
    #[arg(long)]
    pub messages: Option<PathBuf>,
    /// Kafka: write the sink in transactions, one per worker and checkpoint, so that a
    /// `read_committed` consumer sees each output once after any crash (the broker must
    /// support transactions; outputs become visible at each checkpoint).
    #[arg(long, requires = "sink")]
    pub transactional: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Start anew on an --out that holds an earlier run's outputs: they are moved aside, whole,
    /// to DIR.replaced-<UTC time> (with a separate --checkpoint-dir, it too), never deleted.
    #[arg(long)]
    pub fresh: bool,
}

impl RunArgs {
    /// A run over files (not standard input) that writes its snapshots once, at the end: it
    /// ends soon, so freed memory may be kept for reuse.
    pub fn finite(&self) -> bool {
        self.source.is_none()
            && self.snapshot_interval.is_none()
            && !self.inputs.iter().any(|i| i == "-")
    }
}

#[derive(clap::Args)]
pub struct ParseArgs {
    #[arg(long = "input", required = true, num_args = 1..)]
    pub inputs: Vec<String>,
}

/// `livesell run`: over Kafka with `--source`, over files otherwise.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    if args.fresh {
        for dir in [&args.out, &args.checkpoint_dir].into_iter().flatten() {
            moved_aside(dir)?;
        }
    }
    match args.source.clone() {
        Some(source) => kafka(args, &source),
        None => files(args),
    }
}

fn kafka(args: RunArgs, source: &str) -> anyhow::Result<()> {
    let RunArgs {
        inputs,
        group,
        sink,
        exit_when_idle,
        idle_timeout,
        processes,
        process,
        hosts,
        out,
        workers,
        allowed_lateness_ms,
        quiet: _,
        snapshot_interval,
        checkpoint_dir,
        checkpoint_interval,
        transactional,
        messages,
        ..
    } = args;
    let checkpoints = match checkpoint_dir.or_else(|| out.as_ref().map(|o| o.join("checkpoints"))) {
        Some(dir) if checkpoint_interval != 0.0 => Some(Checkpoints {
            dir,
            every: secs(checkpoint_interval, "checkpoint-interval")?,
        }),
        _ => None,
    };
    let cluster = cluster(processes, process, hosts)?;
    debug_assert!(inputs.is_empty());
    let cfg = KafkaRunConfig {
        source: KafkaAddress::parse(source, Some(DEFAULT_INPUT_TOPIC))?,
        group,
        sink: sink
            .map(|s| KafkaAddress::parse(&s, None).map(|a| a.brokers))
            .transpose()?,
        out: out.clone(),
        workers,
        allowed_lateness_ms,
        idle_timeout: secs(idle_timeout, "idle-timeout")?,
        exit_when_idle: exit_when_idle
            .map(|s| secs(s, "exit-when-idle"))
            .transpose()?,
        cluster,
        snapshot_interval: snapshot_interval
            .map(|s| secs(s, "snapshot-interval"))
            .transpose()?,
        live: None,
        checkpoints,
        transactional,
        messages: load_messages(messages.as_deref())?,
    };
    let started = Instant::now();
    let report = run_kafka(cfg)?;
    print_report(&report, started, "messages", "");
    Ok(())
}

/// `--fresh`: an earlier run's outputs moved aside, and where to.
pub(super) fn moved_aside(dir: &std::path::Path) -> anyhow::Result<()> {
    if let Some(to) = livesell::sinks::files::move_aside(dir)? {
        eprintln!(
            "livesell: --fresh: the earlier outputs in {} were moved to {}",
            dir.display(),
            to.display()
        );
    }
    Ok(())
}

/// timely cluster mode from `--processes`, `--process` and `--hosts FILE` (none for one process).
fn cluster(
    processes: usize,
    process: usize,
    hosts: Option<PathBuf>,
) -> anyhow::Result<Option<Cluster>> {
    match (processes, hosts) {
        (1, None) => Ok(None),
        (n, Some(file)) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read --hosts {}", file.display()))?;
            let hosts: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect();
            if hosts.len() != n || process >= n {
                anyhow::bail!(
                    "--processes {n} --process {process}: {} lists {} address(es)",
                    file.display(),
                    hosts.len()
                );
            }
            Ok(Some(Cluster { process, hosts }))
        }
        (_, None) => anyhow::bail!("--processes needs --hosts FILE"),
    }
}

fn files(args: RunArgs) -> anyhow::Result<()> {
    let out = args.out.context("--out DIR is required with --input")?;
    let cfg = RunConfig {
        inputs: args.inputs,
        out,
        workers: args.workers,
        allowed_lateness_ms: args.allowed_lateness_ms,
        snapshot_interval: args
            .snapshot_interval
            .map(|s| secs(s, "snapshot-interval"))
            .transpose()?,
        messages: load_messages(args.messages.as_deref())?,
        replays_journal: false,
        checkpoints: None,
    };
    let started = Instant::now();
    let report = with_progress(&cfg.inputs, args.quiet, |p| run_files(cfg.clone(), p))?;
    print_report(
        &report,
        started,
        "lines",
        &format!(" -> {}", cfg.out.display()),
    );
    Ok(())
}

/// The one line a run ends with on standard error.
fn print_report(
    report: &livesell::sinks::writer::RunReport,
    started: Instant,
    what: &str,
    tail: &str,
) {
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "livesell: {} {what}, {} decisions, {} dead letters, {} sessions in {:.3}s ({:.0} events/s, peak RSS {} MiB){tail}",
        report.lines,
        report.decisions,
        report.dead_letters,
        report.sessions,
        secs,
        report.lines as f64 / secs.max(1e-9),
        peak_rss_mib(),
    );
}

/// The templates of `--messages FILE`, checked (every locale has every kind).
fn load_messages(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<Arc<livesell::domain::notify::Templates>>> {
    let Some(p) = path else { return Ok(None) };
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("cannot read --messages {}", p.display()))?;
    let t = livesell::domain::notify::Templates::parse(&text)
        .map_err(|e| anyhow::anyhow!("--messages {}: {e}", p.display()))?;
    Ok(Some(Arc::new(t)))
}

/// `livesell parse`: reads and parses only, the baseline of the benchmarks.
pub fn parse(args: ParseArgs) -> anyhow::Result<()> {
    let inputs = &args.inputs;
    use livesell::io::lines::{LineSource, Poll};
    let started = Instant::now();
    let (mut ok, mut bad, mut bytes) = (0u64, 0u64, 0u64);
    for path in inputs {
        let mut src = LineSource::open(path, Arc::new(AtomicU64::new(0)), 1)?;
        loop {
            match src.hands[0].poll() {
                Poll::Block(b) => {
                    bytes += b.bytes.len() as u64;
                    b.for_each_line(|_, _, l| {
                        if l.iter().all(u8::is_ascii_whitespace) {
                            return;
                        }
                        match livesell::domain::event::parse::parse_line(l) {
                            Ok(_) => ok += 1,
                            Err(_) => bad += 1,
                        }
                    })
                }
                Poll::Pending => std::thread::sleep(Duration::from_micros(50)),
                Poll::Done => break,
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "livesell: parsed {ok} events ({bad} bad) in {secs:.3}s: {:.0} events/s, {:.1} MB/s, peak RSS {} MiB",
        (ok + bad) as f64 / secs,
        bytes as f64 / secs / 1e6,
        peak_rss_mib()
    );
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), for the benchmark log.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb / 1024)
}

/// Runs `work` with a byte-count progress bar over the input files (hidden when not a terminal).
pub(super) fn with_progress<T>(
    inputs: &[String],
    quiet: bool,
    work: impl FnOnce(Arc<AtomicU64>) -> T,
) -> T {
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let read = Arc::new(AtomicU64::new(0));
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "processing {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template"),
    );
    // The ticker stops as soon as the work is done (the channel closes), not at its next tick.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let ticker = {
        let (read, bar) = (read.clone(), bar.clone());
        std::thread::spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(100))
            {
                bar.set_position(read.load(Ordering::Relaxed));
            }
        })
    };
    let result = work(read);
    drop(stop);
    let _ = ticker.join();
    bar.finish_and_clear();
    result
}
