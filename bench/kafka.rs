//! Kafka benchmarks against a running broker: events/s decided next to a bare consumer, and produce-to-decision latency.
//!
//! `cargo run --release --example kafka -- throughput --broker 127.0.0.1:9092 --show FILE`
//! produces the show to a fresh topic, then times a bare rdkafka consumer reading it and
//! `livesell run --source … --sink … --exit-when-idle` deciding it (1 and 2 workers).
//! `cargo run --release --example kafka -- latency --broker 127.0.0.1:9092 --rate 20000` streams
//! `sold` comments stamped with the wall clock and measures until each claim decision is readable
//! on the decisions topic (hdrhistogram p50/p99/p999). The broker needs the topics to exist (the
//! commands create them with `tansu topic create` when `--tansu` is given).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    what: What,
    /// Broker HOST:PORT.
    #[arg(long, global = true, default_value = "127.0.0.1:9092")]
    broker: String,
    /// The tansu binary, to create topics (else they must exist).
    #[arg(long, global = true)]
    tansu: Option<String>,
    /// The livesell binary (default: next to this example).
    #[arg(long, global = true)]
    bin: Option<String>,
    /// Partitions of the input topic.
    #[arg(long, global = true, default_value_t = 8)]
    partitions: u32,
    /// `linger.ms` of the load producer: how long it may hold a message to batch it.
    #[arg(long, global = true, default_value_t = 5)]
    linger_ms: u32,
}

#[derive(Subcommand)]
enum What {
    Throughput {
        /// A JSONL show (livesell gen).
        #[arg(long)]
        show: String,
    },
    /// The broker's own floor: produce-to-consume of bare messages, no livesell in between.
    Hop {
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    Latency {
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long, default_value_t = 2000)]
        allowed_lateness_ms: u64,
    },
    /// Restart to caught-up: a checkpointed run decides `events` of history (a day of
    /// back-to-back shows), is killed with -9 after a checkpoint, more events come, and a
    /// restart from the checkpoint is timed next to a replay from the start.
    Restart {
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long, default_value_t = 20_000)]
        tail: u64,
        /// Hours of back-to-back shows (a day holds about 8.5M generated events).
        #[arg(long, default_value_t = 24)]
        hours: u32,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Where the runs keep their files and checkpoints.
        #[arg(long, default_value = "/var/tmp/livesell-restart")]
        dir: String,
    },
}

#[path = "common.rs"]
mod common;
use common::now_ms;

fn producer(
    broker: &str,
    linger_ms: u32,
) -> anyhow::Result<ThreadedProducer<DefaultProducerContext>> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("socket.nagle.disable", "true")
        .set("linger.ms", linger_ms.to_string())
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "2000000")
        .set("queue.buffering.max.kbytes", "2097151")
        .create()?)
}

/// Sends `value` keyed by `key`, or to `partition`; waits while the local queue is full.
fn send(
    p: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    key: Option<&str>,
    partition: Option<u32>,
    value: &str,
) {
    let mut r = BaseRecord::<str, str>::to(topic).payload(value);
    if let Some(k) = key {
        r = r.key(k);
    }
    if let Some(part) = partition {
        r = r.partition(part as i32);
    }
    loop {
        match p.send(r) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                r = back;
                std::thread::sleep(Duration::from_micros(500));
            }
            Err((e, _)) => panic!("cannot send to {topic}: {e}"),
        }
    }
}

fn create_topics(args: &Args, prefix: &str) -> anyhow::Result<()> {
    let Some(tansu) = &args.tansu else {
        return Ok(());
    };
    for (t, n) in [
        (format!("{prefix}events"), args.partitions),
        ("livesell.decisions".to_string(), 8),
        ("livesell.gmv".to_string(), 1),
        ("livesell.dead-letter".to_string(), 1),
        ("livesell.orders-out".to_string(), 8),
        ("livesell.carts".to_string(), 8),
        ("livesell.notifications".to_string(), 8),
    ] {
        // An existing topic is fine: the command's failure is ignored.
        let _ = Command::new(tansu)
            .args(["topic", "create", &t, "--partitions", &n.to_string()])
            .args(["--broker", &format!("tcp://{}", args.broker)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
    }
    Ok(())
}

/// A consumer of every partition of `topic` from the start, assigned (no group join, as
/// livesell's own), with the fetch settings livesell's consumers use (src/io/kafka.rs).
fn assigned_consumer(args: &Args, group: &str, topic: &str) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.broker)
        .set("socket.nagle.disable", "true")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .set("auto.offset.reset", "earliest")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    // Offset 0, not Beginning: tansu 0.6 answers "earliest" with the batch stored first.
    for p in 0..args.partitions as i32 {
        tpl.add_partition_offset(topic, p, Offset::Offset(0))?;
    }
    consumer.assign(&tpl)?;
    Ok(consumer)
}

