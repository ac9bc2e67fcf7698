//! Tests of the generator: formats, determinism, lateness, ids and the shapes of comments.

use super::format::{json_str, push_ts};
use super::platforms::{PLATFORMS, Style};
use super::reading::{CANCEL, CLAIM, Read, Sheet, read, tokens};
use super::shape::is_stretch;
use super::texts::{Intent, join_pieces, stretch};
use super::words::{CHATTER, CLAIM_KEYWORDS, KEYWORD_TYPOS};
use super::*;
use crate::domain::grammar::{self, Reading};
use crate::domain::runsheet::{Config, Product as GProduct, RunSheet, Variant as GVariant};
use crate::domain::text::{normalize_code, within_one_edit};
use crate::domain::time::{civil_from_days, days_from_civil};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A comment as the generator meant it.
pub(super) struct Said {
    show: u32,
    active: Option<usize>,
    text: String,
    intent: Intent,
}

/// The comments of a run, and each show's run sheet.
#[derive(Default)]
pub(super) struct Log {
    sheets: HashMap<u32, Sheet>,
    /// Each show as the processor's own grammar sees it: run sheet, config, skus by index.
    grammar: HashMap<u32, (RunSheet, Config, Vec<Vec<String>>, Vec<String>)>,
    said: Vec<Said>,
}

impl Gen<'_> {
    pub(super) fn log_comment(&mut self, show: &Show, text: &str, intent: &Intent) {
        let Some(log) = &mut self.log else { return };
        log.grammar.entry(show.num).or_insert_with(|| {
            let mut sheet = RunSheet::default();
            let mut seen = Default::default();
            for p in &show.products {
                let variants = p
                    .variants
                    .iter()
                    .map(|v| {
                        let values: Vec<String> = v
                            .color
                            .iter()
                            .chain(v.size.iter())
                            .map(|o| o.to_string())
                            .collect();
                        GVariant::new(v.sku.clone(), &values, 1)
                    })
                    .collect();
                sheet.define(
                    GProduct::new(p.code.clone(), None, p.price, None, variants),
                    &mut seen,
                );
            }
            let mut cfg = Config {
                max_qty: show.max_qty as u64,
                ..Config::default()
            };
            if let Some((claim, cancel)) = show.extra_kw {
                Config::add_keywords(&mut cfg.claim_keywords, &[claim.to_string()]);
                Config::add_keywords(&mut cfg.cancel_keywords, &[cancel.to_string()]);
            }
            let skus = show
                .products
                .iter()
                .map(|p| p.variants.iter().map(|v| v.sku.clone()).collect())
                .collect();
            let codes = show
                .products
                .iter()
                .map(|p| normalize_code(&p.code))
                .collect();
            (sheet, cfg, skus, codes)
        });
        log.sheets.entry(show.num).or_insert_with(|| Sheet {
            codes: show
                .products
                .iter()
                .map(|p| p.code.to_lowercase())
                .collect(),
            variants: show
                .products
                .iter()
                .map(|p| {
                    p.variants
                        .iter()
                        .map(|v| {
                            v.color
                                .iter()
                                .chain(v.size.iter())
                                .map(|o| o.to_lowercase())
                                .collect()
                        })
                        .collect()
                })
                .collect(),
            claim_kw: CLAIM
                .iter()
                .copied()
                .chain(show.extra_kw.map(|k| k.0))
                .map(str::to_string)
                .collect(),
            cancel_kw: CANCEL
                .iter()
                .copied()
                .chain(show.extra_kw.map(|k| k.1))
                .map(str::to_string)
                .collect(),
            max_qty: show.max_qty as u64,
        });
        log.said.push(Said {
            show: show.num,
            active: show.active,
            text: text.to_string(),
            intent: intent.clone(),
        });
    }
}

/// Generates a show and keeps every comment with its Intent.
fn said(cfg: &GenConfig) -> Log {
    let mut out = std::io::sink();
    let mut progress = |_: u64| {};
    let mut g = Gen::new(cfg, &mut out, &mut progress);
    g.log = Some(Log::default());
    g.run().expect("generate");
    g.log.take().expect("log")
}

