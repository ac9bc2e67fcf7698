//! Kafka transport (rdkafka): `kafka://` addresses, partition discovery, consumers, the producer and group commits.
//!
//! Transport only: bytes, partitions, offsets and commits. Turning a message value into an event
//! is the format layer's job (`domain::event::parse::parse_line`), exactly as for a line of a file.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::domain::order::CommitTrack;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

pub const DEFAULT_INPUT_TOPIC: &str = "livesell.events";

mod topics;
mod transactions;

pub use topics::ensure_topics;

/// What the Kafka source shares, within one process, with the sink and its peers.
pub struct KafkaShared {
    pub start: Instant,
    /// When any partition last delivered a message (milliseconds since `start`).
    pub last_delivery_ms: AtomicU64,
    /// Per source: the partition and which of its offsets a flushed bound covers.
    pub tracks: Mutex<Vec<Option<(PartitionId, CommitTrack)>>>,
}

impl KafkaShared {
    pub fn new(sources: usize) -> Self {
        KafkaShared {
            start: Instant::now(),
            last_delivery_ms: AtomicU64::new(0),
            tracks: Mutex::new(vec![None; sources]),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// A partition delivered a message now.
    pub fn delivered(&self) {
        self.last_delivery_ms
            .fetch_max(self.now_ms(), Ordering::Relaxed);
    }

    /// The offsets to commit for this process's partitions once every decision below `bound`
    /// has been flushed.
    pub fn covered(&self, bound: i64) -> Vec<(PartitionId, u64)> {
        let Ok(mut tracks) = self.tracks.lock() else {
            return Vec::new();
        };
        tracks
            .iter_mut()
            .flatten()
            .map(|(p, t)| (p.clone(), t.covered(bound)))
            .collect()
    }
}

pub use transactions::{
    Committed, PROGRESS_TOPIC, Progress, fence, read_progress, transactional_id,
};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{0}: not a Kafka address (expected kafka://HOST:PORT[,HOST:PORT…][/TOPIC[,TOPIC…]])")]
    Address(String),
    #[error("topic {topic} does not exist on {brokers} (create it first)")]
    NoTopic { topic: String, brokers: String },
    /// What failed; the client's error follows as the source (`{:#}` prints both).
    #[error("{what}")]
    Kafka {
        what: String,
        #[source]
        source: KafkaError,
    },
    #[error("{0} message(s) could not be delivered; last error: {1}")]
    Delivery(u64, String),
    /// The TLS or SASL settings cannot be taken (`security`).
    #[error("Kafka security settings: {0}")]
    Security(String),
}

impl TransportError {
    /// The error and its causes on one line, for a log.
    pub fn describe(&self) -> String {
        let mut line = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            line.push_str(": ");
            line.push_str(&c.to_string());
            cause = c.source();
        }
        line
    }
}

fn kafka(what: impl Into<String>) -> impl FnOnce(KafkaError) -> TransportError {
    let what = what.into();
    move |source| TransportError::Kafka { what, source }
}

/// `kafka://HOST:PORT[,HOST:PORT…][/TOPIC[,TOPIC…]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaAddress {
    pub brokers: String,
    pub topics: Vec<String>,
}

impl KafkaAddress {
    /// Parses an address; without topics, `default_topic` (if any) is the one topic.
    pub fn parse(url: &str, default_topic: Option<&str>) -> Result<Self, TransportError> {
        let bad = || TransportError::Address(url.to_string());
        let rest = url.strip_prefix("kafka://").ok_or_else(bad)?;
        let (brokers, topics) = match rest.split_once('/') {
            Some((b, t)) => (b, t),
            None => (rest, ""),
        };
        if brokers.is_empty() || brokers.split(',').any(|b| !b.contains(':')) {
            return Err(bad());
        }
        let mut topics: Vec<String> = topics
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if topics.is_empty() {
            topics.extend(default_topic.map(str::to_string));
        }
        Ok(KafkaAddress {
            brokers: brokers.to_string(),
            topics,
        })
    }
}

