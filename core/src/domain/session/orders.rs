//! SPEC 3.3: a paid order converts the buyer's hold, or is a direct sale or an oversell; a refund takes it back.

use super::{Cx, Session, note_buyer, sku_entry};
use crate::domain::decision::{Buyer, OrderOutcome, ResEvent};
use crate::domain::event::{Order, OrderStatus};

impl Session {
    pub(super) fn order(&mut self, o: &Order, cx: &mut Cx) {
        let buyer = Buyer {
            platform: o.platform.clone(),
            user_id: o.user_id.clone(),
        };
        let s = sku_entry(&mut self.skus, &o.sku);
        match o.status {
            OrderStatus::Refunded => {
                self.stats.orders_refunded += 1;
                self.stats.gmv_cents -= o.amount_cents;
                s.sold -= o.qty as i64;
                s.pool -= o.qty as i64;
                cx.order(o, buyer, OrderOutcome::Refunded, None);
            }
            OrderStatus::Paid => {
                self.stats.orders_paid += 1;
                self.stats.gmv_cents += o.amount_cents;
                note_buyer(&mut self.buyers, &buyer);
                let named = o
                    .reservation_id
                    .as_ref()
                    .filter(|id| self.reservations.get(*id).is_some_and(|r| r.sku == o.sku))
                    .cloned();
                let live = named.or_else(|| s.holders.get(&buyer).cloned());
                s.bought.insert(buyer.clone());
                match live.and_then(|id| self.reservations.remove(&id)) {
                    Some(r) => {
                        s.held -= r.qty as i64;
                        s.sold += r.qty as i64;
                        s.holders.remove(&r.buyer);
                        self.expiry.remove(&(r.expires_at, r.id.clone()));
                        self.stats.reservations_converted += 1;
                        cx.reservation(&r, ResEvent::Converted, None);
                        cx.order(o, buyer, OrderOutcome::Converted, Some(r.id.clone()));
                    }
                    None => {
                        let outcome = if o.qty as i64 <= s.available() {
                            self.stats.direct_sales += 1;
                            OrderOutcome::DirectSale
                        } else {
                            self.stats.oversells += 1;
                            OrderOutcome::Oversell
                        };
                        s.sold += o.qty as i64;
                        cx.order(o, buyer, outcome, None);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::decision::SkuSummary;
    use crate::domain::session::tests::{K1, brief, order, run};

    #[test]
    fn refunds_leave_available_unchanged() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            order("o1", "web", "w", "paid"),
            order("o1", "web", "w", "refunded"),
        ];
        let got: Vec<String> = run(&mut s, &[(1, &evs[0]), (2, &evs[1])])
            .iter()
            .map(brief)
            .collect();
        assert_eq!(got, vec!["1 order o1 direct_sale", "2 order o1 refunded"]);
        let sum = s.summary();
        assert_eq!(sum.gmv_cents, 0);
        assert_eq!(
            sum.skus["K1"],
            SkuSummary {
                pool: 1,
                held: 0,
                sold: 0,
                available: 1,
                waitlist: 0
            }
        );
    }
}
