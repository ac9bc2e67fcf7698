//! The claim engine operator: per session, replays final events in SPEC 2 order, and fires
//! timers on the watermark; the sessions themselves are `shows`'s.

mod checkpoint;
mod emit;
mod shows;
mod slots;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;

use crate::domain::event::Event;
use crate::domain::order::{
    ReplayKey, SourceClock, final_below, order_ties, reject_time, timer_watermark,
};
use crate::records::{Input, Out, Reject};

use checkpoint::Cuts;
pub use checkpoint::PartDone;
use emit::reject_outputs;
pub use shows::REDELIVERIES_KEPT_US;
use shows::{Pending, Shows};
pub use slots::session_hash;

/// Where an input goes: its session's worker; rejects and counts to worker 0.
pub fn route(input: &Input) -> u64 {
    match input {
        Input::Event { event, .. } => session_hash(&event.session_id),
        Input::Reject { .. } => 0,
        Input::BlockDone { target, .. } => *target,
    }
}

/// Event-time order: every source's watermark, the blocks waiting for theirs to be folded,
/// and the events not yet final.
struct Arrivals {
    pending: BinaryHeap<Reverse<Pending>>,
    multi_source: bool,
    /// Every source's watermark, folded from the block reports all workers receive.
    clocks: Vec<SourceClock>,
    /// Every source's name, for the rejects of closed sessions' events.
    names: Vec<String>,
    /// Events and rejects waiting for the blocks before theirs to be folded.
    stash: BTreeMap<(u32, u64), Vec<Stashed>>,
    /// The highest bound released so far. An idle source that speaks again may bring events
    /// below it; they are applied at this bound instead, as late events (schemas/README.md).
    released: Option<i64>,
    /// Per source, the offset an earlier run's group committed: what an event before it
    /// caused already reached the Kafka sink (empty for files).
    resume: Vec<u64>,
    /// Per reported block not folded yet, its non-blank lines and the position the source's
    /// next block starts at; and per source, that position as of the blocks folded (a
    /// checkpoint's input positions).
    blocks: BTreeMap<(u32, u64), (u64, Option<u64>)>,
    positions: Vec<Option<u64>>,
}

impl Arrivals {
    fn already_sent(&self, source: u32, position: u64) -> bool {
        self.resume
            .get(source as usize)
            .is_some_and(|&c| position < c)
    }
}

enum Stashed {
    Event {
        line: u64,
        offset: u64,
        local: Option<i64>,
        event: Box<Event>,
    },
    Reject {
        local: Option<i64>,
        reject: Box<Reject>,
    },
}

impl Stashed {
    fn line(&self) -> u64 {
        match self {
            Stashed::Event { line, .. } => *line,
            Stashed::Reject { reject, .. } => reject.line,
        }
    }
}

/// This worker's part of the claim engine.
struct Engine {
    arrivals: Arrivals,
    shows: Shows,
    /// Non-blank lines read, counted on the worker that receives the reports meant for worker 0.
    lines: u64,
    first_worker: bool,
    pacing: Pacing,
    /// Checkpoints to take (`--checkpoint-dir`).
    cuts: Option<Cuts>,
}

/// When the engine sends what nobody waits for: snapshots and live views.
struct Pacing {
    /// Send the snapshot tables this often during the run (`--snapshot-interval`).
    snapshot_every: Option<std::time::Duration>,
    last_snapshot: std::time::Instant,
    /// Send changed sessions' live views this often (`livesell serve`).
    live_every: Option<std::time::Duration>,
    last_live: std::time::Instant,
}

