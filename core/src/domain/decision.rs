//! Decisions (SPEC 4): what the engine decided, each with a deterministic id, as JSON lines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::event::Text;
use super::grammar::Reason;
use super::time::{Micros, write_micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimOutcome {
    Reserved,
    Waitlisted,
    Promoted,
    Escalated,
    Rejected,
    Cancelled,
    Ignored,
}

impl ClaimOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimOutcome::Reserved => "reserved",
            ClaimOutcome::Waitlisted => "waitlisted",
            ClaimOutcome::Promoted => "promoted",
            ClaimOutcome::Escalated => "escalated",
            ClaimOutcome::Rejected => "rejected",
            ClaimOutcome::Cancelled => "cancelled",
            ClaimOutcome::Ignored => "ignored",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResEvent {
    Created,
    Converted,
    Expired,
    Cancelled,
    Revoked,
}

impl ResEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            ResEvent::Created => "created",
            ResEvent::Converted => "converted",
            ResEvent::Expired => "expired",
            ResEvent::Cancelled => "cancelled",
            ResEvent::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderOutcome {
    Converted,
    DirectSale,
    Oversell,
    Refunded,
}

impl OrderOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderOutcome::Converted => "converted",
            OrderOutcome::DirectSale => "direct_sale",
            OrderOutcome::Oversell => "oversell",
            OrderOutcome::Refunded => "refunded",
        }
    }
}

/// A buyer: the pair (platform, user id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Buyer {
    pub platform: Text,
    pub user_id: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimDecision {
    pub claim_id: Text,
    pub buyer: Buyer,
    pub sku: Option<Text>,
    pub qty: Option<u64>,
    pub outcome: ClaimOutcome,
    pub reason: Option<Reason>,
    pub reservation_id: Option<Text>,
    pub waitlist_position: Option<u64>,
    pub escalation_id: Option<Text>,
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationDecision {
    pub reservation_id: Text,
    pub event: ResEvent,
    pub sku: Text,
    pub qty: u64,
    pub buyer: Buyer,
    pub claim_id: Text,
    pub expires_at: Micros,
    pub unit_price_cents: i64,
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDecision {
    pub order_id: Text,
    pub outcome: OrderOutcome,
    pub sku: Text,
    pub qty: u64,
    pub amount_cents: i64,
    pub buyer: Buyer,
    pub reservation_id: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuSummary {
    pub pool: i64,
    pub held: i64,
    pub sold: i64,
    pub available: i64,
    pub waitlist: u64,
}

/// `summary.json` for one session (SPEC 4), plus a few counts an operator asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub gmv_cents: i64,
    pub units_sold: i64,
    pub orders_paid: u64,
    pub orders_refunded: u64,
    pub direct_sales: u64,
    pub oversells: u64,
    pub reservations_created: u64,
    pub reservations_converted: u64,
    pub reservations_expired: u64,
    pub reservations_cancelled: u64,
    pub reservations_revoked: u64,
    pub held_units: i64,
    pub claims: u64,
    pub escalations: u64,
    pub rejected: u64,
    pub waitlisted: u64,
    pub comments: u64,
    pub buyers: u64,
    pub ignored: u64,
    pub redeliveries: u64,
    pub late_events: u64,
    pub moderation_ignored: u64,
    pub skus: BTreeMap<String, SkuSummary>,
}

/// SPEC 3.5: a show's end, and its close with the figures it closed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    Ended,
    Closed(Box<Summary>),
}

impl SessionEvent {
    pub fn as_str(&self) -> &'static str {
        match self {
            SessionEvent::Ended => "ended",
            SessionEvent::Closed(_) => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Claim(ClaimDecision),
    Reservation(ReservationDecision),
    Order(OrderDecision),
    Session(SessionEvent),
}

/// One decision of a session, stamped with its time and whether a late event caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub ts: Micros,
    pub late: bool,
    pub body: Body,
}

impl Decision {
    pub fn kind(&self) -> &'static str {
        match self.body {
            Body::Claim(_) => "claim",
            Body::Reservation(_) => "reservation",
            Body::Order(_) => "order",
            Body::Session(_) => "session",
        }
    }

    /// The JSON line of SPEC 4 (no trailing newline); absent optional fields are omitted.
    pub fn to_json(&self, session_id: &str) -> String {
        let mut o = JsonObject::new();
        // The id, deterministic and unique within the session: a consumer dedupes restarts by it.
        match &self.body {
            Body::Claim(c) => o.str_joined(
                "id",
                &[
                    &c.claim_id,
                    c.outcome.as_str(),
                    c.sku.as_deref().unwrap_or("-"),
                ],
            ),
            Body::Reservation(r) => o.str_joined("id", &[&r.reservation_id, r.event.as_str()]),
            Body::Order(d) => o.str_joined("id", &[&d.order_id, d.outcome.as_str()]),
            Body::Session(e) => o.str_joined("id", &["session", e.as_str()]),
        }
        o.str("session_id", session_id);
        o.ts("ts", self.ts);
        o.str("kind", self.kind());
        match &self.body {
            Body::Claim(c) => {
                o.str("claim_id", &c.claim_id);
                o.str("platform", &c.buyer.platform);
                o.str("user_id", &c.buyer.user_id);
                o.opt_str("sku", c.sku.as_deref());
                if let Some(q) = c.qty {
                    o.num("qty", q as i128);
                }
                o.str("outcome", c.outcome.as_str());
                o.opt_str("reason", c.reason.map(Reason::as_str));
                o.opt_str("reservation_id", c.reservation_id.as_deref());
                if let Some(p) = c.waitlist_position {
                    o.num("waitlist_position", p as i128);
                }
                o.opt_str("escalation_id", c.escalation_id.as_deref());
                if !c.candidates.is_empty() {
                    o.str_list("candidates", &c.candidates);
                }
            }
            Body::Reservation(r) => {
                o.str("reservation_id", &r.reservation_id);
                o.str("event", r.event.as_str());
                o.str("sku", &r.sku);
                o.num("qty", r.qty as i128);
                o.str("platform", &r.buyer.platform);
                o.str("user_id", &r.buyer.user_id);
                o.str("claim_id", &r.claim_id);
                o.ts("expires_at", r.expires_at);
                o.num("unit_price_cents", r.unit_price_cents as i128);
                o.opt_str("reason", r.reason);
            }
            Body::Order(d) => {
                o.str("order_id", &d.order_id);
                o.str("outcome", d.outcome.as_str());
                o.str("sku", &d.sku);
                o.num("qty", d.qty as i128);
                o.num("amount_cents", d.amount_cents as i128);
                o.str("platform", &d.buyer.platform);
                o.str("user_id", &d.buyer.user_id);
                o.opt_str("reservation_id", d.reservation_id.as_deref());
            }
            Body::Session(e) => {
                o.str("event", e.as_str());
                if let SessionEvent::Closed(summary) = e {
                    // The show's final figures (summary.json's fields), so that a consumer of
                    // the decisions has them the moment it closes.
                    let json = serde_json::to_string(summary)
                        .expect("a summary of numbers and sku names always serializes");
                    o.raw("summary", &json);
                }
            }
        }
        if self.late {
            o.raw("late", "true");
        }
        o.finish()
    }
}