/// One partition of an input topic: a source in SPEC 2's sense (arrival = offset).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartitionId {
    pub topic: String,
    pub partition: i32,
}

impl PartitionId {
    /// How rejects and logs name the source: `topic/partition`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.topic, self.partition)
    }
}

/// Where a reader with no position starts: offset 0, with `auto.offset.reset=earliest` set on
/// its consumer. On Kafka a trimmed partition resets to its first retained offset; asking for
/// `Offset::Beginning` instead (a ListOffsets request) is not safe on tansu 0.6, which answers
/// with the batch *stored* first, not the lowest offset: batches that two producers wrote to
/// one partition at once can then be skipped.
pub(crate) const LOG_START: Offset = Offset::Offset(0);

/// A consumer of `group` that commits nothing by itself and, at a position the log no longer
/// has (or none), starts from its first retained offset: how every reader here starts.
pub(crate) fn reader_config(brokers: &str, group: &str) -> ClientConfig {
    let mut c = base_config(brokers);
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest");
    c
}

pub(crate) fn base_config(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("client.id", "livesell")
        // Small requests must not wait for Nagle's algorithm: decisions are latency-bound.
        .set("socket.nagle.disable", "true")
        .set("log_level", "3");
    // TLS and SASL, for an authenticated cluster (checked when the run starts: `security`).
    if let Ok(settings) = security() {
        for (k, v) in settings {
            c.set(k, v);
        }
    }
    c
}

/// The prefixes of the librdkafka properties the environment and `LIVESELL_KAFKA_CONFIG` may
/// set: how to reach an authenticated cluster, nothing of how the pipeline reads or writes.
const SECURITY_PREFIXES: [&str; 4] = ["security.", "sasl.", "ssl.", "enable.ssl."];

/// The TLS and SASL settings of every Kafka client, read once: a file of librdkafka
/// properties named by `LIVESELL_KAFKA_CONFIG` (`key=value` lines, `#` comments), then the
/// environment's `LIVESELL_KAFKA_SECURITY_PROTOCOL`, `LIVESELL_KAFKA_SASL_…`,
/// `LIVESELL_KAFKA_SSL_…` (the property in upper case, `.` as `_`: `LIVESELL_KAFKA_SASL_USERNAME`
/// is `sasl.username`), which win. Another property is refused, with its name.
pub fn security() -> Result<&'static [(String, String)], String> {
    static SETTINGS: std::sync::OnceLock<Result<Vec<(String, String)>, String>> =
        std::sync::OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            let vars: Vec<(String, String)> = std::env::vars().collect();
            security_from(&vars, |p| {
                std::fs::read_to_string(p).map_err(|e| e.to_string())
            })
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// `security` over the given environment and file reader.
pub fn security_from(
    vars: &[(String, String)],
    read: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<(String, String)>, String> {
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut put = |k: String, v: String, from: &str| -> Result<(), String> {
        if !SECURITY_PREFIXES.iter().any(|p| k.starts_with(p)) {
            return Err(format!(
                "{from}: {k} is not a TLS or SASL setting (only security.*, sasl.*, ssl.* are taken)"
            ));
        }
        settings.retain(|(old, _)| *old != k);
        settings.push((k, v));
        Ok(())
    };
    if let Some((_, path)) = vars.iter().find(|(k, _)| k == "LIVESELL_KAFKA_CONFIG") {
        let text = read(path).map_err(|e| format!("LIVESELL_KAFKA_CONFIG {path}: {e}"))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("{path}:{}: not key=value", n + 1));
            };
            put(k.trim().to_string(), v.trim().to_string(), path)?;
        }
    }
    for (k, v) in vars {
        let Some(name) = k.strip_prefix("LIVESELL_KAFKA_") else {
            continue;
        };
        if name == "CONFIG" {
            continue;
        }
        put(name.to_lowercase().replace('_', "."), v.clone(), k)?;
    }
    Ok(settings)
}

