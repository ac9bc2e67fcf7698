//! `livesell serve`: the serve config file and the flags as a `ServeConfig`, tokens made up for the roles nobody configured, and what the server says on standard error.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use livesell::config::ServeFile;
use livesell::io::kafka::{DEFAULT_INPUT_TOPIC, KafkaAddress};
use livesell::live::auth::{Role, TokenEntry};
use livesell::live::serve::{ServeConfig, serve as serve_show};
use livesell::random::random_token;

use super::{secs, shows_file};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A recorded or generated show to replay in event time (`-` is standard input, `.gz`
    /// accepted); without it, only the HTTP actions feed the pipeline.
    #[arg(long, conflicts_with = "source")]
    pub input: Option<String>,
    /// Read the show from Kafka instead: kafka://HOST:PORT[/TOPIC,…] (default topic
    /// livesell.events); actions are produced to the first topic, keyed by session.
    #[arg(long)]
    pub source: Option<String>,
    /// The consumer group when reading Kafka.
    #[arg(long, default_value = "livesell-serve", requires = "source")]
    pub group: String,
    /// Replay this many times faster than the show ran.
    #[arg(long, default_value_t = 1.0)]
    pub replay_speed: f64,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Where the decisions, summary and snapshot tables go (default: a fresh temporary folder;
    /// with --source, `$XDG_STATE_HOME/livesell/serve-<group>`, so that a restart finds its
    /// checkpoints).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[arg(long, default_value_t = 2000)]
    pub allowed_lateness_ms: u64,
    /// After this long without input, what is pending becomes final (SPEC 2's idle source).
    #[arg(long, default_value_t = 200)]
    pub idle_ms: u64,
    /// The ticker's shortest gap between two frames.
    #[arg(long, default_value_t = 100)]
    pub ticker_ms: u64,
    /// A TOML file with an `[auth]` table (`public`, `tokens = [{ role, token }]`) and a
    /// `[webhooks]` table (platform secrets for `/ingest/{platform}`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Which show a webhook payload belongs to (see pipelines/shows.toml).
    #[arg(long)]
    pub shows: Option<PathBuf>,
    /// Also write the snapshot tables this often.
    #[arg(long, value_name = "SECS")]
    pub snapshot_interval: Option<f64>,
    /// End when the replay is over (once the outputs are written) instead of serving on.
    #[arg(long)]
    pub exit_after_replay: bool,
    /// Start anew on an --out that holds an earlier run's outputs: they are moved aside, whole,
    /// to DIR.replaced-<UTC time>, never deleted.
    #[arg(long)]
    pub fresh: bool,
    /// Keep no journal (a throwaway demo): an action is answered once queued, and a crash or
    /// a restart loses what was taken since the start.
    #[arg(long, conflicts_with = "source")]
    pub no_journal: bool,
    /// With the journal, a checkpoint every this many blocks of input (a group of requests
    /// taken at once, or a quiet spell of --idle-ms): a restart goes on from the newest, and
    /// the journal before it is deleted.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_blocks: u64,
}

/// `livesell serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let live =
        ServeFile::load_or_default(args.config.as_deref())?.live(|k| std::env::var(k).ok())?;
    let mut webhooks = live.webhooks;
    if let Some(f) = &args.shows {
        webhooks.shows = shows_file(Some(f), None)?;
    }
    if !(args.replay_speed > 0.0 && args.replay_speed.is_finite()) {
        anyhow::bail!("--replay-speed must be a number above 0");
    }
    let out = match (args.out, &args.source) {
        (Some(out), _) => out,
        // Its checkpoints must be found again after a restart: a folder named after the group.
        (None, Some(_)) => state_dir().join(format!("serve-{}", file_safe(&args.group))),
        (None, None) => std::env::temp_dir().join(format!("livesell-serve-{}", std::process::id())),
    };
    if args.fresh {
        super::run::moved_aside(&out)?;
    }
    let cfg = ServeConfig {
        input: args.input,
        source: args
            .source
            .map(|s| KafkaAddress::parse(&s, Some(DEFAULT_INPUT_TOPIC)))
            .transpose()?
            .map(|a| (a, args.group)),
        replay_speed: args.replay_speed,
        listen: args.listen,
        out,
        workers: args.workers,
        allowed_lateness_ms: args.allowed_lateness_ms,
        idle: Duration::from_millis(args.idle_ms.max(1)),
        ticker_every: Duration::from_millis(args.ticker_ms),
        auth: live.auth,
        webhooks,
        limits: live.limits,
        snapshot_interval: args
            .snapshot_interval
            .map(|s| secs(s, "snapshot-interval"))
            .transpose()?,
        exit_after_replay: args.exit_after_replay,
        journal: !args.no_journal,
        checkpoint_blocks: args.checkpoint_blocks,
    };
    serve_live(cfg)
}

/// Where a server keeps what it must find again: `$XDG_STATE_HOME/livesell`, else
/// `~/.local/state/livesell`, else the temporary folder's `livesell`.
fn state_dir() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_STATE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".local").join("state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("livesell")
}

/// A consumer group's name as a file name.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `livesell serve`, with tokens made up (and printed) for the roles nobody configured.
pub(super) fn serve_live(mut cfg: ServeConfig) -> anyhow::Result<()> {
    let mut made = Vec::new();
    for role in [Role::Director, Role::Moderator] {
        if !cfg.auth.has(role) {
            let token = random_token().context("cannot make up a token")?;
            made.push(format!("{}={token}", role.as_str()));
            cfg.auth.tokens.push(TokenEntry { role, token });
        }
    }
    let out = cfg.out.clone();
    let report = serve_show(cfg, |s| {
        let fragment = if made.is_empty() {
            String::new()
        } else {
            format!("#{}", made.join("&"))
        };
        eprintln!("livesell: live dashboard on http://{}/{fragment}", s.addr);
        if !made.is_empty() {
            eprintln!(
                "livesell: tokens made up for this run (set LIVESELL_DIRECTOR_TOKENS / LIVESELL_MODERATOR_TOKENS or --config to choose): {}",
                made.join(" ")
            );
        }
        eprintln!("livesell: outputs go to {}", out.display());
    })?;
    eprintln!(
        "livesell: the show's input ended: {} decisions, {} dead letters; outputs in {}",
        report.decisions,
        report.dead_letters,
        out.display()
    );
    Ok(())
}
