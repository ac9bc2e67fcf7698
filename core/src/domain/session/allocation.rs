//! SPEC 3.2's allocation: a claim reserves, waits or is refused; a cancel frees its hold and the waitlist is promoted.

use super::{Cx, Reservation, Session, Waiting, sku_entry};
use crate::domain::decision::{Body as DBody, Buyer, ClaimDecision, ClaimOutcome, ResEvent};
use crate::domain::event::Text;
use crate::domain::grammar::Reason;

impl Session {
    /// Releases the buyer's hold on and waitlist place for one sku; true when there was one.
    pub(super) fn cancel(&mut self, claim_id: &str, buyer: &Buyer, sku: &str, cx: &mut Cx) -> bool {
        let Some(s) = self.skus.get_mut(sku) else {
            return false;
        };
        let held = s.holders.remove(buyer);
        let waited = s.waiting.remove(buyer);
        if waited {
            s.waitlist.retain(|w| &w.buyer != buyer);
        }
        let mut qty = None;
        if let Some(res_id) = &held {
            if let Some(r) = self.reservations.remove(res_id) {
                s.held -= r.qty as i64;
                self.expiry.remove(&(r.expires_at, r.id.clone()));
                self.stats.reservations_cancelled += 1;
                qty = Some(r.qty);
                cx.reservation(&r, ResEvent::Cancelled, None);
            }
        }
        if held.is_none() && !waited {
            return false;
        }
        cx.claim(
            claim_id.into(),
            buyer.clone(),
            Some(Text::from(sku)),
            qty,
            ClaimOutcome::Cancelled,
            None,
        );
        self.walk_waitlist(sku, cx);
        true
    }

    /// SPEC 3.2 for one claim of a known buyer, sku and quantity.
    pub(super) fn allocate(
        &mut self,
        claim_id: Text,
        buyer: Buyer,
        sku: &str,
        qty: u64,
        cx: &mut Cx,
    ) {
        if self.sheet.owner_of(sku).is_none() {
            self.stats.rejected += 1;
            cx.claim(
                claim_id,
                buyer,
                Some(Text::from(sku)),
                Some(qty),
                ClaimOutcome::Rejected,
                Some(Reason::UnknownProduct),
            );
            return;
        }
        let s = sku_entry(&mut self.skus, sku);
        if s.holders.contains_key(&buyer) || s.bought.contains(&buyer) || s.waiting.contains(&buyer)
        {
            self.stats.rejected += 1;
            cx.claim(
                claim_id,
                buyer,
                Some(Text::from(sku)),
                Some(qty),
                ClaimOutcome::Rejected,
                Some(Reason::DuplicateClaim),
            );
            return;
        }
        if qty as i64 <= s.available() {
            self.reserve(claim_id, buyer, sku, qty, ClaimOutcome::Reserved, cx);
        } else {
            s.waiting.insert(buyer.clone());
            s.waitlist.push_back(Waiting {
                claim_id: claim_id.clone(),
                buyer: buyer.clone(),
                qty,
            });
            let position = s.waitlist.len() as u64;
            self.stats.waitlisted += 1;
            cx.push(DBody::Claim(ClaimDecision {
                claim_id,
                buyer,
                sku: Some(Text::from(sku)),
                qty: Some(qty),
                outcome: ClaimOutcome::Waitlisted,
                reason: None,
                reservation_id: None,
                waitlist_position: Some(position),
                escalation_id: None,
                candidates: vec![],
            }));
        }
    }