/// Every partition of `topics`, in topic order then partition order: source numbers follow it.
pub fn discover(
    brokers: &str,
    topics: &[String],
    timeout: Duration,
) -> Result<Vec<PartitionId>, TransportError> {
    security().map_err(TransportError::Security)?;
    let consumer: BaseConsumer = base_config(brokers)
        .create()
        .map_err(kafka(format!("connecting to {brokers}")))?;
    let mut out = Vec::new();
    for topic in topics {
        let md = consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(kafka(format!(
                "reading the partitions of {topic} on {brokers}"
            )))?;
        let parts: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if parts.is_empty() {
            return Err(TransportError::NoTopic {
                topic: topic.clone(),
                brokers: brokers.to_string(),
            });
        }
        let mut parts = parts;
        parts.sort_unstable();
        out.extend(parts.into_iter().map(|partition| PartitionId {
            topic: topic.clone(),
            partition,
        }));
    }
    Ok(out)
}

/// A consumer assigned to some partitions, each from a checkpoint's position or else from its
/// earliest retained offset (the claim engine then rebuilds its state by replaying it; see
/// schemas/README.md, "Restarts").
pub struct PartitionReader {
    consumer: BaseConsumer,
    parts: Vec<PartitionId>,
    /// Per partition, the offset a resumed run starts at, until a message at it has come.
    resuming: Vec<Option<Resuming>>,
}

/// A partition resumed at `at`. Kafka answers a fetch with the batch that holds the offset
/// asked for (the client drops the messages before it); tansu 0.6 answers with the batches
/// after it, so the rest of that batch would never be read. When the first message comes
/// after `at`, the reader asks again from further back (`back` offsets, doubled each time)
/// and drops what comes before `at`, until a message at `at` or below arrives.
#[derive(Debug, Clone, Copy)]
struct Resuming {
    at: u64,
    back: u64,
    /// A message below `at` came since the last seek: a later gap is the log's own.
    reached: bool,
}

/// What to do with a message of a resumed partition.
#[derive(Debug, PartialEq, Eq)]
enum Resumed {
    Take,
    Drop,
    /// Seek to this offset and drop the message.
    Seek(u64),
}

impl Resuming {
    fn at(at: u64) -> Resuming {
        Resuming {
            at,
            back: 0,
            reached: false,
        }
    }

    fn message(&mut self, offset: u64) -> (Resumed, bool) {
        if offset < self.at {
            self.reached = true;
            return (Resumed::Drop, false);
        }
        // At `at`, or a gap in the log itself (compaction, transaction markers), or read
        // again from the log's start already.
        if offset == self.at || self.reached || self.back >= self.at {
            return (Resumed::Take, true);
        }
        let back = self.back.max(offset - self.at).max(1);
        self.back = back.saturating_mul(2);
        (Resumed::Seek(self.at.saturating_sub(back)), false)
    }
}

impl PartitionReader {
    pub fn open(
        brokers: &str,
        group: &str,
        parts: Vec<(PartitionId, Option<u64>)>,
    ) -> Result<Self, TransportError> {
        let consumer: BaseConsumer = reader_config(brokers, group)
            .set("enable.auto.offset.store", "false")
            .set("fetch.wait.max.ms", "5")
            .create()
            .map_err(kafka(format!("connecting to {brokers}")))?;
        let mut tpl = TopicPartitionList::new();
        for (p, start) in &parts {
            let offset = start.map_or(LOG_START, |o| Offset::Offset(o as i64));
            tpl.add_partition_offset(&p.topic, p.partition, offset)
                .map_err(kafka(format!("assigning {}", p.name())))?;
        }
        consumer
            .assign(&tpl)
            .map_err(kafka(format!("assigning partitions on {brokers}")))?;
        let resuming = parts
            .iter()
            .map(|(_, start)| start.map(Resuming::at))
            .collect();
        let parts = parts.into_iter().map(|(p, _)| p).collect();
        Ok(PartitionReader {
            consumer,
            parts,
            resuming,
        })
    }

