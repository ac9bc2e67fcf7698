//! A comment as the claim grammar reads it: a claim, a cancel, an escalation, a reject or chatter.

use super::{Cx, Escalation, Session, note_buyer, statics};
use crate::domain::decision::{Body as DBody, Buyer, ClaimDecision, ClaimOutcome};
use crate::domain::event::Text;
use crate::domain::grammar::{Reading, Reason};

impl Session {
    pub(super) fn comment(
        &mut self,
        platform: &str,
        comment_id: &str,
        user_id: &str,
        text: &str,
        cx: &mut Cx,
    ) {
        self.stats.comments += 1;
        let reading = self
            .readings
            .read(text, &self.sheet, self.active.as_deref(), &self.cfg);
        self.last_reading = statics::Label(reading.label());
        if self.ended.is_some() && !matches!(reading, Reading::Cancel { .. }) {
            self.after_the_end(platform, comment_id, user_id, reading.is_claim(), cx);
            return;
        }
        if let Reading::Ignored(_) = reading {
            // Half of a show is chatter: it costs no ids and no buyer.
            self.stats.ignored += 1;
            return;
        }
        let claim_id = Text::concat(&[platform, ":", comment_id]);
        let buyer = Buyer {
            platform: platform.into(),
            user_id: user_id.into(),
        };
        if reading.is_claim() {
            self.count_claim();
            note_buyer(&mut self.buyers, &buyer);
        }
        match reading {
            Reading::Ignored(_) => {}
            Reading::Claim { sku, qty } => self.allocate(claim_id, buyer, &sku, qty, cx),
            Reading::Rejected { reason } => {
                self.stats.rejected += 1;
                cx.claim(
                    claim_id,
                    buyer,
                    None,
                    None,
                    ClaimOutcome::Rejected,
                    Some(reason),
                );
            }
            Reading::Escalated {
                reason,
                sku,
                qty,
                candidates,
            } => {
                self.stats.escalations += 1;
                let escalation_id = Text::concat(&["esc:", &claim_id]);
                self.escalations.insert(
                    escalation_id.clone(),
                    Escalation {
                        claim_id: claim_id.clone(),
                        buyer: buyer.clone(),
                        answered: false,
                        ts: cx.t,
                        text: text.into(),
                        reason,
                        sku: sku.clone(),
                        qty,
                        candidates: candidates.clone(),
                    },
                );
                self.open_escalations
                    .entry(reason.as_str())
                    .or_default()
                    .insert((cx.t, escalation_id.clone()));
                cx.push(DBody::Claim(ClaimDecision {
                    claim_id,
                    buyer,
                    sku,
                    qty,
                    outcome: ClaimOutcome::Escalated,
                    reason: Some(reason),
                    reservation_id: None,
                    waitlist_position: None,
                    escalation_id: Some(escalation_id),
                    candidates,
                }));
            }
            Reading::Cancel { skus } => {
                let mut any = false;
                for sku in &skus {
                    any |= self.cancel(&claim_id, &buyer, sku, cx);
                }
                if !any {
                    self.stats.ignored += 1;
                }
            }
        }
    }

    /// SPEC 3.5: after the end, a claim is rejected (`show_ended`, no sku, no qty) and nothing
    /// else but a cancel is acted on.
    fn after_the_end(
        &mut self,
        platform: &str,
        comment_id: &str,
        user_id: &str,
        claim: bool,
        cx: &mut Cx,
    ) {
        if !claim {
            self.stats.ignored += 1;
            self.last_reading = statics::Label("ignored");
            return;
        }
        let buyer = Buyer {
            platform: platform.into(),
            user_id: user_id.into(),
        };
        self.count_claim();
        self.stats.rejected += 1;
        self.last_reading = statics::Label("rejected");
        note_buyer(&mut self.buyers, &buyer);
        cx.claim(
            Text::concat(&[platform, ":", comment_id]),
            buyer,
            None,
            None,
            ClaimOutcome::Rejected,
            Some(Reason::ShowEnded),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::tests::{K1, brief, comment, run};

    #[test]
    fn keyword_packs_let_other_markets_claim_and_cancel() {
        let comments = [
            comment("facebook", "a", "u1", "chốt K1 nha shop ơi"),
            comment("tiktok", "b", "u2", "pa-mine K1 po"),
            comment("instagram", "c", "u3", "mio K1 grazie"),
            comment("facebook", "d", "u1", "hủy K1 nha"),
            comment("tiktok", "e", "u4", "เอา K1 ค่ะ"),
            comment("youtube", "f", "u5", "我要K1+1 謝謝"),
        ];
        let timeline: Vec<(i64, &str)> = comments
            .iter()
            .enumerate()
            .map(|(i, c)| (i as i64 + 1, c.as_str()))
            .collect();
        // Without the packs these are chatter: no decision at all.
        let mut off = Session::new();
        run(&mut off, K1);
        assert!(run(&mut off, &timeline).is_empty());
        let mut on = Session::new();
        run(&mut on, K1);
        let packs =
            r#""type":"director","action":"config","keyword_packs":["vi","ph","it","th","tw"]"#;
        run(&mut on, &[(0, packs)]);
        let got: Vec<String> = run(&mut on, &timeline).iter().map(brief).collect();
        let has = |s: &str| got.iter().any(|g| g.contains(s));
        assert!(has("claim facebook:a reserved K1"), "{got:?}");
        assert!(has("claim tiktok:b reserved K1"), "{got:?}");
        assert!(has("claim instagram:c waitlisted K1"), "{got:?}");
        assert!(has("claim facebook:d cancelled K1"), "{got:?}");
        assert!(has("claim instagram:c promoted K1"), "{got:?}");
        assert!(has("claim tiktok:e waitlisted K1"), "{got:?}");
        assert!(has("claim youtube:f waitlisted K1"), "{got:?}");
    }
}