/// `livesell run` from `topic` to the same broker, as group `group` with `workers` workers.
fn livesell_kafka(args: &Args, topic: &str, group: &str, workers: usize) -> Command {
    let mut c = Command::new(common::livesell_bin(args.bin.as_deref()));
    c.args([
        "run",
        "--source",
        &format!("kafka://{}/{topic}", args.broker),
    ])
    .args([
        "--group",
        group,
        "--sink",
        &format!("kafka://{}", args.broker),
    ])
    .args(["--workers", &workers.to_string()]);
    c
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match &args.what {
        What::Throughput { show } => throughput(&args, show),
        What::Hop { rate, seconds } => hop(&args, *rate, *seconds),
        What::Latency {
            rate,
            seconds,
            workers,
            allowed_lateness_ms,
        } => latency(&args, *rate, *seconds, *workers, *allowed_lateness_ms),
        What::Restart {
            events,
            tail,
            hours,
            workers,
            dir,
        } => restart(&args, *events, *tail, *hours, *workers, dir),
    }
}

/// A run's stderr lines as they come, each with the time since `t0` it was read at.
fn watch_stderr(
    child: &mut std::process::Child,
    t0: Instant,
) -> std::sync::mpsc::Receiver<(Duration, String)> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send((t0.elapsed(), line)).is_err() {
                break;
            }
        }
    });
    rx
}

/// One timed start: from the spawn to the "caught up" line, and to the first decision of a
/// claim in `ids` on the decisions topic (read from `from`, its ends before the start).
fn timed_start(
    args: &Args,
    workers: usize,
    mut cmd: Command,
    ids: &std::collections::HashSet<String>,
    from: &TopicPartitionList,
) -> anyhow::Result<(f64, f64, String)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.broker)
        .set("group.id", "restart-watch")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .create()?;
    consumer.assign(from)?;
    let t0 = Instant::now();
    let mut child = cmd.stderr(Stdio::piped()).spawn()?;
    let lines = watch_stderr(&mut child, t0);
    let (mut caught, mut first, mut log) = (None, None, String::new());
    // Every worker says when its partitions are read up to where they ended at the start.
    let mut caught_workers = 0;
    while caught.is_none() || first.is_none() {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(900),
            "no catch-up in 15 min: {log}"
        );
        while let Ok((at, line)) = lines.try_recv() {
            if line.contains("caught up") {
                caught_workers += 1;
                if caught_workers == workers {
                    caught = Some(at.as_secs_f64());
                }
            }
            log.push_str(&line);
            log.push('\n');
        }
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(2)) {
            let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap_or_default())?;
            if first.is_none() && v["claim_id"].as_str().is_some_and(|c| ids.contains(c)) {
                first = Some(t0.elapsed().as_secs_f64());
            }
        }
    }
    child.kill()?;
    child.wait()?;
    Ok((caught.unwrap_or_default(), first.unwrap_or_default(), log))
}

/// Each partition's end now, to read what comes after.
fn ends(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: u32,
) -> anyhow::Result<TopicPartitionList> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        let (_, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(10))?;
        tpl.add_partition_offset(topic, p, Offset::Offset(high))?;
    }
    Ok(tpl)
}

