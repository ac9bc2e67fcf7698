//! The claim engine without timely: per worker, its sessions' events in SPEC 2 order (`arrivals`), applied to the pure `Session`s (`shows`, `slots`), emitted as outputs (`emit`), paced, and cut into checkpoint parts (`checkpoint`).
//!
//! The operator `ops::apply_claims` only moves inputs in and outputs out at timely times; every
//! decision about what comes out, and when it may be released, is made here.

mod arrivals;
mod checkpoint;
mod emit;
mod shows;
mod slots;

use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

use crate::domain::order::{SourceClock, final_below, timer_watermark};
use crate::io::checkpoint::PartDone;
use crate::records::{Control, Input, Out, Show};

use arrivals::{Arrivals, Stashed};
use checkpoint::Cuts;
use shows::Shows;

pub use shows::REDELIVERIES_KEPT_US;

/// This worker's part of the claim engine.
pub struct Engine {
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

/// A checkpoint part this worker took at cut `at` (a block time): what it adds to the
/// checkpoint, and the release mark that goes with it.
pub struct Cut {
    pub at: u64,
    pub mark: Option<i64>,
    pub done: PartDone,
}

impl Engine {
    pub fn new(settings: EngineSettings, worker: usize, peers: usize) -> Engine {
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
        Engine {
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
                last_snapshot: Instant::now(),
                live_every,
                last_live: Instant::now(),
            },
            cuts: checkpoints.as_ref().map(|c| Cuts {
                store: c.store.clone(),
                every: c.every_ms.max(1),
                next: c.every_ms.max(1),
                next_id: c.first_id,
                worker,
                peers,
            }),
        }
    }

