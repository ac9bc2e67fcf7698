//! What the claim engine hands to the sinks, by family: records for a file or topic, what a show is and says, view updates, table rows, and the run's control marks.

use serde::{Deserialize, Serialize};

use super::{Claimant, Kind, Line, MetricKey, RowGroups};
use crate::domain::live::SessionView;
use crate::domain::time::Micros;
use crate::io::checkpoint::{PartDone, PartEntry};

/// One output of the engine (or of a worker's producer), routed by family.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Out {
    /// A line of one of the record kinds (`Kind`): to its file, its topic, the live surfaces.
    Record(Kind, Line),
    /// What a show is and says: first seen, its summary, its close.
    Show(Show),
    /// An update of a view: differential's inputs and outputs, and the live surfaces' view.
    View(View),
    /// One session's rows of a snapshot table.
    Rows(Box<Rows>),
    /// The run's progress: lines read, release marks, checkpoints, acknowledgements.
    Control(Control),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Show {
    /// A session seen for the first time, and the routing hash its decisions are keyed by.
    ///
    /// `forgotten`: a restored engine's show that closed long ago (past the time its
    /// redelivery keys are kept): nothing of it can wait for a release, and the sinks only
    /// count it (`sinks::closed` bounds what they keep of closed shows).
    Seen {
        hash: u64,
        session_id: String,
        forgotten: bool,
    },
    /// A session's summary (SPEC 4), as JSON.
    Summary { session_id: String, json: String },
    /// SPEC 3.5: the session closed at `closed_at`; its last rows, live view and summary came
    /// before this. The sinks write it out and forget it.
    Closed {
        session_id: String,
        closed_at: Micros,
    },
    /// A worker's sessions at the end of the input.
    Counts {
        open: u64,
        closed: u64,
        late_redeliveries: u64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum View {
    /// An addition to one metric; differential sums them.
    Metric { key: Box<MetricKey>, amount: i64 },
    /// A change to a maintained metric total (a differential update).
    MetricTotal {
        key: Box<MetricKey>,
        total: i64,
        diff: i64,
    },
    /// A claim placed on a sku (reserved or waitlisted at once), for the ranking; `diff` is
    /// 1 when placed, −1 when its session closed and it leaves the view.
    Claimant {
        session_id: String,
        claimant: Box<Claimant>,
        diff: i64,
    },
    /// A change to the ranked claimants of a sku (a differential update).
    RankedClaimant {
        session_id: String,
        rank: u64,
        claimant: Box<Claimant>,
        diff: i64,
    },
    /// A session as the live surfaces show it, sent when it changed (at most every
    /// `live_every`): `livesell serve` only.
    Live(Box<SessionView>),
}

/// One session's rows of a snapshot table: rows to append (`delta`), or the whole table of
/// the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rows {
    pub table: String,
    pub session_id: String,
    /// The effective time of the session's first event: its date is the partition.
    pub date: Micros,
    pub parts: RowGroups,
    pub delta: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Control {
    /// Lines read by all sources.
    Lines(u64),
    /// Every decision with a time below `bound` has been sent (`None`: every decision).
    Released { bound: Option<Micros> },
    /// A worker wrote its part of a checkpoint; everything it sent before holds the state
    /// that part has.
    Checkpoint(Box<PartDone>),
    /// A worker's producer: the broker has acknowledged every record it sent keyed below
    /// `bound`, or every record it sent before checkpoint `checkpoint`.
    Acked {
        worker: usize,
        bound: Option<Micros>,
        /// The checkpoint, and the producer's part of it (its records still waiting for a
        /// release mark); `None` for the part: it could not be written.
        checkpoint: Option<(u64, Option<PartEntry>)>,
    },
    /// A worker's producer sent this many records that it did not pass on.
    Produced { decisions: u64, dead_letters: u64 },
}

impl Out {
    /// Which branch of the pipeline consumes it: 0 the sinks, 1 the metrics, 2 the ranking.
    pub fn part(&self) -> u64 {
        match self {
            Out::View(View::Metric { .. }) => 1,
            Out::View(View::Claimant { .. }) => 2,
            _ => 0,
        }
    }
}
