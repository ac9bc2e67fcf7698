//! `livesell gen` and `livesell demo`: synthetic shows to a file or standard output, and the demo that makes one, runs it, sums it up and replays it live.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use livesell::generator::{GenConfig, generate};
use livesell::live::auth::AuthConfig;
use livesell::live::serve::ServeConfig;
use livesell::pipelines::claims::{RunConfig, run};

use super::run::with_progress;
use super::serve::serve_live;
use super::summary::demo_summary;

#[derive(clap::Args)]
pub struct GenArgs {
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    #[arg(long, default_value_t = 1)]
    pub sessions: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stop at this many hours of event time (a day of back-to-back shows in every slot:
    /// `--hours 24 --events 20000000`), or at `--events`, whichever comes first.
    #[arg(long)]
    pub hours: Option<u32>,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Where to keep the generated show and the outputs (default: a fresh temporary folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Where the live dashboard listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// How long the live replay of the show takes, in seconds.
    #[arg(long, default_value_t = 180.0)]
    pub replay_secs: f64,
    /// Print the summary and stop, without the live replay.
    #[arg(long)]
    pub no_serve: bool,
}

/// `livesell gen`.
pub fn generate_show(args: GenArgs) -> anyhow::Result<()> {
    gen_file(
        &args.out,
        GenConfig {
            seed: args.seed,
            events: args.events,
            sessions: args.sessions,
            hours: args.hours,
            ..Default::default()
        },
    )?;
    Ok(())
}

fn gen_file(out: &Path, cfg: GenConfig) -> anyhow::Result<u64> {
    use std::io::Write;
    if out.as_os_str() == "-" {
        // Standard output: a show streamed into `livesell run --input -` as it is made.
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let n = generate(&cfg, &mut w, &mut |_| {})?;
        w.flush()?;
        return Ok(n);
    }
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let bar = ProgressBar::new(cfg.events).with_style(
        ProgressStyle::with_template("generating {bar:40} {pos}/{len} events {per_sec}")
            .expect("valid template"),
    );
    let mut progress = |n: u64| bar.set_position(n);
    let n = if out.extension().is_some_and(|e| e == "gz") {
        let mut w = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(file),
            flate2::Compression::fast(),
        );
        let n = generate(&cfg, &mut w, &mut progress)?;
        w.finish()?.flush()?;
        n
    } else {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let n = generate(&cfg, &mut w, &mut progress)?;
        w.flush()?;
        n
    };
    bar.finish_and_clear();
    eprintln!("livesell: wrote {n} events to {}", out.display());
    Ok(n)
}

/// `livesell demo`: a show made, run and summed up, then (unless `--no-serve`) replayed live.
pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let DemoArgs {
        events,
        workers,
        dir,
        listen,
        replay_secs,
        no_serve,
    } = args;
    let dir = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("livesell-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let show = dir.join("show.jsonl");
    gen_file(
        &show,
        GenConfig {
            events,
            sessions: 2,
            ..Default::default()
        },
    )?;
    let out = dir.join("out");
    let cfg = RunConfig {
        inputs: vec![show.display().to_string()],
        out: out.clone(),
        workers,
        allowed_lateness_ms: 2000,
        snapshot_interval: None,
        messages: None,
        replays_journal: false,
        checkpoints: None,
    };
    let started = Instant::now();
    let report = with_progress(&cfg.inputs, false, |p| run(cfg.clone(), p))?;
    let secs = started.elapsed().as_secs_f64();
    print!(
        "{}",
        demo_summary(&report.summary_json, &out.join("decisions.jsonl"))?
    );
    println!(
        "\n{} events in {:.2}s ({:.0} events/s) with {} workers; outputs in {}",
        report.lines,
        secs,
        report.lines as f64 / secs.max(1e-9),
        workers,
        out.display()
    );
    if no_serve {
        return Ok(());
    }
    replay(&dir, &show, workers, listen, replay_secs)
}

/// The demo's show replayed live by `serve`, in about `replay_secs`.
fn replay(
    dir: &Path,
    show: &Path,
    workers: usize,
    listen: String,
    replay_secs: f64,
) -> anyhow::Result<()> {
    let (first, last) = show_span(show)?;
    let speed = ((last - first) as f64 / 1e6 / replay_secs.max(1.0)).max(1.0);
    println!(
        "\nNow the same show live, {speed:.0}× faster than it ran (about {replay_secs:.0} s); Ctrl-C stops."
    );
    serve_live(ServeConfig {
        input: Some(show.display().to_string()),
        source: None,
        replay_speed: speed,
        listen,
        out: dir.join("live"),
        workers,
        allowed_lateness_ms: 2000,
        idle: Duration::from_millis(200),
        ticker_every: Duration::from_millis(100),
        auth: AuthConfig::default().with_env(|k| std::env::var(k).ok())?,
        webhooks: Default::default(),
        limits: Default::default(),
        snapshot_interval: None,
        exit_after_replay: false,
        // The demo's replay is a file already; a demo run again on its folder goes on.
        journal: true,
        checkpoint_blocks: 3000,
    })
}

/// The first and last `ts` of a show file, to pace its replay.
fn show_span(path: &Path) -> anyhow::Result<(i64, i64)> {
    use std::io::BufRead;
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for line in file.split(b'\n') {
        if let Ok(ev) = livesell::domain::event::parse::parse_line(&line?) {
            lo = lo.min(ev.ts);
            hi = hi.max(ev.ts);
        }
    }
    Ok((lo, hi.max(lo)))
}
