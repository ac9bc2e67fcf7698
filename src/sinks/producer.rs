//! A worker's Kafka producer without timely: its own sessions' records in key order per session through the shared `Release`, the GMV ticker, transactions, its checkpoint parts, and what the broker has acknowledged.
//!
//! What the files and live surfaces need goes on to the writer; so do this worker's
//! acknowledgements: the bound below which everything it sent is acknowledged (the group's
//! commits), and each checkpoint whose outputs before it are all acknowledged.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::io::checkpoint::{PartEntry, Store};
use crate::io::kafka::{Committed, KafkaSink, Progress, transactional_id};
use crate::records::{Control, GMV_TOPIC, Kind, Line, MetricKey, Out, Show, session_hash};

use super::release::Release;
use super::ticker::Ticker;

/// How often the acknowledged bound is noted.
const ACK_EVERY: Duration = Duration::from_millis(200);

/// What one worker's producer needs.
#[derive(Clone)]
pub struct ProducerTarget {
    pub brokers: String,
    /// Raised when this worker's producer cannot go on: the run stops, uncommitted.
    pub halt: crate::records::Halt,
    /// Pass the decision lines on to the writer (files or live surfaces want them); else only
    /// their counts go on.
    pub forward_lines: bool,
    /// Pass cart updates on too (only the live surfaces show them).
    pub forward_carts: bool,
    /// The run started from a checkpoint: totals at time 0 are the views brought back.
    pub restored: bool,
    /// Where this worker writes its part of each checkpoint (`--checkpoint-dir`).
    pub store: Option<Store>,
    /// The producers' parts of the checkpoint this run starts from.
    pub restore: Option<Arc<Vec<Vec<u8>>>>,
    /// `--transactional`: one transaction per checkpoint per worker.
    pub transactions: Option<Transactions>,
}

/// How the producers use transactions (`--transactional`).
#[derive(Clone)]
pub struct Transactions {
    /// The consumer group: the transactional ids are `livesell-GROUP-WORKER`.
    pub group: String,
    /// This run's name in its progress records.
    pub run: String,
    /// What earlier runs' committed transactions hold: not sent again.
    pub committed: Arc<Committed>,
    /// `transaction.timeout.ms`: how long a dead producer's open transaction lasts.
    pub timeout: Duration,
}

/// A producer's part of a checkpoint: what it holds at the cut, waiting for a release mark.
#[derive(Default, Serialize, Deserialize)]
struct ProducerState {
    /// The records of every kind still waiting for their release.
    pending: Vec<(Kind, Vec<Line>)>,
    summaries: BTreeMap<String, String>,
}

/// An acknowledgement waiting for the broker: everything sent before the sink's mark.
pub enum Pending {
    Bound(i64),
    Cut(u64, Option<PartEntry>),
}

pub struct Producer {
    sink: KafkaSink,
    pub target: ProducerTarget,
    worker: usize,
    /// Records waiting for their release, and the sessions they are keyed by.
    release: Release,
    /// The engine's release bound: every decision keyed below it has been handed over.
    bound: Option<i64>,
    max_key: Option<i64>,
    /// The newest decision handed over had been sent by an earlier run.
    replaying: bool,
    pub to_ack: VecDeque<(usize, Pending)>,
    last_ack: Instant,
    ticker: Ticker,
    summaries: BTreeMap<String, String>,
    /// The newest closed shows, whose names this producer still holds.
    closed: super::closed::ClosedShows,
    /// A checkpoint whose cut came in the stamp being taken.
    cut: Option<u64>,
    /// Records left out because an earlier run's committed transaction holds them.
    skipped: u64,
}

impl Producer {
    /// Connects this worker's producer; a transactional one registers itself (how many
    /// workers this run has) with an empty first transaction.
    pub fn open(target: &ProducerTarget, worker: usize, peers: usize) -> anyhow::Result<Producer> {
        let sink = match &target.transactions {
            None => KafkaSink::open(&target.brokers)?,
            Some(t) => {
                let id = transactional_id(&t.group, worker);
                let mut sink = KafkaSink::open_transactional(&target.brokers, &id, t.timeout)?;
                sink.commit_transaction(&progress(t, worker, peers, None, None))?;
                sink
            }
        };
        let mut p = Producer {
            sink,
            target: target.clone(),
            worker,
            release: Release::default(),
            bound: None,
            max_key: None,
            replaying: false,
            to_ack: VecDeque::new(),
            last_ack: Instant::now(),
            ticker: Ticker::default(),
            summaries: BTreeMap::new(),
            closed: Default::default(),
            cut: None,
            skipped: 0,
        };
        if let Some(parts) = target.restore.clone() {
            p.restore(&parts, peers)?;
        }
        Ok(p)
    }

    /// Says how many records were left out as an earlier run's (once they stop, or at the end).
    fn report_skipped(&mut self) {
        if self.skipped > 0 {
            eprintln!(
                "livesell: worker {}: {} record(s) an earlier run had committed in transactions were not sent again",
                self.worker, self.skipped
            );
            self.skipped = 0;
        }
    }

