//! A crowd of viewers on one live show: thousands of Server-Sent Events clients on `/api/ticker` and `/api/overlay` while the show streams in, and whether the crowd slows the engine.
//!
//! `cargo run --release --example crowd -- [--ticker 10000] [--overlay 10000] [--rate 5000] [--seconds 30] [--ticker-ms 100]`
//!
//! A child `livesell serve --input -` gets `--rate` events/s of one show on standard input, each
//! stamped with the wall clock (a paid order of 1 cent every 200th). The crowd's clients connect
//! in batches, then each measures every frame's delay on arrival: the wall clock minus the
//! frame's `as_of` (the event time of the last event the frame has seen, that is when its line
//! was written). Meanwhile one more client measures the engine as the ticker bench does: from an
//! order's line written to the first ticker frame whose `gmv_cents` covers it. The server's RSS is
//! sampled every second. Run once with `--ticker 0 --overlay 0` for the engine's figure alone.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use livesell::domain::time::parse_rfc3339;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

#[path = "common.rs"]
mod common;
use common::{arg, livesell_bin, rss_mib};

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

type Hist = Arc<Mutex<Histogram<u64>>>;

fn hist() -> Hist {
    Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap(),
    ))
}

/// One viewer: follows `path`'s frames and records each one's delay (µs) while `measuring`.
async fn viewer(
    addr: String,
    path: &'static str,
    delays: Hist,
    measuring: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    connected: Arc<AtomicU64>,
) {
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return;
    };
    let req = format!(
        "GET {path}?session=bench HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return;
    }
    connected.fetch_add(1, Ordering::Relaxed);
    let mut lines = tokio::io::BufReader::new(s).lines();
    let mut local = Vec::with_capacity(64);
    while let Ok(Some(line)) = lines.next_line().await {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let at = now_us();
        frames.fetch_add(1, Ordering::Relaxed);
        // `"as_of":"…"` without parsing the whole frame: the client must stay cheap.
        let as_of = data
            .split("\"as_of\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|t| parse_rfc3339(t).ok());
        if let (Some(t), true) = (as_of, measuring.load(Ordering::Relaxed)) {
            local.push((at - t).max(1) as u64);
            if local.len() == 4 {
                let mut h = delays.lock().unwrap();
                for d in local.drain(..) {
                    let _ = h.record(d);
                }
            }
        }
    }
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn main() {
    let tickers = arg("--ticker", 10_000.0) as usize;
    let overlays = arg("--overlay", 10_000.0) as usize;
    let rate = arg("--rate", 5_000.0);
    let seconds = arg("--seconds", 30.0);
    let ticker_ms = arg("--ticker-ms", 100.0) as u64;
    let bin = livesell_bin(std::env::var("LIVESELL").ok().as_deref());
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(&bin)
        .args(["serve", "--input", "-", "--replay-speed", "1"])
        .args(["--listen", "127.0.0.1:0", "--allowed-lateness-ms", "0"])
        .args(["--idle-ms", "50", "--workers", "2"])
        .args(["--ticker-ms", &ticker_ms.to_string(), "--out"])
        .arg(out.path())
        .env("LIVESELL_DIRECTOR_TOKENS", "bench-director-token-0000")
        .env("LIVESELL_MODERATOR_TOKENS", "bench-moderator-token-000")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start livesell serve");
    let pid = child.id();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let l = err.next().expect("serve prints its address").unwrap();
        if let Some(rest) = l.split("live dashboard on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in err {});
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    let start_ms = common::now_ms();
    writeln!(
        stdin,
        r#"{{"type":"director","session_id":"bench","ts":{start_ms},"action":"product","code":"A1","price_cents":1,"variants":[{{"sku":"A1","stock":1000000000}}]}}"#
    )
    .unwrap();
    writeln!(
        stdin,
        r#"{{"type":"director","session_id":"bench","ts":{start_ms},"action":"activate","code":"A1"}}"#
    )
    .unwrap();
    stdin.flush().unwrap();

    let measuring = Arc::new(AtomicBool::new(false));
    let (crowd_delays, engine) = (hist(), hist());
    let frames = Arc::new(AtomicU64::new(0));
    let connected = Arc::new(AtomicU64::new(0));
    // The crowd, on a runtime of its own thread so the feed keeps its pace.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    {
        let (addr, d, m, f, c) = (
            addr.clone(),
            crowd_delays.clone(),
            measuring.clone(),
            frames.clone(),
            connected.clone(),
        );
        runtime.spawn(async move {
            let paths = std::iter::repeat_n("/api/ticker", tickers)
                .chain(std::iter::repeat_n("/api/overlay", overlays));
            for (i, path) in paths.enumerate() {
                tokio::spawn(viewer(
                    addr.clone(),
                    path,
                    d.clone(),
                    m.clone(),
                    f.clone(),
                    c.clone(),
                ));
                // Batches of 200: the listen backlog takes them without SYN retries.
                if i % 200 == 199 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
    }

    // Order k (1-based) was written at sent[k - 1]; one client follows the ticker for them.
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    common::follow_orders(
        addr.clone(),
        sent.clone(),
        engine.clone(),
        measuring.clone(),
        Arc::new(AtomicU64::new(0)),
    );

    // Wait for the crowd (at most a minute) before the show streams in.
    let waited = Instant::now();
    while (connected.load(Ordering::Relaxed) as usize) < tickers + overlays
        && waited.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let crowd = connected.load(Ordering::Relaxed);
    let rss_before = rss_mib(pid);
    let warmup = Duration::from_secs(3);
    let started = Instant::now();
    let total = (rate * seconds) as u64;
    let mut rss = Vec::new();
    let mut next_sample = started;
    let mut orders = 0u64;
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if due > now {
            stdin.flush().unwrap();
            std::thread::sleep(due - now);
        }
        if now >= next_sample {
            rss.push(rss_mib(pid));
            next_sample += Duration::from_secs(1);
        }
        if !measuring.load(Ordering::Relaxed) && started.elapsed() >= warmup {
            measuring.store(true, Ordering::Relaxed);
        }
        let ts = now_us() / 1000;
        if i % 200 == 0 {
            orders += 1;
            writeln!(
                stdin,
                r#"{{"type":"order","session_id":"bench","ts":{ts},"order_id":"o{orders}","platform":"web","user_id":"b{orders}","sku":"A1","qty":1,"amount_cents":1,"status":"paid"}}"#
            )
            .unwrap();
            stdin.flush().unwrap();
            sent.lock().unwrap().push(Instant::now());
        } else {
            writeln!(
                stdin,
                r#"{{"type":"comment","session_id":"bench","ts":{ts},"platform":"tiktok","comment_id":"c{i}","user_id":"u{}","text":"love it"}}"#,
                i % 5000
            )
            .unwrap();
        }
    }
    stdin.flush().unwrap();
    let took = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    measuring.store(false, Ordering::Relaxed);
    let (c, e) = (crowd_delays.lock().unwrap(), engine.lock().unwrap());
    println!(
        "{crowd} of {} streams connected ({tickers} ticker, {overlays} overlay); {:.0} events/s for {took:.1} s; ticker every >= {ticker_ms} ms",
        tickers + overlays,
        total as f64 / took
    );
    println!(
        "frames to the crowd: {} ({:.0}/s); frame delay over {} frames: p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms, max {:.1} ms",
        frames.load(Ordering::Relaxed),
        frames.load(Ordering::Relaxed) as f64 / (took + 2.0),
        c.len(),
        ms(&c, 0.5),
        ms(&c, 0.99),
        ms(&c, 0.999),
        c.max() as f64 / 1000.0
    );
    println!(
        "engine meanwhile, order -> ticker frame over {} orders: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        e.len(),
        ms(&e, 0.5),
        ms(&e, 0.99),
        e.max() as f64 / 1000.0
    );
    let max = rss.iter().cloned().fold(0.0, f64::max);
    println!(
        "server RSS: {rss_before:.0} MiB with the crowd connected, max {max:.0} MiB while streaming, per second: {}",
        rss.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    runtime.shutdown_background();
}
