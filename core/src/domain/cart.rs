//! Carts: per show and buyer, the buyer's reservations bundled into one cart (one invoice, one shipping), kept up to date by each reservation decision.
//!
//! A cart holds every reservation the buyer had in the show, each with its state now: `held`
//! (created, not yet ended), `paid` (converted), `expired`, `cancelled`, `revoked`. Its figures
//! count what is held or paid; its state says what is left to do: `open` (something held,
//! nothing paid), `partly_paid`, `paid` (nothing held, something paid), `expired` (nothing held
//! or paid any more).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decision::{Buyer, JsonObject, ResEvent, ReservationDecision};
use super::event::Text;
use super::time::Micros;

/// One reservation in a cart, as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartItem {
    pub reservation_id: Text,
    pub sku: Text,
    pub qty: u64,
    pub unit_price_cents: i64,
    pub state: ItemState,
    /// When the hold ends (`reserve_until`): the pay-by time of a held item.
    pub expires_at: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemState {
    Held,
    Paid,
    Expired,
    Cancelled,
    Revoked,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Held => "held",
            ItemState::Paid => "paid",
            ItemState::Expired => "expired",
            ItemState::Cancelled => "cancelled",
            ItemState::Revoked => "revoked",
        }
    }

    fn of(event: ResEvent) -> ItemState {
        match event {
            ResEvent::Created => ItemState::Held,
            ResEvent::Converted => ItemState::Paid,
            ResEvent::Expired => ItemState::Expired,
            ResEvent::Cancelled => ItemState::Cancelled,
            ResEvent::Revoked => ItemState::Revoked,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CartState {
    Open,
    PartlyPaid,
    Paid,
    Expired,
}

impl CartState {
    pub fn as_str(self) -> &'static str {
        match self {
            CartState::Open => "open",
            CartState::PartlyPaid => "partly_paid",
            CartState::Paid => "paid",
            CartState::Expired => "expired",
        }
    }
}

/// A buyer's cart in one show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    /// In the order the reservations were made.
    pub items: Vec<CartItem>,
    /// How many times it changed: the update's number in its id.
    pub version: u64,
    /// When it last changed.
    pub updated_at: Micros,
}

/// A cart's figures, from its items. Sums are in `i128`: no sum of `i64` prices wraps (and
/// one past `i128` stops at its largest value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartFigures {
    pub state: CartState,
    pub units: u64,
    pub total_cents: i128,
    pub paid_cents: i128,
    pub unpaid_cents: i128,
    /// The earliest hold's end among held items: when the buyer must have paid.
    pub pay_by: Option<Micros>,
}

impl Cart {
    pub fn figures(&self) -> CartFigures {
        let (mut units, mut paid, mut unpaid, mut pay_by) = (0u64, 0i128, 0i128, None::<Micros>);
        let mut any_paid = false;
        for i in &self.items {
            let value = i.qty as i128 * i.unit_price_cents as i128;
            match i.state {
                ItemState::Held => {
                    unpaid = unpaid.saturating_add(value);
                    pay_by = Some(pay_by.map_or(i.expires_at, |p| p.min(i.expires_at)));
                }
                ItemState::Paid => {
                    paid = paid.saturating_add(value);
                    any_paid = true;
                }
                _ => continue,
            }
            units = units.saturating_add(i.qty);
        }
        let state = match (pay_by.is_some(), any_paid) {
            (true, false) => CartState::Open,
            (true, true) => CartState::PartlyPaid,
            (false, true) => CartState::Paid,
            (false, false) => CartState::Expired,
        };
        CartFigures {
            state,
            units,
            total_cents: paid + unpaid,
            paid_cents: paid,
            unpaid_cents: unpaid,
            pay_by,
        }
    }

    /// The cart as one JSON line (a `livesell.carts` record): `id` is the cart's and its
    /// version's, deterministic, so a consumer that gets an update twice can drop the copy.
    pub fn to_json(&self, session_id: &str, buyer: &Buyer, currency: Option<&str>) -> String {
        let f = self.figures();
        let cart_id = cart_id(buyer);
        let mut o = JsonObject::new();
        o.str("id", &format!("{cart_id}/{}", self.version));
        o.str("cart_id", &cart_id);
        o.str("session_id", session_id);
        o.ts("ts", self.updated_at);
        o.str("platform", &buyer.platform);
        o.str("user_id", &buyer.user_id);
        o.str("state", f.state.as_str());
        o.num("units", f.units as i128);
        o.num("total_cents", f.total_cents);
        o.num("paid_cents", f.paid_cents);
        o.num("unpaid_cents", f.unpaid_cents);
        o.opt_str("currency", currency);
        match f.pay_by {
            Some(t) => o.ts("pay_by", t),
            None => o.raw("pay_by", "null"),
        }
        o.raw("items", &self.items_json());
        o.num("version", self.version as i128);
        o.finish()
    }

    /// The items as a JSON array (also the `items` column of the `carts` table).
    pub fn items_json(&self) -> String {
        let mut s = String::from("[");
        for (n, i) in self.items.iter().enumerate() {
            if n > 0 {
                s.push(',');
            }
            let mut o = JsonObject::new();
            o.str("reservation_id", &i.reservation_id);
            o.str("sku", &i.sku);
            o.num("qty", i.qty as i128);
            o.num("unit_price_cents", i.unit_price_cents as i128);
            o.str("state", i.state.as_str());
            o.ts("reserve_until", i.expires_at);
            s.push_str(&o.finish());
        }
        s.push(']');
        s
    }
}