    /// One input item into the engine: events and rejects wait for their block to be folded,
    /// block reports go to their source's clock; `room`: the items of its batch.
    /// One input item into the engine: events and rejects wait for their block to be folded,
    /// block reports go to their source's clock.
    pub fn take(&mut self, item: Input, room: usize) {
        let a = &mut self.arrivals;
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
                self.first_worker |= target == 0;
                // Counted, and the position taken, once folded: a checkpoint's cut may come first.
                a.blocks.insert((source, block), (lines, next));
                a.clocks[source as usize].report(block, max, last, idle);
                a.clocks[source as usize].heartbeat(block, heartbeat);
            }
        }
    }

    /// Folds the blocks below `frontier` (all when `None`), applies what they made final, and
    /// fires the timers the watermark made due: the step of every activation, and of every
    /// checkpoint cut. Returns the release bound and the timer watermark it went to.
    pub fn settle(
        &mut self,
        frontier: Option<u64>,
        out: &mut Vec<Out>,
    ) -> (Option<i64>, Option<i64>) {
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

    /// The release mark of an activation that settled to `bound` and `due`; nothing later is
    /// keyed below it, or below what was applied when the mark is "everything" (an idle
    /// source's return can bring events and timers below it: they are keyed at the floor).
    pub fn mark(&mut self, bound: Option<i64>, due: Option<i64>) -> Option<i64> {
        let mark = flush_mark(bound, due);
        self.raise_floor(mark);
        mark
    }

    fn raise_floor(&mut self, mark: Option<i64>) {
        if let Some(m) = mark.or(self.arrivals.released) {
            self.shows.floor = self.shows.floor.max(m);
        }
    }

    /// Sends what nobody waits for once it is due: the snapshot tables every
    /// `--snapshot-interval` (while the input goes on), changed sessions' live views every
    /// `live_every`. Returns when to come back for what is not due yet (a quiet input
    /// activates nothing).
    pub fn pace(&mut self, frontier: Option<u64>, out: &mut Vec<Out>) -> Option<Duration> {
        let mut again: Option<Duration> = None;
        let p = &mut self.pacing;
        if let (Some(every), true, Some(_)) = (p.snapshot_every, self.shows.tables, frontier) {
            let waited = p.last_snapshot.elapsed();
            if waited >= every && self.shows.changed {
                p.last_snapshot = Instant::now();
                self.shows.changed = false;
                self.shows.snapshot(out);
            } else if self.shows.changed {
                again = Some(every.saturating_sub(waited));
            }
        }
        if let Some(every) = p.live_every.filter(|_| self.shows.live_changed) {
            // At once when the last views went out long enough ago, else when due.
            let waited = p.last_live.elapsed();
            if waited >= every || frontier.is_none() {
                p.last_live = Instant::now();
                self.shows.live_views(out);
            } else {
                let later = every - waited;
                again = Some(again.map_or(later, |a| a.min(later)));
            }
        }
        again
    }

    /// The input is over: every open session's summary and tables, and the counts.
    pub fn finish(&mut self, out: &mut Vec<Out>) {
        self.shows.summaries(out);
        out.push(Out::Show(Show::Counts {
            open: self.shows.sessions.open_count(),
            closed: self.shows.closed,
            late_redeliveries: self.shows.late_redeliveries,
        }));
        if self.first_worker {
            out.push(Out::Control(Control::Lines(self.lines)));
        }
        if self.shows.tables {
            self.shows.snapshot(out);
        }
        // Freeing millions of small allocations one by one only delays the exit (measured at
        // ~8% of a run), so the state is left to the OS.
        std::mem::forget(std::mem::take(&mut self.shows));
    }

    /// The next checkpoint cut the frontier `frontier` has passed that this worker takes a
    /// part of, its outputs up to the cut in `out`. `held`: the earliest time this worker can
    /// still send at; a cut at or below it had nothing reach this worker before it, so no part
    /// is taken (the checkpoint stays incomplete, the previous one stands).
    pub fn cut_due(&mut self, frontier: u64, held: u64, out: &mut Vec<Out>) -> Option<Cut> {
        loop {
            let c = self.cuts.as_mut().filter(|c| frontier >= c.next)?;
            let (at, id, store) = (c.next, c.next_id, c.store.clone());
            let (worker, peers) = (c.worker, c.peers);
            c.next += c.every;
            c.next_id += 1;
            if at == 0 || held > at - 1 {
                continue;
            }
            let began = Instant::now();
            let (entry, mark) = self.cut(at, id, &store, out);
            let took_us = began.elapsed().as_micros() as u64;
            self.raise_floor(mark);
            let done = PartDone {
                id,
                worker,
                peers,
                entry,
                positions: self.arrivals.positions.clone(),
                open_sessions: self.shows.sessions.open_count(),
                took_us,
            };
            return Some(Cut { at, mark, done });
        }
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
    pub halt: crate::records::Halt,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::parse::parse_line;
    use crate::records::Kind;

    /// One block of `lines` from source 0, folded and settled.
    fn block(engine: &mut Engine, block: u64, lines: &[String], out: &mut Vec<Out>) {
        let (mut local, mut max) = (None, None);
        for (i, l) in lines.iter().enumerate() {
            let event = Box::new(parse_line(l.as_bytes()).unwrap());
            let ts = event.ts;
            let line = block * 1000 + i as u64;
            let item = Input::Event {
                source: 0,
                block,
                line,
                offset: 0,
                local,
                event,
            };
            engine.take(item, lines.len());
            local = local.max(Some(ts));
            max = max.max(Some(ts));
        }
        let done = Input::BlockDone {
            target: 0,
            source: 0,
            block,
            max,
            last: false,
            idle: false,
            heartbeat: None,
            lines: lines.len() as u64,
            next: None,
        };
        engine.take(done, 1);
        engine.settle(Some(block + 1), out);
    }

    #[test]
    fn a_show_closed_long_ago_keeps_no_redelivery_keys_for_new_events() {
        let settings = EngineSettings {
            sources: vec!["in".into()],
            ..Default::default()
        };
        let mut e = Engine::new(settings, 0, 1);
        let mut out = Vec::new();
        let t0 = 1_800_000_000_000i64;
        let ev = |ms: i64, body: &str| format!(r#"{{"session_id":"s","ts":{ms},{body}}}"#);
        let comment = |ms: i64, id: u64| {
            ev(
                ms,
                &format!(
                    r#""type":"comment","platform":"tiktok","comment_id":"c{id}","user_id":"u","text":"hi""#
                ),
            )
        };
        let config = r#""type":"director","action":"config","close_after_s":1"#;
        block(
            &mut e,
            1,
            &[
                ev(t0, config),
                ev(t0, r#""type":"director","action":"end""#),
            ],
            &mut out,
        );
        // Applying this one closes the show first (it is then a `session_closed` reject).
        block(&mut e, 2, &[comment(t0 + 5_000, 0)], &mut out);
        assert!(e.shows.sessions.slots[0].open.is_none(), "closed");
        let kept_ms = REDELIVERIES_KEPT_US / 1000;
        block(&mut e, 3, &[comment(t0 + 10_000 + kept_ms, 1)], &mut out);
        assert_eq!(e.shows.sessions.slots[0].seen.len(), 0, "forgotten");
        // A closed show that goes on receiving events: no key is kept for them.
        let later: Vec<String> = (2..500)
            .map(|i| comment(t0 + 20_000 + kept_ms + i as i64, i))
            .collect();
        block(&mut e, 4, &later, &mut out);
        assert_eq!(e.shows.sessions.slots[0].seen.len(), 0);
        assert_eq!(e.shows.sessions.slots[0].seen.capacity(), 0);
        let closed_rejects = out
            .iter()
            .filter(|o| matches!(o, Out::Record(Kind::DeadLetter, l) if l.line.contains("session_closed")))
            .count();
        // Every comment after the close is a reject, but for the newest: it waits for the
        // watermark to pass it.
        assert_eq!(closed_rejects, 2 + 498 - 1);
    }
}
