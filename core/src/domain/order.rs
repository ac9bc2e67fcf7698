//! Event-time order (SPEC 2): per-source watermarks and lateness, and the replay order key.

use std::cmp::Ordering;

use super::time::Micros;

/// SPEC 2's watermark of one source whose blocks of lines are parsed in parallel.
///
/// Each block reports the largest `ts` of its readable events; folding the reports in block
/// order gives every line the watermark as it stood just before it: the fold so far, or the
/// largest `ts` earlier in its own block, minus the allowed lateness. Block indexes need not be
/// consecutive (a Kafka partition reports only the ticks it had something to say in): the
/// caller folds a block only once every block below it has been reported.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SourceClock {
    lateness: Micros,
    /// Largest `ts` over the folded blocks.
    prefix: Option<Micros>,
    reported: std::collections::BTreeMap<u64, BlockReport>,
    /// The closing block has been folded: the source can produce nothing more.
    ended: bool,
    /// As of the last folded block, the source had been quiet for the idle timeout (SPEC 2:
    /// it does not hold back the minimum watermark).
    idle: bool,
    /// The latest clock reading of an idle live source: its timers' watermark while idle.
    heartbeat: Option<Micros>,
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct BlockReport {
    max: Option<Micros>,
    last: bool,
    idle: bool,
    heartbeat: Option<Micros>,
}

impl SourceClock {
    /// The clock as it stands with only the blocks below `block` reported: what a checkpoint
    /// taken at that block keeps (the later ones are read again after a restore).
    pub fn below(&self, block: u64) -> SourceClock {
        let mut c = self.clone();
        c.reported.split_off(&block);
        c
    }

    pub fn new(lateness: Micros) -> Self {
        SourceClock {
            lateness,
            prefix: None,
            reported: Default::default(),
            ended: false,
            idle: false,
            heartbeat: None,
        }
    }

    /// Block `block` holds events up to `max`; `last` marks the closing block of the source;
    /// `idle` says the source had been quiet for the idle timeout when the block was cut.
    pub fn report(&mut self, block: u64, max: Option<Micros>, last: bool, idle: bool) {
        self.reported.insert(
            block,
            BlockReport {
                max,
                last,
                idle,
                heartbeat: None,
            },
        );
    }

    /// A live source's clock reading, sent with the quiet spell reported as `block`.
    pub fn heartbeat(&mut self, block: u64, at: Option<Micros>) {
        if let Some(r) = self.reported.get_mut(&block) {
            r.heartbeat = r.heartbeat.max(at);
        }
    }

    /// The lowest reported block not folded yet.
    pub fn next_block(&self) -> Option<u64> {
        if self.ended {
            return None;
        }
        self.reported.keys().next().copied()
    }

    /// Effective time and lateness of an event of the next block, given the largest `ts` of
    /// the readable events before it in that block.
    pub fn admit(&self, ts: Micros, local: Option<Micros>) -> (Micros, bool) {
        effective_time(ts, self.watermark_before(local))
    }

    pub fn watermark_before(&self, local: Option<Micros>) -> Option<Micros> {
        self.prefix.max(local).map(|m| m - self.lateness)
    }

    /// Folds the next block into the watermark.
    pub fn fold(&mut self) {
        if let Some((_, r)) = self.reported.pop_first() {
            self.prefix = self.prefix.max(r.max);
            self.ended |= r.last;
            // A block with events is never idle; a quiet source stays idle until it speaks.
            self.idle = r.idle && r.max.is_none();
            self.heartbeat = self.heartbeat.max(r.heartbeat);
        }
    }

    /// A restored clock: its source is read again by a new reader, which has not found it
    /// quiet yet. Kept idle, a source that was quiet when the checkpoint was taken would let
    /// the others' watermarks run ahead of it while its reader catches up, and its next events
    /// would come out late where an uninterrupted run has them on time.
    pub fn resumed(&mut self) {
        self.idle = false;
    }

    pub fn finished(&self) -> bool {
        self.ended
    }

    /// The least effective time this source can still produce: `None` once it has ended or
    /// while it is idle, `Some(Micros::MIN)` before it delivered anything.
    pub fn floor(&self) -> Option<Micros> {
        if self.ended || self.idle {
            None
        } else {
            Some(self.watermark_before(None).unwrap_or(Micros::MIN))
        }
    }
}

