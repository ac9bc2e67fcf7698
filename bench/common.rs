//! Helpers the benchmark programs share: the wall clock in milliseconds, and where `livesell` is.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: the `ts` a platform would stamp (TikTok style).
#[allow(dead_code)]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The number after `name` on the command line, or `default`.
#[allow(dead_code)]
pub fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// The `livesell` binary: `given`, or the one next to this example in the target directory.
pub fn livesell_bin(given: Option<&str>) -> String {
    given.map(str::to_string).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.parent()
            .and_then(|p| p.parent())
            .map(|p| p.join("livesell"))
            .expect("target dir")
            .display()
            .to_string()
    })
}

/// The resident set of process `pid` in MiB (0 once it is gone).
#[allow(dead_code)]
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Follows the ticker of session `bench` on `addr` from a thread of its own. Orders are worth
/// 1 cent each, so a frame with `gmv_cents` G has seen orders 1..=G; order k was written at
/// `sent[k - 1]`. While `measuring`, each order's latency to the first frame that covers it
/// goes to `hist` (µs); every frame counts in `frames`.
#[allow(dead_code)]
pub fn follow_orders(
    addr: String,
    sent: std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
    hist: std::sync::Arc<std::sync::Mutex<hdrhistogram::Histogram<u64>>>,
    measuring: std::sync::Arc<std::sync::atomic::AtomicBool>,
    frames: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    use std::io::{BufRead, Write};
    use std::sync::atomic::Ordering;
    std::thread::spawn(move || {
        let s = std::net::TcpStream::connect(&addr).expect("the server listens");
        write!(
            s.try_clone().expect("a socket"),
            "GET /api/ticker?session=bench HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .expect("the request goes");
        let mut s = std::io::BufReader::new(s);
        let (mut covered, mut line) = (0usize, String::new());
        loop {
            line.clear();
            if s.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Some(data) = line.trim_end().strip_prefix("data: ") else {
                continue;
            };
            let at = std::time::Instant::now();
            let v: serde_json::Value = serde_json::from_str(data).expect("a JSON frame");
            let gmv = v["gmv_cents"].as_u64().unwrap_or(0) as usize;
            frames.fetch_add(1, Ordering::Relaxed);
            let sent = sent.lock().expect("no panics while locked");
            let upto = gmv.min(sent.len());
            if measuring.load(Ordering::Relaxed) {
                let mut h = hist.lock().expect("no panics while locked");
                for t in &sent[covered.min(upto)..upto] {
                    let _ = h.record((at - *t).as_micros().max(1) as u64);
                }
            }
            covered = covered.max(upto);
        }
    });
}
