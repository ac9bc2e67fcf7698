//! One sku with 100K holders and 100K waiting: a stock shortfall that revokes them all, and waitlist walks, in the pure session (no dataflow).
//!
//! `cargo run --release -p livesell-core --example holders -- [HOLDERS]`
//!
//! Prints the time of each phase. Revoking k of n holds was a scan of every holder per
//! revocation (O(n·k): 10^10 steps for 100K); it is now one heap (O(n + k log n)). Promoting
//! from the middle of a waitlist removed entries one by one; it is now one pass.

use std::time::Instant;

use livesell_core::domain::event::parse::parse_line;
use livesell_core::domain::session::Session;

const T0_MS: i64 = 1_795_000_000_000;

fn apply(s: &mut Session, out: &mut Vec<livesell_core::domain::decision::Decision>, line: &str) {
    let ev = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e:?}"));
    s.apply(&ev, ev.ts, false, out);
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("HOLDERS is a number"))
        .unwrap_or(100_000);
    let mut s = Session::new();
    let mut out = Vec::new();
    let ms = T0_MS;
    // A window longer than the bench, so nothing expires on its own.
    apply(
        &mut s,
        &mut out,
        &format!(
            r#"{{"type":"director","session_id":"b","ts":{ms},"action":"config","reservation_window_s":86400,"idle_close_s":864000}}"#
        ),
    );
    apply(
        &mut s,
        &mut out,
        &format!(
            r#"{{"type":"director","session_id":"b","ts":{ms},"action":"product","code":"K1","price_cents":100,"variants":[{{"sku":"K1","stock":{n}}}]}}"#
        ),
    );
    apply(
        &mut s,
        &mut out,
        &format!(
            r#"{{"type":"director","session_id":"b","ts":{ms},"action":"activate","code":"K1"}}"#
        ),
    );
    let started = Instant::now();
    for i in 0..n {
        let t = ms + 1 + i as i64 / 100;
        apply(
            &mut s,
            &mut out,
            &format!(
                r#"{{"type":"comment","session_id":"b","ts":{t},"platform":"tiktok","comment_id":"h{i}","user_id":"h{i}","text":"sold"}}"#
            ),
        );
    }
    let holds = started.elapsed();
    out.clear();
    let t = ms + 10_000_000;
    let started = Instant::now();
    apply(
        &mut s,
        &mut out,
        &format!(r#"{{"type":"stock","session_id":"b","ts":{t},"sku":"K1","set":0}}"#),
    );
    let revoke = started.elapsed();
    let revoked = out.len();
    // Now n buyers wait, each for 2 units, behind one who wants 3.
    out.clear();
    apply(
        &mut s,
        &mut out,
        &format!(
            r#"{{"type":"comment","session_id":"b","ts":{},"platform":"youtube","comment_id":"big","user_id":"big","text":"sold x3"}}"#,
            t + 1
        ),
    );
    let started = Instant::now();
    for i in 0..n {
        let t = t + 2 + i as i64 / 100;
        apply(
            &mut s,
            &mut out,
            &format!(
                r#"{{"type":"comment","session_id":"b","ts":{t},"platform":"facebook","comment_id":"w{i}","user_id":"w{i}","text":"sold x2"}}"#
            ),
        );
    }
    let queued = started.elapsed();
    out.clear();
    // Stock comes back two units at a time: each walk passes the one who wants 3.
    let t = t + 20_000_000;
    let started = Instant::now();
    for k in 1..=1000 {
        apply(
            &mut s,
            &mut out,
            &format!(
                r#"{{"type":"stock","session_id":"b","ts":{},"sku":"K1","set":{}}}"#,
                t + k,
                2 * k
            ),
        );
    }
    let walks = started.elapsed();
    println!("holders: {n}");
    println!("{n} holds: {:.1} ms", holds.as_secs_f64() * 1e3);
    println!(
        "stock set to 0, {revoked} decisions (revocations): {:.1} ms",
        revoke.as_secs_f64() * 1e3
    );
    println!("{n} waiting: {:.1} ms", queued.as_secs_f64() * 1e3);
    println!(
        "1,000 walks past a blocker ({} decisions): {:.1} ms",
        out.len(),
        walks.as_secs_f64() * 1e3
    );
}
