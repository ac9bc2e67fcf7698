//! A worker's claim engine at a checkpoint's cut, written as its part, and read back from every part (with any number of workers).
//!
//! A cut `C` is a block time: the part holds what the engine is after folding every block
//! below `C` and nothing of any later one (those are read again after a restore): the source
//! clocks, the events waiting for the watermark, every session (open ones whole, closed ones'
//! few bytes) and the positions each source's next block starts at.

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};

use crate::domain::order::SourceClock;
use crate::io::checkpoint::{PartEntry, Store};
use crate::records::{Out, Show, View, session_hash};
use crate::tables::rows::{RowsState, TableRows};

use super::Engine;
use super::shows::Pending;
use super::slots::{SessionSlot, Sessions};

/// One worker's part. `S` and `P` are borrowed when written, owned when read.
#[derive(Serialize, Deserialize)]
struct Part<S, P> {
    worker: usize,
    peers: usize,
    clocks: Vec<SourceClock>,
    positions: Vec<Option<u64>>,
    released: Option<i64>,
    floor: i64,
    lines: u64,
    closed: u64,
    late_redeliveries: u64,
    pending: P,
    slots: S,
    /// Open slots' table rows, by slot index.
    rows: Vec<(u32, RowsState)>,
    /// Closed sessions' redelivery keys to forget, `(when, session)`.
    forget: Vec<(i64, String)>,
}

type Owned = Part<Vec<SessionSlot>, Vec<Pending>>;

/// When this worker takes its parts, and where it writes them.
pub struct Cuts {
    pub store: Store,
    /// Block time between two cuts (`--checkpoint-interval`).
    pub every: u64,
    /// The next cut's block time, and the id its checkpoint gets.
    pub next: u64,
    pub next_id: u64,
    pub worker: usize,
    pub peers: usize,
}

impl Engine {
    /// Takes this worker's part of the checkpoint at cut `cut` (every block below it has been
    /// reported: the frontier passed it): folds and applies what the cut covers, then writes.
    /// Returns the part's manifest entry (`None`: not written) and the cut's release mark.
    pub(super) fn cut(
        &mut self,
        cut: u64,
        id: u64,
        store: &Store,
        out: &mut Vec<Out>,
    ) -> (Option<PartEntry>, Option<i64>) {
        let (bound, due) = self.settle(Some(cut), out);
        let mark = super::flush_mark(bound, due);
        let (worker, peers) = self.cuts.as_ref().map_or((0, 1), |c| (c.worker, c.peers));
        let file = format!("part-{worker}.bin");
        let began = std::time::Instant::now();
        let encoded = self.encode(cut, worker, peers);
        if std::env::var_os("LIVESELL_CHECKPOINT_SIZES").is_some() {
            eprintln!(
                "livesell: checkpoint part {worker}: encoded in {:.1} ms",
                began.elapsed().as_secs_f64() * 1e3
            );
        }
        let entry = match encoded {
            // Encoded here, at the cut; written (and synced) beside the dataflow, which goes
            // on: the writer commits the manifest only once the part is in place.
            Ok(bytes) => Some(store.write_part_behind(id, &file, bytes)),
            Err(e) => {
                eprintln!("livesell: checkpoint {id}: worker {worker}'s part not encoded: {e}");
                None
            }
        };
        (entry, mark)
    }

    fn encode(&mut self, cut: u64, worker: usize, peers: usize) -> Result<Vec<u8>, String> {
        let slots = &mut self.shows.sessions.slots;
        let mut rows = Vec::new();
        for (i, s) in slots.iter_mut().enumerate() {
            if let Some(open) = s.open.as_deref_mut() {
                let state = open
                    .rows
                    .checkpoint()
                    .map_err(|e| format!("the tables of session {}: {e}", s.id))?;
                rows.push((i as u32, state));
            }
        }
        let a = &self.arrivals;
        let slots = &self.shows.sessions.slots;
        if std::env::var_os("LIVESELL_CHECKPOINT_SIZES").is_some() {
            // What a part is made of, for the benchmark's note on size per open show.
            let size = |v: &dyn erased::Sized| v.size();
            let mut sessions = 0;
            let mut seen = 0;
            for s in slots {
                seen += s.seen.len() * 8;
                if let Some(o) = &s.open {
                    sessions += size(&o.session);
                }
            }
            let tables: usize = rows.iter().map(|(_, r)| size(r)).sum();
            eprintln!(
                "livesell: checkpoint part {worker}: domain state {sessions} B, table rows {tables} B, redelivery keys {seen} B, pending {} events",
                a.pending.len()
            );
        }
        let part = Part {
            worker,
            peers,
            clocks: a.clocks.iter().map(|c| c.below(cut)).collect(),
            positions: a.positions.clone(),
            released: a.released,
            floor: self.shows.floor,
            lines: self.lines,
            closed: self.shows.closed,
            late_redeliveries: self.shows.late_redeliveries,
            pending: a
                .pending
                .iter()
                .map(|Reverse(p)| p)
                .collect::<Vec<&Pending>>(),
            slots: slots.as_slice(),
            rows,
            forget: self
                .shows
                .forget
                .iter()
                .map(|(t, i)| (*t, slots[*i as usize].id.clone()))
                .collect(),
        };
        crate::io::checkpoint::encode(&part).map_err(|e| e.to_string())
    }