/// A flat JSON object written field by field: decisions are the hot output path.
pub struct JsonObject {
    buf: String,
}

impl Default for JsonObject {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonObject {
    pub fn new() -> Self {
        JsonObject {
            buf: String::with_capacity(256),
        }
    }

    fn key(&mut self, k: &str) {
        self.buf.push(if self.buf.is_empty() { '{' } else { ',' });
        self.buf.push('"');
        self.buf.push_str(k);
        self.buf.push_str("\":");
    }

    pub fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        write_json_str(&mut self.buf, v);
    }

    /// A string value made of `parts` joined by `/`, written without building it first.
    pub fn str_joined(&mut self, k: &str, parts: &[&str]) {
        self.key(k);
        self.buf.push('"');
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                self.buf.push('/');
            }
            write_json_escaped(&mut self.buf, p);
        }
        self.buf.push('"');
    }

    pub fn opt_str(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }

    pub fn num(&mut self, k: &str, v: i128) {
        self.key(k);
        self.buf.push_str(itoa::Buffer::new().format(v));
    }

    pub fn ts(&mut self, k: &str, v: Micros) {
        self.key(k);
        self.buf.push('"');
        write_micros(&mut self.buf, v);
        self.buf.push('"');
    }

    pub fn raw(&mut self, k: &str, json: &str) {
        self.key(k);
        self.buf.push_str(json);
    }

    pub fn str_list(&mut self, k: &str, items: &[String]) {
        self.key(k);
        self.buf.push('[');
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            write_json_str(&mut self.buf, s);
        }
        self.buf.push(']');
    }

    pub fn finish(mut self) -> String {
        if self.buf.is_empty() {
            self.buf.push('{');
        }
        self.buf.push('}');
        self.buf
    }
}

/// A JSON string literal with the escapes RFC 8259 requires.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    write_json_escaped(out, s);
    out.push('"');
}

/// The inside of a JSON string literal: `s` with the escapes RFC 8259 requires.
pub fn write_json_escaped(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // Ids, skus and outcomes never need escaping: one branch-free pass over the bytes (which
    // the compiler vectorises) lets them be copied whole.
    let plain = bytes
        .iter()
        .fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "plain",
            "",
            "quote\" back\\ nl\n tab\t bell\u{7} ünï 日本",
            "tail\"",
            "\u{1f}",
            "ünï 日本 🔥",
        ] {
            let mut out = String::new();
            write_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn claim_json_has_the_spec_fields() {
        let d = Decision {
            ts: 1_000_000,
            late: true,
            body: Body::Claim(ClaimDecision {
                claim_id: "tiktok:c1".into(),
                buyer: Buyer {
                    platform: "tiktok".into(),
                    user_id: "u1".into(),
                },
                sku: Some("K1".into()),
                qty: Some(1),
                outcome: ClaimOutcome::Waitlisted,
                reason: None,
                reservation_id: None,
                waitlist_position: Some(2),
                escalation_id: None,
                candidates: vec![],
            }),
        };
        let v: serde_json::Value = serde_json::from_str(&d.to_json("show")).unwrap();
        assert_eq!(v["id"], "tiktok:c1/waitlisted/K1");
        assert_eq!(v["ts"], "1970-01-01T00:00:01.000000Z");
        assert_eq!(v["kind"], "claim");
        assert_eq!(v["waitlist_position"], 2);
        assert_eq!(v["late"], true);
        assert!(v.get("reason").is_none());
    }
}
