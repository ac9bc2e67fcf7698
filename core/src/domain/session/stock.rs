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
                let Some(r) = self.reservations.remove(&id) else {
                    // Two holders naming one reservation: ids collided somewhere upstream.
                    self.fault(|| format!("reservation {id} is held twice in {sku}"));
                    continue;
                };
                let Some(s) = self.skus.get_mut(sku) else {
                    break;
                };
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
    use crate::domain::session::tests::{K1, brief, comment, event, run};

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

    #[test]
    fn colliding_ids_become_a_fault_not_a_panic() {
        // The parser refuses a `req` platform; a session given one anyway (two claims named
        // `req:X`) must not stop: the second hold is not made and the event reports a fault,
        // and a stock drop afterwards revokes what is live without panicking.
        let mut s = Session::new();
        run(&mut s, K1);
        let mut out = Vec::new();
        let mut c = event(1, &comment("tiktok", "X", "u1", "sold"));
        if let crate::domain::event::Body::Comment { platform, .. } = &mut c.body {
            *platform = Text::from("req");
        }
        assert!(s.apply(&c, c.ts, false, &mut out));
        assert_eq!(s.take_fault(), None);
        let r = event(
            2,
            r#""type":"reserve","request_id":"X","platform":"web","user_id":"u2","sku":"K1","qty":1"#,
        );
        assert!(s.apply(&r, r.ts, false, &mut out));
        let fault = s
            .take_fault()
            .expect("the second hold named req:X is a fault");
        assert!(fault.contains("res:req:X"), "{fault}");
        let drop = event(3, r#""type":"stock","sku":"K1","set":0"#);
        assert!(s.apply(&drop, drop.ts, false, &mut out));
        assert_eq!(s.take_fault(), None);
        let got: Vec<String> = out.iter().map(brief).collect();
        assert_eq!(
            got,
            vec![
                "1 claim req:X reserved K1",
                "1 res res:req:X created until 61",
                "3 res res:req:X revoked until 61",
            ]
        );
    }
}
