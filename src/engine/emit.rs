//! What the claim engine derives from decisions besides their lines: metric additions, claim
//! placements for the ranking, and the rejects of unreadable lines and of closed sessions.

use rustc_hash::FxHashMap;

use crate::domain::decision::{Body as DBody, ClaimOutcome, Decision, OrderOutcome};
use crate::domain::event::Text;
use crate::domain::time::minute_of;
use crate::records::{
    About, Claimant, Kind, Line, MAX_RANKED, Metric, MetricKey, Out, Reject, View,
};

/// Metric additions summed within one activation, so differential sees one update per cell
/// and batch instead of one per decision. Keyed by a hash, with the cells that share it.
#[derive(Default)]
pub struct MetricSums {
    cells: FxHashMap<u64, Vec<(MetricKey, i64)>>,
}

impl MetricSums {
    fn add(
        &mut self,
        session_id: &str,
        minute: i64,
        sku: &str,
        platform: &str,
        metric: Metric,
        amount: i64,
    ) {
        use std::hash::{Hash, Hasher};
        if amount == 0 {
            return;
        }
        let mut h = rustc_hash::FxHasher::default();
        (session_id, minute, sku, platform, metric).hash(&mut h);
        let cell = self.cells.entry(h.finish()).or_default();
        let same = |k: &MetricKey| {
            k.minute == minute
                && k.metric == metric
                && k.sku == sku
                && k.platform == platform
                && k.session_id == session_id
        };
        match cell.iter_mut().find(|(k, _)| same(k)) {
            Some((_, sum)) => *sum += amount,
            None => cell.push((
                MetricKey {
                    session_id: session_id.to_string(),
                    minute,
                    sku: sku.to_string(),
                    platform: platform.to_string(),
                    metric,
                },
                amount,
            )),
        }
    }

    /// Every non-zero sum of this activation, emptied.
    pub fn drain(&mut self) -> impl Iterator<Item = (MetricKey, i64)> + '_ {
        self.cells
            .drain()
            .flat_map(|(_, cell)| cell.into_iter())
            .filter(|(_, amount)| *amount != 0)
    }
}

/// The additions a decision makes to `gmv_minute`.
pub fn metrics(session_id: &str, d: &Decision, opens_claim: bool, sums: &mut MetricSums) {
    let minute = minute_of(d.ts);
    let mut add = |sku: &str, platform: &str, metric: Metric, amount: i64| {
        sums.add(session_id, minute, sku, platform, metric, amount)
    };
    match &d.body {
        DBody::Order(o) => {
            let sign = if o.outcome == OrderOutcome::Refunded {
                -1
            } else {
                1
            };
            add(
                &o.sku,
                &o.buyer.platform,
                Metric::GmvCents,
                sign * o.amount_cents,
            );
            add(
                &o.sku,
                &o.buyer.platform,
                Metric::Units,
                sign * o.qty as i64,
            );
        }
        DBody::Claim(c) if opens_claim && c.outcome != ClaimOutcome::Cancelled => {
            add(
                c.sku.as_deref().unwrap_or(""),
                &c.buyer.platform,
                Metric::Claims,
                1,
            );
        }
        _ => {}
    }
}

/// A claim placed on a sku, for the ranked claimants view. Placements are decided in time order,
/// so once a sku has `MAX_RANKED` of them a later one cannot rank inside the view (unless it ties
/// on time with the last one sent) and is not sent at all. What is sent is kept in `sent`, so
/// that the session's close can take it back out of the view.
pub fn claimant(
    session_id: &str,
    d: &Decision,
    placed: &mut FxHashMap<Text, (usize, i64)>,
    sent: &mut Vec<Claimant>,
    out: &mut Vec<Out>,
) {
    if let DBody::Claim(c) = &d.body {
        if let (ClaimOutcome::Reserved | ClaimOutcome::Waitlisted, Some(sku)) = (c.outcome, &c.sku)
        {
            if !placed.contains_key(sku) {
                placed.insert(sku.clone(), (0, i64::MIN));
            }
            let seen = placed.get_mut(sku).expect("inserted above");
            if seen.0 >= MAX_RANKED && d.ts != seen.1 {
                return;
            }
            *seen = (seen.0 + 1, d.ts);
            let claimant = Claimant {
                ts: d.ts,
                claim_id: c.claim_id.clone(),
                sku: sku.clone(),
                platform: c.buyer.platform.clone(),
                user_id: c.buyer.user_id.clone(),
                qty: c.qty.unwrap_or(1),
            };
            sent.push(claimant.clone());
            out.push(Out::View(View::Claimant {
                session_id: session_id.to_string(),
                claimant: Box::new(claimant),
                diff: 1,
            }));
        }
    }
}

/// The ranked claimants of a session, as the differential ranking has them: per sku, in
/// `Claimant` order, the first `MAX_RANKED`, numbered from 1.
pub fn ranked(session_id: &str, sent: &[Claimant]) -> Vec<(String, u64, Claimant)> {
    let mut by_sku: std::collections::BTreeMap<&str, Vec<&Claimant>> = Default::default();
    for c in sent {
        by_sku.entry(&c.sku).or_default().push(c);
    }
    let mut rows = Vec::new();
    for (_, mut cs) in by_sku {
        cs.sort();
        for (rank, c) in cs.into_iter().take(MAX_RANKED).enumerate() {
            rows.push((session_id.to_string(), rank as u64 + 1, c.clone()));
        }
    }
    rows
}

/// A reject's decision and dead letter, keyed at `at` (its place among the decisions).
pub fn reject_outputs(r: Box<Reject>, at: i64, sent: bool, out: &mut Vec<Out>) {
    let key = (at, 0, r.source_index as u64, r.line);
    let mut d = crate::domain::decision::JsonObject::new();
    d.str("id", &format!("reject/{}/{}", r.source, r.line));
    match &r.session_id {
        Some(s) => d.str("session_id", s),
        None => d.raw("session_id", "null"),
    }
    // A line read no further than its bytes has no time of its own: it stands where it was
    // placed, at its source's watermark (SPEC 4 gives every decision a `ts`).
    d.ts("ts", r.ts.unwrap_or(at));
    d.str("kind", "reject");
    d.str("reason", &r.reason);
    d.str("detail", &r.detail);
    d.str("source", &r.source);
    d.num("line", r.line as i128);
    d.num("offset", r.offset as i128);
    out.push(Out::Record(
        Kind::Decision,
        Line {
            key,
            line: d.finish(),
            sent,
            about: About::Nothing,
        },
    ));

    let mut l = crate::domain::decision::JsonObject::new();
    l.str("source", &r.source);
    l.num("line", r.line as i128);
    l.num("offset", r.offset as i128);
    l.str("reason", &r.reason);
    l.str("detail", &r.detail);
    l.str("raw", &String::from_utf8_lossy(&r.raw));
    if std::str::from_utf8(&r.raw).is_err() {
        use base64_lite::encode;
        l.str("raw_base64", &encode(&r.raw));
    }
    out.push(Out::Record(
        Kind::DeadLetter,
        Line {
            key,
            line: l.finish(),
            sent,
            about: About::Nothing,
        },
    ));
}

/// Standard base64 for dead-letter bytes that are not UTF-8 (no crate needed for 20 lines).
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    #[test]
    fn encodes_like_rfc4648() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"\xff\xfe\x00"), "//4A");
    }
}