fn restart(
    args: &Args,
    events: u64,
    tail: u64,
    hours: u32,
    workers: usize,
    dir: &str,
) -> anyhow::Result<()> {
    let run = std::process::id();
    let prefix = format!("restart{run}.");
    let topic = format!("{prefix}events");
    create_topics(args, &prefix)?;
    let dir = std::path::Path::new(dir).join(run.to_string());
    std::fs::create_dir_all(&dir)?;
    let show = dir.join("show.jsonl");
    let st = Command::new(common::livesell_bin(args.bin.as_deref()))
        .args([
            "gen",
            "--hours",
            &hours.to_string(),
            "--events",
            &(events + tail).to_string(),
        ])
        .arg("--out")
        .arg(&show)
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(st.success(), "livesell gen failed");
    let text = std::fs::read_to_string(&show)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    anyhow::ensure!(
        lines.len() as u64 >= events + tail,
        "{hours} h of shows hold {} events: give more --hours",
        lines.len()
    );
    let (history, after) = lines.split_at(events as usize);
    let key = |l: &str| {
        l.split("\"session_id\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_string()
    };
    let p = producer(&args.broker, args.linger_ms)?;
    for l in history {
        send(&p, &topic, Some(&key(l)), None, l);
    }
    p.flush(Duration::from_secs(600))?;
    let group = format!("restart{run}");
    let out = dir.join("out");
    let checkpointed = |out: &std::path::Path, interval: &str| {
        let mut c = livesell_kafka(args, &topic, &group, workers);
        c.args([
            "--idle-timeout",
            "1",
            "--checkpoint-interval",
            interval,
            "--out",
        ])
        .arg(out);
        c
    };
    // The first run decides the history, then waits for a checkpoint that covers all of it.
    let t0 = Instant::now();
    let mut first = checkpointed(&out, "10").stderr(Stdio::piped()).spawn()?;
    let log = watch_stderr(&mut first, t0);
    let covered = || -> u64 {
        let Ok(d) = std::fs::read_dir(out.join("checkpoints")) else {
            return 0;
        };
        d.flatten()
            .filter_map(|e| std::fs::read(e.path().join("MANIFEST.json")).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|m| {
                m["positions"].as_array().map_or(0, |a| {
                    a.iter().map(|p| p["next"].as_u64().unwrap_or(0)).sum()
                })
            })
            .max()
            .unwrap_or(0)
    };
    while covered() < events {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(3600),
            "no checkpoint covered the history"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let history_s = log
        .try_iter()
        .find(|(_, l)| l.contains("caught up"))
        .map_or(0.0, |(t, _)| t.as_secs_f64());
    first.kill()?; // SIGKILL
    first.wait()?;
    let newest = std::fs::read_dir(out.join("checkpoints"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("MANIFEST.json").is_file())
        .max()
        .expect("a checkpoint");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(newest.join("MANIFEST.json"))?)?;
    let bytes: u64 = manifest["parts"].as_array().map_or(0, |a| {
        a.iter().map(|p| p["bytes"].as_u64().unwrap_or(0)).sum()
    });
    let open = manifest["open_sessions"].as_u64().unwrap_or(0);

    // Events after the crash, and the claims among them.
    let watch: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.broker)
        .create()?;
    let from = ends(&watch, "livesell.decisions", 8)?;
    for l in after {
        send(&p, &topic, Some(&key(l)), None, l);
    }
    p.flush(Duration::from_secs(60))?;
    let ids: std::collections::HashSet<String> = after
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "comment")
        .map(|v| {
            format!(
                "{}:{}",
                v["platform"].as_str().unwrap_or(""),
                v["comment_id"].as_str().unwrap_or("")
            )
        })
        .collect();
    let (caught, first_decision, restore_log) = timed_start(
        args,
        workers.min(args.partitions as usize),
        checkpointed(&out, "10"),
        &ids,
        &from,
    )?;
    anyhow::ensure!(
        restore_log.contains("restoring checkpoint"),
        "the restart restored nothing: {restore_log}"
    );
    // Today's restart: no checkpoint, every partition replayed from the start (the group's
    // commits keep what was sent from being sent again).
    let from = ends(&watch, "livesell.decisions", 8)?;
    let (replay_caught, replay_first, _) = timed_start(
        args,
        workers.min(args.partitions as usize),
        checkpointed(&dir.join("replay"), "0"),
        &ids,
        &from,
    )?;
    println!(
        "history {events} events (decided in {history_s:.1}s), checkpoint {id}: {open} open sessions, {kb} KB ({per} KB per open show)",
        id = manifest["id"],
        kb = bytes / 1024,
        per = bytes / 1024 / open.max(1),
    );
    println!(
        "restart from the checkpoint: caught up {caught:.2}s, first decision after the crash {first_decision:.2}s"
    );
    println!(
        "replay from the start:       caught up {replay_caught:.2}s, first decision after the crash {replay_first:.2}s"
    );
    Ok(())
}

