//! `livesell push`: order drafts (`orders_out.jsonl` or `livesell.orders-out`) to a shop (Shopify Admin GraphQL) or a signed webhook, through a durable outbox.
//!
//! Records are taken in order; each is marked in the outbox before its request goes out and
//! after its answer, so that a crash or kill -9 of the pusher loses nothing and sends nothing
//! twice (an interrupted Shopify create is found by its tag; a webhook receiver drops a second
//! copy by `X-Livesell-Id`). One draft order per reservation (schemas/README.md).

pub mod deliver;
pub mod outbox;
pub mod shopify;
pub mod webhook;

use std::io::{BufRead, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use deliver::PushError;
use outbox::{Outbox, State};
use shopify::{Action, Shopify};
use webhook::Webhook;

/// Where the records go.
pub enum Target {
    Shopify {
        shop: String,
        /// The Admin API's URL when not `https://SHOP.myshopify.com/…` (a test server).
        endpoint: Option<String>,
        token: String,
    },
    Webhook {
        url: String,
        secret: String,
    },
}

pub struct PushArgs {
    /// A run's output directory, or `kafka://HOST:PORT[/TOPIC]`.
    pub from: String,
    pub to: Target,
    /// The outbox (default `DIR/push.redb` with a directory).
    pub outbox: Option<PathBuf>,
    /// Keep reading as the run appends; stop after this long with nothing new (`None`: stop
    /// at the end of what is there).
    pub follow: Option<Duration>,
    /// Which file of the directory (`orders_out.jsonl`, or `notifications.jsonl` for a
    /// messaging service through the webhook).
    pub file: String,
}

#[derive(Debug, Default, Clone)]
pub struct PushReport {
    pub sent: u64,
    /// Found done in the outbox (an earlier run sent them).
    pub already: u64,
    /// Interrupted by a crash, then found done at the target.
    pub recovered: u64,
    pub failed: u64,
    pub throttled: u64,
}

enum Sender {
    Shopify(Shopify),
    Webhook(Webhook),
}

struct Pusher {
    outbox: Outbox,
    sender: Sender,
    failed: std::fs::File,
    report: PushReport,
    last_log: Instant,
}

fn log(m: &str) {
    eprintln!("livesell: push: {m}");
}

impl Pusher {
    /// One record: skipped when done, reconciled when interrupted, else sent.
    fn record(&mut self, line: &str) -> anyhow::Result<()> {
        let r: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                self.fail(line, "", &format!("not a JSON record: {e}"))?;
                return Ok(());
            }
        };
        let Some(id) = r["id"].as_str() else {
            return self.fail(line, "", "a record with no id");
        };
        match self.outbox.state(id)? {
            Some(State::Done { .. } | State::Failed { .. }) => {
                self.report.already += 1;
                return Ok(());
            }
            Some(State::Sending) => {
                if let Some(done) = self.recover(&r).map_err(|e| anyhow::anyhow!("{e}"))? {
                    self.report.recovered += 1;
                    return self.done(id, &r, Some(done));
                }
            }
            None => {}
        }
        self.outbox.set(id, &State::Sending, None)?;
        let mut say = |m: &str| log(&format!("{id}: {m}"));
        let result = match &mut self.sender {
            Sender::Webhook(w) => w.send(id, line, &mut say).map(|()| None),
            Sender::Shopify(s) => match shopify::action(&r) {
                Some(a) => s.apply(&self.outbox, &a, &mut say),
                None => Err(PushError::Refused(format!(
                    "not an order draft (kind {})",
                    r["kind"]
                ))),
            },
        };
        match result {
            Ok(remote) => {
                self.report.sent += 1;
                self.done(id, &r, remote)
            }
            Err(PushError::Refused(why)) => self.fail(line, id, &why),
            Err(PushError::Stop(why) | PushError::Unanswered(why)) => {
                bail!("{why} (the outbox keeps what was sent: run again to go on)")
            }
        }
    }

    /// Whether an interrupted record reached the target after all: the draft order's id.
    fn recover(&mut self, r: &Value) -> Result<Option<String>, PushError> {
        let Sender::Shopify(s) = &mut self.sender else {
            // The receiver drops the second copy by its id.
            return Ok(None);
        };
        let mut say = |m: &str| log(m);
        match shopify::action(r) {
            Some(Action::Create { reservation, .. }) => s.find(reservation, &mut say),
            Some(Action::Complete { reservation }) => {
                let draft = self.outbox.remote(reservation).ok().flatten();
                match draft {
                    Some(d) if s.completed(&d, &mut say)? => Ok(Some(d)),
                    _ => Ok(None),
                }
            }
            // A delete is tried again: one that already happened answers "does not exist".
            _ => Ok(None),
        }
    }

    fn done(&mut self, id: &str, r: &Value, remote: Option<String>) -> anyhow::Result<()> {
        let reservation = match (r["kind"].as_str(), r["reservation_id"].as_str(), &remote) {
            (Some("draft_order"), Some(rid), Some(d)) => Some((rid, d.as_str())),
            _ => None,
        };
        self.outbox.set(
            id,
            &State::Done {
                remote: remote.clone(),
            },
            reservation,
        )?;
        self.progress();
        Ok(())
    }

    fn fail(&mut self, line: &str, id: &str, why: &str) -> anyhow::Result<()> {
        log(&format!("{id}: refused: {why}"));
        self.report.failed += 1;
        if !id.is_empty() {
            self.outbox.set(
                id,
                &State::Failed {
                    reason: why.to_string(),
                },
                None,
            )?;
        }
        let mut o = serde_json::Map::new();
        o.insert("id".into(), Value::from(id));
        o.insert("reason".into(), Value::from(why));
        o.insert("record".into(), Value::from(line));
        writeln!(self.failed, "{}", Value::Object(o))?;
        Ok(())
    }

    fn progress(&mut self) {
        if self.last_log.elapsed() >= Duration::from_secs(2) {
            self.last_log = Instant::now();
            let r = &self.report;
            log(&format!(
                "{} sent, {} already sent, {} failed so far",
                r.sent, r.already, r.failed
            ));
        }
    }
}