impl Engine {
    /// Folds every block below `frontier` (every block when `None`), in block order per source,
    /// giving each of its events its effective time (SPEC 2) and dropping redeliveries.
    fn admit(&mut self, frontier: Option<u64>, out: &mut Vec<Out>) {
        let a = &mut self.arrivals;
        // Block-major, then source order: the same arrival order however far the frontier jumps.
        loop {
            let next = (0..a.clocks.len())
                .filter_map(|s| a.clocks[s].next_block().map(|b| (b, s)))
                .filter(|(b, _)| frontier.is_none_or(|f| *b < f))
                .min();
            let Some((b, s)) = next else { break };
            let mut items = a.stash.remove(&(s as u32, b)).unwrap_or_default();
            // The exchange may hand a block's events over in several interleaved runs: put
            // them back in line order, or a redelivery in the same block could arrive before
            // its original and be kept in its place (mostly sorted: near linear).
            items.sort_by_key(Stashed::line);
            for item in items {
                match item {
                    Stashed::Event {
                        line,
                        offset,
                        local,
                        event,
                    } => {
                        let index = self.shows.sessions.slot_of(&event.session_id, out);
                        let slot = &mut self.shows.sessions.slots[index as usize];
                        // A redelivery is dropped here, before any ordering (SPEC 2); it waits
                        // in line only to be counted where it stands in event time, so that a
                        // session's count is the same however the input was batched.
                        let redelivery = event.dedupe_key().is_some_and(|k| {
                            let mut h = std::hash::DefaultHasher::new();
                            std::hash::Hash::hash(&k, &mut h);
                            !slot.seen.insert(std::hash::Hasher::finish(&h))
                        });
                        let (mut eff, mut late) = a.clocks[s].admit(event.ts, local);
                        if let Some(r) = a.released.filter(|r| eff < *r) {
                            (eff, late) = (r, true);
                        }
                        let key = ReplayKey {
                            eff,
                            rank: event.type_rank(),
                            source: s as u32,
                            position: line,
                        };
                        a.pending.push(Reverse(Pending {
                            key,
                            late,
                            slot: index,
                            event,
                            offset,
                            redelivery,
                        }));
                    }
                    Stashed::Reject { local, reject } => {
                        let at = reject_time(a.clocks[s].watermark_before(local));
                        let sent = a.already_sent(reject.source_index, reject.line);
                        reject_outputs(reject, at.max(self.shows.floor), sent, out);
                    }
                }
            }
            a.clocks[s].fold();
            if let Some((lines, next)) = a.blocks.remove(&(s as u32, b)) {
                self.lines += lines;
                if next.is_some() {
                    a.positions[s] = next;
                }
            }
        }
    }

    /// Applies every pending event whose effective time is below `bound` (all when `None`).
    fn release(&mut self, bound: Option<i64>, out: &mut Vec<Out>) {
        let a = &mut self.arrivals;
        if let Some(b) = bound {
            a.released = a.released.max(Some(b));
        }
        let bound = bound.map(|b| b.max(a.released.unwrap_or(b)));
        let mut group: Vec<Pending> = Vec::new();
        loop {
            let a = &mut self.arrivals;
            let Some(Reverse(head)) = a.pending.peek() else {
                break;
            };
            if bound.is_some_and(|f| head.key.eff >= f) {
                break;
            }
            let (eff, rank) = (head.key.eff, head.key.rank);
            group.clear();
            while let Some(Reverse(p)) = a.pending.peek() {
                if (p.key.eff, p.key.rank) != (eff, rank) {
                    break;
                }
                group.push(a.pending.pop().expect("peeked").0);
            }
            if group.len() > 1 && a.multi_source {
                order_session_ties(&mut group);
            }
            // Whatever comes later (a source back from idle) is ordered after what went out.
            a.released = a.released.max(Some(eff));
            for p in group.drain(..) {
                let a = &self.arrivals;
                let sent = a.already_sent(p.key.source, p.key.position);
                let source = a
                    .names
                    .get(p.key.source as usize)
                    .map_or("", String::as_str);
                self.shows.apply(p, sent, source, out);
            }
        }
    }
}

impl Engine {
    /// Folds the blocks below `frontier` (all when `None`), applies what they made final, and
    /// fires the timers the watermark made due: the step of every activation, and of every
    /// checkpoint cut. Returns the release bound and the timer watermark it went to.
    fn settle(&mut self, frontier: Option<u64>, out: &mut Vec<Out>) -> (Option<i64>, Option<i64>) {
        self.admit(frontier, out);
        let clocks = &self.arrivals.clocks;
        let bound = if frontier.is_some() {
            final_below(clocks)
        } else {
            None
        };
        // Timers fire on the watermark (SPEC 2); at the end of a finite input that is W_end,
        // every source having ended.
        let due = timer_watermark(clocks);
        self.release(bound, out);
        if let Some(d) = due {
            self.shows.fire(d, out);
            // An idle source's clock can run ahead of what was released: whatever comes
            // later is ordered after the timers that fired.
            let a = &mut self.arrivals;
            a.released = a.released.max(Some(d));
        }
        self.shows.drain_metrics(out);
        (bound, due)
    }
}

