//! Records that flow between the operators of a pipeline.

use serde::{Deserialize, Serialize};

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

/// A line for one of the outputs, in key order; `sent`: an earlier run already delivered it
/// to the Kafka sink (its event lies below the group's committed offset), so only files get it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Line {
    pub key: OutKey,
    pub line: String,
    pub sent: bool,
}

/// What the claim engine hands to the writers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Out {
    Decision(Line),
    DeadLetter(Line),
    /// An order-out record (winners to orders) of the decision with the same key.
    Draft(Line),
    /// The buyer's cart after the reservation decision with the same key (`livesell.carts`).
    Cart(Line),
    /// A message for a buyer about the decision with the same key (`notifications.jsonl`).
    Notification(Line),
    /// A session seen for the first time, and the routing hash its decisions are keyed by.
    Session {
        hash: u64,
        session_id: String,
    },
    Summary {
        session_id: String,
        json: String,
    },
    /// An addition to one metric; differential sums them.
    Metric {
        key: Box<MetricKey>,
        amount: i64,
    },
    /// A change to a maintained metric total (a differential update).
    MetricTotal {
        key: Box<MetricKey>,
        total: i64,
        diff: i64,
    },
    /// A claim placed on a sku (reserved or waitlisted at once), for the ranking.
    Claimant {
        session_id: String,
        claimant: Box<Claimant>,
        /// 1 when placed; −1 when its session closed and it leaves the view.
        diff: i64,
    },
    /// A change to the ranked claimants of a sku (a differential update).
    RankedClaimant {
        session_id: String,
        rank: u64,
        claimant: Box<Claimant>,
        diff: i64,
    },
    /// Lines read by all sources.
    Lines(u64),
    /// One session's rows of a snapshot table: rows to append (`delta`), or the whole table
    /// of the session.
    Snapshot {
        table: String,
        session_id: String,
        /// The effective time of the session's first event: its date is the partition.
        date: Micros,
        parts: RowGroups,
        delta: bool,
    },
    /// SPEC 3.5: the session closed at `closed_at`; its last rows, live view and summary came
    /// before this. The writer writes it out and forgets it.
    Closed {
        session_id: String,
        closed_at: Micros,
    },
    /// A worker's sessions at the end of the input.
    Sessions {
        open: u64,
        closed: u64,
        late_redeliveries: u64,
    },
    /// A session as the live surfaces show it, sent when it changed (at most every
    /// `live_every`): `livesell serve` only.
    Live(Box<crate::domain::live::SessionView>),
    /// Every decision with a time below `bound` has been sent (`None`: every decision).
    Released {
        bound: Option<Micros>,
    },
    /// A worker wrote its part of a checkpoint; everything it sent before holds the state
    /// that part has.
    Checkpoint(Box<crate::ops::apply_claims::PartDone>),
    /// A worker's producer: the broker has acknowledged every record it sent keyed below
    /// `bound`, or every record it sent before checkpoint `checkpoint`.
    Acked {
        worker: usize,
        bound: Option<Micros>,
        /// The checkpoint, and the producer's part of it (its records still waiting for a
        /// release mark); `None` for the part: it could not be written.
        checkpoint: Option<(u64, Option<crate::io::checkpoint::PartEntry>)>,
    },
    /// A worker's producer sent this many records that it did not pass on.
    Produced {
        decisions: u64,
        dead_letters: u64,
    },
}

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

impl Out {
    /// Which branch of the pipeline consumes it: 0 the writers, 1 the metrics, 2 the ranking.
    pub fn part(&self) -> u64 {
        match self {
            Out::Metric { .. } => 1,
            Out::Claimant { .. } => 2,
            _ => 0,
        }
    }
}

/// Snapshot rows encoded as Parquet row groups (`io::snapshot::encode_row_group`), each a
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