    /// This worker's share of a checkpoint's parts (its sessions: those the exchange routes to
    /// it among `peers`), and the outputs that bring the views back: every session's routing
    /// hash for the writer, open sessions' metric totals and ranked claimants for differential.
    pub fn restore(
        &mut self,
        parts: &[Vec<u8>],
        worker: usize,
        peers: usize,
        out: &mut Vec<Out>,
    ) -> anyhow::Result<()> {
        let mut slots = Vec::new();
        let mut pending = Vec::new();
        let mut forget = Vec::new();
        let mine = |id: &str| session_hash(id) % peers as u64 == worker as u64;
        for (n, bytes) in parts.iter().enumerate() {
            let part: Owned = crate::io::checkpoint::decode(bytes)
                .map_err(|e| anyhow::anyhow!("part {n} does not read back: {e}"))?;
            if n == 0 {
                self.arrivals.clocks = part.clocks;
                self.arrivals
                    .clocks
                    .iter_mut()
                    .for_each(SourceClock::resumed);
                self.arrivals.positions = part.positions;
                if worker == 0 {
                    self.lines = part.lines;
                }
            }
            self.arrivals.released = self.arrivals.released.max(part.released);
            self.shows.floor = self.shows.floor.max(part.floor);
            if worker == 0 {
                self.shows.closed += part.closed;
                self.shows.late_redeliveries += part.late_redeliveries;
            }
            let mut rows: rustc_hash::FxHashMap<u32, RowsState> = part.rows.into_iter().collect();
            for (i, mut slot) in part.slots.into_iter().enumerate() {
                if !mine(&slot.id) {
                    continue;
                }
                if let (Some(open), Some(state)) =
                    (slot.open.as_deref_mut(), rows.remove(&(i as u32)))
                {
                    open.rows = TableRows::restore(state)
                        .map_err(|e| anyhow::anyhow!("the tables of session {}: {e}", slot.id))?;
                }
                slots.push(slot);
            }
            pending.extend(
                part.pending
                    .into_iter()
                    .filter(|p| mine(&p.event.session_id)),
            );
            forget.extend(part.forget.into_iter().filter(|(_, id)| mine(id)));
        }
        let sessions = Sessions::from_slots(slots);
        for mut p in pending {
            let Some(i) = sessions.index_of(&p.event.session_id) else {
                anyhow::bail!(
                    "an event waits for session {}, which is not in the checkpoint",
                    p.event.session_id
                );
            };
            p.slot = i;
            self.arrivals.pending.push(Reverse(p));
        }
        for (t, id) in forget {
            if let Some(i) = sessions.index_of(&id) {
                self.shows.forget.insert((t, i));
                self.shows.keeping.insert(i);
            }
        }
        for (i, slot) in sessions.slots.iter().enumerate() {
            if let Some(t) = slot.timer {
                self.shows.timers.insert((t, i as u32));
            }
            // The sinks need the names of the shows whose records may still wait for their
            // release: open ones and those closed recently (a show closed long ago has nothing
            // left to send: the sinks only count it, see `sinks::closed`).
            out.push(Out::Show(Show::Seen {
                hash: slot.order,
                session_id: slot.id.clone(),
                forgotten: slot.open.is_none() && !self.shows.keeping.contains(&(i as u32)),
            }));
            let Some(open) = slot.open.as_deref() else {
                continue;
            };
            for (key, total) in &open.cells {
                if *total != 0 {
                    out.push(Out::View(View::Metric {
                        key: Box::new(key.clone()),
                        amount: *total,
                    }));
                }
            }
            for c in &open.sent {
                out.push(Out::View(View::Claimant {
                    session_id: slot.id.clone(),
                    claimant: Box::new(c.clone()),
                    diff: 1,
                }));
            }
            if self.shows.live {
                out.push(Out::View(View::Live(Box::new(
                    open.session.live_view(&slot.id, open.last_t),
                ))));
            }
        }
        self.shows.sessions = sessions;
        Ok(())
    }
}

/// Encoded sizes of a few kinds of state (`LIVESELL_CHECKPOINT_SIZES`).
mod erased {
    pub trait Sized {
        fn size(&self) -> usize;
    }
    impl<T: serde::Serialize> Sized for T {
        fn size(&self) -> usize {
            crate::io::checkpoint::encode(self).map_or(0, |b| b.len())
        }
    }
}
