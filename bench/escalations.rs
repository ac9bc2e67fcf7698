//! Escalations per minute of a show file: what a moderator pod faces, by the sequential replay of SPEC 2.
//!
//! `cargo run --release -p livesell-core --example escalations -- SHOW.jsonl`
//!
//! Each session's events are applied in `(ts, type rank, line)` order, redeliveries dropped (the
//! result of any run whose disorder stays within the allowed lateness). Per session: minutes
//! from its first to its last comment, comments, escalations, escalations per minute, and the
//! open escalations at the end (what is left in the queue).

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

use livesell_core::domain::decision::{Body as Decided, ClaimOutcome};
use livesell_core::domain::event::parse::parse_line;
use livesell_core::domain::event::{Body, Event};
use livesell_core::domain::session::Session;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: escalations SHOW.jsonl");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut by_session: BTreeMap<String, Vec<(i64, u8, usize, Event)>> = BTreeMap::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.expect("a line");
        let Ok(ev) = parse_line(line.as_bytes()) else {
            continue;
        };
        by_session
            .entry(ev.session_id.to_string())
            .or_default()
            .push((ev.ts, ev.type_rank(), n, ev));
    }
    println!("| session | minutes | comments | escalations | per minute | open at the end |");
    println!("|---|---|---|---|---|---|");
    let (mut all_min, mut all_esc) = (0.0, 0u64);
    let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (id, mut events) in by_session {
        events.sort_by_key(|(ts, rank, n, _)| (*ts, *rank, *n));
        let mut seen = HashSet::new();
        let mut session = Session::new();
        let mut out = Vec::new();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for (ts, _, _, ev) in &events {
            if let Some(key) = ev.dedupe_key() {
                let key = (key.0, key.1.to_string(), key.2.to_string());
                if !seen.insert(key) {
                    continue;
                }
            }
            if matches!(ev.body, Body::Comment { .. }) {
                first = first.min(*ts);
                last = last.max(*ts);
            }
            session.apply(ev, *ts, false, &mut out);
            for d in out.drain(..) {
                if let Decided::Claim(c) = d.body {
                    if c.outcome == ClaimOutcome::Escalated {
                        *reasons
                            .entry(c.reason.map_or("", |r| r.as_str()))
                            .or_default() += 1;
                    }
                }
            }
        }
        let s = session.summary();
        let minutes = ((last - first) as f64 / 60e6).max(1.0 / 60.0);
        let open = session.live_view(&id, last).escalations_open;
        all_min += minutes;
        all_esc += s.escalations;
        println!(
            "| {id} | {minutes:.1} | {} | {} | {:.1} | {open} |",
            s.comments,
            s.escalations,
            s.escalations as f64 / minutes
        );
    }
    println!(
        "all sessions: {all_esc} escalations in {all_min:.1} show-minutes, {:.1} per minute",
        all_esc as f64 / all_min
    );
    println!("by reason: {reasons:?}");
}