    /// Hands up to `budget` messages already fetched to `f(slot, offset, value)`, where `slot`
    /// indexes the partitions given to `open`. A message without a value arrives as empty bytes
    /// (and becomes a reject). Returns how many were handed over.
    pub fn poll(
        &mut self,
        budget: usize,
        mut f: impl FnMut(usize, u64, &[u8]),
    ) -> Result<usize, TransportError> {
        let mut n = 0;
        while n < budget {
            match self.consumer.poll(Duration::ZERO) {
                None => break,
                Some(Ok(m)) => {
                    let slot = self
                        .parts
                        .iter()
                        .position(|p| p.partition == m.partition() && p.topic == m.topic());
                    let Some(slot) = slot else { continue };
                    let offset = m.offset().max(0) as u64;
                    if let Some(r) = &mut self.resuming[slot] {
                        let (what, done) = r.message(offset);
                        let at = r.at;
                        if done {
                            self.resuming[slot] = None;
                        }
                        match what {
                            Resumed::Take => {}
                            Resumed::Drop => continue,
                            Resumed::Seek(from) => {
                                eprintln!(
                                    "livesell: {} resumes at offset {at}, but the broker's first message is at {offset} (it fetched from the next batch): reading again from {from}",
                                    self.parts[slot].name()
                                );
                                let p = &self.parts[slot];
                                self.consumer
                                    .seek(
                                        &p.topic,
                                        p.partition,
                                        Offset::Offset(from as i64),
                                        Duration::from_secs(10),
                                    )
                                    .map_err(kafka(format!("seeking {} to {from}", p.name())))?;
                                continue;
                            }
                        }
                    }
                    f(slot, offset, m.payload().unwrap_or_default());
                    n += 1;
                }
                Some(Err(KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) => return Err(kafka("reading messages")(e)),
            }
        }
        Ok(n)
    }
}

/// The offsets `group` committed for `parts` (`None` where it committed nothing): everything an
/// event before its partition's offset caused had reached the sink before the commit.
pub fn committed_offsets(
    brokers: &str,
    group: &str,
    parts: &[PartitionId],
    timeout: Duration,
) -> Result<Vec<Option<u64>>, TransportError> {
    let consumer: BaseConsumer = base_config(brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(kafka(format!("connecting to {brokers}")))?;
    let mut tpl = TopicPartitionList::new();
    for p in parts {
        tpl.add_partition(&p.topic, p.partition);
    }
    let got = consumer
        .committed_offsets(tpl, timeout)
        .map_err(kafka(format!(
            "reading the offsets group {group} committed"
        )))?;
    Ok(parts
        .iter()
        .map(
            |p| match got.find_partition(&p.topic, p.partition)?.offset() {
                Offset::Offset(o) if o >= 0 => Some(o as u64),
                _ => None,
            },
        )
        .collect())
}

/// Every message of `topics` from the start, in each partition's order (a session's records
/// are on one partition), to each partition's end as the fetches report it; with `follow`, on
/// until none came for that long.
pub fn read_topic(
    brokers: &str,
    topics: &[String],
    follow: Option<Duration>,
    mut each: impl FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(10);
    let parts = discover(brokers, topics, timeout)?;
    // A partition ends at its end-of-partition event (the fetch's own high watermark): tansu
    // 0.6 answers ListOffsets with the batch stored first or last, not the log's ends. The
    // event names no topic, so each topic has its own consumer.
    let mut readers = Vec::new();
    for topic in topics {
        let consumer: BaseConsumer = reader_config(brokers, "livesell-push")
            .set("enable.partition.eof", "true")
            .create()
            .map_err(kafka(format!("connecting to {brokers}")))?;
        let mut tpl = TopicPartitionList::new();
        let mut open = std::collections::BTreeSet::new();
        for p in parts.iter().filter(|p| &p.topic == topic) {
            open.insert(p.partition);
            tpl.add_partition_offset(&p.topic, p.partition, LOG_START)
                .map_err(kafka(format!("reading {}", p.name())))?;
        }
        consumer
            .assign(&tpl)
            .map_err(kafka(format!("reading {topic}")))?;
        readers.push((consumer, open));
    }
    let wait = Duration::from_millis(100 / readers.len().max(1) as u64);
    let mut last = std::time::Instant::now();
    let quiet = follow.unwrap_or_default();
    while readers.iter().any(|(_, open)| !open.is_empty()) || last.elapsed() < quiet {
        for (consumer, open) in &mut readers {
            match consumer.poll(wait) {
                Some(Ok(m)) => {
                    last = std::time::Instant::now();
                    each(m.payload().unwrap_or_default())?;
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    open.remove(&p);
                }
                Some(Err(e)) => return Err(kafka(format!("reading {topics:?}"))(e).into()),
                None => {}
            }
        }
    }
    Ok(())
}

/// Each partition's earliest retained offset (what retention has not trimmed yet) and its
/// end (the offset its next message will have), as ListOffsets answers. (tansu 0.6 answers
/// with the batches stored first and last, which can lie inside the log: readers use
/// `LOG_START` and end-of-partition events instead.)
pub fn watermarks(
    brokers: &str,
    parts: &[PartitionId],
    timeout: Duration,
) -> Result<Vec<(u64, u64)>, TransportError> {
    let consumer: BaseConsumer = base_config(brokers)
        .create()
        .map_err(kafka(format!("connecting to {brokers}")))?;
    parts
        .iter()
        .map(|p| {
            consumer
                .fetch_watermarks(&p.topic, p.partition, timeout)
                .map(|(low, high)| (low.max(0) as u64, high.max(0) as u64))
                .map_err(kafka(format!("reading the offsets of {}", p.name())))
        })
        .collect()
}

/// Counts messages the broker refused, so the sink can tell it has failed.
#[derive(Default, Clone)]
pub struct DeliveryWatch {
    failed: Arc<AtomicU64>,
    last_error: Arc<Mutex<String>>,
}

impl ClientContext for DeliveryWatch {}
impl ConsumerContext for DeliveryWatch {}

impl ProducerContext for DeliveryWatch {
    /// The counter of unacknowledged messages of the epoch the message was sent in.
    type DeliveryOpaque = Arc<AtomicU64>;
    fn delivery(&self, result: &DeliveryResult<'_>, epoch: Arc<AtomicU64>) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = self.last_error.lock() {
                *last = e.to_string();
            }
        }
        epoch.fetch_sub(1, Ordering::Release);
    }
}

