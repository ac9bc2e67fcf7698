//! Test helpers (a timeline of events, decisions in brief) and the tests spanning several concerns.

use super::*;
use crate::domain::decision::SkuSummary;
use crate::domain::event::parse::parse_line;

pub(super) const T0: Micros = 1_800_000_000_000_000;

/// The event `body` stamped `sec` seconds after `T0`.
pub(super) fn event(sec: i64, body: &str) -> Event {
    let line = format!(
        r#"{{"session_id":"s","ts":{},{body}}}"#,
        (T0 / 1000) + sec * 1000
    );
    parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Applies `(second, json-without-type-prefix)` events in order and returns every decision.
pub(super) fn run(s: &mut Session, events: &[(i64, &str)]) -> Vec<Decision> {
    let mut out = Vec::new();
    for (sec, body) in events {
        let ev = event(*sec, body);
        s.apply(&ev, ev.ts, false, &mut out);
    }
    out
}

pub(super) fn brief(d: &Decision) -> String {
    let when = (d.ts - T0) / 1_000_000;
    match &d.body {
        DBody::Claim(c) => format!(
            "{when} claim {} {} {}{}{}",
            c.claim_id,
            c.outcome.as_str(),
            c.sku.as_deref().unwrap_or("-"),
            c.reason
                .map(|r| format!(" {}", r.as_str()))
                .unwrap_or_default(),
            c.waitlist_position
                .map(|p| format!(" #{p}"))
                .unwrap_or_default()
        ),
        DBody::Reservation(r) => format!(
            "{when} res {} {} until {}",
            r.reservation_id,
            r.event.as_str(),
            (r.expires_at - T0) / 1_000_000
        ),
        DBody::Order(o) => format!("{when} order {} {}", o.order_id, o.outcome.as_str()),
        DBody::Session(e) => format!("{when} session {}", e.as_str()),
    }
}

/// `run`, with the rejects of a closed session as `"<t> reject session_closed"` and the
/// reasons of reservation events after them.
pub(super) fn replay(s: &mut Session, events: &[(i64, String)]) -> Vec<String> {
    let mut lines = Vec::new();
    for (sec, body) in events {
        let mut out = Vec::new();
        let ev = event(*sec, body);
        let applied = s.apply(&ev, ev.ts, false, &mut out);
        lines.extend(out.iter().map(brief_with_reason));
        if !applied {
            lines.push(format!("{sec} reject session_closed"));
        }
    }
    lines
}

pub(super) fn brief_with_reason(d: &Decision) -> String {
    match &d.body {
        DBody::Reservation(r) if r.reason.is_some() => {
            format!("{} {}", brief(d), r.reason.unwrap_or_default())
        }
        _ => brief(d),
    }
}

/// Fires the session's timers as a watermark at `sec` would.
pub(super) fn watermark(s: &mut Session, sec: i64) -> Vec<String> {
    let mut out = Vec::new();
    s.advance(T0 + sec * 1_000_000, &mut out);
    out.iter().map(brief_with_reason).collect()
}

pub(super) fn owned(events: &[(i64, &str)]) -> Vec<(i64, String)> {
    events.iter().map(|(t, e)| (*t, e.to_string())).collect()
}

pub(super) const K1: &[(i64, &str)] = &[
    (
        0,
        r#""type":"director","action":"config","reservation_window_s":60"#,
    ),
    (
        0,
        r#""type":"director","action":"product","code":"K1","price_cents":2500,"variants":[{"sku":"K1","stock":2}]"#,
    ),
    (0, r#""type":"director","action":"activate","code":"K1""#),
];

pub(super) fn comment(platform: &str, id: &str, user: &str, text: &str) -> String {
    format!(
        r#""type":"comment","platform":"{platform}","comment_id":"{id}","user_id":"{user}","text":"{text}""#
    )
}

pub(super) fn order(id: &str, platform: &str, user: &str, status: &str) -> String {
    format!(
        r#""type":"order","order_id":"{id}","platform":"{platform}","user_id":"{user}","sku":"K1","qty":1,"amount_cents":2500,"status":"{status}""#
    )
}

#[test]
fn the_worked_example_timeline() {
    let mut s = Session::new();
    run(&mut s, K1);
    let events: Vec<(i64, String)> = vec![
        (1, comment("tiktok", "c1", "u1", "sold")),
        (2, comment("facebook", "c2", "u2", "sold")),
        (3, comment("youtube", "c3", "u3", "sold x2")),
        (4, comment("instagram", "c4", "u4", "mine")),
        (5, comment("tiktok", "c5", "u1", "sold")),
        (10, order("o1", "tiktok", "u1", "paid")),
        (20, comment("facebook", "c6", "u2", "cancel")),
        (30, r#""type":"stock","sku":"K1","delta":1"#.to_string()),
        (85, order("o2", "instagram", "u4", "paid")),
    ];
    let events: Vec<(i64, &str)> = events.iter().map(|(t, e)| (*t, e.as_str())).collect();
    let got: Vec<String> = run(&mut s, &events).iter().map(brief).collect();
    let want = vec![
        "1 claim tiktok:c1 reserved K1",
        "1 res res:tiktok:c1 created until 61",
        "2 claim facebook:c2 reserved K1",
        "2 res res:facebook:c2 created until 62",
        "3 claim youtube:c3 waitlisted K1 #1",
        "4 claim instagram:c4 waitlisted K1 #2",
        "5 claim tiktok:c5 rejected K1 duplicate_claim",
        "10 res res:tiktok:c1 converted until 61",
        "10 order o1 converted",
        "20 res res:facebook:c2 cancelled until 62",
        "20 claim facebook:c6 cancelled K1",
        "20 claim instagram:c4 promoted K1",
        "20 res res:instagram:c4 created until 80",
        "80 res res:instagram:c4 expired until 80",
        "80 claim youtube:c3 promoted K1",
        "80 res res:youtube:c3 created until 140",
        "85 order o2 oversell",
    ];
    assert_eq!(got, want);
    // Had the show gone quiet, the expiry at 80 would have fired on the watermark alone.
    let mut quiet = Session::new();
    run(&mut quiet, K1);
    run(&mut quiet, &events[..8]);
    assert_eq!(quiet.next_timer(), Some(T0 + 80_000_000));
    assert_eq!(watermark(&mut quiet, 79), Vec::<String>::new());
    assert_eq!(
        watermark(&mut quiet, 80),
        [
            "80 res res:instagram:c4 expired until 80",
            "80 claim youtube:c3 promoted K1",
            "80 res res:youtube:c3 created until 140",
        ]
    );
    let sum = s.summary();
    assert_eq!(sum.gmv_cents, 5000);
    assert_eq!(sum.units_sold, 2);
    assert_eq!(sum.held_units, 2);
    assert_eq!(sum.oversells, 1);
    assert_eq!(
        sum.skus["K1"],
        SkuSummary {
            pool: 3,
            held: 2,
            sold: 2,
            available: -1,
            waitlist: 0
        }
    );
    assert_eq!(sum.claims, 5);
    assert_eq!(sum.comments, 6);
    assert_eq!(sum.buyers, 4);
    assert_eq!(sum.waitlisted, 2);
    assert_eq!(sum.rejected, 1);
    assert_eq!(sum.reservations_created, 4);
}

pub(super) const CLOSE_AFTER_3600: &str =
    r#""type":"director","action":"config","close_after_s":3600"#;
pub(super) const END: &str = r#""type":"director","action":"end""#;

pub(super) fn paid(id: &str, platform: &str, user: &str, qty: u64) -> String {
    format!(
        r#""type":"order","order_id":"{id}","platform":"{platform}","user_id":"{user}","sku":"K1","qty":{qty},"amount_cents":{},"status":"paid""#,
        qty * 2500
    )
}

#[test]
fn the_worked_example_timeline_continued_to_the_end_and_the_close() {
    let mut s = Session::new();
    let mut events = owned(K1);
    events.push((0, CLOSE_AFTER_3600.to_string()));
    events.extend([
        (1, comment("tiktok", "c1", "u1", "sold")),
        (2, comment("facebook", "c2", "u2", "sold")),
        (3, comment("youtube", "c3", "u3", "sold x2")),
        (4, comment("instagram", "c4", "u4", "mine")),
        (5, comment("tiktok", "c5", "u1", "sold")),
        (10, order("o1", "tiktok", "u1", "paid")),
        (20, comment("facebook", "c6", "u2", "cancel")),
        (30, r#""type":"stock","sku":"K1","delta":1"#.to_string()),
        (85, order("o2", "instagram", "u4", "paid")),
    ]);
    replay(&mut s, &events);
    let got = replay(
        &mut s,
        &[
            (100, END.to_string()),
            (110, comment("tiktok", "c7", "u5", "sold")),
            (120, paid("o3", "youtube", "u3", 2)),
        ],
    );
    assert_eq!(
        got,
        [
            "100 session ended",
            "110 claim tiktok:c7 rejected - show_ended",
            "120 res res:youtube:c3 converted until 140",
            "120 order o3 converted",
        ]
    );
    assert_eq!(s.close_at(), Some(T0 + 3_700_000_000));
    assert_eq!(watermark(&mut s, 3699), Vec::<String>::new());
    assert_eq!(watermark(&mut s, 3700), ["3700 session closed"]);
    let at_close = s.summary();
    let after = replay(&mut s, &[(3800, paid("o4", "tiktok", "u6", 1))]);
    assert_eq!(after, ["3800 reject session_closed"]);
    let sum = s.summary();
    assert_eq!(sum, at_close, "nothing counts after the close");
    assert_eq!(sum.gmv_cents, 10000);
    assert_eq!(sum.units_sold, 4);
    assert_eq!(sum.held_units, 0);
    assert_eq!(sum.skus["K1"].available, -1);
    assert_eq!(s.closed_at(), Some(T0 + 3_700_000_000));
    assert_eq!(s.next_timer(), None, "no timer fires after the close");
}

/// A checkpoint (`livesell run --checkpoint-dir`) is the session's state serialized: a
/// session read back at any point of the timeline goes on exactly as one that never
/// stopped, its decisions, summary, live view and timers alike.
#[test]
fn a_session_read_back_from_its_bytes_goes_on_as_if_it_never_stopped() {
    let mut events = owned(K1);
    events.push((0, CLOSE_AFTER_3600.to_string()));
    events.extend([
        (1, comment("tiktok", "c1", "u1", "sold")),
        (2, comment("facebook", "c2", "u2", "sold x2")),
        (3, comment("youtube", "c3", "u3", "sodl")),
        (4, comment("instagram", "c4", "u4", "K1 x9")),
        (5, comment("tiktok", "c5", "u1", "sold")),
        (10, order("o1", "tiktok", "u1", "paid")),
        (20, comment("facebook", "c6", "u2", "cancel")),
        (30, r#""type":"stock","sku":"K1","delta":1"#.to_string()),
        (85, order("o2", "instagram", "u4", "paid")),
        (100, END.to_string()),
        (110, comment("tiktok", "c7", "u5", "sold")),
        (120, paid("o3", "youtube", "u3", 2)),
    ]);
    let finish = |s: &mut Session, rest: &[(i64, String)]| {
        let mut lines = replay(s, rest);
        lines.extend(watermark(s, 3700));
        (lines, s.summary())
    };
    let whole = finish(&mut Session::new(), &events);
    for cut in 0..=events.len() {
        let mut s = Session::new();
        let mut lines = replay(&mut s, &events[..cut]);
        let bytes = bincode::serialize(&s).expect("a session serializes");
        let mut back: Session = bincode::deserialize(&bytes).expect("and reads back");
        assert_eq!(back.live_view("s", T0), s.live_view("s", T0), "cut {cut}");
        assert_eq!(back.next_timer(), s.next_timer(), "cut {cut}");
        let (rest, summary) = finish(&mut back, &events[cut..]);
        lines.extend(rest);
        assert_eq!((lines, summary), whole, "cut after {cut} events");
    }
    let corrupt = bincode::serialize(&Session::new()).expect("serializes");
    assert!(bincode::deserialize::<Session>(&corrupt[..corrupt.len() / 2]).is_err());
}

#[test]
fn after_the_end_claims_are_rejected_and_everything_else_goes_on() {
    let mut s = Session::new();
    let mut events = owned(K1);
    events.extend([
        (1, comment("tiktok", "c1", "u1", "sold")),
        (2, comment("tiktok", "c2", "u2", "sold x2")),
        (3, comment("tiktok", "c3", "u3", "sodl")),
        (4, END.to_string()),
    ]);
    let before = replay(&mut s, &events);
    assert!(before.contains(&"3 claim tiktok:c3 escalated - fuzzy_keyword".to_string()));
    assert_eq!(before.last().map(String::as_str), Some("4 session ended"));
    let reserve =
        r#""type":"reserve","request_id":"r1","platform":"web","user_id":"w1","sku":"K1","qty":1"#;
    let unknown = r#""type":"reserve","request_id":"r2","platform":"web","user_id":"w2","sku":"NOPE","qty":1"#;
    let accept = r#""type":"moderation","escalation_id":"esc:tiktok:c3","decision":"accept","sku":"K1","qty":1"#;
    let got = replay(
        &mut s,
        &[
            (5, comment("tiktok", "c4", "u4", "sold")),
            (6, comment("tiktok", "c5", "u5", "K1 x1")),
            (7, comment("tiktok", "c6", "u6", "is it sold?")),
            (8, comment("tiktok", "c7", "u7", "sodl")),
            (9, comment("tiktok", "c8", "u8", "sold x9")),
            (10, reserve.to_string()),
            (11, unknown.to_string()),
            (12, END.to_string()),
            (
                13,
                r#""type":"director","action":"activate","code":"K1""#.to_string(),
            ),
            (14, comment("tiktok", "c9", "u9", "mine")),
            (20, r#""type":"stock","sku":"K1","delta":2"#.to_string()),
            (21, accept.to_string()),
            (22, comment("tiktok", "c10", "u1", "cancel")),
        ],
    );
    assert_eq!(
        got,
        [
            "5 claim tiktok:c4 rejected - show_ended",
            "6 claim tiktok:c5 rejected - show_ended",
            "9 claim tiktok:c8 rejected - show_ended",
            "10 claim req:r1 rejected K1 show_ended",
            "11 claim req:r2 rejected NOPE show_ended",
            "14 claim tiktok:c9 rejected - show_ended",
            "20 claim tiktok:c2 promoted K1",
            "20 res res:tiktok:c2 created until 80",
            "21 claim tiktok:c3 reserved K1",
            "21 res res:tiktok:c3 created until 81",
            "22 res res:tiktok:c1 cancelled until 61",
            "22 claim tiktok:c10 cancelled K1",
        ]
    );
    let sum = s.summary();
    // c1, c2, c4, c5, c8, c9 and both reserves are claims; c3 (fuzzy) is not.
    assert_eq!(sum.claims, 8);
    assert_eq!(sum.rejected, 6);
    assert_eq!(sum.escalations, 1);
    // Expiries and their promotions still fire after the end.
    assert_eq!(
        watermark(&mut s, 80),
        ["80 res res:tiktok:c2 expired until 80"]
    );
}

/// A stock delta or an order that would take a figure past 64 bits is refused by
/// `overflow` (the engine turns it into a reject) instead of wrapping.
#[test]
fn sums_that_would_pass_64_bits_are_found_before_they_wrap() {
    use crate::domain::event::{Body, Event, StockChange};
    let mut s = Session::new();
    let mut out = Vec::new();
    let stock = |change| Event {
        session_id: "s".into(),
        ts: 1,
        body: Body::Stock {
            sku: "A1".into(),
            change,
        },
    };
    assert!(s.apply(&stock(StockChange::Set(i64::MAX - 1)), 1, false, &mut out));
    assert_eq!(s.overflow(&stock(StockChange::Delta(1))), None);
    let why = s.overflow(&stock(StockChange::Delta(2))).unwrap();
    assert!(why.contains("passes 64 bits"), "{why}");
    assert_eq!(s.overflow(&stock(StockChange::Delta(-5))), None);
}
