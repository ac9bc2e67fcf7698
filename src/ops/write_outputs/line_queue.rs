//! Records waiting for the release bound, smallest key first: a flush takes what is below the bound without looking at the rest.
//!
//! A long lateness window or a slow sink can hold many records back; scanning all of them at
//! every flush made a backlog cost its size at every step (quadratic over a show). A heap keyed
//! by the record's key hands out the ready prefix in `O(k log n)`.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::records::Line;

/// A record ordered by its key alone.
struct ByKey(Line);

impl PartialEq for ByKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}

impl Eq for ByKey {}

impl PartialOrd for ByKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByKey {
    fn cmp(&self, other: &Self) -> Ordering {
        #[cfg(test)]
        tests::COMPARED.with(|c| c.set(c.get() + 1));
        self.0.key.cmp(&other.0.key)
    }
}

#[derive(Default)]
pub struct LineQueue(BinaryHeap<Reverse<ByKey>>);

impl From<Vec<Line>> for LineQueue {
    fn from(lines: Vec<Line>) -> LineQueue {
        let mut q = LineQueue::default();
        q.extend(lines);
        q
    }
}

impl LineQueue {
    pub fn push(&mut self, line: Line) {
        self.0.push(Reverse(ByKey(line)));
    }

    pub fn extend(&mut self, lines: impl IntoIterator<Item = Line>) {
        self.0.extend(lines.into_iter().map(|l| Reverse(ByKey(l))));
    }

    /// The records whose key time is below `bound` (all of them when `None`), in key order.
    pub fn take_below(&mut self, bound: Option<i64>) -> Vec<Line> {
        let Some(b) = bound else {
            let mut all: Vec<Line> = std::mem::take(&mut self.0)
                .into_sorted_vec()
                .into_iter()
                .map(|Reverse(ByKey(l))| l)
                .collect();
            // `into_sorted_vec` is ascending in `Reverse`, so descending in key.
            all.reverse();
            return all;
        };
        let mut ready = Vec::new();
        while self.0.peek().is_some_and(|Reverse(ByKey(l))| l.key.0 < b) {
            if let Some(Reverse(ByKey(l))) = self.0.pop() {
                ready.push(l);
            }
        }
        ready
    }

    /// Every record, in no particular order (a checkpoint's copy).
    pub fn to_vec(&self) -> Vec<Line> {
        self.0.iter().map(|Reverse(ByKey(l))| l.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local!(pub(super) static COMPARED: Cell<u64> = const { Cell::new(0) });

    fn line(t: i64, seq: u64) -> Line {
        Line {
            key: (t, 0, seq, 0),
            line: format!("{t}/{seq}"),
            sent: false,
        }
    }

    #[test]
    fn the_ready_prefix_comes_out_in_key_order_and_the_rest_stays() {
        let mut q = LineQueue::default();
        q.extend([line(5, 0), line(1, 1), line(3, 0), line(1, 0), line(9, 0)]);
        let got: Vec<String> = q.take_below(Some(5)).into_iter().map(|l| l.line).collect();
        assert_eq!(got, ["1/0", "1/1", "3/0"]);
        assert_eq!(q.to_vec().len(), 2);
        assert!(q.take_below(Some(5)).is_empty());
        q.push(line(2, 0));
        let rest: Vec<String> = q.take_below(None).into_iter().map(|l| l.line).collect();
        assert_eq!(rest, ["2/0", "5/0", "9/0"]);
        assert!(q.to_vec().is_empty());
    }

    /// A backlog held behind the bound costs a flush nothing: 1,000 flushes that each release
    /// one record of 100,000 waiting compare ~1,000 × 2 log2(n) keys, not 100 million.
    #[test]
    fn a_flush_does_not_look_at_the_records_it_leaves() {
        let mut q = LineQueue::default();
        q.extend((0..100_000).rev().map(|i| line(i, 0)));
        COMPARED.with(|c| c.set(0));
        let mut taken = 0;
        for b in 1..=1000 {
            taken += q.take_below(Some(b)).len();
        }
        assert_eq!(taken, 1000);
        assert_eq!(q.to_vec().len(), 99_000);
        let compared = COMPARED.with(|c| c.get());
        assert!(compared < 100_000, "{compared} comparisons");
    }
}