    fn reserve(
        &mut self,
        claim_id: Text,
        buyer: Buyer,
        sku: &str,
        qty: u64,
        outcome: ClaimOutcome,
        cx: &mut Cx,
    ) {
        let r = Reservation {
            id: Text::concat(&["res:", &claim_id]),
            claim_id,
            sku: sku.into(),
            qty,
            buyer,
            created_at: cx.t,
            expires_at: cx.t + self.cfg.window_us,
            unit_price_cents: self.sheet.owner_of(sku).map_or(0, |p| p.price_cents),
        };
        if self.reservations.contains_key(&r.id) {
            // Replacing a live hold would leave its units held for ever (and a holder naming a
            // reservation that is gone): the claim is not decided and the event is reported.
            self.fault(|| format!("reservation {} is already live", r.id));
            return;
        }
        let s = sku_entry(&mut self.skus, sku);
        s.held += qty as i64;
        s.holders.insert(r.buyer.clone(), r.id.clone());
        self.stats.reservations_created += 1;
        cx.push(DBody::Claim(ClaimDecision {
            claim_id: r.claim_id.clone(),
            buyer: r.buyer.clone(),
            sku: Some(r.sku.clone()),
            qty: Some(qty),
            outcome,
            reason: None,
            reservation_id: Some(r.id.clone()),
            waitlist_position: None,
            escalation_id: None,
            candidates: vec![],
        }));
        cx.reservation(&r, ResEvent::Created, None);
        self.expiry.insert((r.expires_at, r.id.clone()));
        self.reservations.insert(r.id.clone(), r);
    }

    /// Promotes, in waitlist order, every entry whose quantity fits what is available now.
    ///
    /// Linear in the part of the waitlist looked at: the entries are picked in one scan that
    /// stops once nothing is free, then taken out of that scanned prefix in one pass (removing
    /// them one by one from the middle of a long waitlist was quadratic).
    pub(super) fn walk_waitlist(&mut self, sku: &str, cx: &mut Cx) {
        let mut promoted = Vec::new();
        {
            let Some(s) = self.skus.get_mut(sku) else {
                return;
            };
            let mut free = s.available();
            let mut picked = Vec::new();
            let mut i = 0;
            while free > 0 && i < s.waitlist.len() {
                let qty = s.waitlist[i].qty as i64;
                if qty <= free {
                    picked.push(i);
                    free -= qty;
                }
                i += 1;
            }
            if let Some(&last) = picked.last() {
                let mut next = picked.iter().copied().peekable();
                let mut kept = Vec::new();
                for (j, w) in s.waitlist.drain(..=last).enumerate() {
                    if next.next_if_eq(&j).is_some() {
                        promoted.push(w);
                    } else {
                        kept.push(w);
                    }
                }
                for w in kept.into_iter().rev() {
                    s.waitlist.push_front(w);
                }
                for w in &promoted {
                    s.waiting.remove(&w.buyer);
                }
            }
        }
        // Each promotion is decided in turn, so `available` is re-read by `reserve`. A late
        // event's promotions are its decisions too and carry its `late` (SPEC 2); an expiry's
        // carry none, as its context is never late.
        for w in promoted {
            self.reserve(w.claim_id, w.buyer, sku, w.qty, ClaimOutcome::Promoted, cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::tests::{K1, T0, brief, comment, event, run};

    #[test]
    fn a_late_event_marks_the_promotions_it_causes_but_an_expiry_does_not() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold"),
            comment("tiktok", "b", "u2", "sold"),
            comment("tiktok", "c", "u3", "sold"),
            comment("tiktok", "d", "u4", "sold"),
            comment("tiktok", "x", "u1", "cancel"),
        ];
        run(
            &mut s,
            &[(1, &evs[0]), (2, &evs[1]), (3, &evs[2]), (4, &evs[3])],
        );
        let mut out = Vec::new();
        s.apply(&event(5, &evs[4]), T0 + 10_000_000, true, &mut out);
        // u1's cancel frees a unit for u3 (late), then u2's hold expires at 62 and promotes u4.
        let chatter = event(65, &comment("tiktok", "e", "u5", "love it"));
        s.apply(&chatter, chatter.ts, false, &mut out);
        let got: Vec<(String, bool)> = out.iter().map(|d| (brief(d), d.late)).collect();
        assert_eq!(
            got,
            vec![
                ("10 res res:tiktok:a cancelled until 61".to_string(), true),
                ("10 claim tiktok:x cancelled K1".to_string(), true),
                ("10 claim tiktok:c promoted K1".to_string(), true),
                ("10 res res:tiktok:c created until 70".to_string(), true),
                ("62 res res:tiktok:b expired until 62".to_string(), false),
                ("62 claim tiktok:d promoted K1".to_string(), false),
                ("62 res res:tiktok:d created until 122".to_string(), false),
            ]
        );
    }
}
