//! What the fuzz targets share: the checks run on every input, and the fixed run sheet and show mapping they read against.

use std::sync::LazyLock;

use livesell_core::adapters::{self, Format, Shows};
use livesell_core::domain::event::parse::parse_line;
use livesell_core::domain::grammar::{Reading, read};
use livesell_core::domain::packs;
use livesell_core::domain::runsheet::{Config, Product, RunSheet, Variant};
use livesell_core::domain::session::Session;

static SHOWS: LazyLock<Shows> = LazyLock::new(|| {
    Shows::from_toml(include_str!("../../pipelines/shows.toml")).expect("the shipped shows file")
});

/// One payload through an adapter. A Twitch input may carry the
/// `Twitch-Eventsub-Message-Timestamp` header as its first line, so that path is fuzzed too.
pub fn adapter(format: Format, data: &[u8]) {
    let (header, payload) = match (format, data.iter().position(|&b| b == b'\n')) {
        (Format::TwitchEventsub, Some(p)) if data.first() == Some(&b'@') => {
            (std::str::from_utf8(&data[1..p]).ok(), &data[p + 1..])
        }
        _ => (None, data),
    };
    let Ok(converted) = adapters::convert(format, payload, &SHOWS, header) else {
        return;
    };
    for c in &converted.comments {
        let line = serde_json::to_string(c).expect("a comment serialises");
        if let Err(e) = parse_line(line.as_bytes()) {
            panic!("{format:?} made an event the pipeline refuses: {line}: {e}");
        }
    }
    // The splitter of `livesell convert` and the webhook ingest sees the same bytes.
    let _ = adapters::payloads(payload);
}

/// Event lines (JSONL) through the parser and, when they parse, through a session, as the
/// pipeline would apply them (effective time never going back).
pub fn events(data: &[u8]) {
    let mut session = Session::new();
    let mut out = Vec::new();
    let mut now = i64::MIN;
    for line in data.split(|&b| b == b'\n') {
        let Ok(ev) = parse_line(line) else { continue };
        let late = ev.ts < now;
        now = now.max(ev.ts);
        session.apply(&ev, now, late, &mut out);
    }
    let summary = session.summary();
    for (sku, s) in &summary.skus {
        assert!(s.held >= 0 && s.sold >= 0, "{sku}: {s:?}");
    }
    let _ = session.live_view("fuzz", now.max(0));
}

/// Whole shows: event lines shared among their sessions, redeliveries dropped, ordered and
/// applied as SPEC 2 says (the sequential reference, one source, `L` = 2 s), with the timers due
/// by the end fired. Nothing may panic or meet an impossible state (`Session::take_fault`), and
/// every show's figures stay whole.
pub fn sessions(data: &[u8]) {
    use std::collections::{BTreeMap, HashSet};
    const L: i64 = 2_000_000;
    let mut seen = HashSet::new();
    let mut newest: Option<i64> = None;
    let mut events = Vec::new();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let Ok(ev) = parse_line(line) else { continue };
        if let Some((t, a, b)) = ev.dedupe_key() {
            let key = (ev.session_id.to_string(), t, a.to_string(), b.to_string());
            if !seen.insert(key) {
                continue;
            }
        }
        let (eff, late) = match newest.map(|m| m - L) {
            Some(w) if ev.ts < w => (w, true),
            _ => (ev.ts, false),
        };
        newest = Some(newest.map_or(ev.ts, |m| m.max(ev.ts)));
        events.push((eff, ev.type_rank(), i, late, ev));
    }
    events.sort_by_key(|e| (e.0, e.1, e.2));
    let mut shows: BTreeMap<String, Session> = BTreeMap::new();
    let mut out = Vec::new();
    for (eff, _, _, late, ev) in &events {
        let show = shows.entry(ev.session_id.to_string()).or_default();
        if show.overflow(ev).is_some() {
            continue;
        }
        show.apply(ev, *eff, *late, &mut out);
        if let Some(fault) = show.take_fault() {
            panic!("{}: {fault}", ev.to_line());
        }
    }
    let end = newest.map_or(0, |m| m - L);
    for (id, show) in &mut shows {
        show.advance(end, &mut out);
        let summary = show.summary();
        for (sku, s) in &summary.skus {
            assert!(s.held >= 0 && s.sold >= 0, "{id} {sku}: {s:?}");
        }
        let _ = show.live_view(id, end.max(0));
    }
}

fn variant(sku: &str, values: &[&str]) -> Variant {
    let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    Variant::new(sku.into(), &values, 3)
}

static SHEET: LazyLock<RunSheet> = LazyLock::new(|| {
    let mut s = RunSheet::default();
    let mut seen = Default::default();
    let products = [
        Product::new(
            "A12".into(),
            None,
            2500,
            None,
            vec![
                variant("A12-RED-M", &["red", "M"]),
                variant("A12-RED-S", &["red", "S"]),
                variant("A12-NAVY-M", &["Navy Blue", "M"]),
            ],
        ),
        Product::new("B7".into(), None, 900, None, vec![variant("B7", &[])]),
        Product::new(
            "T1".into(),
            None,
            39000,
            None,
            vec![
                variant("T1-PINK", &["粉"]),
                variant("T1-ROSE", &["粉紅"]),
                variant("T1-BLACK", &["黑", "L"]),
            ],
        ),
    ];
    for p in products {
        s.define(p, &mut seen);
    }
    s
});

/// A comment through the claim grammar. The first byte picks the session: which product is
/// active and whether the keyword packs (and the plus form) are on.
pub fn grammar(data: &[u8]) {
    let Some((&mode, text)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let active = ["b7", "t1", "a12", "zz9"]
        .get(usize::from(mode & 3))
        .copied();
    let active = if mode & 4 == 0 { active } else { None };
    let mut cfg = Config::default();
    // The shipped packs: spaced scripts, or the unspaced ones (Thai, and Chinese with the
    // plus form), whose tokens differ.
    let packs: &[&str] = match (mode & 8 != 0, mode & 16 != 0) {
        (true, false) => &["vi", "es", "ph", "it"],
        (true, true) => &["th", "tw"],
        (false, true) => &["th"],
        (false, false) => &[],
    };
    for name in packs {
        packs::pack(name)
            .expect("a shipped pack")
            .apply_to(&mut cfg);
    }
    cfg.max_qty = u64::from(mode >> 5) + 1;
    match read(&text, &SHEET, active, &cfg) {
        Reading::Claim { sku, qty } => {
            assert!(
                SHEET.owner_of(&sku).is_some(),
                "claimed {sku}, not on the sheet"
            );
            assert!((1..=cfg.max_qty).contains(&qty), "qty {qty} past the limit");
        }
        Reading::Cancel { skus } => {
            assert!(skus.iter().all(|s| SHEET.owner_of(s).is_some()), "{skus:?}");
        }
        _ => {}
    }
}
