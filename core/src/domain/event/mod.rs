//! Canonical input events (SPEC 1): their types, and an event written back as a line (`parse` reads one).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::time::Micros;

pub mod parse;

/// An id, name or comment text of an event. Nearly all are short enough to be kept inline
/// (`compact_str`, up to 24 bytes): reading an event then allocates nothing per field. Longer
/// ones (most claim and reservation ids) are shared: a session copies a claim's id into its
/// waitlist, escalations, reservations and decisions, and each copy is then a count, not an
/// allocation.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// Never longer than `INLINE`, so never on the heap.
    Inline(compact_str::CompactString),
    Shared(std::sync::Arc<str>),
}

/// The longest text `CompactString` keeps inline.
const INLINE: usize = std::mem::size_of::<compact_str::CompactString>();

// The two representations share one word-triple (the `Arc` fits beside compact_str's niche).
const _: () = assert!(std::mem::size_of::<Text>() == 24);
// Every event waiting for the watermark is this big: rare, large kinds stay behind a box.
const _: () = assert!(std::mem::size_of::<Event>() <= 176);

impl Text {
    /// `parts` joined: an id such as `res:` + a claim id, sized once, and inline when it fits.
    pub fn concat(parts: &[&str]) -> Text {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len <= INLINE {
            let mut t = compact_str::CompactString::const_new("");
            for p in parts {
                t.push_str(p);
            }
            return Text(Repr::Inline(t));
        }
        let mut buf = [0u8; 128];
        if len <= buf.len() {
            let mut at = 0;
            for p in parts {
                buf[at..at + p.len()].copy_from_slice(p.as_bytes());
                at += p.len();
            }
            // The parts are whole `str`s, so their concatenation is UTF-8.
            let joined = std::str::from_utf8(&buf[..len]).unwrap_or_default();
            return Text(Repr::Shared(joined.into()));
        }
        Text(Repr::Shared(parts.concat().into()))
    }

