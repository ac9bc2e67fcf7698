//! Reads a JSON line into an `Event` (SPEC 1), adding a config's keyword packs; a bad line is a `ReadError`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::{
    Body, ConfigChange, Director, Event, Moderation, Order, OrderStatus, ProductDef, StockChange,
    Text, VariantDef,
};
use crate::domain::packs::{PACKS, pack};
use crate::domain::time::{Micros, from_epoch_millis, parse_rfc3339};

/// Lines longer than this are refused before parsing (SPEC: a line over 64 KiB is bad input).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
const MAX_QTY_FIELD: i128 = 1_000_000_000;
const MAX_MONEY: i128 = 1_000_000_000_000_000;
const MAX_UNITS: i128 = 1_000_000_000_000;
/// A session's `close_after_s` / `idle_close_s` may be at most a year: a show is not longer,
/// and microsecond times plus a year never overflow.
const MAX_LIFE_S: i128 = 366 * 86_400;

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

/// The longest `platform` accepted.
pub const MAX_PLATFORM_BYTES: usize = 32;

/// The names a platform may not take: the prefixes of the ids the engine makes (`req:` a reserve
/// request's claim, `esc:` an escalation, `res:` a reservation), so that no two ids collide.
pub const RESERVED_PLATFORMS: [&str; 3] = ["req", "esc", "res"];

/// SPEC 1: `platform` is a lowercase token. It is checked, not lower-cased: `a-z`, `0-9`, `_`,
/// `-` and `.`, 1 to 32 bytes, and none of the reserved prefixes. With no `:` in a platform,
/// `platform:comment_id` is unambiguous (`a`/`b:c` and `a:b`/`c` cannot both exist).
fn platform(v: Option<Text>) -> Result<Text, ReadError> {
    let s = id(v.map(Id), "platform")?;
    let token = s
        .bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.'));
    if !token || s.len() > MAX_PLATFORM_BYTES {
        return Err(err(
            "invalid_field",
            format!(
                "`platform` must be a lowercase token (a-z, 0-9, `_`, `-`, `.`; at most {MAX_PLATFORM_BYTES} bytes), not {:?}",
                truncated(&s, 40)
            ),
        ));
    }
    if RESERVED_PLATFORMS.contains(&&*s) {
        return Err(err(
            "invalid_field",
            format!("`platform` {s:?} is reserved: the engine's own ids begin `{s}:`"),
        ));
    }
    Ok(s)
}

/// At most `n` characters of `s`, for a reason that quotes what was sent.
fn truncated(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
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
    let mut raw: Raw<'_> = serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => err("invalid_field", e.to_string()),
            _ => err("invalid_json", e.to_string()),
        }
    })?;
    let session = raw.session_id.as_ref().map(|s| s.0.clone());
    let ts_hint = std::cell::Cell::new(None);
    let result = (|| -> Result<Event, ReadError> {
        let ty = need(raw.ty.take(), "type")?;
        let session_id = id(raw.session_id.take(), "session_id")?;
        let ts = timestamp(need(raw.ts.take(), "ts")?)?;
        ts_hint.set(Some(ts));
        let words = with_packs(
            raw.claim_keywords.take(),
            raw.cancel_keywords.take(),
            raw.filler_words.take(),
            raw.keyword_packs.take(),
        )?;
        let body = read_body(&ty, raw, words)?;
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

/// The body of an event of type `ty`: the fields that type requires, checked (`words` are a
/// config's keywords, with its packs added).
// Inlined: `Raw` is large, and a call would copy it for every line read.
#[inline(always)]
fn read_body(ty: &str, raw: Raw<'_>, words: ConfigChange) -> Result<Body, ReadError> {
    Ok(match ty {
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
            platform: platform(raw.platform)?,
            comment_id: id(raw.comment_id, "comment_id")?,
            user_id: id(raw.user_id, "user_id")?,
            user_name: raw.user_name,
            text: need(raw.text, "text")?,
        },
        "reserve" => Body::Reserve {
            request_id: id(raw.request_id, "request_id")?,
            platform: platform(raw.platform)?,
            user_id: id(raw.user_id, "user_id")?,
            sku: id(raw.sku, "sku")?,
            qty: qty(raw.qty)?,
        },
        "order" => Body::Order(Order {
            order_id: id(raw.order_id, "order_id")?,
            platform: platform(raw.platform)?,
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
        let p = pack(&name).ok_or_else(|| {
            let known: Vec<&str> = PACKS.iter().map(|p| p.name).collect();
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
        // `platform` is a lowercase token with no `:` and not one of the engine's id prefixes, so
        // that `platform:comment_id` and `req:request_id` can never name the same claim.
        let comment = |platform: &str| {
            format!(
                r#"{{"type":"comment","session_id":"s","ts":1,"platform":{platform},"comment_id":"X","user_id":"u","text":"sold"}}"#
            )
        };
        for bad in [
            r#""req""#,
            r#""esc""#,
            r#""res""#,
            r#""a:b""#,
            r#""TikTok""#,
            r#""tik tok""#,
            r#""""#,
            r#"7"#,
            r#""x\u0000""#,
        ] {
            assert_eq!(reason(&comment(bad)), "invalid_field", "platform {bad}");
        }
        assert_eq!(
            reason(&comment(&format!("{:?}", "p".repeat(33)))),
            "invalid_field"
        );
        for good in [
            r#""tiktok""#,
            r#""web""#,
            r#""shop_2""#,
            r#""fb.page-1""#,
            r#""request""#,
        ] {
            assert!(
                parse_line(comment(good).as_bytes()).is_ok(),
                "platform {good}"
            );
        }
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