impl SourceClock {
    /// This source's part of the watermark timers fire on: its watermark, kept once it has
    /// ended (SPEC 2's `W_end` takes every source's last one); `None` while idle or when it
    /// ended without delivering anything; `Some(Micros::MIN)` before it delivered anything.
    pub fn timer_floor(&self) -> Option<Micros> {
        if self.ended {
            return self.watermark_before(None);
        }
        if self.idle {
            // A quiet live source: its clock, when it has one (nothing it still sends is
            // stamped before it), so that a quiet show's timers fire on time.
            return self.heartbeat;
        }
        Some(self.watermark_before(None).unwrap_or(Micros::MIN))
    }
}

/// The watermark timers fire on (SPEC 2): the least over the sources that are not idle, ended
/// ones at their last watermark, so that once every source has ended it is `W_end`. `None`:
/// no source bounds it (all idle), and no timer fires on the watermark.
pub fn timer_watermark(clocks: &[SourceClock]) -> Option<Micros> {
    clocks.iter().filter_map(SourceClock::timer_floor).min()
}

/// SPEC 2: an event behind its source's watermark (as it stood just before the event) is late
/// and takes the watermark as its effective time.
pub fn effective_time(ts: Micros, watermark: Option<Micros>) -> (Micros, bool) {
    match watermark {
        Some(w) if ts < w => (w, true),
        _ => (ts, false),
    }
}

/// Where a reject stands in the outputs: its source's watermark just before it (0 before any).
pub fn reject_time(watermark: Option<Micros>) -> Micros {
    watermark.unwrap_or(0).max(0)
}

/// Events with effective times below this are final: the least floor of all sources (`None`:
/// every source has ended, everything is final).
pub fn final_below(clocks: &[SourceClock]) -> Option<Micros> {
    clocks.iter().filter_map(SourceClock::floor).min()
}

/// The offsets of one partition that a flushed bound covers, for the consumer group's commit.
///
/// The partition is read in offset order by one worker, so its watermark, and every message's
/// effective time (the key time of the decisions it causes, SPEC 2), is known as it is read. Once
/// every decision keyed below `bound` has reached the sink, each message before the first one
/// whose effective time is not below `bound` has had its decisions flushed.
#[derive(Debug, Default, Clone)]
pub struct CommitTrack {
    running_max: Option<Micros>,
    unflushed: std::collections::VecDeque<(u64, Micros)>,
    next: u64,
    /// What an earlier run committed: a replay never commits below it.
    floor: u64,
}

impl CommitTrack {
    /// A track for a partition whose group had committed `floor` before this run.
    pub fn after(floor: u64) -> Self {
        CommitTrack {
            floor,
            ..Default::default()
        }
    }

    /// A message read at `offset`: an event stamped `ts`, or (`None`) a reject.
    pub fn read(&mut self, offset: u64, ts: Option<Micros>, lateness: Micros) {
        let watermark = self.running_max.map(|m| m - lateness);
        let eff = match ts {
            Some(t) => effective_time(t, watermark).0,
            None => reject_time(watermark),
        };
        self.running_max = self.running_max.max(ts);
        self.unflushed.push_back((offset, eff));
        self.next = offset + 1;
    }

    /// The offset to commit once every decision keyed below `bound` is flushed.
    pub fn covered(&mut self, bound: Micros) -> u64 {
        while self.unflushed.front().is_some_and(|(_, eff)| *eff < bound) {
            self.unflushed.pop_front();
        }
        self.unflushed
            .front()
            .map_or(self.next, |(o, _)| *o)
            .max(self.floor)
    }
}

/// Where an event stands in its session's replay: `(effective ts, type rank, arrival)`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ReplayKey {
    pub eff: Micros,
    pub rank: u8,
    pub source: u32,
    pub position: u64,
}

