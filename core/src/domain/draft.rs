//! Winners to orders: the order-system record each reservation change implies (a Shopify draft order).
//!
//! A reservation created becomes a draft order holding the stock until the lock expires
//! (`draftOrderCreate` with `reserveInventoryUntil`); an expired, cancelled or revoked one cancels
//! the draft; a converted one completes it. Ids are deterministic, so an order system that
//! receives a record twice after a restart can drop the second copy.

use super::decision::{Body, Decision, JsonObject, ResEvent};

/// The order-out record a decision implies, if any, as one JSON line.
pub fn draft_line(session_id: &str, d: &Decision, currency: Option<&str>) -> Option<String> {
    let Body::Reservation(r) = &d.body else {
        return None;
    };
    let (kind, suffix) = match r.event {
        ResEvent::Created => ("draft_order", "draft"),
        ResEvent::Converted => ("complete_draft", "complete"),
        ResEvent::Expired | ResEvent::Cancelled | ResEvent::Revoked => ("cancel_draft", "cancel"),
    };
    let mut o = JsonObject::new();
    o.str_joined("id", &[&r.reservation_id, suffix]);
    o.str("session_id", session_id);
    o.ts("ts", d.ts);
    o.str("kind", kind);
    o.str("reservation_id", &r.reservation_id);
    o.str("claim_id", &r.claim_id);
    o.str("platform", &r.buyer.platform);
    o.str("user_id", &r.buyer.user_id);
    o.str("sku", &r.sku);
    o.num("qty", r.qty as i128);
    o.num("unit_price_cents", r.unit_price_cents as i128);
    o.opt_str("currency", currency);
    o.ts("reserve_until", r.expires_at);
    if kind == "cancel_draft" {
        o.str("reason", r.event.as_str());
    }
    Some(o.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::decision::{Buyer, ReservationDecision};

    fn reservation(event: ResEvent) -> Decision {
        Decision {
            ts: 1_000_000,
            late: false,
            body: Body::Reservation(ReservationDecision {
                reservation_id: "r1".into(),
                event,
                sku: "A12-RED-M".into(),
                qty: 2,
                buyer: Buyer {
                    platform: "tiktok".into(),
                    user_id: "u1".into(),
                },
                claim_id: "tiktok/c1".into(),
                expires_at: 91_000_000,
                unit_price_cents: 2500,
                reason: None,
            }),
        }
    }

    #[test]
    fn each_reservation_change_maps_to_one_draft_record() {
        let created = draft_line("s1", &reservation(ResEvent::Created), Some("USD")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&created).unwrap();
        assert_eq!(v["id"], "r1/draft");
        assert_eq!(v["kind"], "draft_order");
        assert_eq!(v["qty"], 2);
        assert_eq!(v["unit_price_cents"], 2500);
        assert_eq!(v["currency"], "USD");
        assert_eq!(v["reserve_until"], "1970-01-01T00:01:31.000000Z");
        for (event, kind, id) in [
            (ResEvent::Expired, "cancel_draft", "r1/cancel"),
            (ResEvent::Cancelled, "cancel_draft", "r1/cancel"),
            (ResEvent::Revoked, "cancel_draft", "r1/cancel"),
            (ResEvent::Converted, "complete_draft", "r1/complete"),
        ] {
            let line = draft_line("s1", &reservation(event), None).unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(
                (v["kind"].as_str(), v["id"].as_str()),
                (Some(kind), Some(id))
            );
            assert!(v.get("currency").is_none());
        }
    }
}