/// Pushes every record of the source; returns what happened.
pub fn push(args: PushArgs) -> anyhow::Result<PushReport> {
    let dir = (!args.from.starts_with("kafka://")).then(|| PathBuf::from(&args.from));
    let outbox_path = match (&args.outbox, &dir) {
        (Some(p), _) => p.clone(),
        (None, Some(d)) => d.join("push.redb"),
        (None, None) => bail!("--outbox FILE is needed with a Kafka source"),
    };
    let outbox = Outbox::open(&outbox_path)?;
    let failed_path = outbox_path.with_file_name("push_failed.jsonl");
    let failed = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&failed_path)
        .with_context(|| format!("cannot write {}", failed_path.display()))?;
    let sender = match args.to {
        Target::Shopify {
            shop,
            endpoint,
            token,
        } => Sender::Shopify(Shopify::new(&shop, endpoint, token)),
        Target::Webhook { url, secret } => Sender::Webhook(Webhook::new(url, secret)),
    };
    let mut p = Pusher {
        outbox,
        sender,
        failed,
        report: PushReport::default(),
        last_log: Instant::now(),
    };
    match &dir {
        Some(d) => read_file(&d.join(&args.file), args.follow, |l| p.record(l))?,
        None => read_kafka(&args.from, args.follow, |l| p.record(l))?,
    }
    if let Sender::Shopify(s) = &p.sender {
        p.report.throttled = s.throttled;
    }
    Ok(p.report)
}

/// Every complete line of `path`, in order; with `follow`, goes on reading what is appended
/// until nothing new came for that long.
fn read_file(
    path: &std::path::Path,
    follow: Option<Duration>,
    mut each: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = std::io::BufReader::new(f);
    let mut line = String::new();
    let mut quiet_since = Instant::now();
    loop {
        let at = reader.stream_position()?;
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n > 0 && line.ends_with('\n') {
            quiet_since = Instant::now();
            let l = line.trim_end();
            if !l.is_empty() {
                each(l)?;
            }
            continue;
        }
        // The end, or a line the run is still writing: read it again once it is whole.
        reader.seek(std::io::SeekFrom::Start(at))?;
        match follow {
            Some(quiet) if quiet_since.elapsed() < quiet => {
                std::thread::sleep(Duration::from_millis(100));
            }
            _ => return Ok(()),
        }
    }
}

/// Every record of the orders-out topic from the start (the outbox skips what was sent).
fn read_kafka(
    from: &str,
    follow: Option<Duration>,
    mut each: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use crate::io::kafka::{KafkaAddress, read_topic};
    let address = KafkaAddress::parse(from, Some(crate::records::Kind::Draft.topic()))?;
    read_topic(&address.brokers, &address.topics, follow, |v| {
        each(&String::from_utf8_lossy(v))
    })
}
