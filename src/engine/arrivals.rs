//! Event-time order for one worker: every source's watermark, the blocks waiting to be folded, the events not yet final, and their release in SPEC 2 order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::domain::event::Event;
use crate::domain::order::{ReplayKey, SourceClock, order_ties, reject_time};
use crate::records::{Out, Reject};

use super::Engine;
use super::emit::reject_outputs;
use super::shows::Pending;

/// Event-time order: every source's watermark, the blocks waiting for theirs to be folded,
/// and the events not yet final.
pub(super) struct Arrivals {
    pub(super) pending: BinaryHeap<Reverse<Pending>>,
    pub(super) multi_source: bool,
    /// Every source's watermark, folded from the block reports all workers receive.
    pub(super) clocks: Vec<SourceClock>,
    /// Every source's name, for the rejects of closed sessions' events.
    pub(super) names: Vec<String>,
    /// Events and rejects waiting for the blocks before theirs to be folded.
    pub(super) stash: BTreeMap<(u32, u64), Vec<Stashed>>,
    /// The highest bound released so far. An idle source that speaks again may bring events
    /// below it; they are applied at this bound instead, as late events (schemas/README.md).
    pub(super) released: Option<i64>,
    /// Per source, the offset an earlier run's group committed: what an event before it
    /// caused already reached the Kafka sink (empty for files).
    pub(super) resume: Vec<u64>,
    /// Per reported block not folded yet, its non-blank lines and the position the source's
    /// next block starts at; and per source, that position as of the blocks folded (a
    /// checkpoint's input positions).
    pub(super) blocks: BTreeMap<(u32, u64), (u64, Option<u64>)>,
    pub(super) positions: Vec<Option<u64>>,
}

impl Arrivals {
    pub(super) fn already_sent(&self, source: u32, position: u64) -> bool {
        self.resume
            .get(source as usize)
            .is_some_and(|&c| position < c)
    }
}

pub(super) enum Stashed {
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

impl Engine {
    /// Folds every block below `frontier` (every block when `None`), in block order per source,
    /// giving each of its events its effective time (SPEC 2) and dropping redeliveries.
    pub(super) fn admit(&mut self, frontier: Option<u64>, out: &mut Vec<Out>) {
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
                        let keeps = self.shows.keeps_keys(index);
                        let slot = &mut self.shows.sessions.slots[index as usize];
                        // A redelivery is dropped here, before any ordering (SPEC 2); it waits
                        // in line only to be counted where it stands in event time, so that a
                        // session's count is the same however the input was batched. A show
                        // closed long ago keeps no keys (its events are `session_closed`).
                        let redelivery = event.dedupe_key().is_some_and(|k| {
                            let mut h = std::hash::DefaultHasher::new();
                            std::hash::Hash::hash(&k, &mut h);
                            let h = std::hash::Hasher::finish(&h);
                            if keeps {
                                !slot.seen.insert(h)
                            } else {
                                slot.seen.contains(&h)
                            }
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
    pub(super) fn release(&mut self, bound: Option<i64>, out: &mut Vec<Out>) {
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
