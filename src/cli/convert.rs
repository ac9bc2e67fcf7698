//! `livesell convert`, `poll-youtube` and `runsheet`: native payloads, a YouTube live chat and a shop's product export, each as canonical JSONL on standard output (or a file).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use livesell::adapters::{Format, convert as convert_payload, payloads};
use livesell::domain::catalog::{Codes, import_shopify_csv};
use livesell::domain::time::{format_micros, parse_rfc3339};
use livesell::io::youtube::PollOptions;

use super::shows_file;

#[derive(clap::Args)]
pub struct ConvertArgs {
    /// facebook-graph, facebook-webhook, instagram-webhook, youtube-livechat,
    /// tiktok-live-connector or twitch-eventsub.
    #[arg(long = "from")]
    pub from: String,
    /// Payloads (default: standard input).
    pub file: Option<PathBuf>,
    /// Which show each payload belongs to: a TOML file with `default` and a `[sessions]`
    /// table of `"platform:id" = "session_id"` (see pipelines/shows.toml).
    #[arg(long)]
    pub shows: Option<PathBuf>,
    /// The show of payloads the mapping does not place.
    #[arg(long)]
    pub session: Option<String>,
    /// Twitch webhook bodies carry no time: the `Twitch-Eventsub-Message-Timestamp` header.
    #[arg(long)]
    pub message_timestamp: Option<String>,
}

#[derive(clap::Args)]
pub struct PollYoutubeArgs {
    /// The broadcast's liveChatId (liveBroadcasts.snippet.liveChatId).
    #[arg(long)]
    pub live_chat_id: String,
    /// A Data API key (default: the LIVESELL_YOUTUBE_API_KEY environment variable).
    #[arg(long)]
    pub api_key: Option<String>,
    /// An OAuth access token instead of, or besides, the key (LIVESELL_YOUTUBE_TOKEN).
    #[arg(long)]
    pub access_token: Option<String>,
    /// Which show the chat belongs to: `youtube:<liveChatId>` in a shows file (see
    /// pipelines/shows.toml), or `--session`.
    #[arg(long)]
    pub shows: Option<PathBuf>,
    #[arg(long)]
    pub session: Option<String>,
    /// The Data API's base URL.
    #[arg(long, default_value = livesell::io::youtube::DEFAULT_API)]
    pub api: String,
    /// Never ask sooner than this, whatever the API's interval says.
    #[arg(long, default_value_t = 0)]
    pub min_interval_ms: u64,
    /// Stop after this many pages (default: when the chat goes offline).
    #[arg(long)]
    pub max_pages: Option<u64>,
}

#[derive(clap::Args)]
pub struct RunsheetArgs {
    /// The export's format: shopify-csv.
    #[arg(long = "from")]
    pub from: String,
    /// The exported file (products.csv).
    pub file: PathBuf,
    /// The show the run sheet is for (default: the file name without its extension).
    #[arg(long)]
    pub session: Option<String>,
    /// auto: generated codes (A10, A21, …, no two one edit apart); sku: each product's first
    /// variant SKU; handle: the product's handle (both must be letters then digits).
    #[arg(long, default_value = "auto")]
    pub codes: String,
    /// The products' currency (Shopify's export has none).
    #[arg(long)]
    pub currency: Option<String>,
    /// The events' time, RFC 3339 (default now: before the show's first claim).
    #[arg(long)]
    pub ts: Option<String>,
    /// Write the events here (default standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `livesell convert`: every payload's comments as canonical JSONL; a payload that cannot be
/// converted is reported with its number and reason and the rest go on (exit 2 at the end).
pub fn convert(args: ConvertArgs) -> anyhow::Result<()> {
    use std::io::Read;
    let ConvertArgs {
        from,
        file,
        shows,
        session,
        message_timestamp: header_ts,
    } = args;
    let format = Format::parse(&from).with_context(|| {
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

/// `livesell poll-youtube`: the chat's comments a page at a time, until it goes offline.
pub fn poll_youtube(args: PollYoutubeArgs) -> anyhow::Result<()> {
    let shows = shows_file(args.shows.as_ref(), args.session)?;
    let opts = &PollOptions {
        live_chat_id: args.live_chat_id,
        api: args.api,
        api_key: args
            .api_key
            .or_else(|| std::env::var("LIVESELL_YOUTUBE_API_KEY").ok()),
        access_token: args
            .access_token
            .or_else(|| std::env::var("LIVESELL_YOUTUBE_TOKEN").ok()),
        min_interval_ms: args.min_interval_ms,
        max_pages: args.max_pages,
    };
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

/// `livesell runsheet`: reads the export, prints each problem to standard error, writes the
/// events; fails when no product could be made.
pub fn runsheet(args: RunsheetArgs) -> anyhow::Result<()> {
    let codes = Codes::parse(&args.codes).map_err(|e| anyhow::anyhow!("--{e}"))?;
    if args.from != "shopify-csv" {
        bail!("--from {}: the formats are: shopify-csv", args.from);
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let cat = import_shopify_csv(&text, codes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let name = args.file.display();
    for p in &cat.problems {
        let what = if p.skipped { "left out" } else { "taken" };
        eprintln!(
            "livesell: {name}:{}: {} ({what}): {}",
            p.line, p.reason, p.detail
        );
    }
    if cat.products.is_empty() {
        bail!("{name}: no product could be read");
    }
    let session = args.session.clone().unwrap_or_else(|| stem(&args.file));
    let ts = match &args.ts {
        Some(t) => {
            parse_rfc3339(t).map_err(|e| anyhow::anyhow!("--ts {t}: {e}"))?;
            t.clone()
        }
        None => format_micros(now_micros()),
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    for p in &cat.products {
        writeln!(out, "{}", p.event(&session, &ts, args.currency.as_deref()))?;
    }
    out.flush()?;
    let variants: usize = cat.products.iter().map(|p| p.variants.len()).sum();
    let left_out = cat.problems.iter().filter(|p| p.skipped).count();
    eprintln!(
        "livesell: {} product(s), {variants} variant(s) for session {session} from {name}; {left_out} row(s) or product(s) left out",
        cat.products.len()
    );
    Ok(())
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "show".into())
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