/// Ties between sessions do not matter; within one, SPEC 2's tie-break does.
fn order_session_ties(group: &mut Vec<Pending>) {
    group.sort_by(|a, b| {
        a.event
            .session_id
            .cmp(&b.event.session_id)
            .then(a.key.cmp(&b.key))
    });
    let mut start = 0;
    while start < group.len() {
        let sid = &group[start].event.session_id;
        let end = start
            + group[start..]
                .iter()
                .take_while(|p| &p.event.session_id == sid)
                .count();
        let mut run: Vec<Pending> = group.drain(start..end).collect();
        order_ties(&mut run, |p| {
            let (pl, id) = p.event.platform_and_id();
            (&p.key, pl, id)
        });
        let n = run.len();
        group.splice(start..start, run);
        start += n;
    }
}

pub trait ApplyClaims<'scope> {
    /// Routes events to their session's worker and applies them once final; emits decisions,
    /// dead letters, metric additions, release marks, and each session's summary at its close
    /// or at the end.
    fn apply_claims(self, settings: EngineSettings) -> Stream<'scope, u64, Vec<Out>>;
}

/// How the claim engine runs.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// Every source's name (a file, a Kafka partition), in source order.
    pub sources: Vec<String>,
    pub lateness_us: i64,
    /// Emit order-out records (`orders_out.jsonl`, `livesell.orders-out`).
    pub drafts: bool,
    /// Emit every cart update (a Kafka sink or the live surfaces take them).
    pub cart_updates: bool,
    /// The buyers' messages, from these templates.
    pub messages: Option<std::sync::Arc<crate::domain::notify::Templates>>,
    /// Gather the session tables for `DIR/snapshots/` (a file run, or `--out` on Kafka).
    pub tables: bool,
    /// Also send them this often while the input goes on.
    pub snapshot_every: Option<std::time::Duration>,
    /// Per source, the offset below which an earlier run's outputs reached the sink.
    pub resume: Vec<u64>,
    /// Send each changed session's live view at most this often (`livesell serve`).
    pub live_every: Option<std::time::Duration>,
    /// Take checkpoints, and start from one (`--checkpoint-dir`).
    pub checkpoints: Option<CheckpointSettings>,
    /// Raised when the engine cannot go on (a session's tables that cannot be built).
    pub halt: crate::ops::halt::Halt,
}

/// Where and how often the engine takes its parts of checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointSettings {
    pub store: crate::io::checkpoint::Store,
    /// Block time (milliseconds of the run) between two cuts.
    pub every_ms: u64,
    /// The id of the first checkpoint this run takes.
    pub first_id: u64,
    /// The parts of the checkpoint this run starts from, in worker order.
    pub restore: Option<std::sync::Arc<Vec<Vec<u8>>>>,
}

