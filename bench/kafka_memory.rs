//! Whether `livesell run --source kafka://…` (checkpoints on, as with `--out`) keeps its memory flat while millions of messages of back-to-back shows go through it: RSS sampled every second.
//!
//! `cargo run --release --example kafka_memory -- [--events 5000000] [--slots 4] [--rate 40000]`
//!
//! A librdkafka mock cluster in this process (in memory: the broker's own cost is not the
//! run's) holds a 4-partition topic; `livesell gen` makes the shows (back-to-back shows in
//! `--slots` slots, keyed by session), which are produced at `--rate` messages/s while a child
//! `livesell run --source … --out DIR --checkpoint-interval 2` decides them. Prints RSS per
//! tenth of the input and the spread over the second half.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

#[path = "common.rs"]
mod common;
use common::{arg, livesell_bin, rss_mib};

fn main() -> anyhow::Result<()> {
    let events = arg("--events", 5_000_000.0) as u64;
    let slots = arg("--slots", 4.0) as u64;
    let rate = arg("--rate", 40_000.0);
    let bin = livesell_bin(None);
    let dir = tempfile::tempdir()?;
    let show = dir.path().join("shows.jsonl");
    let st = Command::new(&bin)
        .args([
            "gen",
            "--events",
            &events.to_string(),
            "--sessions",
            &slots.to_string(),
        ])
        .args(["--seed", "5", "--out"])
        .arg(&show)
        .status()?;
    anyhow::ensure!(st.success(), "livesell gen failed");
    let mock = rdkafka::mocking::MockCluster::new(1)?;
    mock.create_topic("livesell.events", 4, 1)?;
    let brokers = mock.bootstrap_servers();
    let out = dir.path().join("out");
    let mut run = Command::new(&bin)
        .args([
            "run",
            "--quiet",
            "--source",
            &format!("kafka://{brokers}/livesell.events"),
        ])
        .args([
            "--workers",
            "2",
            "--exit-when-idle",
            "5",
            "--checkpoint-interval",
            "2",
        ])
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::null())
        .spawn()?;
    let pid = run.id();
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let started = Instant::now();
    let mut samples: Vec<(u64, f64)> = Vec::new();
    let mut last_sample = Instant::now();
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&show)?);
    for (sent, line) in reader.lines().enumerate() {
        let line = line?;
        let key = line
            .split("\"session_id\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_string();
        loop {
            match producer.send(BaseRecord::to("livesell.events").key(&key).payload(&line)) {
                Ok(()) => break,
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        let due = started + Duration::from_secs_f64(sent as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if last_sample.elapsed() >= Duration::from_secs(1) {
            last_sample = Instant::now();
            samples.push((sent as u64, rss_mib(pid)));
        }
    }
    producer.flush(Duration::from_secs(60))?;
    while run.try_wait()?.is_none() {
        samples.push((events, rss_mib(pid)));
        std::thread::sleep(Duration::from_secs(1));
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "{events} messages of {slots} slots of back-to-back shows at {rate:.0}/s, run with checkpoints every 2 s: {took:.0} s"
    );
    for tenth in 1..=10 {
        let upto = events * tenth / 10;
        let rss: Vec<f64> = samples
            .iter()
            .filter(|(n, _)| *n <= upto && *n > upto - events / 10)
            .map(|(_, r)| *r)
            .collect();
        let max = rss.iter().cloned().fold(0.0, f64::max);
        println!("  messages to {upto:>9}: RSS max {max:.0} MiB");
    }
    let half: Vec<f64> = samples
        .iter()
        .filter(|(n, _)| *n >= events / 2 && *n < events)
        .map(|(_, r)| *r)
        .collect();
    let (lo, hi) = half
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let mid = (lo + hi) / 2.0;
    println!(
        "second half: RSS {lo:.0}–{hi:.0} MiB ({:.1}% around {mid:.0} MiB)",
        (hi - lo) / 2.0 / mid * 100.0
    );
    let run_json = std::fs::read_to_string(out.join("run.json")).unwrap_or_default();
    println!("{run_json}");
    Ok(())
}
