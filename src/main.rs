//! `livesell`: the command line — run a show through the pipeline, generate shows, demo.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use livesell::adapters::{Format, Shows, convert as convert_payload, payloads};
use livesell::config::ServeFile;
use livesell::domain::catalog::Codes;
use livesell::generator::{GenConfig, generate};
use livesell::live::auth::{AuthConfig, Role, TokenEntry};
use livesell::live::serve::{ServeConfig, serve};
use livesell::random::random_token;
use livesell::runsheet::RunsheetArgs;

// Decisions allocate many small strings across worker threads; mimalloc handles that far better
// than glibc's malloc (measured in bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps freed memory for reuse instead of handing it back to the OS after 10 ms, for a run
/// over files, which ends soon anyway: its state and tables grow throughout, and memory handed
/// back and taken again is zeroed by the kernel each time (measured: ~10x the page faults and
/// ~0.6 CPU-s of a 1M-event run). Long-lived runs (serve, Kafka) keep the default.
fn keep_freed_memory() {
    // mimalloc.h, v2 and v3 alike: `mi_option_purge_delay` is option 15; -1 never purges.
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // SAFETY: a plain setter of mimalloc's options, safe to call at any time from any thread.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
use livesell::io::kafka::{DEFAULT_INPUT_TOPIC, KafkaAddress};
use livesell::pipelines::claims::{
    Checkpoints, Cluster, KafkaRunConfig, RunConfig, run, run_kafka,
};

#[derive(Parser)]
#[command(
    name = "livesell",
    version,
    about = "Live Selling OS: claims, reservations and GMV from live-show streams"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Process JSONL inputs or Kafka topics into decisions, dead letters, a summary and snapshots.
    Run {
        /// JSONL input files (`-` is standard input, `.gz` is decompressed).
        #[arg(long = "input", num_args = 1.., required_unless_present = "source", conflicts_with = "source")]
        inputs: Vec<String>,
        /// Kafka input: kafka://HOST:PORT[/TOPIC[,TOPIC…]] (default topic livesell.events).
        #[arg(long)]
        source: Option<String>,
        /// Consumer group of the Kafka input (its commits record what the sink has flushed).
        #[arg(long, default_value = "livesell", requires = "source")]
        group: String,
        /// Kafka output brokers: kafka://HOST:PORT (topics livesell.decisions, livesell.gmv,
        /// livesell.dead-letter, livesell.orders-out).
        #[arg(long, requires = "source")]
        sink: Option<String>,
        /// End a Kafka run once no partition has delivered anything for this many seconds.
        #[arg(long, requires = "source")]
        exit_when_idle: Option<f64>,
        /// A Kafka partition quiet this many seconds stops holding back the others.
        #[arg(long, default_value_t = 5.0, requires = "source")]
        idle_timeout: f64,
        /// timely cluster mode: how many processes, which one this is, and a file of their
        /// HOST:PORT addresses, one per line.
        #[arg(long, default_value_t = 1, requires = "source")]
        processes: usize,
        #[arg(long, default_value_t = 0)]
        process: usize,
        #[arg(long)]
        hosts: Option<PathBuf>,
        /// Output directory (required with --input).
        #[arg(long, required_unless_present = "source")]
        out: Option<PathBuf>,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// How far behind its source's newest event an event may be before it counts as late.
        #[arg(long, default_value_t = 2000)]
        allowed_lateness_ms: u64,
        /// Also write DIR/snapshots every this many seconds while the input goes on (standard
        /// input or Kafka: a live show); they are always written at the end.
        #[arg(long)]
        snapshot_interval: Option<f64>,
        /// Kafka: keep checkpoints here and restart from the newest (default DIR/checkpoints
        /// under --out; without --out, none unless given).
        #[arg(long, requires = "source")]
        checkpoint_dir: Option<PathBuf>,
        /// Kafka: seconds between two checkpoints (0: none).
        #[arg(long, default_value_t = 10.0, requires = "source")]
        checkpoint_interval: f64,
        /// Templates of the buyers' messages (notifications.jsonl): a TOML file with `locale`,
        /// `[templates.LOCALE]` and `[sessions]` (default: built-in English).
        #[arg(long)]
        messages: Option<PathBuf>,
        /// Kafka: write the sink in transactions, one per worker and checkpoint, so that a
        /// `read_committed` consumer sees each output once after any crash (the broker must
        /// support transactions; outputs become visible at each checkpoint).
        #[arg(long, requires = "sink")]
        transactional: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Write a synthetic live show as JSONL (`.gz` when the file name says so).
    Gen {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        sessions: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Stop at this many hours of event time (a day of back-to-back shows in every slot:
        /// `--hours 24 --events 20000000`), or at `--events`, whichever comes first.
        #[arg(long)]
        hours: Option<u32>,
    },
    /// SQL over a run's snapshot tables (DataFusion, read-only): comments, claims,
    /// reservations, orders, gmv_minute, products, stock, claimants.
    Sql {
        /// The run's output directory (`livesell run --out DIR`).
        #[arg(long)]
        data: PathBuf,
        /// The query, e.g. "SELECT session_id, sum(gmv_cents) FROM orders GROUP BY 1".
        query: String,
        #[arg(long, value_enum, default_value = "table")]
        format: livesell::sql::Format,
    },
    /// The post-session report: one self-contained HTML page with SVG charts, and a Markdown
    /// twin beside it.
    Report {
        /// The run's output directory (`livesell run --out DIR`).
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        session: String,
        /// Where the HTML goes (the Markdown takes the same name with `.md`); default
        /// DIR/report-SESSION.html.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The snapshot tables over the Postgres wire protocol (psql, BI tools), read-only.
    ServeSql {
        #[arg(long)]
        data: PathBuf,
        /// Beyond loopback only with a password (`[sql] password` or LIVESELL_SQL_PASSWORD).
        #[arg(long, default_value = "127.0.0.1:5433")]
        listen: String,
        /// A TOML file with an `[sql]` table (`user`, `password`): logins by SCRAM-SHA-256.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Read and parse inputs only, deciding nothing: the baseline for benchmarks.
    Parse {
        #[arg(long = "input", required = true, num_args = 1..)]
        inputs: Vec<String>,
    },
    /// Generate a show, process it, print a readable summary, then replay it live in the browser.
    Demo {
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Where to keep the generated show and the outputs (default: a fresh temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where the live dashboard listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// How long the live replay of the show takes, in seconds.
        #[arg(long, default_value_t = 180.0)]
        replay_secs: f64,
        /// Print the summary and stop, without the live replay.
        #[arg(long)]
        no_serve: bool,
    },
    /// Convert native platform payloads (files of JSON documents, or SSE text) to canonical JSONL on standard output.
    Convert {
        /// facebook-graph, facebook-webhook, instagram-webhook, youtube-livechat,
        /// tiktok-live-connector or twitch-eventsub.
        #[arg(long = "from")]
        from: String,
        /// Payloads (default: standard input).
        file: Option<PathBuf>,
        /// Which show each payload belongs to: a TOML file with `default` and a `[sessions]`
        /// table of `"platform:id" = "session_id"` (see pipelines/shows.toml).
        #[arg(long)]
        shows: Option<PathBuf>,
        /// The show of payloads the mapping does not place.
        #[arg(long)]
        session: Option<String>,
        /// Twitch webhook bodies carry no time: the `Twitch-Eventsub-Message-Timestamp` header.
        #[arg(long)]
        message_timestamp: Option<String>,
    },
    /// Order drafts to a shop or a webhook, through a durable outbox: each draft sent once,
    /// retried on 5xx and network errors, with the shop's cost throttle honoured.
    Push {
        /// A run's output directory (its orders_out.jsonl), or kafka://HOST:PORT[/TOPIC]
        /// (default topic livesell.orders-out).
        #[arg(long = "from")]
        from: String,
        /// shopify (Admin GraphQL; the token from SHOPIFY_ACCESS_TOKEN) or webhook.
        #[arg(long = "to")]
        to: String,
        /// The shop: NAME of NAME.myshopify.com.
        #[arg(long)]
        shop: Option<String>,
        /// The Admin API's GraphQL URL, when not the shop's own (a proxy, a test server).
        #[arg(long)]
        endpoint: Option<String>,
        /// The webhook's URL.
        #[arg(long)]
        url: Option<String>,
        /// The webhook's signing secret (or LIVESELL_WEBHOOK_SECRET).
        #[arg(long)]
        secret: Option<String>,
        /// The outbox (default DIR/push.redb).
        #[arg(long)]
        outbox: Option<PathBuf>,
        /// Keep reading what the run appends; stop after this many seconds with nothing new.
        #[arg(long)]
        follow: Option<f64>,
        /// Which file of DIR to push (notifications.jsonl: buyer messages, to a webhook).
        #[arg(long, default_value = "orders_out.jsonl")]
        file: String,
    },
    /// A shop's product catalog as the show's run sheet: director `product` events (JSONL) with
    /// run-sheet codes, from a Shopify product export; bad rows are reported by line.
    Runsheet {
        /// The export's format: shopify-csv.
        #[arg(long = "from")]
        from: String,
        /// The exported file (products.csv).
        file: PathBuf,
        /// The show the run sheet is for (default: the file name without its extension).
        #[arg(long)]
        session: Option<String>,
        /// auto: generated codes (A10, A21, …, no two one edit apart); sku: each product's first
        /// variant SKU; handle: the product's handle (both must be letters then digits).
        #[arg(long, default_value = "auto")]
        codes: String,
        /// The products' currency (Shopify's export has none).
        #[arg(long)]
        currency: Option<String>,
        /// The events' time, RFC 3339 (default now: before the show's first claim).
        #[arg(long)]
        ts: Option<String>,
        /// Write the events here (default standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Poll a YouTube live chat (liveChatMessages.list) and print its comments as canonical JSONL, waiting between pages as long as the API's pollingIntervalMillis asks.
    PollYoutube {
        /// The broadcast's liveChatId (liveBroadcasts.snippet.liveChatId).
        #[arg(long)]
        live_chat_id: String,
        /// A Data API key (default: the LIVESELL_YOUTUBE_API_KEY environment variable).
        #[arg(long)]
        api_key: Option<String>,
        /// An OAuth access token instead of, or besides, the key (LIVESELL_YOUTUBE_TOKEN).
        #[arg(long)]
        access_token: Option<String>,
        /// Which show the chat belongs to: `youtube:<liveChatId>` in a shows file (see
        /// pipelines/shows.toml), or `--session`.
        #[arg(long)]
        shows: Option<PathBuf>,
        #[arg(long)]
        session: Option<String>,
        /// The Data API's base URL.
        #[arg(long, default_value = livesell::io::youtube::DEFAULT_API)]
        api: String,
        /// Never ask sooner than this, whatever the API's interval says.
        #[arg(long, default_value_t = 0)]
        min_interval_ms: u64,
        /// Stop after this many pages (default: when the chat goes offline).
        #[arg(long)]
        max_pages: Option<u64>,
    },
    /// Run the pipeline behind a live dashboard: GMV ticker (SSE), overlay, Live Director, moderator console, metrics.
    Serve {
        /// A recorded or generated show to replay in event time (`-` is standard input, `.gz`
        /// accepted); without it, only the HTTP actions feed the pipeline.
        #[arg(long, conflicts_with = "source")]
        input: Option<String>,
        /// Read the show from Kafka instead: kafka://HOST:PORT[/TOPIC,…] (default topic
        /// livesell.events); actions are produced to the first topic, keyed by session.
        #[arg(long)]
        source: Option<String>,
        /// The consumer group when reading Kafka.
        #[arg(long, default_value = "livesell-serve", requires = "source")]
        group: String,
        /// Replay this many times faster than the show ran.
        #[arg(long, default_value_t = 1.0)]
        replay_speed: f64,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Where the decisions, summary and snapshot tables go (default: a fresh temporary folder).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long, default_value_t = 2000)]
        allowed_lateness_ms: u64,
        /// After this long without input, what is pending becomes final (SPEC 2's idle source).
        #[arg(long, default_value_t = 200)]
        idle_ms: u64,
        /// The ticker's shortest gap between two frames.
        #[arg(long, default_value_t = 100)]
        ticker_ms: u64,
        /// A TOML file with an `[auth]` table (`public`, `tokens = [{ role, token }]`) and a
        /// `[webhooks]` table (platform secrets for `/ingest/{platform}`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Which show a webhook payload belongs to (see pipelines/shows.toml).
        #[arg(long)]
        shows: Option<PathBuf>,
        /// Also write the snapshot tables this often.
        #[arg(long, value_name = "SECS")]
        snapshot_interval: Option<f64>,
        /// End when the replay is over (once the outputs are written) instead of serving on.
        #[arg(long)]
        exit_after_replay: bool,
    },
}

/// The one line a run ends with on standard error.
fn print_report(
    report: &livesell::ops::write_outputs::RunReport,
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

/// `livesell push`: the target from the flags, then the pusher.
#[allow(clippy::too_many_arguments)]
fn push_command(
    from: String,
    to: &str,
    shop: Option<String>,
    endpoint: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    outbox: Option<PathBuf>,
    follow: Option<f64>,
    file: String,
) -> anyhow::Result<()> {
    use livesell::push::{PushArgs, Target, push};
    let to = match to {
        "shopify" => Target::Shopify {
            shop: shop.context("--to shopify needs --shop NAME")?,
            endpoint,
            token: std::env::var("SHOPIFY_ACCESS_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
                .context("--to shopify needs an Admin API access token in SHOPIFY_ACCESS_TOKEN")?,
        },
        "webhook" => Target::Webhook {
            url: url.context("--to webhook needs --url URL")?,
            secret: secret
                .or_else(|| std::env::var("LIVESELL_WEBHOOK_SECRET").ok())
                .filter(|s| !s.is_empty())
                .context("--to webhook needs --secret S (or LIVESELL_WEBHOOK_SECRET)")?,
        },
        other => anyhow::bail!("--to {other}: one of shopify, webhook"),
    };
    let follow = follow.map(|s| secs(s, "follow")).transpose()?;
    let r = push(PushArgs {
        from,
        to,
        outbox,
        follow,
        file,
    })?;
    eprintln!(
        "livesell: push: {} sent, {} already sent, {} recovered after an interruption, {} failed (push_failed.jsonl), {} throttled answer(s) waited out",
        r.sent, r.already, r.recovered, r.failed, r.throttled
    );
    Ok(())
}

/// A `--NAME SECS` argument as a duration.
fn secs(s: f64, what: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("--{what} must be a number of seconds ≥ 0"))
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli.command) {
        eprintln!("livesell: error: {e:#}");
        std::process::exit(1);
    }
}

fn dispatch(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Run {
            inputs,
            source: Some(source),
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
        } => {
            let checkpoints =
                match checkpoint_dir.or_else(|| out.as_ref().map(|o| o.join("checkpoints"))) {
                    Some(dir) if checkpoint_interval != 0.0 => Some(Checkpoints {
                        dir,
                        every: secs(checkpoint_interval, "checkpoint-interval")?,
                    }),
                    _ => None,
                };
            let cluster = match (processes, hosts) {
                (1, None) => None,
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
                    Some(Cluster { process, hosts })
                }
                (_, None) => anyhow::bail!("--processes needs --hosts FILE"),
            };
            debug_assert!(inputs.is_empty());
            let cfg = KafkaRunConfig {
                source: KafkaAddress::parse(&source, Some(DEFAULT_INPUT_TOPIC))?,
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
        Command::Run {
            inputs,
            source: None,
            out,
            workers,
            allowed_lateness_ms,
            quiet,
            snapshot_interval,
            messages,
            ..
        } => {
            let out = out.context("--out DIR is required with --input")?;
            if snapshot_interval.is_none() && !inputs.iter().any(|i| i == "-") {
                keep_freed_memory();
            }
            let cfg = RunConfig {
                inputs,
                out,
                workers,
                allowed_lateness_ms,
                snapshot_interval: snapshot_interval
                    .map(|s| secs(s, "snapshot-interval"))
                    .transpose()?,
                messages: load_messages(messages.as_deref())?,
            };
            let started = Instant::now();
            let report = with_progress(&cfg.inputs, quiet, |p| run(cfg.clone(), p))?;
            print_report(
                &report,
                started,
                "lines",
                &format!(" -> {}", cfg.out.display()),
            );
            Ok(())
        }
        Command::Gen {
            out,
            events,
            sessions,
            seed,
            hours,
        } => {
            gen_file(
                &out,
                GenConfig {
                    seed,
                    events,
                    sessions,
                    hours,
                    ..Default::default()
                },
            )?;
            Ok(())
        }
        Command::Demo {
            events,
            workers,
            dir,
            listen,
            replay_secs,
            no_serve,
        } => demo(
            events,
            workers,
            dir,
            (!no_serve).then_some((listen, replay_secs)),
        ),
        Command::Serve {
            input,
            source,
            group,
            replay_speed,
            listen,
            out,
            workers,
            allowed_lateness_ms,
            idle_ms,
            ticker_ms,
            config,
            shows,
            snapshot_interval,
            exit_after_replay,
        } => {
            let file = ServeFile::load_or_default(config.as_deref())?;
            let auth = file.auth.with_env(|k| std::env::var(k).ok())?;
            let mut webhooks = file.webhooks.with_env(|k| std::env::var(k).ok());
            if let Some(f) = &shows {
                webhooks.shows = Shows::from_toml(
                    &std::fs::read_to_string(f)
                        .with_context(|| format!("cannot read {}", f.display()))?,
                )
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
            }
            if !(replay_speed > 0.0 && replay_speed.is_finite()) {
                anyhow::bail!("--replay-speed must be a number above 0");
            }
            let out = out.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("livesell-serve-{}", std::process::id()))
            });
            let cfg = ServeConfig {
                input,
                source: source
                    .map(|s| KafkaAddress::parse(&s, Some(DEFAULT_INPUT_TOPIC)))
                    .transpose()?
                    .map(|a| (a, group)),
                replay_speed,
                listen,
                out,
                workers,
                allowed_lateness_ms,
                idle: Duration::from_millis(idle_ms.max(1)),
                ticker_every: Duration::from_millis(ticker_ms),
                auth,
                webhooks,
                limits: file.limits,
                snapshot_interval: snapshot_interval
                    .map(|s| secs(s, "snapshot-interval"))
                    .transpose()?,
                exit_after_replay,
            };
            serve_live(cfg)
        }
        Command::Parse { inputs } => parse_only(&inputs),
        Command::Push {
            from,
            to,
            shop,
            endpoint,
            url,
            secret,
            outbox,
            follow,
            file,
        } => push_command(from, &to, shop, endpoint, url, secret, outbox, follow, file),
        Command::Runsheet {
            from,
            file,
            session,
            codes,
            currency,
            ts,
            out,
        } => {
            let codes = Codes::parse(&codes).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let args = RunsheetArgs {
                from,
                file,
                session,
                codes,
                currency,
                ts,
                out,
            };
            livesell::runsheet::runsheet(&args).map(|_| ())
        }
        Command::Convert {
            from,
            file,
            shows,
            session,
            message_timestamp,
        } => convert(&from, file, shows, session, message_timestamp),
        Command::PollYoutube {
            live_chat_id,
            api_key,
            access_token,
            shows,
            session,
            api,
            min_interval_ms,
            max_pages,
        } => {
            let opts = livesell::io::youtube::PollOptions {
                live_chat_id,
                api,
                api_key: api_key.or_else(|| std::env::var("LIVESELL_YOUTUBE_API_KEY").ok()),
                access_token: access_token.or_else(|| std::env::var("LIVESELL_YOUTUBE_TOKEN").ok()),
                min_interval_ms,
                max_pages,
            };
            poll_youtube(&opts, shows_file(shows.as_ref(), session)?)
        }
        Command::Report { data, session, out } => {
            let out = out.unwrap_or_else(|| {
                let safe: String = session
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                data.join(format!("report-{safe}.html"))
            });
            let w = livesell::sql::report::write_report(&data, &session, &out)?;
            eprintln!(
                "livesell: report for {session}: {} and {}",
                w.html.display(),
                w.markdown.display()
            );
            Ok(())
        }
        Command::ServeSql {
            data,
            listen,
            config,
        } => {
            let file = ServeFile::load_or_default(config.as_deref())?;
            let auth = file.sql.with_env(|k| std::env::var(k).ok())?;
            let login = if auth.password.is_some() {
                "a password"
            } else {
                "no password"
            };
            livesell::sql::pgwire::serve(&data, &listen, &auth, |addr| {
                eprintln!(
                    "livesell: serving {} over the Postgres protocol on {addr} (read-only, {login})",
                    data.display()
                );
            })
        }
        Command::Sql {
            data,
            query,
            format,
        } => match livesell::sql::run(&data, &query, format) {
            Ok(text) => {
                print!("{text}");
                Ok(())
            }
            // A bad query is the user's to fix: DataFusion's own words, exit code 2.
            Err(e @ livesell::sql::SqlError::Query(_)) => {
                eprintln!("livesell: query failed: {e}");
                std::process::exit(2);
            }
            Err(e) => Err(e.into()),
        },
    }
}

fn parse_only(inputs: &[String]) -> anyhow::Result<()> {
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
                        match livesell::domain::event::parse_line(l) {
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

fn gen_file(out: &PathBuf, cfg: GenConfig) -> anyhow::Result<u64> {
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

/// Runs `work` with a byte-count progress bar over the input files (hidden when not a terminal).
fn with_progress<T>(inputs: &[String], quiet: bool, work: impl FnOnce(Arc<AtomicU64>) -> T) -> T {
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

/// Runs `livesell serve`, with tokens made up (and printed) for the roles nobody configured.
fn serve_live(mut cfg: ServeConfig) -> anyhow::Result<()> {
    let mut made = Vec::new();
    for role in [Role::Director, Role::Moderator] {
        if !cfg.auth.has(role) {
            let token = random_token().context("cannot make up a token")?;
            made.push(format!("{}={token}", role.as_str()));
            cfg.auth.tokens.push(TokenEntry { role, token });
        }
    }
    let out = cfg.out.clone();
    let report = serve(cfg, |s| {
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

/// `livesell convert`: every payload's comments as canonical JSONL; a payload that cannot be
/// converted is reported with its number and reason and the rest go on (exit 2 at the end).
fn convert(
    from: &str,
    file: Option<PathBuf>,
    shows: Option<PathBuf>,
    session: Option<String>,
    header_ts: Option<String>,
) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let format = Format::parse(from).with_context(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
        format!("unknown format {from:?}: one of {}", names.join(", "))
    })?;
    let map = shows_file(shows.as_ref(), session)?;
    let mut input = Vec::new();
    match &file {
        Some(f) => {
            input = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?
        }
        None => {
            std::io::stdin().read_to_end(&mut input)?;
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut comments, mut skipped, mut bad) = (0usize, 0usize, 0usize);
    for (n, payload) in payloads(&input).into_iter().enumerate() {
        let result = payload.and_then(|p| {
            convert_payload(format, &p, &map, header_ts.as_deref()).map_err(|e| (0, e))
        });
        match result {
            Ok(c) => {
                for comment in &c.comments {
                    writeln!(out, "{}", serde_json::to_string(comment)?)?;
                }
                // A live stream that ended: a director `end` for its show (SPEC 3.5).
                for end in &c.ends {
                    writeln!(out, "{}", serde_json::to_string(end)?)?;
                }
                comments += c.comments.len();
                skipped += c.skipped;
            }
            Err((at, e)) => {
                bad += 1;
                let place = if at > 0 {
                    format!(" (byte {at})")
                } else {
                    String::new()
                };
                eprintln!("livesell: payload {}{place}: {}: {e}", n + 1, e.reason());
            }
        }
    }
    out.flush()?;
    eprintln!(
        "livesell: {comments} comments, {skipped} other items skipped, {bad} payloads refused"
    );
    if bad > 0 {
        std::process::exit(2);
    }
    Ok(())
}

/// The shows mapping of `--shows FILE`, with `--session` as the show of unmapped payloads.
fn shows_file(file: Option<&PathBuf>, session: Option<String>) -> anyhow::Result<Shows> {
    let mut map = match file {
        Some(f) => Shows::from_toml(
            &std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?,
        None => Shows::default(),
    };
    if session.is_some() {
        map.default = session;
    }
    Ok(map)
}

fn poll_youtube(opts: &livesell::io::youtube::PollOptions, shows: Shows) -> anyhow::Result<()> {
    use std::io::Write;
    if opts.api_key.is_none() && opts.access_token.is_none() {
        anyhow::bail!(
            "no credentials: pass --api-key (or LIVESELL_YOUTUBE_API_KEY) or --access-token (or LIVESELL_YOUTUBE_TOKEN)"
        );
    }
    let stdout = std::io::stdout();
    let stats = livesell::io::youtube::poll(
        opts,
        &shows,
        |comments, ends| {
            let mut out = stdout.lock();
            for c in comments {
                writeln!(out, "{}", serde_json::to_string(c)?)?;
            }
            // The chat went offline (`offlineAt`): its show ends (SPEC 3.5).
            for e in ends {
                writeln!(out, "{}", serde_json::to_string(e)?)?;
            }
            // A page at a time, so a pipeline reading the pipe sees claims as they come.
            out.flush()?;
            Ok(())
        },
        |line| eprintln!("livesell: youtube {}: {line}", opts.live_chat_id),
    )?;
    eprintln!(
        "livesell: {} pages, {} comments, {} other items, {} repeats dropped, {} failed requests; stopped: {}",
        stats.pages, stats.comments, stats.skipped, stats.repeats, stats.failures, stats.stopped
    );
    Ok(())
}

/// The first and last `ts` of a show file, to pace its replay.
fn show_span(path: &std::path::Path) -> anyhow::Result<(i64, i64)> {
    use std::io::BufRead;
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for line in file.split(b'\n') {
        if let Ok(ev) = livesell::domain::event::parse_line(&line?) {
            lo = lo.min(ev.ts);
            hi = hi.max(ev.ts);
        }
    }
    Ok((lo, hi.max(lo)))
}

fn demo(
    events: u64,
    workers: usize,
    dir: Option<PathBuf>,
    live: Option<(String, f64)>,
) -> anyhow::Result<()> {
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
    };
    let started = Instant::now();
    let report = with_progress(&cfg.inputs, false, |p| run(cfg.clone(), p))?;
    let secs = started.elapsed().as_secs_f64();
    print!(
        "{}",
        livesell::report::demo_summary(&report.summary_json, &out.join("decisions.jsonl"))?
    );
    println!(
        "\n{} events in {:.2}s ({:.0} events/s) with {} workers; outputs in {}",
        report.lines,
        secs,
        report.lines as f64 / secs.max(1e-9),
        workers,
        out.display()
    );
    let Some((listen, replay_secs)) = live else {
        return Ok(());
    };
    let (first, last) = show_span(&show)?;
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
    })
}
