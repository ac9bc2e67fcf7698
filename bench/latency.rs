//! Arrival-to-decision latency of `livesell run --input -` at a steady event rate (hdrhistogram).
//!
//! Writes claim comments stamped with the wall clock to the pipeline's stdin at `--rate` events/s,
//! tails `decisions.jsonl`, and measures from the moment a comment was written to the moment its
//! claim decision is readable in the file. Run: `cargo run --release --example latency -- --help`.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;

#[derive(Parser)]
struct Args {
    /// Events per second written to the pipeline.
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// Seconds of steady load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value_t = 2)]
    workers: usize,
    #[arg(long, default_value_t = 2000)]
    allowed_lateness_ms: u64,
    /// The livesell binary (default: next to this example).
    #[arg(long)]
    bin: Option<String>,
    /// Shows of this many seconds each, one after another (each ends with the director's
    /// `end` and closes 2 s later, so its state leaves memory); 0: one show for the whole run.
    #[arg(long, default_value_t = 0)]
    show_secs: u64,
    /// Keep what was sent in this file, run it again as a file run afterwards and compare the
    /// two `summary.json`s (nothing lost).
    #[arg(long)]
    record: Option<std::path::PathBuf>,
}

#[path = "common.rs"]
mod common;
use common::{livesell_bin, now_ms};

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bin = livesell_bin(args.bin.as_deref());
    let out = std::env::temp_dir().join(format!("livesell-latency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut child = Command::new(&bin)
        .args([
            "run",
            "--quiet",
            "--input",
            "-",
            "--workers",
            &args.workers.to_string(),
        ])
        .args([
            "--allowed-lateness-ms",
            &args.allowed_lateness_ms.to_string(),
            "--out",
        ])
        .arg(&out)
        .stdin(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let pid = child.id();
    let mut record = match &args.record {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let sent: std::sync::Arc<std::sync::Mutex<HashMap<u64, Instant>>> = Default::default();

    // The run sheet: one product with stock for everybody, so each comment is reserved.
    let opening = |show: u64, t: i64| {
        format!(
            "{{\"type\":\"director\",\"session_id\":\"bench-{show}\",\"ts\":{t},\"action\":\"config\",\"close_after_s\":2}}\n\
             {{\"type\":\"director\",\"session_id\":\"bench-{show}\",\"ts\":{t},\"action\":\"product\",\"code\":\"K1\",\"price_cents\":100,\"variants\":[{{\"sku\":\"K1\",\"stock\":100000000}}]}}\n\
             {{\"type\":\"director\",\"session_id\":\"bench-{show}\",\"ts\":{t},\"action\":\"activate\",\"code\":\"K1\"}}\n"
        )
    };
    let first = opening(0, now_ms());
    stdin.write_all(first.as_bytes())?;
    if let Some(r) = record.as_mut() {
        r.write_all(first.as_bytes())?;
    }

    let writer = {
        let sent = sent.clone();
        let (rate, seconds, show_secs) = (args.rate, args.seconds, args.show_secs);
        std::thread::spawn(move || -> std::io::Result<u64> {
            let start = Instant::now();
            let total = rate * seconds;
            let mut buf = String::new();
            let mut i = 0u64;
            let mut show = 0u64;
            while i < total {
                // Send everything due by now, in small batches, like a platform webhook feed.
                let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
                if due == i {
                    std::thread::sleep(Duration::from_micros(200));
                    continue;
                }
                buf.clear();
                let ts = now_ms();
                if show_secs > 0 && start.elapsed().as_secs() / show_secs > show {
                    // SPEC 3.5: the director ends the show; its state leaves at the close.
                    buf.push_str(&format!(
                        "{{\"type\":\"director\",\"session_id\":\"bench-{show}\",\"ts\":{ts},\"action\":\"end\"}}\n"
                    ));
                    show += 1;
                    buf.push_str(&opening(show, ts));
                }
                for n in i..due {
                    buf.push_str(&format!(
                        "{{\"type\":\"comment\",\"session_id\":\"bench-{show}\",\"ts\":{ts},\"platform\":\"tiktok\",\"comment_id\":\"{n}\",\"user_id\":\"u{}\",\"text\":\"sold\"}}\n",
                        n % 20_000
                    ));
                }
                stdin.write_all(buf.as_bytes())?;
                if let Some(r) = record.as_mut() {
                    r.write_all(buf.as_bytes())?;
                }
                stdin.flush()?;
                let at = Instant::now();
                let mut map = sent.lock().expect("no panics while locked");
                for n in i..due {
                    map.insert(n, at);
                }
                i = due;
            }
            Ok(total)
        })
    };

    // Tail decisions.jsonl until every comment's claim decision has been seen.
    let total = args.rate * args.seconds;
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let path = out.join("decisions.jsonl");
    let mut pos = 0u64;
    let mut partial = String::new();
    let deadline = Instant::now() + Duration::from_secs(args.seconds + 60);
    let mut seen = 0u64;
    let mut rss = Vec::new();
    let mut next_sample = Instant::now();
    while seen < total && Instant::now() < deadline {
        if Instant::now() >= next_sample {
            rss.push(common::rss_mib(pid));
            next_sample += Duration::from_secs(1);
        }
        let Ok(mut f) = std::fs::File::open(&path) else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        f.seek(SeekFrom::Start(pos))?;
        let mut chunk = String::new();
        let n = f.read_to_string(&mut chunk)?;
        if n == 0 {
            std::thread::sleep(Duration::from_micros(500));
            continue;
        }
        let arrived = Instant::now();
        pos += n as u64;
        partial.push_str(&chunk);
        let keep = partial.rfind('\n').map_or(0, |i| i + 1);
        let map = sent.lock().expect("no panics while locked");
        for line in partial[..keep].lines() {
            if let Some(rest) = line.split("\"claim_id\":\"tiktok:").nth(1) {
                if line.contains("\"kind\":\"claim\"") {
                    let id: u64 = rest
                        .split('"')
                        .next()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(u64::MAX);
                    if let Some(at) = map.get(&id) {
                        hist.record(
                            arrived.saturating_duration_since(*at).as_micros().max(1) as u64
                        )?;
                        seen += 1;
                    }
                }
            }
        }
        drop(map);
        partial.drain(..keep);
    }
    writer.join().expect("writer thread")?;
    child.wait()?;
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "rate {}/s for {}s, {} workers, lateness {} ms: {} decisions timed; arrival-to-decision p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms, max {:.1} ms",
        args.rate,
        args.seconds,
        args.workers,
        args.allowed_lateness_ms,
        seen,
        ms(0.5),
        ms(0.99),
        ms(0.999),
        hist.max() as f64 / 1000.0
    );
    println!(
        "pipeline RSS each second (MiB): {}",
        rss.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(path) = &args.record {
        // Nothing lost: the same lines as a file run decide the same shows.
        let again = out.with_extension("file-run");
        let status = Command::new(&bin)
            .args(["run", "--quiet", "--input"])
            .arg(path)
            .args(["--workers", &args.workers.to_string()])
            .args([
                "--allowed-lateness-ms",
                &args.allowed_lateness_ms.to_string(),
                "--out",
            ])
            .arg(&again)
            .status()?;
        anyhow::ensure!(status.success(), "the file run failed");
        let live = std::fs::read_to_string(out.join("summary.json"))?;
        let file = std::fs::read_to_string(again.join("summary.json"))?;
        println!(
            "summary.json of the stream {} the file run's ({} bytes)",
            if live == file {
                "equals"
            } else {
                "DIFFERS FROM"
            },
            live.len()
        );
        let _ = std::fs::remove_dir_all(&again);
    }
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}