fn throughput(args: &Args, show: &str) -> anyhow::Result<()> {
    let run = std::process::id();
    let prefix = format!("bench{run}.");
    let topic = format!("{prefix}events");
    create_topics(args, &prefix)?;
    let text = std::fs::read_to_string(show)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let p = producer(&args.broker, args.linger_ms)?;
    let t = Instant::now();
    for l in &lines {
        let key = l
            .split("\"session_id\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        send(&p, &topic, Some(key), None, l);
    }
    p.flush(Duration::from_secs(300))?;
    println!(
        "produced {} events to {topic} ({} partitions) in {:.2}s",
        lines.len(),
        args.partitions,
        t.elapsed().as_secs_f64()
    );

    // A bare consumer: every message read, nothing else.
    let consumer = assigned_consumer(args, &format!("bare{run}"), &topic)?;
    let t = Instant::now();
    let mut n = 0usize;
    let mut bytes = 0usize;
    while n < lines.len() {
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            bytes += m?.payload().map_or(0, <[u8]>::len);
            n += 1;
        }
    }
    let bare = t.elapsed().as_secs_f64();
    println!(
        "bare rdkafka consumer: {n} messages ({} MB) in {bare:.2}s = {:.0} events/s",
        bytes / 1_000_000,
        n as f64 / bare
    );

    for workers in [1, 2] {
        let t = Instant::now();
        let st = livesell_kafka(args, &topic, &format!("bench{run}-{workers}"), workers)
            .args(["--exit-when-idle", "1"])
            .status()?;
        anyhow::ensure!(st.success(), "livesell run failed");
        // The run ends 1 s after the last message arrived; that second is not work.
        let secs = t.elapsed().as_secs_f64() - 1.0;
        println!(
            "livesell run --workers {workers}: {} events in {secs:.2}s = {:.0} events/s ({:.2}x the bare consumer's time)",
            lines.len(),
            lines.len() as f64 / secs,
            secs / bare
        );
    }
    Ok(())
}

fn latency(
    args: &Args,
    rate: u64,
    seconds: u64,
    workers: usize,
    lateness: u64,
) -> anyhow::Result<()> {
    let run = std::process::id();
    let prefix = format!("lat{run}.");
    let topic = format!("{prefix}events");
    create_topics(args, &prefix)?;
    // One show per input partition, each message sent to its show's partition, so that every
    // partition carries data (an empty one would hold the others back until it is idle).
    let parts = args.partitions.max(1);
    let session = move |p: u32| format!("bench{run}-{p}");
    let p = producer(&args.broker, args.linger_ms)?;
    let t0 = now_ms();
    for part in 0..parts {
        let s = session(part);
        send(
            &p,
            &topic,
            None,
            Some(part),
            &format!(
                r#"{{"type":"director","session_id":"{s}","ts":{t0},"action":"product","code":"K1","price_cents":100,"variants":[{{"sku":"K1","stock":100000000}}]}}"#
            ),
        );
        send(
            &p,
            &topic,
            None,
            Some(part),
            &format!(
                r#"{{"type":"director","session_id":"{s}","ts":{t0},"action":"activate","code":"K1"}}"#
            ),
        );
    }
    let mut child = livesell_kafka(args, &topic, &format!("lat{run}"), workers)
        .args(["--allowed-lateness-ms", &lateness.to_string()])
        .spawn()?;
    // Decisions are read from the end of the topic, as a live ticker would: every partition
    // assigned at its end (no group join to wait for).
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.broker)
        .set("socket.nagle.disable", "true")
        .set("group.id", format!("latreader{run}"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .create()?;
    let md = consumer.fetch_metadata(Some("livesell.decisions"), Duration::from_secs(10))?;
    let mut tpl = TopicPartitionList::new();
    for t in md.topics() {
        for p in t.partitions() {
            tpl.add_partition_offset("livesell.decisions", p.id(), Offset::End)?;
        }
    }
    consumer.assign(&tpl)?;
    // Let the processor start and the reader settle before the clock starts: the figures are
    // for a running show, not for start-up.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(3) {
        let _ = consumer.poll(Duration::from_millis(50));
    }
    // Per measured comment: when it was sent, and its `ts` (the wall clock, in ms).
    let sent: std::sync::Arc<std::sync::Mutex<HashMap<u64, (Instant, i64)>>> = Default::default();
    let feeder = {
        let sent = sent.clone();
        let topic = topic.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            // Past the measured events, the show goes on for the lateness and a second more, so
            // that the watermark passes the last measured ones as it would in a running show.
            let measured = rate * seconds;
            let total = measured + rate * (lateness / 1000 + 1);
            let mut i = 0u64;
            while i < total {
                let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
                if due == i {
                    std::thread::sleep(Duration::from_micros(200));
                    continue;
                }
                let ts = now_ms();
                let at = Instant::now();
                for n in i..due {
                    let part = (n % parts as u64) as u32;
                    let s = session(part);
                    send(
                        &p,
                        &topic,
                        None,
                        Some(part),
                        &format!(
                            "{{\"type\":\"comment\",\"session_id\":\"{s}\",\"ts\":{ts},\"platform\":\"tiktok\",\"comment_id\":\"{n}\",\"user_id\":\"u{n}\",\"text\":\"sold\"}}"
                        ),
                    );
                }
                let mut map = sent.lock().expect("no panics while locked");
                for n in i..due.min(measured) {
                    map.insert(n, (at, ts as i64));
                }
                i = due;
            }
            let _ = p.flush(Duration::from_secs(60));
        })
    };
    let total = rate * seconds;
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    // The part before the decision left the engine: its message's create time (set by the
    // engine's producer) minus the comment's `ts`, both read off this machine's clock.
    let mut engine = Histogram::<u64>::new_with_bounds(1, 600_000, 3)?;
    let deadline = Instant::now() + Duration::from_secs(seconds + 60);
    let mut seen = 0u64;
    let mut per_second: Vec<u64> = Vec::new();
    let needle = format!("\"session_id\":\"bench{run}-");
    while seen < total && Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(50)) else {
            continue;
        };
        let arrived = Instant::now();
        let m = m?;
        let Some(line) = m.payload().and_then(|b| std::str::from_utf8(b).ok()) else {
            continue;
        };
        if !line.contains(&needle) || !line.contains("\"kind\":\"claim\"") {
            continue;
        }
        let Some(rest) = line.split("\"claim_id\":\"tiktok:").nth(1) else {
            continue;
        };
        let id: u64 = rest
            .split('"')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        if let Some((at, ts)) = sent.lock().expect("no panics while locked").get(&id) {
            if let Some(created) = m.timestamp().to_millis() {
                engine.record((created - ts).max(1) as u64)?;
            }
            let us = arrived.saturating_duration_since(*at).as_micros().max(1) as u64;
            hist.record(us)?;
            let second = at.saturating_duration_since(warm).as_secs() as usize;
            if per_second.len() <= second {
                per_second.resize(second + 1, 0);
            }
            per_second[second] = per_second[second].max(us / 1000);
            seen += 1;
        }
    }
    feeder.join().expect("feeder");
    eprintln!("worst latency (ms) by second sent since the processor started: {per_second:?}");
    let _ = child.kill();
    let _ = child.wait();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "rate {rate}/s for {seconds}s, {workers} workers, lateness {lateness} ms: {seen} decisions timed; produce-to-decision p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms, max {:.1} ms",
        ms(0.5),
        ms(0.99),
        ms(0.999),
        hist.max() as f64 / 1000.0
    );
    println!(
        "of which before the engine's producer took the decision (its create time − the comment's ts, ms): p50 {}, p99 {}, max {}",
        engine.value_at_quantile(0.5),
        engine.value_at_quantile(0.99),
        engine.max()
    );
    Ok(())
}