fn run(cfg: &GenConfig) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    let n = generate(cfg, &mut out, &mut |_| {}).expect("generate");
    (out, n)
}

fn cfg(seed: u64, events: u64, sessions: u32) -> GenConfig {
    GenConfig {
        seed,
        events,
        sessions,
        ..GenConfig::default()
    }
}

fn lines(out: &[u8]) -> Vec<Value> {
    std::str::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Epoch ms of the `ts` formats the generator emits (sub-millisecond digits truncated).
fn ts_ms(v: &Value) -> i64 {
    if let Some(n) = v.as_i64() {
        return n;
    }
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("ts is neither string nor integer: {v}"));
    let b = s.as_bytes();
    assert!(
        b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':',
        "{s}"
    );
    let num = |r: std::ops::Range<usize>| -> i64 {
        s[r].parse::<i64>().unwrap_or_else(|_| panic!("{s}"))
    };
    let days = days_from_civil(num(0..4), num(5..7) as u32, num(8..10) as u32);
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    let mut i = 19;
    let mut ms = 0;
    if b[i] == b'.' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        assert!(i - st == 3 || i - st == 6, "{s}");
        ms = num(st..st + 3);
    }
    assert!(matches!(&s[i..], "Z" | "+0000" | "+00:00"), "{s}");
    secs * 1000 + ms
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => panic!("id must be a string or an integer: {v}"),
    }
}

#[test]
fn default_config_is_the_show_night() {
    let c = GenConfig::default();
    assert_eq!(c.start_ms, 1_795_291_200_000);
    assert_eq!((c.seed, c.events, c.sessions), (42, 10_000, 1));
    assert_eq!(
        civil_from_days(days_from_civil(2026, 11, 21)),
        (2026, 11, 21)
    );
    for d in [-800_000, -1, 0, 59, 60, 365, 11_016, 20_778, 100_000] {
        let (y, m, dd) = civil_from_days(d);
        assert_eq!(days_from_civil(y, m, dd), d);
    }
}

#[test]
fn timestamps_are_formatted_per_platform() {
    let us = 1_795_292_103_123_456; // 2026-11-21T20:15:03.123456Z
    let f = |style| {
        let mut b = String::new();
        push_ts(&mut b, us, style);
        b
    };
    assert_eq!(f(Style::EpochMillis), "1795292103123");
    assert_eq!(f(Style::SecondsOffset), "\"2026-11-21T20:15:03+0000\"");
    assert_eq!(f(Style::SecondsZ), "\"2026-11-21T20:15:03Z\"");
    assert_eq!(f(Style::Micros), "\"2026-11-21T20:15:03.123456Z\"");
    assert_eq!(f(Style::MillisOffset), "\"2026-11-21T20:15:03.123+00:00\"");
    assert_eq!(f(Style::Millis), "\"2026-11-21T20:15:03.123Z\"");
}

#[test]
fn json_strings_are_escaped() {
    let nasty = "say \"hi\"\\ \n\t\r\u{1}¯\\_(ツ)_/¯ ＳＯＬＤ";
    let mut b = String::new();
    json_str(&mut b, nasty);
    assert_eq!(serde_json::from_str::<String>(&b).unwrap(), nasty);
}

#[test]
fn deterministic_for_a_seed() {
    let (a, na) = run(&cfg(7, 20_000, 2));
    let (b, nb) = run(&cfg(7, 20_000, 2));
    assert_eq!(na, nb);
    assert!(a == b, "same seed must give the same bytes");
    let (c, _) = run(&cfg(8, 20_000, 2));
    assert!(a != c, "another seed gives another show");
}

