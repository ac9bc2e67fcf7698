//! Tests of the generator: formats, determinism, lateness, ids and the shapes of comments.

use super::format::{Style, json_str, push_ts};
use super::platforms::PLATFORMS;
use super::texts::join_pieces;
use super::words::{CHATTER, KEYWORD_TYPOS};
use super::*;
use crate::domain::time::{civil_from_days, days_from_civil};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

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
    for pl in [
        "tiktok",
        "facebook",
        "instagram",
        "youtube",
        "twitch",
        "web",
    ] {
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