impl<'scope> ApplyClaims<'scope> for Stream<'scope, u64, Vec<Input>> {
    fn apply_claims(self, settings: EngineSettings) -> Stream<'scope, u64, Vec<Out>> {
        let EngineSettings {
            sources,
            lateness_us,
            drafts,
            cart_updates,
            messages,
            tables,
            snapshot_every,
            resume,
            live_every,
            checkpoints,
            halt,
        } = settings;
        let scope = self.scope();
        let (worker, peers) = (scope.index(), scope.peers());
        self.unary_frontier(Exchange::new(route), "ApplyClaims", move |cap, info| {
            let activator = scope.activator_for(info.address);
            let mut engine = Engine {
                arrivals: Arrivals {
                    pending: BinaryHeap::new(),
                    multi_source: sources.len() > 1,
                    clocks: vec![SourceClock::new(lateness_us); sources.len()],
                    positions: vec![None; sources.len()],
                    names: sources,
                    stash: BTreeMap::new(),
                    released: None,
                    resume,
                    blocks: BTreeMap::new(),
                },
                shows: Shows::new(drafts, tables, live_every.is_some())
                    .with_carts(cart_updates, messages)
                    .halting(halt),
                lines: 0,
                first_worker: false,
                pacing: Pacing {
                    snapshot_every,
                    last_snapshot: std::time::Instant::now(),
                    live_every,
                    last_live: std::time::Instant::now(),
                },
                cuts: checkpoints.as_ref().map(|c| Cuts {
                    store: c.store.clone(),
                    every: c.every_ms.max(1),
                    next: c.every_ms.max(1),
                    next_id: c.first_id,
                    worker,
                    peers,
                }),
            };
            // A restored run's first outputs (the views brought back) go out at time 0, before
            // any block: the writer tells them from what the new input causes.
            let mut restore = checkpoints
                .and_then(|c| c.restore)
                .map(|parts| (cap, parts));
            let mut held: Option<Capability<u64>> = None;
            let mut marked: Option<u64> = None;
            let mut finished = false;
            let mut buf: Vec<Out> = Vec::new();
            move |(input, frontier), output| {
                if let Some((cap, parts)) = restore.take() {
                    if let Err(e) = engine.restore(&parts, worker, peers, &mut buf) {
                        // Checked before the run started: a part that reads back there reads
                        // back here; a failure is a bug, and the run must not go on without it.
                        panic!("cannot restore the checkpoint: {e:#}");
                    }
                    output.session(&cap).give_iterator(buf.drain(..));
                }
                input.for_each_stamp(|cap, data| {
                    if let Some(t) = cap.least() {
                        if held.as_ref().is_none_or(|h| t < h.time()) {
                            held = cap.retain_least(0);
                        }
                    }
                    for batch in data {
                        // A batch is mostly one block's events: its stash starts with room for
                        // them instead of growing (and copying them) a dozen times.
                        let room = batch.len();
                        for item in batch.drain(..) {
                            stash(&mut engine, item, room);
                        }
                    }
                });
                let f = frontier.frontier().first().copied();
                if let (Some(fr), Some(h)) = (f, held.as_mut()) {
                    cut_checkpoints(&mut engine, fr, h, &mut marked, &mut buf, output);
                }
                let (bound, due) = engine.settle(f, &mut buf);
                let p = &mut engine.pacing;
                if let (Some(every), true, Some(_)) = (p.snapshot_every, engine.shows.tables, f) {
                    let waited = p.last_snapshot.elapsed();
                    if waited >= every && engine.shows.changed {
                        p.last_snapshot = std::time::Instant::now();
                        engine.shows.changed = false;
                        engine.shows.snapshot(&mut buf);
                    } else if engine.shows.changed {
                        // A quiet input activates nothing: come back when the snapshot is due.
                        activator.activate_after(every.saturating_sub(waited));
                    }
                }
                if let Some(every) = p.live_every.filter(|_| engine.shows.live_changed) {
                    // At once when the last views went out long enough ago, else when due.
                    let waited = p.last_live.elapsed();
                    if waited >= every || f.is_none() {
                        p.last_live = std::time::Instant::now();
                        engine.shows.live_views(&mut buf);
                    } else {
                        activator.activate_after(every - waited);
                    }
                }
                if f.is_none() && !finished {
                    finished = true;
                    engine.shows.summaries(&mut buf);
                    buf.push(Out::Sessions {
                        open: engine.shows.sessions.open_count(),
                        closed: engine.shows.closed,
                        late_redeliveries: engine.shows.late_redeliveries,
                    });
                    if engine.first_worker {
                        buf.push(Out::Lines(engine.lines));
                    }
                    if engine.shows.tables {
                        engine.shows.snapshot(&mut buf);
                    }
                    // The input is over: freeing millions of small allocations one by one only
                    // delays the exit (measured at ~8% of a run), so the state is left to the OS.
                    std::mem::forget(std::mem::take(&mut engine.shows));
                }
                let Some(h) = held.as_mut() else { return };
                if !buf.is_empty() {
                    output.session(&*h).give_iterator(buf.drain(..));
                }
                match f {
                    Some(t) => {
                        // Once the writer's frontier passes t − 1, every worker has sent every
                        // decision keyed below the mark: the writer may write it.
                        if t > 0 && marked.is_none_or(|m| t > m) && t - 1 >= *h.time() {
                            marked = Some(t);
                            let mark = flush_mark(bound, due);
                            // Nothing later is keyed below a mark, or below what was applied
                            // when the mark is "everything" (an idle source's return can
                            // bring events and timers below it: they are keyed at the floor).
                            let floor = mark.or(engine.arrivals.released);
                            if let Some(m) = floor {
                                engine.shows.floor = engine.shows.floor.max(m);
                            }
                            let at = h.delayed(&(t - 1));
                            output.session(&at).give(Out::Released {
                                bound: mark.or(Some(i64::MAX)),
                            });
                        }
                        if t > *h.time() {
                            h.downgrade(&t);
                        }
                    }
                    None => held = None,
                }
            }
        })
    }
}