#[test]
fn writes_at_least_the_requested_events() {
    for n in [0u64, 1, 500, 12_345] {
        let (out, written) = run(&cfg(3, n, 1));
        let count = out.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count() as u64;
        assert_eq!(count, written);
        assert!(written >= n, "{written} < {n}");
        assert!(written <= n + 2_000, "{written} is far more than {n}");
        if n == 0 {
            assert!(out.is_empty());
        }
    }
}

#[test]
fn progress_every_65536_lines() {
    let mut calls = Vec::new();
    let mut out = std::io::sink();
    let n = generate(&cfg(5, 140_000, 2), &mut out, &mut |k| calls.push(k)).unwrap();
    assert!(n >= 140_000);
    assert_eq!(&calls[..2], &[65_536, 131_072]);
    assert_eq!(*calls.last().unwrap(), n);
}

#[test]
fn every_line_is_a_canonical_event() {
    let (out, _) = run(&cfg(11, 40_000, 2));
    let mut by_type: HashMap<String, usize> = HashMap::new();
    let mut platforms = HashSet::new();
    for e in lines(&out) {
        let ty = e["type"].as_str().expect("type").to_string();
        assert!(
            [
                "director",
                "stock",
                "comment",
                "reserve",
                "order",
                "moderation"
            ]
            .contains(&ty.as_str()),
            "{e}"
        );
        assert!(
            e["session_id"]
                .as_str()
                .is_some_and(|s| s.starts_with("show-")),
            "{e}"
        );
        ts_ms(&e["ts"]);
        match ty.as_str() {
            "director" => match e["action"].as_str().expect("action") {
                "config" => {
                    assert!(
                        e["reservation_window_s"]
                            .as_i64()
                            .is_some_and(|w| (60..=120).contains(&w))
                    );
                    assert_eq!(e["max_qty"].as_i64(), Some(5));
                }
                "product" => {
                    assert!(e["code"].as_str().is_some());
                    assert!(e["price_cents"].as_i64().is_some_and(|p| p > 0));
                    assert_eq!(e["currency"], "USD");
                    let vs = e["variants"].as_array().expect("variants");
                    assert!((1..=6).contains(&vs.len()), "{e}");
                    for v in vs {
                        assert!(v["sku"].as_str().is_some());
                        assert!(v["stock"].as_i64().is_some_and(|s| s >= 0));
                        assert!(v.get("options").is_none_or(|o| o.is_object()));
                    }
                }
                "activate" => assert!(e["code"].as_str().is_some()),
                "deactivate" => {}
                "price" => {
                    assert!(e["code"].as_str().is_some());
                    assert!(e["price_cents"].as_i64().is_some_and(|p| p > 0));
                }
                a => panic!("unknown action {a}"),
            },
            "stock" => {
                assert!(e["sku"].as_str().is_some());
                assert!(e.get("set").is_some() != e.get("delta").is_some(), "{e}");
                assert!(
                    e.get("set")
                        .is_none_or(|s| s.as_i64().is_some_and(|n| n >= 0))
                );
                assert!(e.get("delta").is_none_or(|s| s.as_i64().is_some()));
            }
            "comment" => {
                let pl = e["platform"].as_str().expect("platform");
                assert!(PLATFORMS.contains(&pl));
                platforms.insert(pl.to_string());
                id_text(&e["comment_id"]);
                id_text(&e["user_id"]);
                assert!(e["text"].as_str().is_some());
                assert!(e.get("user_name").is_none_or(|n| n.is_string()));
                match pl {
                    "tiktok" => assert!(e["ts"].is_i64()),
                    "facebook" => assert!(e["ts"].as_str().unwrap().ends_with("+0000")),
                    "instagram" => assert_eq!(e["ts"].as_str().unwrap().len(), 20),
                    "youtube" => assert_eq!(e["ts"].as_str().unwrap().len(), 27),
                    _ => {}
                }
            }
            "reserve" => {
                id_text(&e["request_id"]);
                assert_eq!(e["platform"], "web");
                id_text(&e["user_id"]);
                assert!(e["sku"].as_str().is_some());
                assert!(e["qty"].as_i64().is_some_and(|q| q >= 1));
            }
            "order" => {
                id_text(&e["order_id"]);
                id_text(&e["user_id"]);
                assert!(e["platform"].as_str().is_some());
                assert!(e["sku"].as_str().is_some());
                assert!(e["qty"].as_i64().is_some_and(|q| q >= 1));
                assert!(e["amount_cents"].as_i64().is_some_and(|a| a > 0));
                assert!(["paid", "refunded"].contains(&e["status"].as_str().unwrap()));
                assert!(
                    e.get("reservation_id")
                        .is_none_or(|r| r.as_str().unwrap().starts_with("res:"))
                );
            }
            "moderation" => {
                assert!(e["escalation_id"].as_str().unwrap().starts_with("esc:"));
                match e["decision"].as_str().unwrap() {
                    "accept" => {
                        assert!(e["sku"].as_str().is_some());
                        assert!(e["qty"].as_i64().is_some_and(|q| q >= 1));
                    }
                    "reject" => {}
                    d => panic!("decision {d}"),
                }
            }
            _ => unreachable!(),
        }
        *by_type.entry(ty).or_default() += 1;
    }
    for ty in [
        "director",
        "stock",
        "comment",
        "reserve",
        "order",
        "moderation",
    ] {
        assert!(
            by_type.get(ty).copied().unwrap_or(0) > 0,
            "no {ty} events: {by_type:?}"
        );
    }
    for pl in PLATFORMS {
        assert!(platforms.contains(pl), "no {pl} comments");
    }
}

