//! The one release queue every sink shares (the file writer, each worker's Kafka producer, and through the writer the live hub): records by kind waiting for the release bound, the session each routing hash names, and the rule that turns release marks into a bound.
//!
//! A record keyed below a release mark may go out once every worker has sent everything keyed
//! below it: a mark sent at timely time `t` says so once the sink has taken everything sent at
//! `t` or before. Each kind's records wait in a heap keyed by the record's key: a long lateness
//! window or a slow sink can hold many back, and a flush hands out the ready prefix in
//! `O(k log n)` without looking at the rest (scanning them all made a show quadratic).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use crate::records::{Kind, Line};

/// Records of every kind waiting for the release bound, with the sessions they are keyed by.
#[derive(Default)]
pub struct Release {
    queues: [LineQueue; Kind::COUNT],
    /// Session ids by the routing hash records are keyed with (Kafka message keys, the hub's
    /// sessions).
    sessions: FxHashMap<u64, String>,
    /// Release marks `(time sent, bound)` not yet passed.
    marks: Vec<(u64, i64)>,
    /// Sessions ever seen (the map forgets closed ones: `forget`).
    seen_total: u64,
}

impl Release {
    pub fn push(&mut self, kind: Kind, line: Line) {
        self.queues[kind.index()].push(line);
    }

    /// A session seen for the first time, by the routing hash its records are keyed with.
    ///
    /// `forgotten`: a show closed long ago (a restored engine's): counted, its name not kept.
    pub fn seen(&mut self, hash: u64, session_id: String, forgotten: bool) {
        if forgotten {
            self.seen_total += 1;
        } else if self.sessions.insert(hash, session_id).is_none() {
            self.seen_total += 1;
        }
    }

    /// A closed show this sink remembers no more: its name goes (and is returned).
    pub fn forget(&mut self, hash: u64) -> Option<String> {
        self.sessions.remove(&hash)
    }

    /// The session a record's routing hash names (rejects carry none).
    pub fn session(&self, hash: u64) -> Option<&str> {
        self.sessions.get(&hash).map(String::as_str)
    }

    /// Sessions seen so far, forgotten ones included.
    pub fn sessions(&self) -> usize {
        self.seen_total as usize
    }

    /// Session names held now (open shows and the closed ones still remembered).
    pub fn names_held(&self) -> usize {
        self.sessions.len()
    }

    /// A release mark sent at time `t`: every record keyed below `bound` (everything when
    /// `None`) was sent at `t` or before.
    pub fn mark(&mut self, t: u64, bound: Option<i64>) {
        self.marks.push((t, bound.unwrap_or(i64::MAX)));
    }

    /// The release bound of every mark sent before `limit` (the sink has taken everything
    /// sent before it), which are then spent.
    pub fn passed(&mut self, limit: u64) -> Option<i64> {
        let bound = self
            .marks
            .iter()
            .filter(|(t, _)| *t < limit)
            .map(|(_, b)| *b)
            .max();
        self.marks.retain(|(t, _)| *t >= limit);
        bound
    }

    /// Every record keyed below `bound` (all of them when `None`), per kind in key order.
    pub fn take_below(&mut self, bound: Option<i64>) -> Released {
        Released(std::array::from_fn(|k| self.queues[k].take_below(bound)))
    }

    /// The records of `kind` still waiting, in no particular order (a checkpoint's copy).
    pub fn waiting(&self, kind: Kind) -> Vec<Line> {
        self.queues[kind.index()].to_vec()
    }

    /// Every kind's records still waiting (a checkpoint's copy).
    pub fn pending(&self) -> Vec<(Kind, Vec<Line>)> {
        Kind::ALL.iter().map(|&k| (k, self.waiting(k))).collect()
    }

    /// Records of `kind` read back from a checkpoint.
    pub fn restore(&mut self, kind: Kind, lines: impl IntoIterator<Item = Line>) {
        self.queues[kind.index()].extend(lines);
    }
}

/// Records released together, per kind in key order.
#[derive(Default)]
pub struct Released([Vec<Line>; Kind::COUNT]);

impl Released {
    pub fn of(&self, kind: Kind) -> &[Line] {
        &self.0[kind.index()]
    }

    pub fn of_mut(&mut self, kind: Kind) -> &mut Vec<Line> {
        &mut self.0[kind.index()]
    }

    pub fn count(&self, kind: Kind) -> u64 {
        self.0[kind.index()].len() as u64
    }

    /// Every kind with its records, in `Kind::ALL` order.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, &[Line])> {
        Kind::ALL.into_iter().map(|k| (k, self.of(k)))
    }
}

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

/// One kind's records, smallest key first.
#[derive(Default)]
pub struct LineQueue(BinaryHeap<Reverse<ByKey>>);

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
            about: Default::default(),
            key: (t, 0, seq, 0),
            line: format!("{t}/{seq}"),
            sent: false,
        }
    }

    #[test]
    fn marks_release_once_everything_sent_before_them_is_in() {
        let mut r = Release::default();
        r.push(Kind::Decision, line(1, 0));
        r.push(Kind::Draft, line(1, 0));
        r.push(Kind::Decision, line(7, 0));
        r.mark(3, Some(5));
        r.mark(4, None);
        assert_eq!(
            r.passed(3),
            None,
            "a mark sent at 3 waits until time 3 is passed"
        );
        assert_eq!(r.passed(4), Some(5));
        let out = r.take_below(Some(5));
        assert_eq!(out.count(Kind::Decision), 1);
        assert_eq!(out.count(Kind::Draft), 1);
        assert_eq!(r.waiting(Kind::Decision).len(), 1);
        assert_eq!(r.passed(5), Some(i64::MAX));
        assert_eq!(r.passed(9), None, "spent");
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
