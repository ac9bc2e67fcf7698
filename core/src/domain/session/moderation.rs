//! A moderator's answer to an escalation: accepted, it is allocated as a claim; rejected, the claim is refused.

use super::{Cx, Session, note_buyer};
use crate::domain::decision::{Body as DBody, ClaimDecision, ClaimOutcome};
use crate::domain::event::{Moderation, Text};
use crate::domain::grammar::Reason;

impl Session {
    pub(super) fn moderation(&mut self, escalation_id: &str, decision: &Moderation, cx: &mut Cx) {
        let Some(e) = self
            .escalations
            .get_mut(escalation_id)
            .filter(|e| !e.answered)
        else {
            self.stats.moderation_ignored += 1;
            return;
        };
        e.answered = true;
        let reason = e.reason.as_str();
        if let Some(open) = self.open_escalations.get_mut(reason) {
            open.remove(&(e.ts, Text::from(escalation_id)));
            // No empty reasons: the queue's counts list only reasons with something open.
            if open.is_empty() {
                self.open_escalations.remove(reason);
            }
        }
        let (claim_id, buyer) = (e.claim_id.clone(), e.buyer.clone());
        match decision {
            Moderation::Reject => {
                self.stats.rejected += 1;
                // SPEC 4: `sku` when known; the rejection names what the escalation read.
                cx.push(DBody::Claim(ClaimDecision {
                    claim_id,
                    buyer,
                    sku: e.sku.clone(),
                    qty: e.qty,
                    outcome: ClaimOutcome::Rejected,
                    reason: Some(Reason::Moderator),
                    reservation_id: None,
                    waitlist_position: None,
                    escalation_id: Some(escalation_id.into()),
                    candidates: vec![],
                }));
            }
            Moderation::Accept { sku, qty } => {
                note_buyer(&mut self.buyers, &buyer);
                self.allocate(claim_id, buyer, sku, *qty, cx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::tests::{K1, brief, comment, run};

    #[test]
    fn escalations_are_answered_once() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold x9"),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"accept","sku":"K1","qty":2"#.to_string(),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"reject""#.to_string(),
            r#""type":"moderation","escalation_id":"esc:tiktok:zzz","decision":"reject""#.to_string(),
            r#""type":"reserve","request_id":"r1","platform":"web","user_id":"w","sku":"NOPE","qty":1"#.to_string(),
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
                "1 claim tiktok:a escalated K1 qty_over_limit",
                "2 claim tiktok:a reserved K1",
                "2 res res:tiktok:a created until 62",
                "5 claim req:r1 rejected NOPE unknown_product",
            ]
        );
        assert_eq!(s.summary().moderation_ignored, 2);
    }

    #[test]
    fn a_moderator_rejection_names_the_sku_the_escalation_read() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold x9"),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"reject""#.to_string(),
        ];
        let got = run(&mut s, &[(1, &evs[0]), (2, &evs[1])]);
        let DBody::Claim(c) = &got[1].body else {
            panic!("a claim decision: {:?}", got[1]);
        };
        assert_eq!(
            (brief(&got[1]).as_str(), c.qty),
            ("2 claim tiktok:a rejected K1 moderator", Some(9))
        );
        assert_eq!(s.summary().rejected, 1);
    }
}
