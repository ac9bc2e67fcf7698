//! Every worker's Kafka producer: its own sessions' decisions, order drafts, dead letters and GMV ticker, in key order per session, with what the broker has acknowledged reported on.
//!
//! The records stay on the worker that decided them (the engine's outputs come in on a
//! pipeline); the ticker's totals come from differential, exchanged by session. What the files
//! and live surfaces need goes on to the writer; so do this worker's acknowledgements: the
//! bound below which everything it sent is acknowledged (the group's commits), and each
//! checkpoint whose outputs before it are all acknowledged.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use timely::dataflow::Stream;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::decision::JsonObject;
use crate::io::checkpoint::{PartEntry, Store};
use crate::io::kafka::{
    CARTS_TOPIC, Committed, DEAD_LETTER_TOPIC, DECISIONS_TOPIC, GMV_TOPIC, KafkaSink,
    NOTIFICATIONS_TOPIC, ORDERS_OUT_TOPIC, Progress, transactional_id,
};
use crate::ops::apply_claims::session_hash;
use crate::ops::write_outputs::LineQueue;
use crate::records::{Line, Out};

/// How often the ticker is updated, and how often the acknowledged bound is noted.
const TICK_EVERY: Duration = Duration::from_millis(100);
const ACK_EVERY: Duration = Duration::from_millis(200);

/// What one worker's producer needs.
#[derive(Clone)]
pub struct ProducerTarget {
    pub brokers: String,
    /// Raised when this worker's producer cannot go on: the run stops, uncommitted.
    pub halt: crate::ops::halt::Halt,
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
    decisions: Vec<Line>,
    dead: Vec<Line>,
    drafts: Vec<Line>,
    carts: Vec<Line>,
    notes: Vec<Line>,
    summaries: BTreeMap<String, String>,
}

/// An acknowledgement waiting for the broker: everything sent before the sink's mark.
enum Pending {
    Bound(i64),
    Cut(u64, Option<PartEntry>),
}

struct Producer {
    sink: KafkaSink,
    target: ProducerTarget,
    worker: usize,
    decisions: LineQueue,
    dead: LineQueue,
    drafts: LineQueue,
    carts: LineQueue,
    notes: LineQueue,
    /// Session ids by routing hash (message keys).
    sessions: rustc_hash::FxHashMap<u64, String>,
    /// The engine's release bound: every decision keyed below it has been handed over.
    bound: Option<i64>,
    max_key: Option<i64>,
    /// The newest decision handed over had been sent by an earlier run.
    replaying: bool,
    to_ack: VecDeque<(usize, Pending)>,
    last_ack: Instant,
    /// Per session: GMV cents, units, claims; the sessions changed since the last tick.
    ticker: BTreeMap<String, [i64; 3]>,
    dirty: BTreeSet<String>,
    closed: rustc_hash::FxHashSet<u64>,
    summaries: BTreeMap<String, String>,
    last_tick: Instant,
    /// Records left out because an earlier run's committed transaction holds them.
    skipped: u64,
}