/// Takes every checkpoint cut the frontier `f` has passed, in order: each cut's outputs go
/// out below it, with its release mark and this worker's `PartDone`, and what comes after
/// goes out at the cut or later, so that the writer's state at a cut is that of the engines'.
fn cut_checkpoints(
    engine: &mut Engine,
    f: u64,
    h: &mut Capability<u64>,
    marked: &mut Option<u64>,
    buf: &mut Vec<Out>,
    output: &mut timely::dataflow::operators::generic::OutputBuilderSession<
        '_,
        u64,
        timely::container::CapacityContainerBuilder<Vec<Out>>,
    >,
) {
    loop {
        let Some(c) = engine.cuts.as_ref().filter(|c| f >= c.next) else {
            return;
        };
        let (cut, id, store) = (c.next, c.next_id, c.store.clone());
        let c = engine.cuts.as_mut().expect("checked");
        c.next += c.every;
        c.next_id += 1;
        if cut == 0 || *h.time() > cut - 1 {
            // Nothing reached this worker before the cut: no part to take (the checkpoint
            // stays incomplete, the previous one stands).
            continue;
        }
        let began = std::time::Instant::now();
        let (entry, mark) = engine.cut(cut, id, &store, buf);
        let took_us = began.elapsed().as_micros() as u64;
        if let Some(m) = mark.or(engine.arrivals.released) {
            engine.shows.floor = engine.shows.floor.max(m);
        }
        output.session(&*h).give_iterator(buf.drain(..));
        let at = h.delayed(&(cut - 1));
        let (worker, peers) = engine.cuts.as_ref().map_or((0, 1), |c| (c.worker, c.peers));
        output.session(&at).give(Out::Released {
            bound: mark.or(Some(i64::MAX)),
        });
        output.session(&at).give(Out::Checkpoint(Box::new(PartDone {
            id,
            worker,
            peers,
            entry,
            positions: engine.arrivals.positions.clone(),
            open_sessions: engine.shows.sessions.open_count(),
            took_us,
        })));
        *marked = Some(cut);
        h.downgrade(&cut);
    }
}

/// What the writer may write: every decision keyed below both the release bound (events
/// below it are applied) and the timer watermark (timers at or below it fired; one above it may
/// still fire before a later event, keyed at its own time). `None`: everything.
fn flush_mark(bound: Option<i64>, due: Option<i64>) -> Option<i64> {
    match (bound, due) {
        (Some(b), Some(d)) => Some(b.min(d)),
        (Some(b), None) => Some(b),
        (None, _) => None,
    }
}

/// One input item into the engine: events and rejects wait for their block to be folded,
/// block reports go to their source's clock.
fn stash(engine: &mut Engine, item: Input, room: usize) {
    let a = &mut engine.arrivals;
    match item {
        Input::Event {
            source,
            block,
            line,
            offset,
            local,
            event,
        } => a
            .stash
            .entry((source, block))
            .or_insert_with(|| Vec::with_capacity(room))
            .push(Stashed::Event {
                line,
                offset,
                local,
                event,
            }),
        Input::Reject {
            block,
            local,
            reject,
        } => a
            .stash
            .entry((reject.source_index, block))
            .or_default()
            .push(Stashed::Reject { local, reject }),
        Input::BlockDone {
            target,
            source,
            block,
            max,
            last,
            idle,
            heartbeat,
            lines,
            next,
        } => {
            engine.first_worker |= target == 0;
            // Counted, and the position taken, once folded: a checkpoint's cut may come first.
            a.blocks.insert((source, block), (lines, next));
            a.clocks[source as usize].report(block, max, last, idle);
            a.clocks[source as usize].heartbeat(block, heartbeat);
        }
    }
}