#[test]
fn disorder_stays_within_allowed_lateness() {
    let (out, _) = run(&cfg(13, 60_000, 3));
    let mut max_seen = i64::MIN / 2;
    let mut max_lag = 0;
    let mut sessions = HashSet::new();
    for e in lines(&out) {
        let ts = ts_ms(&e["ts"]);
        assert!(
            ts >= max_seen - 2000,
            "ts {ts} is {} ms behind: {e}",
            max_seen - ts
        );
        max_lag = max_lag.max(max_seen - ts);
        max_seen = max_seen.max(ts);
        sessions.insert(e["session_id"].as_str().unwrap().to_string());
    }
    assert!(
        max_lag > 500,
        "the stream should be out of event-time order (lag {max_lag})"
    );
    assert!(sessions.len() >= 3, "sessions interleave: {sessions:?}");
}

#[test]
fn ids_are_unique_and_references_resolve() {
    let (out, _) = run(&cfg(17, 60_000, 2));
    let mut comments = HashSet::new();
    let mut requests = HashSet::new();
    let mut orders = HashSet::new();
    let mut answers = HashSet::new();
    for e in lines(&out) {
        match e["type"].as_str().unwrap() {
            "comment" => {
                let k = format!(
                    "{}:{}",
                    e["platform"].as_str().unwrap(),
                    id_text(&e["comment_id"])
                );
                assert!(comments.insert(k), "duplicate comment id: {e}");
            }
            "reserve" => assert!(
                requests.insert(format!("req:{}", id_text(&e["request_id"]))),
                "{e}"
            ),
            "order" => {
                let id = id_text(&e["order_id"]);
                let status = e["status"].as_str().unwrap();
                if status == "refunded" {
                    assert!(
                        orders.contains(&(id.clone(), "paid".to_string())),
                        "refund before payment: {e}"
                    );
                }
                assert!(
                    orders.insert((id, status.to_string())),
                    "duplicate order: {e}"
                );
                if let Some(r) = e.get("reservation_id") {
                    let claim = &r.as_str().unwrap()["res:".len()..];
                    assert!(
                        comments.contains(claim) || requests.contains(claim),
                        "unknown claim: {e}"
                    );
                }
            }
            "moderation" => {
                let esc = e["escalation_id"].as_str().unwrap();
                assert!(
                    comments.contains(&esc["esc:".len()..]),
                    "unknown comment: {e}"
                );
                assert!(
                    answers.insert((esc.to_string(), e["decision"].as_str().unwrap().to_string())),
                    "{e}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn claims_come_in_many_shapes() {
    let (out, _) = run(&cfg(19, 60_000, 1));
    let texts: Vec<String> = lines(&out)
        .into_iter()
        .filter(|e| e["type"] == "comment")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect();
    let has = |f: &dyn Fn(&str) -> bool| texts.iter().filter(|t| f(t)).count();
    assert!(has(&|t| t.to_lowercase().contains("sold")) > 1000);
    assert!(has(&|t| t.contains("mine")) > 100);
    assert!(
        has(&|t| t.chars().any(|c| ('\u{FF01}'..='\u{FF5E}').contains(&c))) > 10,
        "fullwidth"
    );
    assert!(has(&|t| t.contains("cancel") || t == "pass") > 10);
    assert!(has(&|t| t.contains('?')) > 100);
    assert!(has(&|t| t.contains("don't") || t.contains("dont")) > 10);
    assert!(has(&|t| KEYWORD_TYPOS.iter().any(|k| t.starts_with(k))) > 10);
    assert!(has(&|t| t.contains(" and ")) > 5);
    assert!(has(&|t| t.contains("x2") || t.contains("2pcs") || t.contains("2 pcs")) > 50);
    let chatter = has(&|t| CHATTER.iter().any(|c| !c.contains('{') && c == &t));
    assert!(
        chatter * 4 > texts.len(),
        "about half chatter: {chatter} of {}",
        texts.len()
    );
}

#[test]
fn pieces_never_form_accidental_codes() {
    assert_eq!(
        join_pieces(&["sold", "A12", "red m", "2 pcs"]),
        "sold A12 red m 2pcs"
    );
    assert_eq!(join_pieces(&["sold", "", "red", "2 pcs"]), "sold red 2 pcs");
    assert_eq!(
        join_pieces(&["A 12", "sold", "blue s", ""]),
        "A 12 sold blue s"
    );
}

/// How SPEC 3.1 reads every comment of a show, with what the generator meant by it.
fn readings(log: &Log) -> Vec<(&Said, Read)> {
    log.said
        .iter()
        .map(|s| (s, read(&s.text, &log.sheets[&s.show], s.active)))
        .collect()
}

/// Fails with the first of the comments read otherwise than expected.
fn none_read_otherwise(wrong: &[String], comments: usize) {
    assert!(
        wrong.is_empty(),
        "{} of {comments} comments read otherwise, e.g.\n{}",
        wrong.len(),
        wrong[..wrong.len().min(25)].join("\n")
    );
}

/// Two readings of SPEC 3.1 written apart, the tests' (`reading.rs`) and the processor's
/// (`domain::grammar`), agree on every comment of a generated show.
#[test]
fn the_processor_reads_every_comment_as_the_tests_reading_does() {
    let log = said(&cfg(23, 200_000, 2));
    let mut wrong = Vec::new();
    for (s, r) in readings(&log) {
        let (sheet, cfg, skus, codes) = &log.grammar[&s.show];
        let active = s.active.map(|a| codes[a].as_str());
        let g = grammar::read(&s.text, sheet, active, cfg);
        let ok = match (&r, &g) {
            (Read::Claim { p, v, q }, Reading::Claim { sku, qty }) => {
                skus[*p][*v] == sku[..] && u64::from(*q) == *qty
            }
            (Read::Escalated(reason), Reading::Escalated { reason: gr, .. }) => {
                *reason == gr.as_str()
            }
            (Read::Cancel(_), Reading::Cancel { .. }) => true,
            (Read::Ignored, Reading::Ignored(_)) | (Read::Rejected, Reading::Rejected { .. }) => {
                true
            }
            _ => false,
        };
        if !ok {
            wrong.push(format!("{:?}: tests {r:?}, grammar {g:?}", s.text));
        }
    }
    none_read_otherwise(&wrong, log.said.len());
}

#[test]
fn intents_are_what_spec_3_1_reads() {
    // the simulated buyers pay for what they hold: the model must read every comment as the
    // processor does (claims exactly, escalations, cancels, and nothing for the rest)
    let log = said(&cfg(23, 200_000, 2));
    let read = readings(&log);
    let mut wrong = Vec::new();
    for (s, r) in &read {
        let ok = match (&s.intent, r) {
            (
                Intent::Claim { p, v, q },
                Read::Claim {
                    p: rp,
                    v: rv,
                    q: rq,
                },
            ) => (p, v, q) == (rp, rv, rq),
            (Intent::Escalate { .. } | Intent::Vague, Read::Escalated(_)) => true,
            (Intent::Cancel { p }, Read::Cancel(rp)) => p == rp,
            (Intent::Other, Read::Ignored | Read::Rejected) => true,
            _ => false,
        };
        if !ok {
            wrong.push(format!("{:?} {:?} read {r:?}", s.text, s.intent));
        }
    }
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for (_, r) in &read {
        let kind = format!("{r:?}");
        *kinds
            .entry(kind.split([' ', '(']).next().unwrap_or("").to_string())
            .or_default() += 1;
    }
    eprintln!("readings: {kinds:?}");
    for kind in ["Claim", "Escalated", "Cancel", "Ignored", "Rejected"] {
        assert!(
            kinds.get(kind).is_some_and(|&n| n > 100),
            "few {kind}: {kinds:?}"
        );
    }
    none_read_otherwise(&wrong, log.said.len());
}

#[test]
fn a_show_writes_like_a_show_for_the_revised_grammar() {
    let log = said(&cfg(7, 200_000, 1));
    let rs = readings(&log);
    let count = |f: &dyn Fn(&Said, &Read, &[String]) -> bool| {
        rs.iter()
            .filter(|(s, r)| f(s, r, &tokens(&s.text).1))
            .count()
    };
    let kw = |t: &str| {
        CLAIM_KEYWORDS
            .iter()
            .any(|k| *k != "me" && is_stretch(t, k))
    };
    let counts = [
        (
            "claim words in chatter, ignored",
            count(&|_, r, t| *r == Read::Ignored && t.iter().any(|t| kw(t))),
            2_000,
        ),
        (
            "chatter escalated as unclear_claim",
            count(&|s, r, _| s.intent == Intent::Vague && *r == Read::Escalated("unclear_claim")),
            300,
        ),
        (
            "claims in filler words",
            count(&|_, r, t| {
                matches!(r, Read::Claim { .. })
                    && t.iter()
                        .any(|t| ["i'll", "yes", "pls", "please"].contains(&t.as_str()))
            }),
            1_000,
        ),
        (
            "`me` claims",
            count(&|_, r, t| {
                matches!(r, Read::Claim { .. } | Read::Escalated(_))
                    && (t.first().is_some_and(|t| t == "me") || t.last().is_some_and(|t| t == "me"))
            }),
            500,
        ),
        (
            "stretched keywords",
            count(&|_, _, t| {
                t.iter()
                    .any(|t| kw(t) && !CLAIM_KEYWORDS.contains(&t.as_str()))
            }),
            600,
        ),
        (
            "code claims without a keyword",
            count(&|_, r, t| {
                matches!(r, Read::Claim { .. }) && !t.iter().any(|t| kw(t) || t == "me")
            }),
            1_000,
        ),
        (
            "questions without a question mark",
            count(&|s, _, t| {
                !s.text.contains('?')
                    && t.first().is_some_and(|t| {
                        ["how", "can", "where", "do", "is", "what's"].contains(&t.as_str())
                    })
            }),
            1_000,
        ),
        (
            "the newer negations",
            count(&|_, _, t| {
                t.iter().any(|t| {
                    [
                        "can't", "cant", "won't", "wont", "didn't", "didnt", "doesn't", "doesnt",
                    ]
                    .contains(&t.as_str())
                })
            }),
            1_000,
        ),
        (
            "typographic apostrophes",
            count(&|s, _, _| s.text.contains('\u{2019}')),
            1_000,
        ),
        (
            "mentions of viewers",
            count(&|s, _, _| s.text.contains('@') && !s.text.contains("@host")),
            1_500,
        ),
        (
            "mentions of the host",
            count(&|s, _, _| s.text.contains("@host")),
            500,
        ),
    ];
    let report: Vec<String> = counts.iter().map(|(n, c, _)| format!("{n}: {c}")).collect();
    eprintln!("{} comments\n{}", rs.len(), report.join("\n"));
    for (name, n, at_least) in counts {
        assert!(
            n >= at_least,
            "{name}: {n} < {at_least} in {} comments\n{}",
            rs.len(),
            report.join("\n")
        );
    }
}

#[test]
fn no_accidental_codes() {
    // every code-shaped token is a run-sheet code, a typo of one (one edit away) or a made-up
    // product (Z/Y/W/V and 50–99); a letter before a number is a run-sheet code; mentions vanish
    let log = said(&cfg(29, 200_000, 2));
    let mut bad = Vec::new();
    for s in &log.said {
        let sheet = &log.sheets[&s.show];
        let toks = tokens(&s.text).1;
        for (i, t) in toks.iter().enumerate() {
            let form = t.trim_start_matches('#').replace('-', "");
            let letters = form.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            let digits = &form[letters..];
            let quantity = form.starts_with('x') || form.starts_with("qty");
            if letters > 0
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !quantity
            {
                let fake = letters == 1
                    && "zywv".contains(&form[..1])
                    && digits.parse::<u32>().is_ok_and(|d| (50..=99).contains(&d));
                let near = sheet.codes.iter().any(|c| within_one_edit(c, &form));
                if !(near || fake) {
                    bad.push(format!("{:?}: {t}", s.text));
                }
            }
            let single = t.len() == 1 && t.as_bytes()[0].is_ascii_alphabetic();
            if single
                && let Some(next) = toks.get(i + 1)
                && next.bytes().all(|b| b.is_ascii_digit())
                && !sheet.codes.contains(&format!("{t}{next}"))
                && t != "x"
            {
                bad.push(format!("{:?}: {t} {next}", s.text));
            }
        }
        assert!(!toks.iter().any(|t| t.contains("k3lly")), "{:?}", s.text);
    }
    assert!(
        bad.is_empty(),
        "{} accidental codes, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );
}

#[test]
fn keyword_typos_are_one_edit_and_no_stretch() {
    for typo in KEYWORD_TYPOS {
        assert!(typo.len() >= 4, "{typo}");
        assert!(
            CLAIM_KEYWORDS.iter().any(|k| within_one_edit(typo, k)),
            "{typo}"
        );
        assert!(
            !CLAIM_KEYWORDS.iter().any(|k| is_stretch(typo, k)),
            "{typo} is a keyword"
        );
    }
    for (t, k) in [
        ("solld", "sold"),
        ("dibbs", "dibs"),
        ("soldddd", "sold"),
        ("mineee", "mine"),
    ] {
        assert!(is_stretch(t, k), "{t}");
    }
    for (t, k) in [
        ("pas", "pass"),
        ("sodl", "sold"),
        ("solds", "sold"),
        ("sol", "sold"),
    ] {
        assert!(!is_stretch(t, k), "{t}");
    }
}

#[test]
fn stretched_keywords_repeat_a_letter() {
    let mut rng = fastrand::Rng::with_seed(3);
    for kw in ["sold", "SOLD!!!", "mine", "cf"] {
        for _ in 0..50 {
            let s = stretch(&mut rng, kw);
            assert!(s.len() > kw.len(), "{s}");
            let word: String = s.chars().filter(char::is_ascii_alphabetic).collect();
            let base: String = kw.chars().filter(char::is_ascii_alphabetic).collect();
            assert!(
                is_stretch(&word.to_lowercase(), &base.to_lowercase()),
                "{s}"
            );
        }
    }
}