/// A cart's id within its show: one per buyer.
pub fn cart_id(buyer: &Buyer) -> String {
    format!("cart/{}/{}", buyer.platform, buyer.user_id)
}

/// Every buyer's cart in one show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Carts {
    pub by_buyer: BTreeMap<Buyer, Cart>,
}

impl Carts {
    /// Applies one reservation decision at `ts`; returns the buyer's cart as it now stands.
    pub fn apply(&mut self, r: &ReservationDecision, ts: Micros) -> (&Buyer, &Cart) {
        let state = ItemState::of(r.event);
        let cart = self.by_buyer.entry(r.buyer.clone()).or_default();
        match cart
            .items
            .iter_mut()
            .rev()
            .find(|i| i.reservation_id == r.reservation_id)
        {
            Some(item) => {
                item.state = state;
                item.expires_at = r.expires_at;
            }
            None => cart.items.push(CartItem {
                reservation_id: r.reservation_id.clone(),
                sku: r.sku.clone(),
                qty: r.qty,
                unit_price_cents: r.unit_price_cents,
                state,
                expires_at: r.expires_at,
            }),
        }
        cart.version += 1;
        cart.updated_at = ts;
        let (buyer, cart) = self
            .by_buyer
            .get_key_value(&r.buyer)
            .expect("just inserted");
        (buyer, cart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(
        id: &str,
        event: ResEvent,
        sku: &str,
        qty: u64,
        price: i64,
        until: i64,
    ) -> ReservationDecision {
        ReservationDecision {
            reservation_id: id.into(),
            event,
            sku: sku.into(),
            qty,
            buyer: Buyer {
                platform: "tiktok".into(),
                user_id: "u1".into(),
            },
            claim_id: format!("tiktok/{id}").into(),
            expires_at: until,
            unit_price_cents: price,
            reason: None,
        }
    }

    /// One buyer's show, step by step: the state and figures after each decision.
    #[test]
    fn a_buyers_reservations_make_one_cart() {
        use CartState::{Open, Paid, PartlyPaid};
        use ResEvent::{Cancelled, Converted, Created, Expired};
        let steps: &[(ReservationDecision, CartState, u64, i128, i128, Option<i64>)] = &[
            (
                res("r1", Created, "A", 2, 1000, 90),
                Open,
                2,
                0,
                2000,
                Some(90),
            ),
            (
                res("r2", Created, "B", 1, 500, 60),
                Open,
                3,
                0,
                2500,
                Some(60),
            ),
            (
                res("r1", Converted, "A", 2, 1000, 90),
                PartlyPaid,
                3,
                2000,
                500,
                Some(60),
            ),
            (res("r2", Expired, "B", 1, 500, 60), Paid, 2, 2000, 0, None),
            (
                res("r3", Created, "C", 1, 700, 120),
                PartlyPaid,
                3,
                2000,
                700,
                Some(120),
            ),
            (
                res("r3", Cancelled, "C", 1, 700, 120),
                Paid,
                2,
                2000,
                0,
                None,
            ),
        ];
        let mut carts = Carts::default();
        for (n, (d, state, units, paid, unpaid, pay_by)) in steps.iter().enumerate() {
            let (_, cart) = carts.apply(d, n as i64 * 10);
            let f = cart.figures();
            assert_eq!(
                (f.state, f.units, f.paid_cents, f.unpaid_cents, f.pay_by),
                (*state, *units, *paid, *unpaid, *pay_by),
                "after step {n}"
            );
            assert_eq!(f.total_cents, paid + unpaid);
            assert_eq!(cart.version, n as u64 + 1);
        }
        let cart = &carts.by_buyer.values().next().unwrap();
        assert_eq!(cart.items.len(), 3);
        let states: Vec<_> = cart.items.iter().map(|i| i.state.as_str()).collect();
        assert_eq!(states, ["paid", "expired", "cancelled"]);
    }

    #[test]
    fn a_cart_whose_holds_all_lapsed_is_expired_and_its_json_says_so() {
        let mut carts = Carts::default();
        carts.apply(&res("r1", ResEvent::Created, "A", 1, 1000, 90_000_000), 1);
        let (buyer, cart) = carts.apply(&res("r1", ResEvent::Revoked, "A", 1, 1000, 90_000_000), 2);
        assert_eq!(cart.figures().state, CartState::Expired);
        let v: serde_json::Value =
            serde_json::from_str(&cart.to_json("s1", buyer, Some("USD"))).unwrap();
        assert_eq!(v["id"], "cart/tiktok/u1/2");
        assert_eq!(v["cart_id"], "cart/tiktok/u1");
        assert_eq!(v["state"], "expired");
        assert_eq!(v["total_cents"], 0);
        assert_eq!(v["pay_by"], serde_json::Value::Null);
        assert_eq!(v["items"][0]["state"], "revoked");
        assert_eq!(v["currency"], "USD");
    }

    #[test]
    fn sums_of_the_largest_prices_do_not_wrap() {
        let mut carts = Carts::default();
        carts.apply(
            &res("r1", ResEvent::Created, "A", 1_000_000, i64::MAX, 9),
            1,
        );
        let (_, cart) = carts.apply(&res("r2", ResEvent::Created, "B", u64::MAX, i64::MAX, 9), 1);
        let f = cart.figures();
        let big = (u64::MAX as i128) * (i64::MAX as i128);
        assert_eq!(
            f.unpaid_cents,
            big.saturating_add(1_000_000 * i64::MAX as i128)
        );
        assert_eq!(f.units, u64::MAX);
    }
}