impl Producer {
    /// Connects this worker's producer; a transactional one registers itself (how many
    /// workers this run has) with an empty first transaction.
    fn open(target: &ProducerTarget, worker: usize, peers: usize) -> anyhow::Result<Producer> {
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
            decisions: LineQueue::default(),
            dead: LineQueue::default(),
            drafts: LineQueue::default(),
            carts: LineQueue::default(),
            notes: LineQueue::default(),
            sessions: Default::default(),
            bound: None,
            max_key: None,
            replaying: false,
            to_ack: VecDeque::new(),
            last_ack: Instant::now(),
            ticker: BTreeMap::new(),
            dirty: BTreeSet::new(),
            closed: Default::default(),
            summaries: BTreeMap::new(),
            last_tick: Instant::now(),
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
    fn commit(&mut self, checkpoint: Option<u64>, peers: usize) -> anyhow::Result<()> {
        if checkpoint.is_none() {
            self.report_skipped();
        }
        if let Some(t) = &self.target.transactions {
            let p = progress(t, self.worker, peers, checkpoint, self.commit_bound());
            self.sink.commit_transaction(&p)?;
        }
        Ok(())
    }

    /// Takes one of the engine's outputs; returns what goes on to the writer.
    fn take(
        &mut self,
        o: Out,
        mark: &mut Option<i64>,
        cut: &mut Option<u64>,
        result: &mut anyhow::Result<()>,
    ) -> Option<Out> {
        let forward = self.target.forward_lines;
        match o {
            Out::Decision(ref l) if forward => self.decisions.push(l.clone()),
            Out::Decision(l) => {
                self.decisions.push(l);
                return None;
            }
            Out::DeadLetter(ref l) if forward => self.dead.push(l.clone()),
            Out::DeadLetter(l) => {
                self.dead.push(l);
                return None;
            }
            Out::Draft(ref l) if forward => self.drafts.push(l.clone()),
            Out::Notification(ref l) if forward => self.notes.push(l.clone()),
            Out::Notification(l) => {
                self.notes.push(l);
                return None;
            }
            Out::Cart(ref l) if self.target.forward_carts => self.carts.push(l.clone()),
            Out::Cart(l) => {
                self.carts.push(l);
                return None;
            }
            Out::Draft(l) => {
                self.drafts.push(l);
                return None;
            }
            Out::Session {
                hash,
                ref session_id,
            } => {
                self.sessions.insert(hash, session_id.clone());
            }
            Out::Summary {
                ref session_id,
                ref json,
            } => {
                self.summaries.insert(session_id.clone(), json.clone());
            }
            Out::Closed {
                ref session_id,
                closed_at,
            } => {
                if result.is_ok() {
                    *result = self.closed(session_id, closed_at);
                }
            }
            Out::Released { bound } => *mark = (*mark).max(Some(bound.unwrap_or(i64::MAX))),
            Out::Checkpoint(ref part) => *cut = Some(part.id),
            _ => {}
        }
        Some(o)
    }

    /// Sends every buffered record keyed below `bound` (all when `None`), in key order,
    /// except what an earlier run had sent.
    fn flush_below(&mut self, bound: Option<i64>) -> anyhow::Result<(u64, u64)> {
        let mut decisions = self.decisions.take_below(bound);
        let mut dead = self.dead.take_below(bound);
        let mut drafts = self.drafts.take_below(bound);
        let mut carts = self.carts.take_below(bound);
        let mut notes = self.notes.take_below(bound);
        if let Some(t) = &self.target.transactions {
            let before = self.skipped;
            for l in [
                &mut decisions,
                &mut dead,
                &mut drafts,
                &mut carts,
                &mut notes,
            ]
            .into_iter()
            .flatten()
            {
                if !l.sent && t.committed.covers(l.key.0, l.key.1) {
                    l.sent = true;
                    self.skipped += 1;
                }
            }
            let past = decisions.last().is_some_and(|l| !l.sent);
            if before > 0 && before == self.skipped && past {
                self.report_skipped();
            }
        }
        for (topic, records) in [
            (DECISIONS_TOPIC, &decisions),
            (DEAD_LETTER_TOPIC, &dead),
            (ORDERS_OUT_TOPIC, &drafts),
            (CARTS_TOPIC, &carts),
            (NOTIFICATIONS_TOPIC, &notes),
        ] {
            for l in records.iter().filter(|l| !l.sent) {
                // Rejects carry no trustworthy session: their messages have no key.
                let session = self.sessions.get(&l.key.1).map(String::as_str);
                self.sink.send(topic, session, l.line.as_bytes())?;
            }
        }
        for records in [&decisions, &dead] {
            self.max_key = self.max_key.max(records.last().map(|l| l.key.0));
        }
        if let Some(l) = decisions.last() {
            self.replaying = l.sent;
        }
        self.bound = self.bound.max(Some(bound.unwrap_or(i64::MAX)));
        Ok((decisions.len() as u64, dead.len() as u64))
    }

    fn tick(&mut self, force: bool) -> anyhow::Result<()> {
        if self.dirty.is_empty() || (!force && self.last_tick.elapsed() < TICK_EVERY) {
            return Ok(());
        }
        self.last_tick = Instant::now();
        // While a restarted run replays what an earlier one sent, the ticker stays quiet.
        if self.replaying {
            self.dirty.clear();
            return Ok(());
        }
        for session in std::mem::take(&mut self.dirty) {
            let [gmv, units, claims] = self.ticker.get(&session).copied().unwrap_or_default();
            let mut o = JsonObject::new();
            o.str("session_id", &session);
            if let Some(k) = self.max_key {
                o.ts("as_of", k);
            }
            o.num("gmv_cents", gmv as i128);
            o.num("units", units as i128);
            o.num("claims", claims as i128);
            self.sink
                .send(GMV_TOPIC, Some(&session), o.finish().as_bytes())?;
        }
        Ok(())
    }

    /// SPEC 3.5: the show's last ticker frame, from its final figures; then it leaves the
    /// ticker (the retraction of its views must not tick it down to zero).
    fn closed(&mut self, session_id: &str, closed_at: i64) -> anyhow::Result<()> {
        self.closed.insert(session_hash(session_id));
        self.ticker.remove(session_id);
        self.dirty.remove(session_id);
        let summary: Option<serde_json::Value> = self
            .summaries
            .remove(session_id)
            .and_then(|s| serde_json::from_str(&s).ok());
        if let (Some(s), false) = (&summary, self.replaying) {
            let n = |f: &str| s[f].as_i64().unwrap_or(0) as i128;
            let mut o = JsonObject::new();
            o.str("session_id", session_id);
            o.ts("as_of", closed_at);
            o.num("gmv_cents", n("gmv_cents"));
            o.num("units", n("units_sold"));
            o.num("claims", n("claims"));
            o.raw("closed", "true");
            self.sink
                .send(GMV_TOPIC, Some(session_id), o.finish().as_bytes())?;
        }
        Ok(())
    }

    /// Notes the current bound every `ACK_EVERY` (and a checkpoint at once), and reports each
    /// one the broker has acknowledged everything before.
    fn acks(&mut self, out: &mut Vec<Out>) -> anyhow::Result<()> {
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
                Pending::Bound(b) => Out::Acked {
                    worker: self.worker,
                    bound: Some(b),
                    checkpoint: None,
                },
                Pending::Cut(id, entry) => Out::Acked {
                    worker: self.worker,
                    bound: None,
                    checkpoint: Some((id, entry)),
                },
            });
        }
        Ok(())
    }

    /// Checkpoint `id`'s cut has been handed over: the records still waiting go into this
    /// producer's part, and the checkpoint is acknowledged once everything sent so far is.
    fn cut(&mut self, id: u64, peers: usize) -> anyhow::Result<()> {
        let entry = self.target.store.as_ref().and_then(|store| {
            let state = ProducerState {
                decisions: self.decisions.to_vec(),
                dead: self.dead.to_vec(),
                drafts: self.drafts.to_vec(),
                carts: self.carts.to_vec(),
                notes: self.notes.to_vec(),
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
            self.decisions
                .extend(s.decisions.into_iter().filter(|l| mine(l.key.1)));
            self.dead
                .extend(s.dead.into_iter().filter(|l| mine(l.key.1)));
            self.drafts
                .extend(s.drafts.into_iter().filter(|l| mine(l.key.1)));
            self.carts
                .extend(s.carts.into_iter().filter(|l| mine(l.key.1)));
            self.notes
                .extend(s.notes.into_iter().filter(|l| mine(l.key.1)));
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

pub trait ProduceOutputs<'scope> {
    /// Sends this worker's sessions' records to Kafka; passes on to the writer what it needs.
    fn produce_outputs(
        self,
        totals: Stream<'scope, u64, Vec<Out>>,
        target: ProducerTarget,
    ) -> Stream<'scope, u64, Vec<Out>>;
}

impl<'scope> ProduceOutputs<'scope> for Stream<'scope, u64, Vec<Out>> {
    fn produce_outputs(
        self,
        totals: Stream<'scope, u64, Vec<Out>>,
        target: ProducerTarget,
    ) -> Stream<'scope, u64, Vec<Out>> {
        let (worker, peers) = (self.scope().index(), self.scope().peers());
        let by_session = |o: &Out| match o {
            Out::MetricTotal { key, .. } => session_hash(&key.session_id),
            _ => 0,
        };
        let mut producer: Option<Producer> = None;
        let mut held: Option<Capability<u64>> = None;
        let mut finished = false;
        // The producer failed: the run is halting, and nothing more goes out or is committed.
        let mut broken = false;
        let mut buf: Vec<Out> = Vec::new();
        let scope = self.scope();
        self.binary_frontier(
            totals,
            Pipeline,
            Exchange::new(by_session),
            "ProduceOutputs",
            move |_cap, info| {
                let activator = scope.activator_for(info.address);
                move |(engine, f1), (totals, f2), output| {
                    if broken {
                        return;
                    }
                    let p = match &mut producer {
                        Some(p) => p,
                        None => match Producer::open(&target, worker, peers) {
                            Ok(p) => producer.insert(p),
                            Err(e) => {
                                fail(&target.halt, &e);
                                broken = true;
                                return;
                            }
                        },
                    };
                    let mut result: anyhow::Result<()> = Ok(());
                    let (mut decided, mut dead) = (0u64, 0u64);
                    engine.for_each_stamp(|cap, data| {
                        let t = cap.least().copied().unwrap_or_default();
                        if held.as_ref().is_none_or(|h| t < *h.time()) {
                            held = cap.retain_least(0);
                        }
                        // Containers of one stamp come in any order: its release marks apply
                        // once all of them are in (every record keyed below a mark was sent at
                        // or before the mark's time).
                        let (mut mark, mut cut) = (None, None);
                        for batch in data {
                            for o in batch.drain(..) {
                                if let Some(o) = p.take(o, &mut mark, &mut cut, &mut result) {
                                    buf.push(o);
                                }
                            }
                        }
                        if let (Some(b), true) = (mark, result.is_ok()) {
                            match p.flush_below(Some(b)) {
                                Ok((d, x)) => {
                                    decided += d;
                                    dead += x;
                                }
                                Err(e) => result = Err(e),
                            }
                        }
                        // A cut's records come at its time, before anything after it.
                        if let (Some(id), true) = (cut, result.is_ok()) {
                            result = p.cut(id, peers);
                        }
                        if !buf.is_empty() {
                            output.session(&cap).give_iterator(buf.drain(..));
                        }
                    });
                    totals.for_each_stamp(|cap, data| {
                        let t = cap.least().copied().unwrap_or_default();
                        for batch in data {
                            for o in batch.drain(..) {
                                if let Out::MetricTotal { key, total, diff } = &o {
                                    let closed = p.closed.contains(&session_hash(&key.session_id));
                                    if !closed {
                                        let sums =
                                            p.ticker.entry(key.session_id.clone()).or_default();
                                        sums[key.metric as usize] += total * diff;
                                        // The views a restored run brings back were on the
                                        // ticker before its restart.
                                        if !(p.target.restored && t == 0) {
                                            p.dirty.insert(key.session_id.clone());
                                        }
                                    }
                                }
                                buf.push(o);
                            }
                        }
                        output.session(&cap).give_iterator(buf.drain(..));
                    });
                    let done = f1.frontier().is_empty() && f2.frontier().is_empty();
                    if done && !finished && result.is_ok() {
                        finished = true;
                        result = p
                            .flush_below(None)
                            .map(|(d, x)| {
                                decided += d;
                                dead += x;
                            })
                            .and_then(|()| p.tick(true))
                            .and_then(|()| p.commit(None, peers))
                            .and_then(|()| Ok(p.sink.flush(Duration::from_secs(60))?));
                    }
                    let result = result
                        .and_then(|()| p.tick(false))
                        .and_then(|()| p.acks(&mut buf));
                    if let Err(e) = result {
                        fail(&p.target.halt, &e);
                        broken = true;
                        return;
                    }
                    if let Some(h) = held.as_mut() {
                        if decided + dead > 0 && !p.target.forward_lines {
                            buf.push(Out::Produced {
                                decisions: decided,
                                dead_letters: dead,
                            });
                        }
                        if !buf.is_empty() {
                            output.session(&*h).give_iterator(buf.drain(..));
                        }
                        // Acknowledgements still to come keep the capability; else it follows
                        // the frontier, and goes once the input is over.
                        let f = f1
                            .frontier()
                            .iter()
                            .chain(f2.frontier().iter())
                            .min()
                            .copied();
                        match f {
                            Some(t) if t > *h.time() => h.downgrade(&t),
                            Some(_) => {}
                            None if p.to_ack.is_empty() => held = None,
                            None => {}
                        }
                    }
                    if !p.dirty.is_empty() || !p.to_ack.is_empty() {
                        activator.activate_after(Duration::from_millis(5));
                    }
                }
            },
        )
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
fn fail(halt: &crate::ops::halt::Halt, e: &anyhow::Error) {
    halt.raise(format!("writing to Kafka: {e:#}"));
}
