//! SPEC 3.4: a pool that falls short revokes the newest holds; units it frees go to the waitlist.

use super::{Cx, Session, Sku};
use crate::domain::decision::ResEvent;
use crate::domain::event::Text;
use crate::domain::time::Micros;

impl Session {
    /// SPEC 3.4: revoke newest holds while the pool is short, then hand free units to the waitlist.
    ///
    /// The holds are put in a heap once, newest on top, so that revoking k of n holds costs
    /// O(n + k log n) rather than a scan of every holder per revocation.
    pub(super) fn after_pool_change(&mut self, sku: &str, cx: &mut Cx) {
        let short = |s: &Sku| s.held + s.sold > s.pool && !s.holders.is_empty();
        if self.skus.get(sku).is_some_and(short) {
            let s = &self.skus[sku];
            let mut newest: std::collections::BinaryHeap<(Micros, Text)> = s
                .holders
                .values()
                .filter_map(|id| self.reservations.get(id))
                .map(|r| (r.created_at, r.id.clone()))
                .collect();
            while self.skus.get(sku).is_some_and(short) {
                let Some((_, id)) = newest.pop() else { break };
                let r = self
                    .reservations
                    .remove(&id)
                    .expect("holder has a live reservation");
                let s = self.skus.get_mut(sku).expect("sku checked above");
                s.held -= r.qty as i64;
                s.holders.remove(&r.buyer);
                self.expiry.remove(&(r.expires_at, r.id.clone()));
                self.stats.reservations_revoked += 1;
                cx.reservation(&r, ResEvent::Revoked, Some("stock_shortfall"));
            }
        }
        self.walk_waitlist(sku, cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::tests::{K1, brief, comment, run};

    #[test]
    fn shortfall_revokes_newest_first_then_promotes() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold"),
            comment("tiktok", "b", "u2", "sold"),
            comment("tiktok", "c", "u3", "sold"),
            r#""type":"stock","sku":"K1","set":0"#.to_string(),
            r#""type":"stock","sku":"K1","set":1"#.to_string(),
        ];
        let got: Vec<String> = run(
            &mut s,
            &[
                (1, &evs[0]),
                (2, &evs[1]),
                (3, &evs[2]),
                (4, &evs[3]),
                (5, &evs[4]),
            ],
        )
        .iter()
        .map(brief)
        .collect();
        assert_eq!(
            got,
            vec![
                "1 claim tiktok:a reserved K1",
                "1 res res:tiktok:a created until 61",
                "2 claim tiktok:b reserved K1",
                "2 res res:tiktok:b created until 62",
                "3 claim tiktok:c waitlisted K1 #1",
                "4 res res:tiktok:b revoked until 62",
                "4 res res:tiktok:a revoked until 61",
                "5 claim tiktok:c promoted K1",
                "5 res res:tiktok:c created until 65",
            ]
        );
    }
}
