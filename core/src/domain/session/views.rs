//! What the session shows of itself: its summary (SPEC 4) and the live view (ticker, overlay, moderator queue).

use super::{Session, Sku};
use crate::domain::decision::{SkuSummary, Summary};
use crate::domain::event::Text;
use crate::domain::live::{
    EscalationView, Holder, ProductView, SessionView, SkuView, VIEW_LIMIT, VariantView, Waiter,
};
use crate::domain::time::Micros;

impl Session {
    /// The session as the live surfaces show it (ticker, overlay, run sheet, moderator queue,
    /// claimants); long lists are cut at `VIEW_LIMIT` entries with their totals beside them.
    pub fn live_view(&self, session_id: &str, as_of: Micros) -> SessionView {
        let mut v = SessionView {
            session_id: session_id.to_string(),
            as_of,
            gmv_cents: self.stats.gmv_cents,
            claims: self.stats.claims,
            comments: self.stats.comments,
            escalations_open: self.open_escalations.values().map(|o| o.len() as u64).sum(),
            escalation_reasons: self
                .open_escalations
                .iter()
                .map(|(r, o)| (r.to_string(), o.len() as u64))
                .collect(),
            active: self.active.clone(),
            ended_at: self.ended,
            closed_at: self.closed,
            ..Default::default()
        };
        self.view_products(&mut v);
        self.view_skus(&mut v);
        self.view_escalations(&mut v);
        v
    }

    /// The run sheet's products, each variant with its stock figures.
    fn view_products(&self, v: &mut SessionView) {
        for key in self.sheet.codes() {
            let Some(p) = self.sheet.by_code(key) else {
                continue;
            };
            let variants = p
                .variants
                .iter()
                .map(|var| {
                    let none = Sku::default();
                    let s = self.skus.get(&var.sku).unwrap_or(&none);
                    VariantView {
                        sku: var.sku.clone(),
                        options: var.values.iter().map(|t| t.join(" ")).collect(),
                        pool: s.pool,
                        held: s.held,
                        sold: s.sold,
                        available: s.available(),
                        waitlist: s.waitlist.len() as u64,
                    }
                })
                .collect();
            v.products.push(ProductView {
                code: p.code.clone(),
                key: key.clone(),
                title: p.title.clone(),
                price_cents: p.price_cents,
                currency: p.currency.clone(),
                variants,
            });
        }
    }

    /// Units sold and held, and each sku's holders and waitlist (the first `VIEW_LIMIT` of each).
    fn view_skus(&self, v: &mut SessionView) {
        for (sku, s) in &self.skus {
            v.units_sold += s.sold;
            v.held_units += s.held;
            if s.holders.is_empty() && s.waitlist.is_empty() {
                continue;
            }
            let mut holders: Vec<Holder> = s
                .holders
                .values()
                .filter_map(|id| self.reservations.get(id))
                .map(|r| Holder {
                    reservation_id: r.id.to_string(),
                    platform: r.buyer.platform.to_string(),
                    user_id: r.buyer.user_id.to_string(),
                    qty: r.qty,
                    created_at: r.created_at,
                    expires_at: r.expires_at,
                })
                .collect();
            let holders_total = holders.len() as u64;
            let order = |a: &Holder, b: &Holder| {
                (a.created_at, &a.reservation_id).cmp(&(b.created_at, &b.reservation_id))
            };
            // Only the first VIEW_LIMIT are listed: select them before sorting.
            if holders.len() > VIEW_LIMIT {
                holders.select_nth_unstable_by(VIEW_LIMIT, order);
                holders.truncate(VIEW_LIMIT);
            }
            holders.sort_by(order);
            let waitlist = s
                .waitlist
                .iter()
                .take(VIEW_LIMIT)
                .map(|w| Waiter {
                    claim_id: w.claim_id.to_string(),
                    platform: w.buyer.platform.to_string(),
                    user_id: w.buyer.user_id.to_string(),
                    qty: w.qty,
                })
                .collect();
            v.skus.insert(
                sku.clone(),
                SkuView {
                    holders,
                    holders_total,
                    waitlist,
                    waitlist_total: s.waitlist.len() as u64,
                },
            );
        }
    }

