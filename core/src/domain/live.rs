//! What the live surfaces show: a session's state as of its last applied event, the ticker frame and the run-sheet moves.
//!
//! The engine builds a `SessionView` from its `Session` (never from the outputs), so the
//! overlay's "only N left" is the allocator's own number the moment it changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::time::Micros;

/// How many entries of a long list a view carries (escalations, holders, waitlist); the counts
/// next to them are always complete.
pub const VIEW_LIMIT: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub session_id: String,
    /// Effective time of the last event applied.
    pub as_of: Micros,
    pub gmv_cents: i64,
    pub units_sold: i64,
    pub held_units: i64,
    pub claims: u64,
    pub comments: u64,
    pub escalations_open: u64,
    /// Open escalations per reason (all of them, not only the listed ones); no zeros.
    pub escalation_reasons: BTreeMap<String, u64>,
    /// Normalised code of the active product.
    pub active: Option<String>,
    /// SPEC 3.5: when the show ended (its first `end`) and when it closed, once they have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Micros>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Micros>,
    /// The run sheet in definition order.
    pub products: Vec<ProductView>,
    /// Unanswered escalations, oldest first: the oldest `VIEW_LIMIT` of each reason, so the
    /// first `VIEW_LIMIT` are the oldest of all and a reason's list is complete up to the limit.
    pub escalations: Vec<EscalationView>,
    /// Per sku: who holds it and who waits, in order.
    pub skus: BTreeMap<String, SkuView>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductView {
    pub code: String,
    /// The code as the grammar compares it (`A 12` and `a12` are `a12`).
    pub key: String,
    pub title: Option<String>,
    pub price_cents: i64,
    pub currency: Option<String>,
    pub variants: Vec<VariantView>,
}

impl ProductView {
    /// Units a buyer can still claim: the sum of each variant's `available`, never below 0.
    pub fn stock_left(&self) -> i64 {
        self.variants.iter().map(|v| v.available.max(0)).sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantView {
    pub sku: String,
    /// Option values as the grammar reads them (normalised).
    pub options: Vec<String>,
    pub pool: i64,
    pub held: i64,
    pub sold: i64,
    pub available: i64,
    pub waitlist: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EscalationView {
    pub escalation_id: String,
    pub claim_id: String,
    pub ts: Micros,
    pub platform: String,
    pub user_id: String,
    pub text: String,
    pub reason: String,
    pub sku: Option<String>,
    pub qty: Option<u64>,
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkuView {
    pub holders: Vec<Holder>,
    pub holders_total: u64,
    pub waitlist: Vec<Waiter>,
    pub waitlist_total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub reservation_id: String,
    pub platform: String,
    pub user_id: String,
    pub qty: u64,
    pub created_at: Micros,
    pub expires_at: Micros,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Waiter {
    pub claim_id: String,
    pub platform: String,
    pub user_id: String,
    pub qty: u64,
}

impl SessionView {
    pub fn product(&self, key: &str) -> Option<&ProductView> {
        self.products.iter().find(|p| p.key == key)
    }

    pub fn active_product(&self) -> Option<&ProductView> {
        self.active.as_deref().and_then(|k| self.product(k))
    }

    /// The product after the active one in `order` (the run sheet's queue), skipping `skip`
    /// more; the first product when none is active. `None` at the end of the queue.
    pub fn next_code<'a>(&self, order: &'a [String], skip: usize) -> Option<&'a String> {
        let start = match self.active.as_deref() {
            Some(a) => order.iter().position(|k| k == a).map_or(0, |i| i + 1),
            None => 0,
        };
        order.get(start + skip)
    }
}

/// The run sheet's queue: the products' keys in the order the producer wants them, which
/// starts as definition order; a reorder moves keys, new products join at the end.
pub fn queue_order(view: &SessionView, wanted: &[String]) -> Vec<String> {
    let mut order: Vec<String> = wanted
        .iter()
        .filter(|k| view.product(k).is_some())
        .cloned()
        .collect();
    for p in &view.products {
        if !order.contains(&p.key) {
            order.push(p.key.clone());
        }
    }
    order
}

/// Units per event-time minute, oldest first, for the sparkline: the last `minutes` minutes up
/// to `now_minute`, zeros included.
pub fn per_minute(units: &BTreeMap<Micros, i64>, now_minute: Micros, minutes: usize) -> Vec<i64> {
    (0..minutes as i64)
        .rev()
        .map(|back| {
            units
                .get(&(now_minute - back * 60_000_000))
                .copied()
                .unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(keys: &[&str], active: Option<&str>) -> SessionView {
        SessionView {
            active: active.map(str::to_string),
            products: keys
                .iter()
                .map(|k| ProductView {
                    code: k.to_uppercase(),
                    key: k.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn next_follows_the_queue_and_skips() {
        let v = view(&["a1", "a2", "a3"], Some("a1"));
        let order = queue_order(&v, &[]);
        assert_eq!(v.next_code(&order, 0).map(String::as_str), Some("a2"));
        assert_eq!(v.next_code(&order, 1).map(String::as_str), Some("a3"));
        assert_eq!(v.next_code(&order, 2), None);
        let none = view(&["a1", "a2"], None);
        assert_eq!(none.next_code(&order, 0).map(String::as_str), Some("a1"));
    }

    #[test]
    fn reorder_keeps_known_products_and_appends_new_ones() {
        let v = view(&["a1", "a2", "a3"], Some("a3"));
        let order = queue_order(&v, &["a3".into(), "zz".into(), "a1".into()]);
        assert_eq!(order, ["a3", "a1", "a2"]);
        assert_eq!(v.next_code(&order, 0).map(String::as_str), Some("a1"));
    }

    #[test]
    fn stock_left_ignores_oversold_variants() {
        let p = ProductView {
            variants: vec![
                VariantView {
                    available: 3,
                    ..Default::default()
                },
                VariantView {
                    available: -2,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(p.stock_left(), 3);
    }

    #[test]
    fn per_minute_fills_gaps() {
        let m = 60_000_000;
        let units = BTreeMap::from([(0, 2), (2 * m, 5)]);
        assert_eq!(per_minute(&units, 3 * m, 4), [2, 0, 5, 0]);
        assert_eq!(per_minute(&units, 3 * m, 2), [5, 0]);
    }
}