    fn new(s: &str) -> Text {
        if s.len() <= INLINE {
            Text(Repr::Inline(compact_str::CompactString::new(s)))
        } else {
            Text(Repr::Shared(s.into()))
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text(Repr::Inline(compact_str::CompactString::const_new("")))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        **self == **other
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

// As `str` hashes, so that maps keyed by `Text` can be looked up with a `&str` (`Borrow`).
impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            Repr::Inline(s) => s.as_str(),
            Repr::Shared(s) => s,
        }
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new(&s)
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.to_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

// By hand rather than compact_str's `serde` feature, which turns on serde's `alloc` feature
// and so rebuilds every crate that uses serde (the whole DataFusion stack).
impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::from(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub session_id: Text,
    pub ts: Micros,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    Director(Director),
    Stock {
        sku: Text,
        change: StockChange,
    },
    Comment {
        platform: Text,
        comment_id: Text,
        user_id: Text,
        user_name: Option<Text>,
        text: Text,
    },
    Reserve {
        request_id: Text,
        platform: Text,
        user_id: Text,
        sku: Text,
        qty: u64,
    },
    Order(Order),
    Moderation {
        escalation_id: Text,
        decision: Moderation,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Director {
    Product(ProductDef),
    Activate {
        code: String,
    },
    Deactivate,
    Price {
        code: String,
        price_cents: i64,
    },
    /// Boxed: a config is rare and large, and every event in flight is as big as its largest
    /// kind.
    Config(Box<ConfigChange>),
    /// SPEC 3.5: the show is over from `ts` on.
    End,
}

/// A director action's own fields, as SPEC 1 names them.
fn director_json(d: &Director) -> serde_json::Value {
    use serde_json::{Value, json};
    match d {
        Director::Product(p) => {
            let variants: Vec<Value> = p
                .variants
                .iter()
                .map(|v| {
                    let options: serde_json::Map<String, Value> = v
                        .options
                        .iter()
                        .map(|(k, x)| (k.clone(), Value::from(x.as_str())))
                        .collect();
                    json!({"sku": v.sku, "options": options, "stock": v.stock})
                })
                .collect();
            json!({"action": "product", "code": p.code, "title": p.title,
                   "price_cents": p.price_cents, "currency": p.currency, "variants": variants})
        }
        Director::Activate { code } => json!({"action": "activate", "code": code}),
        Director::Deactivate => json!({"action": "deactivate"}),
        Director::Price { code, price_cents } => {
            json!({"action": "price", "code": code, "price_cents": price_cents})
        }
        Director::Config(c) => {
            let words = |w: &Vec<String>| (!w.is_empty()).then(|| w.clone());
            json!({"action": "config", "reservation_window_s": c.reservation_window_s,
                   "max_qty": c.max_qty, "close_after_s": c.close_after_s,
                   "idle_close_s": c.idle_close_s, "claim_keywords": words(&c.claim_keywords),
                   "cancel_keywords": words(&c.cancel_keywords),
                   "filler_words": words(&c.filler_words)})
        }
        Director::End => json!({"action": "end"}),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDef {
    pub code: String,
    pub title: Option<String>,
    pub price_cents: i64,
    pub currency: Option<String>,
    pub variants: Vec<VariantDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantDef {
    pub sku: String,
    /// Option values in the order given; names matter only to people.
    pub options: Vec<(String, String)>,
    pub stock: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub reservation_window_s: Option<i64>,
    pub max_qty: Option<u64>,
    /// SPEC 3.5's bounds of a session's life, in seconds.
    pub close_after_s: Option<i64>,
    pub idle_close_s: Option<i64>,
    pub claim_keywords: Vec<String>,
    pub cancel_keywords: Vec<String>,
    pub filler_words: Vec<String>,
    /// Words of keyword packs only (`domain::packs`): SPEC 3.1.1's lists are not configured.
    pub negations: Vec<String>,
    pub question_words: Vec<String>,
    /// A keyword pack of an unspaced script, or with the plus form, was turned on.
    pub unspaced: bool,
    pub plus_form: bool,
    pub option_claims: bool,
    pub solo_words: Vec<String>,
    pub size_words: Vec<(String, String)>,
    pub qty_words: Vec<(String, u64)>,
    pub qty_units: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockChange {
    Set(i64),
    Delta(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    Paid,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: Text,
    pub platform: Text,
    pub user_id: Text,
    pub sku: Text,
    pub qty: u64,
    pub amount_cents: i64,
    pub status: OrderStatus,
    pub reservation_id: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Moderation {
    Accept { sku: String, qty: u64 },
    Reject,
}

impl Event {
    /// The event as a canonical SPEC 1 line (RFC 3339 `ts`, the fields it was read with): what
    /// the dead letter keeps of an event that was read but not applied (a closed session's),
    /// since the reader does not keep every line's bytes. A `config`'s keyword packs appear as
    /// the words they added.
    pub fn to_line(&self) -> String {
        use serde_json::{Map, Value, json};
        let mut o = Map::new();
        let (ty, fields): (&str, Value) = match &self.body {
            Body::Director(d) => ("director", director_json(d)),
            Body::Stock { sku, change } => (
                "stock",
                match change {
                    StockChange::Set(n) => json!({"sku": &**sku, "set": n}),
                    StockChange::Delta(n) => json!({"sku": &**sku, "delta": n}),
                },
            ),
            Body::Comment {
                platform,
                comment_id,
                user_id,
                user_name,
                text,
            } => (
                "comment",
                json!({"platform": &**platform, "comment_id": &**comment_id,
                       "user_id": &**user_id, "user_name": user_name.as_deref(), "text": &**text}),
            ),
            Body::Reserve {
                request_id,
                platform,
                user_id,
                sku,
                qty,
            } => (
                "reserve",
                json!({"request_id": &**request_id, "platform": &**platform,
                       "user_id": &**user_id, "sku": &**sku, "qty": qty}),
            ),
            Body::Order(x) => (
                "order",
                json!({"order_id": &*x.order_id, "platform": &*x.platform, "user_id": &*x.user_id,
                       "sku": &*x.sku, "qty": x.qty, "amount_cents": x.amount_cents,
                       "status": match x.status { OrderStatus::Paid => "paid", OrderStatus::Refunded => "refunded" },
                       "reservation_id": x.reservation_id.as_deref()}),
            ),
            Body::Moderation {
                escalation_id,
                decision,
            } => (
                "moderation",
                match decision {
                    Moderation::Accept { sku, qty } => {
                        json!({"escalation_id": &**escalation_id, "decision": "accept", "sku": sku, "qty": qty})
                    }
                    Moderation::Reject => {
                        json!({"escalation_id": &**escalation_id, "decision": "reject"})
                    }
                },
            ),
        };
        o.insert("type".into(), ty.into());
        o.insert("session_id".into(), (&*self.session_id).into());
        o.insert("ts".into(), super::time::format_micros(self.ts).into());
        if let Value::Object(f) = fields {
            o.extend(f.into_iter().filter(|(_, v)| !v.is_null()));
        }
        Value::Object(o).to_string()
    }

    /// SPEC 2: director 0, stock 1, order 2, moderation 3, reserve 4, comment 5.
    pub fn type_rank(&self) -> u8 {
        match self.body {
            Body::Director(_) => 0,
            Body::Stock { .. } => 1,
            Body::Order(_) => 2,
            Body::Moderation { .. } => 3,
            Body::Reserve { .. } => 4,
            Body::Comment { .. } => 5,
        }
    }

    /// What makes a second copy a redelivery (SPEC 2); director and stock events have none.
    pub fn dedupe_key(&self) -> Option<(u8, &str, &str)> {
        match &self.body {
            Body::Comment {
                platform,
                comment_id,
                ..
            } => Some((5, platform, comment_id)),
            Body::Reserve { request_id, .. } => Some((4, request_id, "")),
            Body::Order(o) => Some((
                2,
                &o.order_id,
                if o.status == OrderStatus::Paid {
                    "paid"
                } else {
                    "refunded"
                },
            )),
            Body::Moderation {
                escalation_id,
                decision,
            } => Some((
                3,
                escalation_id,
                if matches!(decision, Moderation::Reject) {
                    "reject"
                } else {
                    "accept"
                },
            )),
            Body::Director(_) | Body::Stock { .. } => None,
        }
    }

    /// The cross-source tie-break of SPEC 2: platform name, then the event's id.
    pub fn platform_and_id(&self) -> (&str, &str) {
        match &self.body {
            Body::Comment {
                platform,
                comment_id,
                ..
            } => (platform, comment_id),
            Body::Reserve {
                platform,
                request_id,
                ..
            } => (platform, request_id),
            Body::Order(o) => (&o.platform, &o.order_id),
            Body::Moderation { escalation_id, .. } => ("", escalation_id),
            Body::Director(_) | Body::Stock { .. } => ("", ""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_joins_inline_and_beyond() {
        let short = Text::concat(&["res:", "tiktok", ":", "c1"]);
        assert_eq!(short, "res:tiktok:c1");
        let long = "y".repeat(40);
        let joined = Text::concat(&["esc:", "youtube:", &long]);
        assert_eq!(joined, format!("esc:youtube:{long}").as_str());
        assert_eq!(Text::concat(&[]), "");
    }
}
