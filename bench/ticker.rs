//! Ticker latency: from an order event entering `livesell serve` (written to its standard input) to the SSE ticker frame that shows it reaching a client, at a steady event rate.
//!
//! `cargo run --release --example ticker -- [--rate 20000] [--seconds 20] [--ticker-ms 100]`
//! Orders are 1 in 200 events, each worth 1 cent more GMV; a frame with `gmv_cents` G has seen
//! every order up to G, so each order's latency is the first frame's arrival covering it minus
//! the time its line was written.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

#[path = "common.rs"]
mod common;
use common::arg;

fn main() {
    let rate = arg("--rate", 20_000.0);
    let seconds = arg("--seconds", 20.0);
    let ticker_ms = arg("--ticker-ms", 100.0) as u64;
    let warmup = Duration::from_secs(3);
    let bin = common::livesell_bin(std::env::var("LIVESELL").ok().as_deref());
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(&bin)
        .args([
            "serve",
            "--input",
            "-",
            "--replay-speed",
            "1",
            "--listen",
            "127.0.0.1:0",
        ])
        .args([
            "--allowed-lateness-ms",
            "0",
            "--idle-ms",
            "50",
            "--workers",
            "2",
        ])
        .args(["--ticker-ms", &ticker_ms.to_string(), "--out"])
        .arg(out.path())
        .env("LIVESELL_DIRECTOR_TOKENS", "bench-director-token-0000")
        .env("LIVESELL_MODERATOR_TOKENS", "bench-moderator-token-000")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start livesell serve");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines();
    let addr = loop {
        let l = lines.next().expect("serve prints its address").unwrap();
        if let Some(rest) = l.split("live dashboard on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());

    let now_ms = common::now_ms;
    let product = format!(
        r#"{{"type":"director","session_id":"bench","ts":{},"action":"product","code":"A1","price_cents":1,"variants":[{{"sku":"A1","stock":1000000000}}]}}"#,
        now_ms()
    );
    writeln!(stdin, "{product}").unwrap();
    stdin.flush().unwrap();

    // Order k (1-based) was written at sent[k - 1].
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let measuring = Arc::new(AtomicBool::new(false));
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap(),
    ));
    let frames = Arc::new(AtomicU64::new(0));
    // Waits for the session to exist, then follows its ticker.
    common::follow_orders(
        addr.clone(),
        sent.clone(),
        hist.clone(),
        measuring.clone(),
        frames.clone(),
    );

    let started = Instant::now();
    let total = (rate * seconds) as u64;
    let texts = [
        "love it",
        "sold A1",
        "how much?",
        "want A1 x2",
        "so pretty",
        "cf A1",
    ];
    let mut orders = 0u64;
    let mut line = String::with_capacity(256);
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if due > now {
            stdin.flush().unwrap();
            std::thread::sleep(due - now);
        }
        if !measuring.load(Ordering::Relaxed) && started.elapsed() >= warmup {
            measuring.store(true, Ordering::Relaxed);
        }
        line.clear();
        let ts = now_ms();
        if i % 200 == 0 {
            orders += 1;
            line.push_str(&format!(
                r#"{{"type":"order","session_id":"bench","ts":{ts},"order_id":"o{orders}","platform":"web","user_id":"b{orders}","sku":"A1","qty":1,"amount_cents":1,"status":"paid"}}"#
            ));
            writeln!(stdin, "{line}").unwrap();
            stdin.flush().unwrap();
            let mut s = sent.lock().unwrap();
            s.push(Instant::now());
        } else {
            line.push_str(&format!(
                r#"{{"type":"comment","session_id":"bench","ts":{ts},"platform":"tiktok","comment_id":"c{i}","user_id":"u{}","text":"{}"}}"#,
                i % 5000,
                texts[i as usize % texts.len()]
            ));
            writeln!(stdin, "{line}").unwrap();
        }
    }
    stdin.flush().unwrap();
    let took = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    let h = hist.lock().unwrap();
    println!(
        "rate {:.0} events/s offered for {:.1} s ({} orders); ticker every >= {ticker_ms} ms; {} frames",
        total as f64 / took,
        took,
        orders,
        frames.load(Ordering::Relaxed)
    );
    println!(
        "order -> SSE frame latency over {} orders after {} s warm-up: p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms, max {:.1} ms",
        h.len(),
        warmup.as_secs(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.value_at_quantile(0.999) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    );
    let _ = child.kill();
    let _ = child.wait();
}
