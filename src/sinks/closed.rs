//! The closed shows a sink still remembers, by routing hash: the newest `KEEP_CLOSED_SHOWS`, so that what a sink keeps per show follows the open shows and a bounded tail, not the run's history.

use std::collections::VecDeque;

use rustc_hash::FxHashSet;

/// How many closed shows each sink remembers (their summaries, names and "closed" marks):
/// the updates that follow a close (the views taken back out, the last frames) come within
/// seconds, and a day of a thousand shows an hour is well inside it.
pub const KEEP_CLOSED_SHOWS: usize = 10_000;

#[derive(Debug, Default, Clone)]
pub struct ClosedShows {
    /// Oldest first.
    order: VecDeque<u64>,
    set: FxHashSet<u64>,
}

impl ClosedShows {
    /// The shows of a checkpoint, oldest first.
    pub fn from_ordered(hashes: impl IntoIterator<Item = u64>) -> ClosedShows {
        let mut c = ClosedShows::default();
        for h in hashes {
            c.close(h);
        }
        c
    }

    /// A show closed; returns the oldest one it pushes out of the window, if any, for the
    /// sink to forget what it kept of it.
    pub fn close(&mut self, hash: u64) -> Option<u64> {
        if !self.set.insert(hash) {
            return None;
        }
        self.order.push_back(hash);
        if self.order.len() > KEEP_CLOSED_SHOWS {
            let old = self.order.pop_front()?;
            self.set.remove(&old);
            return Some(old);
        }
        None
    }

    pub fn contains(&self, hash: u64) -> bool {
        self.set.contains(&hash)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Oldest first (a checkpoint's copy).
    pub fn ordered(&self) -> Vec<u64> {
        self.order.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_newest_closed_shows_only() {
        let mut c = ClosedShows::default();
        for h in 0..KEEP_CLOSED_SHOWS as u64 {
            assert_eq!(c.close(h), None);
        }
        assert_eq!(c.close(3), None, "a show closes once");
        assert_eq!(c.close(u64::MAX), Some(0));
        assert_eq!(c.len(), KEEP_CLOSED_SHOWS);
        assert!(!c.contains(0) && c.contains(1) && c.contains(u64::MAX));
        let back = ClosedShows::from_ordered(c.ordered());
        assert_eq!(back.ordered(), c.ordered());
    }
}