impl DeliveryWatch {
    fn check(&self) -> Result<(), TransportError> {
        let failed = self.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let last = self
                .last_error
                .lock()
                .map(|s| s.clone())
                .unwrap_or_default();
            return Err(TransportError::Delivery(failed, last));
        }
        Ok(())
    }
}

/// A worker's producer of every output topic.
///
/// Messages are counted per epoch (the span between two `mark`s) with one atomic counter each,
/// so following acknowledgements takes no lock per message.
pub struct KafkaSink {
    producer: ThreadedProducer<DeliveryWatch>,
    watch: DeliveryWatch,
    /// Unacknowledged messages per epoch, oldest first; the last is the current epoch.
    epochs: std::collections::VecDeque<Arc<AtomicU64>>,
    /// The number of the epoch at the front of `epochs`.
    first_epoch: usize,
    /// Messages go in transactions (`open_transactional`).
    pub transactional: bool,
}

/// The consumer group's handle that commits what the outputs have covered.
pub struct GroupCommitter {
    committer: BaseConsumer,
    group: String,
}

impl GroupCommitter {
    /// Commits `group`'s offsets on `brokers` (the input's).
    pub fn open(brokers: &str, group: &str) -> Result<Self, TransportError> {
        let committer = base_config(brokers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .map_err(kafka(format!("connecting to {brokers}")))?;
        Ok(GroupCommitter {
            committer,
            group: group.to_string(),
        })
    }

    /// Commits, for the group, each partition's first offset whose outputs are not all flushed;
    /// `wait` for the broker's answer (else a failed commit is simply covered by the next).
    pub fn commit(&self, offsets: &[(PartitionId, u64)], wait: bool) -> Result<(), TransportError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (p, next) in offsets {
            let mut e = tpl.add_partition(&p.topic, p.partition);
            e.set_offset(Offset::Offset(*next as i64))
                .map_err(kafka(format!("committing {}", p.name())))?;
        }
        let mode = if wait {
            CommitMode::Sync
        } else {
            CommitMode::Async
        };
        self.committer
            .commit(&tpl, mode)
            .map_err(kafka(format!("committing offsets of group {}", self.group)))
    }
}