fn hop(args: &Args, rate: u64, seconds: u64) -> anyhow::Result<()> {
    let run = std::process::id();
    let prefix = format!("hop{run}.");
    let topic = format!("{prefix}events");
    create_topics(args, &prefix)?;
    let consumer = assigned_consumer(args, &format!("hop{run}"), &topic)?;
    let p = producer(&args.broker, args.linger_ms)?;
    let parts = args.partitions.max(1);
    let start = Instant::now();
    let feeder = std::thread::spawn(move || {
        let total = rate * seconds;
        let mut i = 0u64;
        while i < total {
            let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
            if due == i {
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            for n in i..due {
                let at = start.elapsed().as_micros();
                send(
                    &p,
                    &topic,
                    None,
                    Some((n % parts as u64) as u32),
                    &format!("{at}"),
                );
            }
            i = due;
        }
        let _ = p.flush(Duration::from_secs(60));
    });
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let total = rate * seconds;
    let deadline = Instant::now() + Duration::from_secs(seconds + 30);
    let mut seen = 0u64;
    while seen < total && Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(50)) {
            let m = m?;
            let now = start.elapsed().as_micros() as u64;
            if let Some(at) = m
                .payload()
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| s.parse::<u64>().ok())
            {
                // The first second is the consumer connecting, not the broker's steady hop.
                if at >= 1_000_000 {
                    hist.record(now.saturating_sub(at).max(1))?;
                }
                seen += 1;
            }
        }
    }
    feeder.join().expect("feeder");
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "rate {rate}/s for {seconds}s: {} messages; produce-to-consume through the broker alone p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms",
        hist.len(),
        ms(0.5),
        ms(0.99),
        ms(0.999)
    );
    Ok(())
}
