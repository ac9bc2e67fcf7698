//! Canonical input events (SPEC 1), read from one JSON line each; bad lines become `ReadError`s.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::time::{Micros, from_epoch_millis, parse_rfc3339};

/// Lines longer than this are refused before parsing (SPEC: a line over 64 KiB is bad input).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
const MAX_QTY_FIELD: i128 = 1_000_000_000;
const MAX_MONEY: i128 = 1_000_000_000_000_000;
const MAX_UNITS: i128 = 1_000_000_000_000;
/// A session's `close_after_s` / `idle_close_s` may be at most a year: a show is not longer,
/// and microsecond times plus a year never overflow.
const MAX_LIFE_S: i128 = 366 * 86_400;

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

/// Why a line could not be read; `reason` is a stable code, `detail` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct ReadError {
    pub reason: &'static str,
    pub detail: String,
    /// The session, when the line got far enough to name one.
    pub session_id: Option<String>,
    pub ts: Option<Micros>,
}

fn err(reason: &'static str, detail: impl Into<String>) -> ReadError {
    ReadError {
        reason,
        detail: detail.into(),
        session_id: None,
        ts: None,
    }
}

/// An id: a JSON string, or an integer standing for its decimal string.
#[derive(Debug)]
struct Id(Text);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(Text::from(v)))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id, E> {
                Ok(Id(Text::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(Text::from(itoa::Buffer::new().format(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(Text::from(itoa::Buffer::new().format(v))))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON number kept wide enough to tell "out of range" from "not an integer".
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Huge,
    Fraction,
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Int(v as i128))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Int(v as i128))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                if v.fract() == 0.0 && v.abs() >= 9.0e18 {
                    Ok(Num::Huge)
                } else {
                    Ok(Num::Fraction)
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug)]
enum Ts {
    /// Read as it is met, so the text is never copied: the time, or why it is not one.
    Text(Result<Micros, String>),
    Millis(Num),
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 string or integer epoch milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
                Ok(Ts::Text(parse_rfc3339(v).map_err(|e| e.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ts, E> {
                Ok(Ts::Millis(Num::Int(v as i128)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ts, E> {
                Ok(Ts::Millis(Num::Int(v as i128)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ts, E> {
                Num::deserialize(de::value::F64Deserializer::<E>::new(v)).map(Ts::Millis)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
struct RawVariant {
    sku: Option<Id>,
    #[serde(default)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
    stock: Option<Num>,
}

/// Every field any event type may carry; which are required is checked per type afterwards.
/// Discriminating fields are borrowed from the line (no allocation unless they hold escapes).
#[derive(Debug, Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    session_id: Option<Id>,
    ts: Option<Ts>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    code: Option<Id>,
    title: Option<String>,
    price_cents: Option<Num>,
    currency: Option<String>,
    variants: Option<Vec<RawVariant>>,
    reservation_window_s: Option<Num>,
    max_qty: Option<Num>,
    close_after_s: Option<Num>,
    idle_close_s: Option<Num>,
    claim_keywords: Option<Vec<String>>,
    cancel_keywords: Option<Vec<String>>,
    filler_words: Option<Vec<String>>,
    /// Keyword packs (`domain::packs`) whose words join the claim and cancel keywords.
    keyword_packs: Option<Vec<String>>,
    sku: Option<Id>,
    set: Option<Num>,
    delta: Option<Num>,
    platform: Option<Text>,
    comment_id: Option<Id>,
    user_id: Option<Id>,
    user_name: Option<Text>,
    text: Option<Text>,
    request_id: Option<Id>,
    qty: Option<Num>,
    order_id: Option<Id>,
    amount_cents: Option<Num>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    reservation_id: Option<Id>,
    escalation_id: Option<Id>,
    #[serde(borrow)]
    decision: Option<Cow<'a, str>>,
}

fn need<T>(v: Option<T>, field: &str) -> Result<T, ReadError> {
    v.ok_or_else(|| err("missing_field", format!("`{field}` is required")))
}

fn id(v: Option<Id>, field: &str) -> Result<Text, ReadError> {
    let s = need(v, field)?.0;
    if s.is_empty() {
        return Err(err("invalid_field", format!("`{field}` is empty")));
    }
    Ok(s)
}

fn int(v: Num, field: &str, lo: i128, hi: i128) -> Result<i64, ReadError> {
    match v {
        Num::Int(n) if (lo..=hi).contains(&n) => Ok(n as i64),
        Num::Int(n) => Err(err(
            "out_of_range",
            format!("`{field}` = {n} is outside {lo}..={hi}"),
        )),
        Num::Huge => Err(err(
            "out_of_range",
            format!("`{field}` is outside {lo}..={hi}"),
        )),
        Num::Fraction => Err(err(
            "invalid_field",
            format!("`{field}` must be an integer"),
        )),
    }
}

fn qty(v: Option<Num>) -> Result<u64, ReadError> {
    Ok(int(need(v, "qty")?, "qty", 1, MAX_QTY_FIELD)? as u64)
}

fn money(v: Option<Num>, field: &str) -> Result<i64, ReadError> {
    int(need(v, field)?, field, 0, MAX_MONEY)
}

fn timestamp(ts: Ts) -> Result<Micros, ReadError> {
    match ts {
        Ts::Text(t) => t.map_err(|e| err("invalid_timestamp", e)),
        Ts::Millis(Num::Int(ms)) => {
            from_epoch_millis(ms).map_err(|e| err("invalid_timestamp", e.to_string()))
        }
        Ts::Millis(_) => Err(err(
            "invalid_timestamp",
            "`ts` must be a string or integer milliseconds",
        )),
    }
}

/// Reads one line (without its newline). Never panics; every failure is a `ReadError`.
pub fn parse_line(bytes: &[u8]) -> Result<Event, ReadError> {
    if bytes.len() > MAX_LINE_BYTES {
        return Err(err(
            "line_too_long",
            format!("more than {MAX_LINE_BYTES} bytes, the limit"),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| err("invalid_utf8", e.to_string()))?;
    let raw: Raw<'_> = serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => err("invalid_field", e.to_string()),
            _ => err("invalid_json", e.to_string()),
        }
    })?;
    let session = raw.session_id.as_ref().map(|s| s.0.clone());
    let ts_hint = std::cell::Cell::new(None);
    let result = (|| {
        let ty = need(raw.ty, "type")?;
        let session_id = id(raw.session_id, "session_id")?;
        let ts = timestamp(need(raw.ts, "ts")?)?;
        ts_hint.set(Some(ts));
        let words = with_packs(
            raw.claim_keywords,
            raw.cancel_keywords,
            raw.filler_words,
            raw.keyword_packs,
        )?;
        let body = match &*ty {
            "director" => Body::Director(director(
                need(raw.action, "action")?,
                raw.code,
                raw.title,
                raw.price_cents,
                raw.currency,
                raw.variants,
                raw.reservation_window_s,
                raw.max_qty,
                (raw.close_after_s, raw.idle_close_s),
                words,
            )?),
            "stock" => {
                let change = match (raw.set, raw.delta) {
                    (Some(n), None) => StockChange::Set(int(n, "set", 0, MAX_UNITS)?),
                    (None, Some(n)) => StockChange::Delta(int(n, "delta", -MAX_UNITS, MAX_UNITS)?),
                    _ => {
                        return Err(err(
                            "invalid_field",
                            "a stock event needs exactly one of `set` and `delta`",
                        ));
                    }
                };
                Body::Stock {
                    sku: id(raw.sku, "sku")?,
                    change,
                }
            }
            "comment" => Body::Comment {
                platform: id(raw.platform.map(Id), "platform")?,
                comment_id: id(raw.comment_id, "comment_id")?,
                user_id: id(raw.user_id, "user_id")?,
                user_name: raw.user_name,
                text: need(raw.text, "text")?,
            },
            "reserve" => Body::Reserve {
                request_id: id(raw.request_id, "request_id")?,
                platform: id(raw.platform.map(Id), "platform")?,
                user_id: id(raw.user_id, "user_id")?,
                sku: id(raw.sku, "sku")?,
                qty: qty(raw.qty)?,
            },
            "order" => Body::Order(Order {
                order_id: id(raw.order_id, "order_id")?,
                platform: id(raw.platform.map(Id), "platform")?,
                user_id: id(raw.user_id, "user_id")?,
                sku: id(raw.sku, "sku")?,
                qty: qty(raw.qty)?,
                amount_cents: money(raw.amount_cents, "amount_cents")?,
                status: match &*need(raw.status, "status")? {
                    "paid" => OrderStatus::Paid,
                    "refunded" => OrderStatus::Refunded,
                    other => {
                        return Err(err(
                            "invalid_field",
                            format!("`status` {other:?} is not paid or refunded"),
                        ));
                    }
                },
                reservation_id: raw.reservation_id.map(|r| r.0),
            }),
            "moderation" => Body::Moderation {
                escalation_id: id(raw.escalation_id, "escalation_id")?,
                decision: match &*need(raw.decision, "decision")? {
                    "accept" => Moderation::Accept {
                        sku: id(raw.sku, "sku")?.into(),
                        qty: qty(raw.qty)?,
                    },
                    "reject" => Moderation::Reject,
                    other => {
                        return Err(err(
                            "invalid_field",
                            format!("`decision` {other:?} is not accept or reject"),
                        ));
                    }
                },
            },
            other => {
                return Err(err(
                    "unknown_type",
                    format!(
                        "`type` {other:?} is not one of director, stock, comment, reserve, order, moderation"
                    ),
                ));
            }
        };
        Ok(Event {
            session_id,
            ts,
            body,
        })
    })();
    result.map_err(|mut e| {
        e.session_id = session.map(Into::into);
        e.ts = ts_hint.get();
        e
    })
}

/// The word lists of a `config`, with the words of its `keyword_packs` added; an unknown pack is
/// an error (a typo would otherwise silently leave a market's buyers unheard).
fn with_packs(
    claim: Option<Vec<String>>,
    cancel: Option<Vec<String>>,
    filler: Option<Vec<String>>,
    packs: Option<Vec<String>>,
) -> Result<ConfigChange, ReadError> {
    let mut w = ConfigChange {
        claim_keywords: claim.unwrap_or_default(),
        cancel_keywords: cancel.unwrap_or_default(),
        filler_words: filler.unwrap_or_default(),
        ..ConfigChange::default()
    };
    for name in packs.unwrap_or_default() {
        let p = super::packs::pack(&name).ok_or_else(|| {
            let known: Vec<&str> = super::packs::PACKS.iter().map(|p| p.name).collect();
            err(
                "invalid_field",
                format!(
                    "unknown keyword pack {name:?} (known: {})",
                    known.join(", ")
                ),
            )
        })?;
        p.add_to(&mut w);
    }
    Ok(w)
}

#[allow(clippy::too_many_arguments)]
fn director(
    action: Cow<'_, str>,
    code: Option<Id>,
    title: Option<String>,
    price_cents: Option<Num>,
    currency: Option<String>,
    variants: Option<Vec<RawVariant>>,
    window: Option<Num>,
    max_qty: Option<Num>,
    (close_after, idle_close): (Option<Num>, Option<Num>),
    words: ConfigChange,
) -> Result<Director, ReadError> {
    Ok(match &*action {
        "product" => {
            let variants = need(variants, "variants")?;
            if variants.is_empty() {
                return Err(err("invalid_field", "`variants` must not be empty"));
            }
            let variants = variants
                .into_iter()
                .map(|v| {
                    let options = v
                        .options
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, val)| match val {
                            serde_json::Value::String(s) => Ok((k, s)),
                            serde_json::Value::Number(n) => Ok((k, n.to_string())),
                            _ => Err(err(
                                "invalid_field",
                                format!("option `{k}` must be a string"),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(VariantDef {
                        sku: id(v.sku, "variants[].sku")?.into(),
                        options,
                        stock: match v.stock {
                            Some(n) => int(n, "variants[].stock", 0, MAX_UNITS)?,
                            None => 0,
                        },
                    })
                })
                .collect::<Result<Vec<_>, ReadError>>()?;
            Director::Product(ProductDef {
                code: id(code, "code")?.into(),
                title,
                price_cents: money(price_cents, "price_cents")?,
                currency,
                variants,
            })
        }
        "activate" => Director::Activate {
            code: id(code, "code")?.into(),
        },
        "deactivate" => Director::Deactivate,
        "price" => Director::Price {
            code: id(code, "code")?.into(),
            price_cents: money(price_cents, "price_cents")?,
        },
        "config" => Director::Config(Box::new(ConfigChange {
            reservation_window_s: window
                .map(|n| int(n, "reservation_window_s", 0, 366 * 86_400))
                .transpose()?,
            max_qty: max_qty
                .map(|n| int(n, "max_qty", 1, MAX_QTY_FIELD))
                .transpose()?
                .map(|n| n as u64),
            close_after_s: close_after
                .map(|n| int(n, "close_after_s", 1, MAX_LIFE_S))
                .transpose()?,
            idle_close_s: idle_close
                .map(|n| int(n, "idle_close_s", 1, MAX_LIFE_S))
                .transpose()?,
            ..words
        })),
        "end" => Director::End,
        other => {
            return Err(err(
                "unknown_action",
                format!(
                    "director `action` {other:?} is not product, activate, deactivate, price, config or end"
                ),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(line: &str) -> &'static str {
        parse_line(line.as_bytes()).unwrap_err().reason
    }

    #[test]
    fn an_event_written_back_reads_as_the_same_event() {
        let lines = [
            r#"{"type":"director","session_id":"s","ts":1000,"action":"product","code":"A12","title":"Bag","price_cents":2500,"currency":"EUR","variants":[{"sku":"A12-RED-M","options":{"color":"red","size":"M"},"stock":1}]}"#,
            r#"{"type":"director","session_id":"s","ts":1000,"action":"config","reservation_window_s":60,"close_after_s":600,"claim_keywords":["yes"]}"#,
            r#"{"type":"director","session_id":"s","ts":1000,"action":"end"}"#,
            r#"{"type":"stock","session_id":"s","ts":"2026-11-21T20:00:00.5Z","sku":"K1","delta":-2}"#,
            r#"{"type":"comment","session_id":"s","ts":1000,"platform":"tiktok","comment_id":7,"user_id":"u","user_name":"Ann","text":"sold \"A12\""}"#,
            r#"{"type":"reserve","session_id":"s","ts":1000,"request_id":"r1","platform":"web","user_id":"w","sku":"K1","qty":2}"#,
            r#"{"type":"order","session_id":"s","ts":1000,"order_id":"o1","platform":"web","user_id":"w","sku":"K1","qty":1,"amount_cents":900,"status":"paid","reservation_id":"res:x"}"#,
            r#"{"type":"moderation","session_id":"s","ts":1000,"escalation_id":"esc:1","decision":"accept","sku":"K1","qty":1}"#,
        ];
        for line in lines {
            let ev = parse_line(line.as_bytes()).unwrap();
            let back = ev.to_line();
            assert_eq!(parse_line(back.as_bytes()).unwrap(), ev, "{back}");
        }
    }

    #[test]
    fn concat_joins_inline_and_beyond() {
        let short = Text::concat(&["res:", "tiktok", ":", "c1"]);
        assert_eq!(short, "res:tiktok:c1");
        let long = "y".repeat(40);
        let joined = Text::concat(&["esc:", "youtube:", &long]);
        assert_eq!(joined, format!("esc:youtube:{long}").as_str());
        assert_eq!(Text::concat(&[]), "");
    }

    #[test]
    fn reads_every_type() {
        let lines = [
            r#"{"type":"director","session_id":"s","ts":1000,"action":"product","code":"A12","price_cents":2500,"variants":[{"sku":"A12-RED-M","options":{"color":"red","size":"M"},"stock":1}]}"#,
            r#"{"type":"director","session_id":"s","ts":1000,"action":"activate","code":"A12"}"#,
            r#"{"type":"director","session_id":"s","ts":1000,"action":"deactivate"}"#,
            r#"{"type":"director","session_id":"s","ts":1000,"action":"price","code":"A12","price_cents":1}"#,
            r#"{"type":"director","session_id":"s","ts":1000,"action":"config","reservation_window_s":60,"claim_keywords":["chốt"]}"#,
            r#"{"type":"stock","session_id":"s","ts":1000,"sku":"A12-RED-M","delta":-2}"#,
            r#"{"type":"comment","session_id":"s","ts":"2026-11-21T20:15:03+0000","platform":"facebook","comment_id":17,"user_id":99,"text":"sold"}"#,
            r#"{"type":"reserve","session_id":"s","ts":1000,"request_id":"r1","platform":"web","user_id":"u","sku":"B7","qty":2}"#,
            r#"{"type":"order","session_id":"s","ts":1000,"order_id":"o1","platform":"web","user_id":"u","sku":"B7","qty":2,"amount_cents":1800,"status":"paid"}"#,
            r#"{"type":"moderation","session_id":"s","ts":1000,"escalation_id":"esc:tiktok:1","decision":"accept","sku":"B7","qty":1}"#,
            r#"{"type":"moderation","session_id":"s","ts":1000,"escalation_id":"esc:tiktok:1","decision":"reject"}"#,
        ];
        for (i, l) in lines.iter().enumerate() {
            let e = parse_line(l.as_bytes()).unwrap_or_else(|e| panic!("line {i}: {e}"));
            assert_eq!(e.session_id, "s");
        }
        let c = parse_line(lines[6].as_bytes()).unwrap();
        assert!(
            matches!(c.body, Body::Comment { ref comment_id, ref user_id, .. } if comment_id == "17" && user_id == "99")
        );
        assert_eq!(c.type_rank(), 5);
    }

    #[test]
    fn every_bad_line_has_a_reason() {
        assert_eq!(reason("{not json"), "invalid_json");
        assert_eq!(reason(""), "invalid_json");
        assert_eq!(reason("[1,2]"), "invalid_field");
        assert_eq!(reason(r#"{"type":"comment"}"#), "missing_field");
        assert_eq!(
            reason(r#"{"type":"tweet","session_id":"s","ts":1}"#),
            "unknown_type"
        );
        assert_eq!(
            reason(r#"{"type":"director","session_id":"s","ts":1,"action":"dance"}"#),
            "unknown_action"
        );
        assert_eq!(
            reason(r#"{"type":"stock","session_id":"s","ts":"yesterday","sku":"a","set":1}"#),
            "invalid_timestamp"
        );
        assert_eq!(
            reason(r#"{"type":"stock","session_id":"s","ts":-5,"sku":"a","set":1}"#),
            "invalid_timestamp"
        );
        assert_eq!(
            reason(r#"{"type":"stock","session_id":"s","ts":1,"sku":"a","set":1,"delta":2}"#),
            "invalid_field"
        );
        assert_eq!(
            reason(
                r#"{"type":"reserve","session_id":"s","ts":1,"request_id":"r","platform":"web","user_id":"u","sku":"a","qty":0}"#
            ),
            "out_of_range"
        );
        assert_eq!(
            reason(
                r#"{"type":"reserve","session_id":"s","ts":1,"request_id":"r","platform":"web","user_id":"u","sku":"a","qty":1.5}"#
            ),
            "invalid_field"
        );
        assert_eq!(
            reason(
                r#"{"type":"reserve","session_id":"s","ts":1,"request_id":"r","platform":"web","user_id":"u","sku":"a","qty":1e300}"#
            ),
            "out_of_range"
        );
        assert_eq!(
            reason(
                r#"{"type":"reserve","session_id":"s","ts":1,"request_id":"r","platform":"web","user_id":"u","sku":"a","qty":99999999999999999999}"#
            ),
            "out_of_range"
        );
        assert_eq!(
            reason(
                r#"{"type":"comment","session_id":"s","ts":1,"platform":"x","comment_id":true,"user_id":"u","text":"t"}"#
            ),
            "invalid_field"
        );
        assert_eq!(
            reason(
                r#"{"type":"order","session_id":"s","ts":1,"order_id":"o","platform":"web","user_id":"u","sku":"a","qty":1,"amount_cents":1,"status":"lost"}"#
            ),
            "invalid_field"
        );
        assert_eq!(
            parse_line(b"{\"type\":\"comment\",\"text\":\"\xff\"}")
                .unwrap_err()
                .reason,
            "invalid_utf8"
        );
        let long = format!(
            r#"{{"type":"comment","text":"{}"}}"#,
            "a".repeat(MAX_LINE_BYTES)
        );
        assert_eq!(reason(&long), "line_too_long");
    }

    #[test]
    fn a_bad_line_keeps_its_session_when_it_can() {
        let e = parse_line(br#"{"type":"comment","session_id":"show-1","ts":5}"#).unwrap_err();
        assert_eq!(e.session_id.as_deref(), Some("show-1"));
        assert_eq!(e.ts, Some(5000));
    }

    #[test]
    fn keyword_packs_add_their_words_and_unknown_packs_are_refused() {
        let ev = parse_line(
            r#"{"type":"director","session_id":"s","ts":1,"action":"config","claim_keywords":["yes"],"keyword_packs":["vi","it"]}"#.as_bytes(),
        )
        .unwrap();
        let Body::Director(Director::Config(c)) = ev.body else {
            panic!("a config")
        };
        assert_eq!(c.claim_keywords[0], "yes");
        assert!(
            c.claim_keywords.iter().any(|k| k == "chốt")
                && c.claim_keywords.iter().any(|k| k == "prendo")
        );
        assert!(c.cancel_keywords.iter().any(|k| k == "annulla"));
        let e = parse_line(
            br#"{"type":"director","session_id":"s","ts":1,"action":"config","keyword_packs":["zz"]}"#,
        )
        .unwrap_err();
        assert_eq!(e.reason, "invalid_field");
    }
}