impl KafkaSink {
    /// Produces to `brokers`.
    pub fn open(brokers: &str) -> Result<Self, TransportError> {
        KafkaSink::with(brokers, |_| {})
    }

    /// Produces to `brokers`, with settings of `configure` on top of the usual ones.
    fn with(
        brokers: &str,
        configure: impl FnOnce(&mut ClientConfig),
    ) -> Result<Self, TransportError> {
        let watch = DeliveryWatch::default();
        let mut config = base_config(brokers);
        config
            .set("linger.ms", "2")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "1000000")
            .set("queue.buffering.max.kbytes", "1048576")
            .set("acks", "all");
        configure(&mut config);
        let producer = config
            .create_with_context(watch.clone())
            .map_err(kafka(format!("connecting a producer to {brokers}")))?;
        Ok(KafkaSink {
            producer,
            watch,
            epochs: [Arc::default()].into(),
            first_epoch: 0,
            transactional: false,
        })
    }

    /// Queues one message; waits while the local queue is full.
    pub fn send(&self, topic: &str, key: Option<&str>, value: &[u8]) -> Result<(), TransportError> {
        let epoch = self.epochs.back().expect("there is always a current epoch");
        epoch.fetch_add(1, Ordering::Relaxed);
        let mut record: BaseRecord<'_, str, [u8], Arc<AtomicU64>> =
            BaseRecord::with_opaque_to(topic, epoch.clone()).payload(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    epoch.fetch_sub(1, Ordering::Relaxed);
                    return Err(kafka(format!("sending to {topic}"))(e));
                }
            }
        }
    }

    /// Starts a new epoch and returns its number: every message sent so far belongs to an
    /// earlier one.
    pub fn mark(&mut self) -> usize {
        self.epochs.push_back(Arc::default());
        self.first_epoch + self.epochs.len() - 1
    }

    /// Whether the broker has acknowledged every message sent before `mark` (without waiting);
    /// fails if it refused any.
    pub fn acknowledged_below(&mut self, mark: usize) -> Result<bool, TransportError> {
        self.watch.check()?;
        while self.first_epoch < mark
            && self.epochs.len() > 1
            && self.epochs[0].load(Ordering::Acquire) == 0
        {
            self.epochs.pop_front();
            self.first_epoch += 1;
        }
        Ok(self.first_epoch >= mark)
    }

    /// Waits until the broker has every queued message; fails if any was refused.
    pub fn flush(&self, timeout: Duration) -> Result<(), TransportError> {
        self.producer
            .flush(timeout)
            .map_err(kafka("flushing the producer"))?;
        self.watch.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_inside_a_batch_reads_it_again_from_further_back() {
        let mut r = Resuming::at(1_000);
        // The broker started at the next batch: ask from as far back as the gap, then twice.
        assert_eq!(r.message(1_040), (Resumed::Seek(960), false));
        assert_eq!(r.message(1_010), (Resumed::Seek(920), false));
        // From there, what comes before the position is dropped, and the position is taken.
        assert_eq!(r.message(930), (Resumed::Drop, false));
        assert_eq!(r.message(999), (Resumed::Drop, false));
        assert_eq!(r.message(1_000), (Resumed::Take, true));
    }

    #[test]
    fn a_gap_of_the_log_itself_is_taken_as_it_is() {
        let mut r = Resuming::at(50);
        assert_eq!(r.message(60), (Resumed::Seek(40), false));
        assert_eq!(r.message(45), (Resumed::Drop, false));
        // 50..58 are gone (compacted, or transaction markers): no seeking for ever.
        assert_eq!(r.message(58), (Resumed::Take, true));
        let mut at_start = Resuming::at(0);
        assert_eq!(at_start.message(7), (Resumed::Take, true));
        let mut near_start = Resuming::at(3);
        assert_eq!(near_start.message(90), (Resumed::Seek(0), false));
        // Nothing before 90 is left: taken, not sought for ever.
        assert_eq!(near_start.message(90), (Resumed::Take, true));
    }

    #[test]
    fn tls_and_sasl_settings_come_from_a_file_and_the_environment() {
        let vars = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let file = "# a cluster of the cloud\nsecurity.protocol = SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\nssl.ca.location=/etc/ca.pem\n";
        let got = security_from(
            &vars(&[
                ("LIVESELL_KAFKA_CONFIG", "/etc/livesell/kafka.properties"),
                ("LIVESELL_KAFKA_SASL_USERNAME", "shop"),
                ("LIVESELL_KAFKA_SASL_PASSWORD", "s3cret"),
                ("LIVESELL_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
                ("PATH", "/usr/bin"),
            ]),
            |p| {
                assert_eq!(p, "/etc/livesell/kafka.properties");
                Ok(file.to_string())
            },
        )
        .unwrap();
        let get = |k: &str| got.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        // The environment wins over the file.
        assert_eq!(get("security.protocol"), Some("SASL_PLAINTEXT"));
        assert_eq!(get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(get("sasl.username"), Some("shop"));
        assert_eq!(get("sasl.password"), Some("s3cret"));
        assert_eq!(get("ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(got.len(), 5);
        // librdkafka takes them (SASL PLAIN is built in; this is a client, nothing connects).
        let mut c = base_config("127.0.0.1:9");
        for (k, v) in [
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanisms", "PLAIN"),
            ("sasl.username", "shop"),
            ("sasl.password", "s3cret"),
        ] {
            c.set(k, v);
        }
        let made: Result<BaseConsumer, _> = c.create();
        assert!(made.is_ok(), "{:?}", made.err());
        // Anything but TLS and SASL is refused, with where it came from.
        let e = security_from(&vars(&[("LIVESELL_KAFKA_GROUP_ID", "x")]), |_| {
            Ok(String::new())
        })
        .unwrap_err();
        assert!(e.contains("group.id is not a TLS or SASL setting"), "{e}");
        let e = security_from(&vars(&[("LIVESELL_KAFKA_CONFIG", "/nope")]), |_| {
            Err("No such file".into())
        })
        .unwrap_err();
        assert!(e.contains("/nope: No such file"), "{e}");
    }

    #[test]
    fn addresses() {
        assert_eq!(
            KafkaAddress::parse("kafka://127.0.0.1:9092", Some(DEFAULT_INPUT_TOPIC)).unwrap(),
            KafkaAddress {
                brokers: "127.0.0.1:9092".into(),
                topics: vec![DEFAULT_INPUT_TOPIC.into()]
            }
        );
        assert_eq!(
            KafkaAddress::parse("kafka://a:1,b:2/x,y", None).unwrap(),
            KafkaAddress {
                brokers: "a:1,b:2".into(),
                topics: vec!["x".into(), "y".into()]
            }
        );
        assert!(KafkaAddress::parse("kafka://", None).is_err());
        assert!(KafkaAddress::parse("http://a:1/x", None).is_err());
        assert!(KafkaAddress::parse("kafka://nohostport/x", None).is_err());
    }
}
