//! What the journal of `livesell serve` costs an action: requests answered per second and the answer time, with the journal (synced before each answer, group commit) and without it (`--no-journal`).
//!
//! `cargo run --release --example journal -- [--clients 32] [--seconds 10]`
//!
//! For each mode a child `livesell serve` on a fresh folder gets a product, then `--clients`
//! threads post director `price` actions, each as soon as its last one was answered, on a new
//! connection each (as a platform's webhook delivery comes). Every answer time goes to an
//! hdrhistogram; a non-2xx answer counts as refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

#[path = "common.rs"]
mod common;
use common::{arg, livesell_bin};

const TOKEN: &str = "bench-director-token-0001";

/// One POST of `body` to `/api/director`; its status.
fn post(addr: &str, body: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = write!(
        s,
        "POST /api/director HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn run(journal: bool, clients: usize, seconds: f64) {
    let dir = tempfile::tempdir().expect("a folder");
    let mut cmd = Command::new(livesell_bin(None));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--out"])
        .arg(dir.path().join("out"))
        .env("LIVESELL_DIRECTOR_TOKENS", TOKEN)
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    if !journal {
        cmd.arg("--no-journal");
    }
    let mut child = cmd.spawn().expect("livesell serve starts");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut addr = String::new();
    let mut lines = stderr.lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(rest) = line.split("live dashboard on http://").nth(1) {
            addr = rest.split('/').next().unwrap_or_default().to_string();
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let product = r#"{"session_id":"bench","action":"product","code":"K1","price_cents":100,"variants":[{"sku":"K1","stock":1000}]}"#;
    assert_eq!(post(&addr, product), 202);
    let started = Instant::now();
    while post(
        &addr,
        r#"{"session_id":"bench","action":"price","code":"K1","price_cents":101}"#,
    ) != 202
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the product never came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
    ));
    let (done, refused) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, hist, done, refused) =
                (addr.clone(), hist.clone(), done.clone(), refused.clone());
            std::thread::spawn(move || {
                let mut mine = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
                let mut i = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let body = format!(
                        r#"{{"session_id":"bench","action":"price","code":"K1","price_cents":{}}}"#,
                        100 + (c as u64 * 1_000_000 + i) % 1_000_000
                    );
                    let t = Instant::now();
                    let status = post(&addr, &body);
                    if (200..300).contains(&status) {
                        let _ = mine.record(t.elapsed().as_micros().max(1) as u64);
                    } else {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
                hist.lock().expect("hist").add(&mine).expect("same bounds");
            })
        })
        .collect();
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    done.store(true, Ordering::Relaxed);
    workers
        .into_iter()
        .for_each(|w| w.join().expect("a client"));
    let took = t.elapsed().as_secs_f64();
    let h = hist.lock().expect("hist");
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{:<10} {clients} clients, {seconds:.0} s: {:.0} answered/s ({} answered, {} refused); answer time p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        if journal { "journal" } else { "no journal" },
        h.len() as f64 / took,
        h.len(),
        refused.load(Ordering::Relaxed),
        ms(0.5),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    let clients = arg("--clients", 32.0) as usize;
    let seconds = arg("--seconds", 10.0);
    run(false, clients, seconds);
    run(true, clients, seconds);
}