    /// With transactions: commits everything sent so far, with this worker's progress.
    pub fn commit(&mut self, checkpoint: Option<u64>, peers: usize) -> anyhow::Result<()> {
        if checkpoint.is_none() {
            self.report_skipped();
        }
        if let Some(t) = &self.target.transactions {
            let p = progress(t, self.worker, peers, checkpoint, self.commit_bound());
            self.sink.commit_transaction(&p)?;
        }
        Ok(())
    }

    /// Takes one of the engine's outputs sent at `t`; returns what goes on to the writer.
    pub fn take(&mut self, o: Out, t: u64) -> anyhow::Result<Option<Out>> {
        match o {
            Out::Record(kind, l) => {
                let forward = match kind {
                    Kind::Cart => self.target.forward_carts,
                    _ => self.target.forward_lines,
                };
                if !forward {
                    self.release.push(kind, l);
                    return Ok(None);
                }
                self.release.push(kind, l.clone());
                return Ok(Some(Out::Record(kind, l)));
            }
            Out::Show(Show::Seen {
                hash,
                ref session_id,
                forgotten,
            }) => self.release.seen(hash, session_id.clone(), forgotten),
            Out::Show(Show::Summary {
                ref session_id,
                ref json,
            }) => {
                self.summaries.insert(session_id.clone(), json.clone());
            }
            Out::Show(Show::Closed {
                ref session_id,
                closed_at,
            }) => self.closed(session_id, closed_at)?,
            Out::Control(Control::Released { bound }) => self.release.mark(t, bound),
            Out::Control(Control::Checkpoint(ref part)) => self.cut = Some(part.id),
            _ => {}
        }
        Ok(Some(o))
    }

    /// Everything the engine sent at `t` is in (its containers come in any order: a release
    /// mark applies once all of them are; every record keyed below it was sent at or before
    /// its time): sends what the marks release, then takes the part of a checkpoint cut at
    /// `t`. Returns the decisions and dead letters it handed over.
    pub fn stamp_done(&mut self, t: u64, peers: usize) -> anyhow::Result<(u64, u64)> {
        let mut handed = (0, 0);
        if let Some(b) = self.release.passed(t + 1) {
            handed = self.flush_below(Some(b))?;
        }
        // A cut's records come at its time, before anything after it.
        if let Some(id) = self.cut.take() {
            self.cut(id, peers)?;
        }
        Ok(handed)
    }

    /// A change to a maintained metric total, sent at `t`.
    pub fn total(&mut self, key: &MetricKey, change: i64, t: u64) {
        // The views a restored run brings back were on the ticker before its restart.
        let quiet = self.target.restored && t == 0;
        self.ticker.total(key, change, quiet);
    }

    /// The input is over: sends everything left, the last ticker frames, and commits.
    pub fn finish(&mut self, peers: usize) -> anyhow::Result<(u64, u64)> {
        let handed = self.flush_below(None)?;
        self.tick(true)?;
        self.commit(None, peers)?;
        self.sink.flush(Duration::from_secs(60))?;
        Ok(handed)
    }

    /// More to do later: ticker frames or acknowledgements to wait for.
    pub fn busy(&self) -> bool {
        self.ticker.changed() || !self.to_ack.is_empty()
    }

    /// Sends every buffered record keyed below `bound` (all when `None`), in key order,
    /// except what an earlier run had sent.
    fn flush_below(&mut self, bound: Option<i64>) -> anyhow::Result<(u64, u64)> {
        let mut released = self.release.take_below(bound);
        if let Some(t) = &self.target.transactions {
            let before = self.skipped;
            for kind in Kind::ALL {
                for l in released.of_mut(kind) {
                    if !l.sent && t.committed.covers(l.key.0, l.key.1) {
                        l.sent = true;
                        self.skipped += 1;
                    }
                }
            }
            let past = released.of(Kind::Decision).last().is_some_and(|l| !l.sent);
            if before > 0 && before == self.skipped && past {
                self.report_skipped();
            }
        }
        for (kind, records) in released.iter() {
            for l in records.iter().filter(|l| !l.sent) {
                // Rejects carry no trustworthy session: their messages have no key.
                let session = self.release.session(l.key.1);
                self.sink.send(kind.topic(), session, l.line.as_bytes())?;
            }
        }
        let (decisions, dead) = (released.of(Kind::Decision), released.of(Kind::DeadLetter));
        for records in [decisions, dead] {
            self.max_key = self.max_key.max(records.last().map(|l| l.key.0));
        }
        if let Some(l) = decisions.last() {
            self.replaying = l.sent;
        }
        self.bound = self.bound.max(Some(bound.unwrap_or(i64::MAX)));
        Ok((decisions.len() as u64, dead.len() as u64))
    }

    /// The ticker frames that are due (while a restarted run replays what an earlier one
    /// sent, the ticker stays quiet).
    pub fn tick(&mut self, force: bool) -> anyhow::Result<()> {
        for (session, frame) in self.ticker.due(force, self.max_key, self.replaying) {
            self.sink
                .send(GMV_TOPIC, Some(&session), frame.as_bytes())?;
        }
        Ok(())
    }