/// Orders events that tie on `(effective ts, type rank)`: within a source by position; between
/// sources by platform name, then id (SPEC 2). Each source's run stays in position order, and
/// the runs are merged by comparing their heads, so the result is a total, deterministic order.
pub fn order_ties<T>(group: &mut Vec<T>, key: impl Fn(&T) -> (&ReplayKey, &str, &str)) {
    if group.len() < 2 {
        return;
    }
    group.sort_by(|a, b| {
        let (ka, _, _) = key(a);
        let (kb, _, _) = key(b);
        (ka.source, ka.position).cmp(&(kb.source, kb.position))
    });
    let first = key(&group[0]).0.source;
    if group.iter().all(|e| key(e).0.source == first) {
        return;
    }
    let mut runs: Vec<std::collections::VecDeque<T>> = Vec::new();
    for item in group.drain(..) {
        match runs.last_mut() {
            Some(run)
                if key(run.front().expect("runs are non-empty")).0.source
                    == key(&item).0.source =>
            {
                run.push_back(item)
            }
            _ => runs.push(std::collections::VecDeque::from([item])),
        }
    }
    while !runs.is_empty() {
        let best = (0..runs.len())
            .min_by(|&i, &j| {
                let (ka, pa, ia) = key(runs[i].front().expect("non-empty"));
                let (kb, pb, ib) = key(runs[j].front().expect("non-empty"));
                (pa, ia, ka.source)
                    .cmp(&(pb, ib, kb.source))
                    .then(Ordering::Equal)
            })
            .expect("runs is non-empty");
        let item = runs[best].pop_front().expect("non-empty");
        if runs[best].is_empty() {
            runs.remove(best);
        }
        group.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_events_take_the_watermark() {
        let mut c = SourceClock::new(2_000);
        // Block 0: 10_000 then 8_500, 8_000, 7_999 (late against 10_000 − 2_000).
        c.report(0, Some(10_000), false, false);
        assert_eq!(c.next_block(), Some(0));
        assert_eq!(c.admit(10_000, None), (10_000, false));
        assert_eq!(c.admit(8_000, Some(10_000)), (8_000, false));
        assert_eq!(c.admit(7_999, Some(10_000)), (8_000, true));
        c.fold();
        assert_eq!(c.floor(), Some(8_000));
        // Nothing more was reported yet: nothing more can be folded.
        assert_eq!(c.next_block(), None);
        c.report(1, None, false, false);
        c.report(3, None, true, false);
        assert_eq!(c.next_block(), Some(1));
        assert_eq!(c.admit(1, None), (8_000, true));
        c.fold();
        c.fold();
        assert!(c.finished());
        assert_eq!(c.floor(), None);
        assert_eq!(final_below(&[c, SourceClock::new(5)]), Some(Micros::MIN));
    }

    #[test]
    fn an_idle_source_leaves_the_minimum_until_it_speaks() {
        let mut busy = SourceClock::new(0);
        let mut quiet = SourceClock::new(0);
        busy.report(0, Some(50), false, false);
        busy.fold();
        assert_eq!(
            final_below(&[busy.clone(), quiet.clone()]),
            Some(Micros::MIN)
        );
        quiet.report(4, None, false, true);
        quiet.fold();
        assert_eq!(final_below(&[busy.clone(), quiet.clone()]), Some(50));
        quiet.report(9, Some(20), false, true);
        quiet.fold();
        assert_eq!(final_below(&[busy, quiet]), Some(20));
    }

    #[test]
    fn commits_stop_at_the_first_message_not_yet_flushed() {
        let mut t = CommitTrack::default();
        t.read(10, Some(5_000), 1_000);
        t.read(11, Some(9_000), 1_000);
        t.read(12, Some(3_000), 1_000); // late: effective time 8_000
        t.read(13, None, 1_000); // a reject, keyed at the watermark 8_000
        assert_eq!(t.covered(5_000), 10);
        assert_eq!(t.covered(8_000), 11);
        assert_eq!(t.covered(9_000), 11);
        assert_eq!(t.covered(9_001), 14);
        // A replay commits nothing below what the run before it had committed.
        let mut r = CommitTrack::after(12);
        r.read(10, Some(5_000), 1_000);
        assert_eq!(r.covered(0), 12);
        assert_eq!(r.covered(i64::MAX), 12);
    }

    fn k(source: u32, position: u64) -> ReplayKey {
        ReplayKey {
            eff: 0,
            rank: 5,
            source,
            position,
        }
    }

    #[test]
    fn ties_keep_source_order_and_merge_by_platform_then_id() {
        let mut g = vec![
            (k(1, 7), "tiktok", "9"),
            (k(0, 3), "youtube", "1"),
            (k(1, 2), "youtube", "0"),
            (k(0, 1), "facebook", "5"),
        ];
        order_ties(&mut g, |(key, p, i)| (key, *p, *i));
        let got: Vec<_> = g
            .iter()
            .map(|(key, _, _)| (key.source, key.position))
            .collect();
        // Source 0 runs facebook(1), youtube/1(3); source 1 runs youtube/0(2), tiktok(7): heads
        // compare facebook < youtube/0 < tiktok < youtube/1.
        assert_eq!(got, vec![(0, 1), (1, 2), (1, 7), (0, 3)]);
    }

    #[test]
    fn one_source_is_position_order() {
        let mut g = vec![(k(0, 9), "a", "1"), (k(0, 2), "z", "9")];
        order_ties(&mut g, |(key, p, i)| (key, *p, *i));
        assert_eq!(g[0].0.position, 2);
    }
}