    /// The open escalations, oldest first.
    fn view_escalations(&self, v: &mut SessionView) {
        // The oldest VIEW_LIMIT of each reason; the oldest VIEW_LIMIT of all are among them.
        let mut oldest: Vec<&(Micros, Text)> = self
            .open_escalations
            .values()
            .flat_map(|o| o.iter().take(VIEW_LIMIT))
            .collect();
        oldest.sort_unstable();
        v.escalations = oldest
            .into_iter()
            .filter_map(|(_, id)| self.escalations.get(id).map(|e| (id, e)))
            .map(|(id, e)| EscalationView {
                escalation_id: id.to_string(),
                claim_id: e.claim_id.to_string(),
                ts: e.ts,
                platform: e.buyer.platform.to_string(),
                user_id: e.buyer.user_id.to_string(),
                text: e.text.to_string(),
                reason: e.reason.as_str().to_string(),
                sku: e.sku.as_deref().map(str::to_string),
                qty: e.qty,
                candidates: e.candidates.clone(),
            })
            .collect();
    }

    pub fn summary(&self) -> Summary {
        let mut s = self.stats.clone();
        s.buyers = self.buyers.len() as u64;
        s.skus = self
            .skus
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    SkuSummary {
                        pool: v.pool,
                        held: v.held,
                        sold: v.sold,
                        available: v.available(),
                        waitlist: v.waitlist.len() as u64,
                    },
                )
            })
            .collect();
        s.units_sold = self.skus.values().map(|v| v.sold).sum();
        s.held_units = self.skus.values().map(|v| v.held).sum();
        s
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::session::tests::{K1, comment, run};

    #[test]
    fn the_live_view_shows_stock_holders_waitlist_and_open_escalations() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold x9"),
            comment("tiktok", "b", "u2", "sold k1"),
            comment("tiktok", "c", "u3", "sold k1 x2"),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"reject""#.to_string(),
        ];
        run(&mut s, &[(1, &evs[0]), (2, &evs[1]), (3, &evs[2])]);
        let v = s.live_view("show", 3_000_000);
        assert_eq!(v.session_id, "show");
        assert_eq!(v.escalations_open, 1);
        assert_eq!(v.escalations[0].escalation_id, "esc:tiktok:a");
        assert_eq!(v.escalations[0].text, "sold x9");
        assert_eq!(v.escalations[0].reason, "qty_over_limit");
        let k1 = v.product("k1").expect("K1 on the run sheet");
        let sku = &v.skus["K1"];
        assert_eq!(k1.variants[0].held, v.held_units);
        assert_eq!(
            k1.stock_left(),
            (k1.variants[0].pool - k1.variants[0].held - k1.variants[0].sold).max(0)
        );
        assert_eq!(
            sku.holders_total + sku.waitlist_total,
            2,
            "u2 and u3 hold or wait"
        );
        assert_eq!(sku.holders[0].user_id, "u2");
        assert_eq!(
            v.escalation_reasons,
            BTreeMap::from([("qty_over_limit".into(), 1)])
        );
        run(&mut s, &[(4, &evs[3])]);
        let v = s.live_view("show", 4_000_000);
        assert_eq!(v.escalations_open, 0);
        assert!(v.escalations.is_empty());
        assert!(v.escalation_reasons.is_empty(), "no reason left at zero");
    }

    #[test]
    fn the_live_view_counts_every_open_escalation_per_reason_and_lists_each_reasons_oldest() {
        let mut s = Session::new();
        run(&mut s, K1);
        let n = VIEW_LIMIT + 5;
        let many: Vec<String> = (0..n)
            .map(|i| comment("tiktok", &format!("q{i}"), "u1", "sold x9"))
            .collect();
        let events: Vec<(i64, &str)> = many
            .iter()
            .enumerate()
            .map(|(i, e)| (1 + i as i64, e.as_str()))
            .collect();
        run(&mut s, &events);
        // Younger than all the others, and of another reason: listed all the same.
        let fuzzy = comment("tiktok", "f", "u2", "sold k2");
        run(&mut s, &[(1 + n as i64, &fuzzy)]);
        let v = s.live_view("show", 0);
        assert_eq!(v.escalations_open, n as u64 + 1);
        assert_eq!(
            v.escalation_reasons,
            BTreeMap::from([
                ("fuzzy_code".into(), 1),
                ("qty_over_limit".into(), n as u64)
            ])
        );
        assert_eq!(v.escalations.len(), VIEW_LIMIT + 1);
        assert!(
            v.escalations[..VIEW_LIMIT]
                .iter()
                .all(|e| e.reason == "qty_over_limit")
        );
        assert!(
            v.escalations.windows(2).all(|w| w[0].ts <= w[1].ts),
            "oldest first"
        );
        let last = v.escalations.last().unwrap();
        assert_eq!(
            (last.reason.as_str(), &last.candidates[..]),
            ("fuzzy_code", &["K1".to_string()][..])
        );
    }
}
