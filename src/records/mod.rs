//! The vocabulary every layer shares: what sources hand the engine (`Input`, `Reject`), what it hands the sinks (`Out` by family, `Line` by `Kind`, each kind knowing its file and topic), how shows are routed, and the run's halt.

mod halt;
mod out;

use serde::{Deserialize, Serialize};

pub use halt::Halt;

use crate::domain::event::{Event, Text};
use crate::domain::time::Micros;

/// What a source hands to the claim engine; `block` is the source's block of lines it came in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Input {
    /// A readable event; `local` is the largest `ts` of the readable events before it in its block.
    Event {
        source: u32,
        block: u64,
        line: u64,
        /// Byte offset of the line: the dead letter's, should the event's session be closed
        /// by the time it is applied (SPEC 3.5).
        offset: u64,
        local: Option<Micros>,
        event: Box<Event>,
    },
    /// A line that could not be read.
    Reject {
        block: u64,
        local: Option<Micros>,
        reject: Box<Reject>,
    },
    /// A block was parsed: the largest `ts` it held, whether it closed the source, whether the
    /// source had been quiet for the idle timeout, how many non-blank lines it had. Sent to
    /// every worker (`target`), which folds it into the source's watermark.
    BlockDone {
        target: u64,
        source: u32,
        block: u64,
        max: Option<Micros>,
        last: bool,
        idle: bool,
        /// An idle live source's clock (`io::lines::Block::heartbeat`).
        heartbeat: Option<Micros>,
        lines: u64,
        /// Where the source's next block starts (a Kafka partition's next offset): a
        /// checkpoint taken after this block resumes there.
        next: Option<u64>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reject {
    pub source: String,
    pub source_index: u32,
    pub line: u64,
    pub offset: u64,
    pub reason: String,
    pub detail: String,
    pub session_id: Option<String>,
    pub ts: Option<Micros>,
    pub raw: Vec<u8>,
}

/// Output order: `(time, session's routing hash, sequence, sub)`; decisions of a session keep
/// their processing order, and the whole file is the same for any number of workers. Rejects
/// use `(time, 0, source, line)`.
pub type OutKey = (Micros, u64, u64, u64);

/// The metrics `gmv_minute` keeps, per session × sku × platform × event-time minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Metric {
    GmvCents,
    Units,
    Claims,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricKey {
    pub session_id: String,
    pub minute: Micros,
    pub sku: String,
    pub platform: String,
    pub metric: Metric,
}

/// Where an input goes: its session's worker; rejects and counts to worker 0.
pub fn route(input: &Input) -> u64 {
    match input {
        Input::Event { event, .. } => session_hash(&event.session_id),
        Input::Reject { .. } => 0,
        Input::BlockDone { target, .. } => *target,
    }
}

/// Routing hash of a session. SipHash with fixed keys: the same in every process, and its low
/// bits (which pick the worker when the worker count is a power of two) are well mixed, which
/// FxHash's are not (measured: 14 shows split 11/3 over 2 workers).
pub fn session_hash(session_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    session_id.hash(&mut h);
    h.finish()
}

/// How many claimants per sku the ranking keeps: the holders and the head of the waitlist, which
/// is what a host calls out; each evaluation re-emits this many rows, so it bounds the cost.
pub const MAX_RANKED: usize = 100;

/// The kinds of records that go to a file and/or a topic, one line each, released in key order.
/// Adding a kind is a variant here and a row in `KINDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// A decision (SPEC 4).
    Decision,
    /// A line that could not be read, with its reason.
    DeadLetter,
    /// An order-out record (winners to orders) of the decision with the same key.
    Draft,
    /// The buyer's cart after the reservation decision with the same key.
    Cart,
    /// A message for a buyer about the decision with the same key.
    Notification,
}

/// Every kind's file under `DIR/` (`None`: no file; the `carts` table holds carts) and Kafka
/// topic: the one place that says where a kind goes.
const KINDS: [(Kind, Option<&str>, &str); Kind::COUNT] = [
    (
        Kind::Decision,
        Some("decisions.jsonl"),
        "livesell.decisions",
    ),
    (
        Kind::DeadLetter,
        Some("dead_letter.jsonl"),
        "livesell.dead-letter",
    ),
    (Kind::Draft, Some("orders_out.jsonl"), "livesell.orders-out"),
    (Kind::Cart, None, "livesell.carts"),
    (
        Kind::Notification,
        Some("notifications.jsonl"),
        "livesell.notifications",
    ),
];

impl Kind {
    pub const COUNT: usize = 5;
    /// Every kind, in the order the sinks hand them on.
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Decision,
        Kind::DeadLetter,
        Kind::Draft,
        Kind::Cart,
        Kind::Notification,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The file under the output directory, if the kind has one.
    pub fn file_name(self) -> Option<&'static str> {
        KINDS[self.index()].1
    }

    /// The Kafka topic its records go to.
    pub fn topic(self) -> &'static str {
        KINDS[self.index()].2
    }
}

/// The topic of the GMV ticker (`sinks::ticker`).
pub const GMV_TOPIC: &str = "livesell.gmv";

/// A line for one of the outputs, in key order; `sent`: an earlier run already delivered it
/// to the Kafka sink (its event lies below the group's committed offset), so only files get it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub key: OutKey,
    pub line: String,
    pub sent: bool,
    /// What the live hub needs of it, typed where it was made: the hub never reads the JSON.
    pub about: About,
}

/// What the live surfaces read of a record, given by the engine that wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum About {
    /// Nothing the live surfaces show by itself.
    #[default]
    Nothing,
    /// A claim decision (the claim feed), and the sku it names.
    Claim { sku: Option<Text> },
    /// A buyer's cart as it now stands: its id, what is unpaid, whether all of it is paid.
    Cart {
        cart_id: String,
        unpaid_cents: i64,
        paid: bool,
    },
}

pub use out::{Control, Out, Rows, Show, View};

/// A buyer's claim on a sku; ordered by platform time first, which is the ranking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Claimant {
    pub ts: Micros,
    pub claim_id: Text,
    pub sku: Text,
    pub platform: Text,
    pub user_id: Text,
    pub qty: u64,
}

/// Snapshot rows encoded as Parquet row groups (`io::parquet::encode_row_group`), each a
/// small Parquet file: shared buffers between the threads of a process, their bytes between
/// processes.
#[derive(Debug, Clone, Default)]
pub struct RowGroups(pub Vec<bytes::Bytes>);

impl Serialize for RowGroups {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for part in &self.0 {
            seq.serialize_element(serde_bytes::Bytes::new(part))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for RowGroups {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parts: Vec<serde_bytes::ByteBuf> = Deserialize::deserialize(d)?;
        Ok(RowGroups(
            parts
                .into_iter()
                .map(|b| bytes::Bytes::from(b.into_vec()))
                .collect(),
        ))
    }
}
