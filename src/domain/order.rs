//! Event-time order (SPEC 2): per-source watermarks and lateness, and the replay order key.

use std::cmp::Ordering;

use super::time::Micros;

/// SPEC 2's watermark of one source whose blocks of lines are parsed in parallel.
///
/// Each block reports the largest `ts` of its readable events; folding the reports in block
/// order gives every line the watermark as it stood just before it: the fold so far, or the
/// largest `ts` earlier in its own block, minus the allowed lateness.
#[derive(Debug, Clone)]
pub struct SourceClock {
    lateness: Micros,
    /// Largest `ts` over the folded blocks.
    prefix: Option<Micros>,
    /// Blocks folded so far: the next block to fold is this one.
    folded: u64,
    reported: std::collections::BTreeMap<u64, Option<Micros>>,
    /// Index of the source's closing block, once it has been reported.
    end: Option<u64>,
}

impl SourceClock {
    pub fn new(lateness: Micros) -> Self {
        SourceClock {
            lateness,
            prefix: None,
            folded: 0,
            reported: Default::default(),
            end: None,
        }
    }

    /// Block `block` holds events up to `max`; `last` marks the closing block of the source.
    pub fn report(&mut self, block: u64, max: Option<Micros>, last: bool) {
        self.reported.insert(block, max);
        if last {
            self.end = Some(block);
        }
    }

    /// The next block to fold, if it has been reported.
    pub fn next_block(&self) -> Option<u64> {
        (!self.finished() && self.reported.contains_key(&self.folded)).then_some(self.folded)
    }

    /// Effective time and lateness of an event of the next block, given the largest `ts` of
    /// the readable events before it in that block.
    pub fn admit(&self, ts: Micros, local: Option<Micros>) -> (Micros, bool) {
        match self.watermark_before(local) {
            Some(w) if ts < w => (w, true),
            _ => (ts, false),
        }
    }

    pub fn watermark_before(&self, local: Option<Micros>) -> Option<Micros> {
        self.prefix.max(local).map(|m| m - self.lateness)
    }

    /// Folds the next block into the watermark.
    pub fn fold(&mut self) {
        if let Some(max) = self.reported.remove(&self.folded) {
            self.prefix = self.prefix.max(max);
        }
        self.folded += 1;
    }

    pub fn finished(&self) -> bool {
        self.end.is_some_and(|e| self.folded > e)
    }

    /// The least effective time this source can still produce: `None` once it has ended,
    /// `Some(Micros::MIN)` before it delivered anything.
    pub fn floor(&self) -> Option<Micros> {
        if self.finished() {
            None
        } else {
            Some(self.watermark_before(None).unwrap_or(Micros::MIN))
        }
    }
}

/// Events with effective times below this are final: the least floor of all sources (`None`:
/// every source has ended, everything is final).
pub fn final_below(clocks: &[SourceClock]) -> Option<Micros> {
    clocks.iter().filter_map(SourceClock::floor).min()
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
        c.report(0, Some(10_000), false);
        assert_eq!(c.next_block(), Some(0));
        assert_eq!(c.admit(10_000, None), (10_000, false));
        assert_eq!(c.admit(8_000, Some(10_000)), (8_000, false));
        assert_eq!(c.admit(7_999, Some(10_000)), (8_000, true));
        c.fold();
        assert_eq!(c.floor(), Some(8_000));
        // Block 1 was not reported yet: nothing more can be folded.
        assert_eq!(c.next_block(), None);
        c.report(1, None, false);
        c.report(2, None, true);
        assert_eq!(c.admit(1, None), (8_000, true));
        c.fold();
        c.fold();
        assert!(c.finished());
        assert_eq!(c.floor(), None);
        assert_eq!(final_below(&[c, SourceClock::new(5)]), Some(Micros::MIN));
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