    /// SPEC 3.5: the show's last ticker frame, from its final figures.
    fn closed(&mut self, session_id: &str, closed_at: i64) -> anyhow::Result<()> {
        let summary = self.summaries.remove(session_id);
        // The show's name is kept as long as the writer's (`KEEP_CLOSED_SHOWS` closed shows).
        if let Some(old) = self.closed.close(crate::records::session_hash(session_id)) {
            self.release.forget(old);
        }
        let last = self
            .ticker
            .closed(session_id, closed_at, summary.as_deref());
        if let (Some(frame), false) = (last, self.replaying) {
            self.sink
                .send(GMV_TOPIC, Some(session_id), frame.as_bytes())?;
        }
        Ok(())
    }

    /// Notes the current bound every `ACK_EVERY` (and a checkpoint at once), and reports each
    /// one the broker has acknowledged everything before.
    pub fn acks(&mut self, out: &mut Vec<Out>) -> anyhow::Result<()> {
        if self.last_ack.elapsed() >= ACK_EVERY {
            self.last_ack = Instant::now();
            if let Some(b) = self.commit_bound() {
                let newer = !self
                    .to_ack
                    .iter()
                    .any(|(_, p)| matches!(p, Pending::Bound(x) if *x >= b));
                if newer {
                    self.to_ack.push_back((self.sink.mark(), Pending::Bound(b)));
                }
            }
        }
        while let Some((mark, _)) = self.to_ack.front() {
            if !self.sink.acknowledged_below(*mark)? {
                break;
            }
            let (_, p) = self.to_ack.pop_front().expect("peeked");
            out.push(match p {
                Pending::Bound(b) => Out::Control(Control::Acked {
                    worker: self.worker,
                    bound: Some(b),
                    checkpoint: None,
                }),
                Pending::Cut(id, entry) => Out::Control(Control::Acked {
                    worker: self.worker,
                    bound: None,
                    checkpoint: Some((id, entry)),
                }),
            });
        }
        Ok(())
    }

    /// Checkpoint `id`'s cut has been handed over: the records still waiting go into this
    /// producer's part, and the checkpoint is acknowledged once everything sent so far is.
    fn cut(&mut self, id: u64, peers: usize) -> anyhow::Result<()> {
        let entry = self.target.store.as_ref().and_then(|store| {
            let state = ProducerState {
                pending: self.release.pending(),
                summaries: self.summaries.clone(),
            };
            let file = format!("producer-{}.bin", self.worker);
            let written = crate::io::checkpoint::encode(&state)
                .map_err(|e| e.to_string())
                .and_then(|b| store.write_part(id, &file, &b).map_err(|e| e.to_string()));
            match written {
                Ok(entry) => Some(entry),
                Err(e) => {
                    eprintln!(
                        "livesell: checkpoint {id}: producer {}'s part not written: {e}",
                        self.worker
                    );
                    None
                }
            }
        });
        // With transactions, what came before the cut is committed (and acknowledged) first.
        self.commit(Some(id), peers)?;
        self.to_ack
            .push_back((self.sink.mark(), Pending::Cut(id, entry)));
        Ok(())
    }

    /// Takes this worker's share of the producers' parts of the checkpoint the run starts
    /// from: the records of its sessions (rejects are worker 0's).
    fn restore(&mut self, parts: &[Vec<u8>], peers: usize) -> anyhow::Result<()> {
        let mine = |hash: u64| hash % peers as u64 == self.worker as u64;
        for bytes in parts {
            let s: ProducerState = crate::io::checkpoint::decode(bytes)
                .map_err(|e| anyhow::anyhow!("a producer's part does not read back: {e}"))?;
            for (kind, lines) in s.pending {
                self.release
                    .restore(kind, lines.into_iter().filter(|l| mine(l.key.1)));
            }
            self.summaries.extend(
                s.summaries
                    .into_iter()
                    .filter(|(id, _)| mine(session_hash(id))),
            );
        }
        Ok(())
    }

    /// The bound to commit: every decision keyed below it has reached the broker. A bound of
    /// "everything" (all sources idle or ended) is narrowed to what was actually handed over,
    /// so that a later run still sends what comes after.
    fn commit_bound(&self) -> Option<i64> {
        match self.bound {
            Some(b) if b < i64::MAX => Some(b),
            _ => self.max_key.map(|k| k + 1),
        }
    }
}

fn progress(
    t: &Transactions,
    worker: usize,
    peers: usize,
    checkpoint: Option<u64>,
    bound: Option<i64>,
) -> Progress {
    Progress {
        run: t.run.clone(),
        worker,
        peers,
        checkpoint,
        bound,
    }
}

/// A stream never ends by itself: a sink that fails halts the run here, uncommitted, so that a
/// restart sends again what did not reach the broker.
pub fn fail(halt: &crate::records::Halt, e: &anyhow::Error) {
    halt.raise(format!("writing to Kafka: {e:#}"));
}
