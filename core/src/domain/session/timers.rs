//! The session's clock (SPEC 2, 3.5): holds expire, and the show closes after its end or once idle.

use super::{Cx, Session, sku_entry};
use crate::domain::decision::{Body as DBody, Decision, ResEvent, SessionEvent};
use crate::domain::time::Micros;

impl Session {
    /// Fires every timer of the session due at or before `t` (SPEC 2): the expiries due by
    /// then, or by the close when it comes first, and then the close itself (SPEC 3.5).
    pub fn advance(&mut self, t: Micros, out: &mut Vec<Decision>) {
        if self.closed.is_some() {
            return;
        }
        let close = self.close_at();
        self.expire_until(close.map_or(t, |c| c.min(t)), out);
        if let Some(c) = close.filter(|c| *c <= t) {
            self.close(c, out);
        }
    }

    /// When the next timer is due: the first expiry or the close; none once closed.
    pub fn next_timer(&self) -> Option<Micros> {
        if self.closed.is_some() {
            return None;
        }
        let expiry = self.expiry.first().map(|(at, _)| *at);
        match (expiry, self.close_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the session closes as things stand (SPEC 3.5's `C`).
    pub fn close_at(&self) -> Option<Micros> {
        match (self.close_by_end, self.close_by_idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The time the session closed at, once it has.
    pub fn closed_at(&self) -> Option<Micros> {
        self.closed
    }

    /// The effective time of the show's first `end`.
    pub fn ended_at(&self) -> Option<Micros> {
        self.ended
    }

    /// SPEC 3.5's close at `c`: every live reservation expires (no promotion), the waitlists are
    /// emptied, and the decision `session/closed` carries the figures the session ends with.
    fn close(&mut self, c: Micros, out: &mut Vec<Decision>) {
        let mut cx = Cx {
            t: c,
            late: false,
            out,
        };
        while let Some((_, id)) = self.expiry.pop_first() {
            let Some(r) = self.reservations.remove(&id) else {
                continue;
            };
            let s = sku_entry(&mut self.skus, &r.sku);
            s.held -= r.qty as i64;
            s.holders.remove(&r.buyer);
            self.stats.reservations_expired += 1;
            cx.reservation(&r, ResEvent::Expired, Some("session_closed"));
        }
        for s in self.skus.values_mut() {
            s.waitlist.clear();
            s.waiting.clear();
        }
        self.closed = Some(c);
        let summary = self.summary();
        cx.push(DBody::Session(SessionEvent::Closed(Box::new(summary))));
    }

    /// Expires every reservation due at or before `t`, in (expires_at, id) order, promoting as it goes.
    fn expire_until(&mut self, t: Micros, out: &mut Vec<Decision>) {
        while self.expiry.first().is_some_and(|(at, _)| *at <= t) {
            let Some((at, id)) = self.expiry.pop_first() else {
                break;
            };
            let Some(r) = self.reservations.remove(&id) else {
                continue;
            };
            let s = sku_entry(&mut self.skus, &r.sku);
            s.held -= r.qty as i64;
            s.holders.remove(&r.buyer);
            self.stats.reservations_expired += 1;
            let mut cx = Cx {
                t: at,
                late: false,
                out,
            };
            cx.reservation(&r, ResEvent::Expired, None);
            self.walk_waitlist(&r.sku, &mut cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::tests::{END, K1, T0, comment, event, owned, replay, watermark};

    #[test]
    fn a_quiet_session_closes_after_idle_close_s_and_its_timers_fire_first() {
        let idle =
            r#""type":"director","action":"config","idle_close_s":100,"reservation_window_s":50"#;
        let mut s = Session::new();
        let mut events = owned(K1);
        events.extend([
            (0, idle.to_string()),
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("tiktok", "c2", "u2", "sold")),
            (3, comment("tiktok", "c3", "u3", "sold")),
            (4, comment("tiktok", "c4", "u4", "sold x2")),
            (51, comment("tiktok", "c5", "u5", "nice")),
        ]);
        replay(&mut s, &events);
        // The last applied event (chatter) was at 51: the close is at 151.
        assert_eq!(s.close_at(), Some(T0 + 151_000_000));
        // c1's expiry at 51 fired before the chatter and promoted c3; c4 (two units) waits.
        assert_eq!(s.summary().skus["K1"].waitlist, 1);
        assert_eq!(
            watermark(&mut s, 200),
            [
                "52 res res:tiktok:c2 expired until 52",
                "101 res res:tiktok:c3 expired until 101",
                "101 claim tiktok:c4 promoted K1",
                "101 res res:tiktok:c4 created until 151",
                "151 res res:tiktok:c4 expired until 151",
                "151 session closed",
            ]
        );
    }

    #[test]
    fn the_close_expires_every_live_hold_and_empties_the_waitlists() {
        let cfg = r#""type":"director","action":"config","close_after_s":10"#;
        let mut s = Session::new();
        let mut events = owned(K1);
        events.extend([
            (0, cfg.to_string()),
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("tiktok", "c2", "u2", "sold")),
            (3, comment("tiktok", "c3", "u3", "sold")),
            (5, END.to_string()),
            // Neither a later config nor a later end moves the close set by the first end.
            (
                6,
                r#""type":"director","action":"config","close_after_s":1000"#.to_string(),
            ),
            (7, END.to_string()),
        ]);
        let got = replay(&mut s, &events);
        assert_eq!(got.iter().filter(|l| l.contains("session")).count(), 1);
        assert_eq!(s.close_at(), Some(T0 + 15_000_000));
        let got = replay(&mut s, &[(15, comment("tiktok", "c4", "u4", "cancel"))]);
        assert_eq!(
            got,
            [
                "15 res res:tiktok:c1 expired until 61 session_closed",
                "15 res res:tiktok:c2 expired until 62 session_closed",
                "15 session closed",
                "15 reject session_closed",
            ]
        );
        let sum = s.summary();
        assert_eq!(sum.held_units, 0);
        assert_eq!(sum.reservations_expired, 2);
        assert_eq!(sum.skus["K1"].waitlist, 0);
        assert_eq!(sum.comments, 3, "the rejected comment counts nowhere");
    }

    #[test]
    fn the_closed_decision_carries_the_summary() {
        let mut s = Session::new();
        let mut out = Vec::new();
        for (sec, body) in owned(K1).iter().chain([(1, END.to_string())].iter()) {
            let ev = event(*sec, body);
            s.apply(&ev, ev.ts, false, &mut out);
        }
        out.clear();
        s.advance(T0 + 86_401_000_000, &mut out);
        let line = out.last().expect("closed").to_json("s");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["id"], "session/closed");
        assert_eq!(v["kind"], "session");
        assert_eq!(v["event"], "closed");
        assert_eq!(v["ts"], "2027-01-15T14:00:01.000000Z");
        assert_eq!(v["summary"]["skus"]["K1"]["pool"], 2);
        assert_eq!(v["summary"]["claims"], 0);
    }
}
