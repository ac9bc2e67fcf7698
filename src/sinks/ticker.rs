//! The GMV ticker of `livesell.gmv`: per show, GMV, units and claims from differential's totals, a frame when they changed (at most every 100 ms), and a last frame with the final figures at the close.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::domain::decision::JsonObject;
use crate::records::{MetricKey, session_hash};

/// How often a changed show's frame goes out.
const TICK_EVERY: Duration = Duration::from_millis(100);

/// One ticker frame: the show's figures as of a time; `closed`: its last.
pub fn frame(session_id: &str, as_of: Option<i64>, figures: [i64; 3], closed: bool) -> String {
    let [gmv, units, claims] = figures;
    let mut o = JsonObject::new();
    o.str("session_id", session_id);
    if let Some(t) = as_of {
        o.ts("as_of", t);
    }
    o.num("gmv_cents", gmv as i128);
    o.num("units", units as i128);
    o.num("claims", claims as i128);
    if closed {
        o.raw("closed", "true");
    }
    o.finish()
}

pub struct Ticker {
    /// Per open show: GMV cents, units, claims; the shows changed since the last frames.
    sums: BTreeMap<String, [i64; 3]>,
    dirty: BTreeSet<String>,
    /// Closed shows' routing hashes: their late updates (the views taken back out of
    /// differential) are not theirs to show.
    closed: super::closed::ClosedShows,
    last_tick: Instant,
}

impl Default for Ticker {
    fn default() -> Self {
        Ticker {
            sums: BTreeMap::new(),
            dirty: BTreeSet::new(),
            closed: Default::default(),
            last_tick: Instant::now(),
        }
    }
}

impl Ticker {
    /// A change to a maintained metric total; `quiet`: it was on the ticker already (the views
    /// a restored run brings back).
    pub fn total(&mut self, key: &MetricKey, change: i64, quiet: bool) {
        if self.closed.contains(session_hash(&key.session_id)) {
            return;
        }
        let sums = self.sums.entry(key.session_id.clone()).or_default();
        sums[key.metric as usize] += change;
        if !quiet {
            self.dirty.insert(key.session_id.clone());
        }
    }

    pub fn changed(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The frames of the shows that changed, once `TICK_EVERY` passed (`force`: now), as of
    /// `as_of`; `quiet`: nothing is said (a restarted run replaying what an earlier one sent).
    pub fn due(&mut self, force: bool, as_of: Option<i64>, quiet: bool) -> Vec<(String, String)> {
        if self.dirty.is_empty() || (!force && self.last_tick.elapsed() < TICK_EVERY) {
            return Vec::new();
        }
        self.last_tick = Instant::now();
        let dirty = std::mem::take(&mut self.dirty);
        if quiet {
            return Vec::new();
        }
        dirty
            .into_iter()
            .map(|s| {
                let figures = self.sums.get(&s).copied().unwrap_or_default();
                let f = frame(&s, as_of, figures, false);
                (s, f)
            })
            .collect()
    }

    /// SPEC 3.5: the show closed; it leaves the ticker (the retraction of its views must not
    /// tick it down to zero). Its last frame comes from its summary's final figures.
    pub fn closed(
        &mut self,
        session_id: &str,
        closed_at: i64,
        summary: Option<&str>,
    ) -> Option<String> {
        self.closed.close(session_hash(session_id));
        self.sums.remove(session_id);
        self.dirty.remove(session_id);
        let s: serde_json::Value = serde_json::from_str(summary?).ok()?;
        let n = |f: &str| s[f].as_i64().unwrap_or(0);
        let figures = [n("gmv_cents"), n("units_sold"), n("claims")];
        Some(frame(session_id, Some(closed_at), figures, true))
    }
}
