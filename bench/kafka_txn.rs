//! Probes whether a broker supports Kafka transactions the way checkpoints would use them.
//!
//! `cargo run --release --example kafka_txn -- --broker 127.0.0.1:9092 [--tansu tansu]`:
//! a transactional producer (`transactional.id`) initialises, commits one transaction of three
//! records with the input group's offsets in it (`send_offsets_to_transaction`), aborts one of
//! two records, and a `read_committed` consumer then reads the topic. Each step prints `ok`
//! or the broker's error; the last line says whether the broker gives exactly-once output.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let broker = arg("--broker").unwrap_or_else(|| "127.0.0.1:9092".into());
    let topic = format!("txn-probe-{}", std::process::id());
    if let Some(tansu) = arg("--tansu") {
        for t in [topic.as_str(), "txn-probe-input"] {
            let _ = Command::new(&tansu)
                .args(["topic", "create", t, "--partitions", "1"])
                .args(["--broker", &format!("tcp://{broker}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    let timeout = Duration::from_secs(10);
    let step = |what: &str, r: Result<(), String>| -> bool {
        match &r {
            Ok(()) => println!("{what}: ok"),
            Err(e) => println!("{what}: FAILED: {e}"),
        }
        r.is_ok()
    };
    let producer: ThreadedProducer<DefaultProducerContext> = match ClientConfig::new()
        .set("bootstrap.servers", &broker)
        .set("transactional.id", "livesell-probe-0")
        .set("log_level", "3")
        .create()
    {
        Ok(p) => p,
        Err(e) => {
            println!("create a transactional producer: FAILED: {e}");
            return;
        }
    };
    let mut all = step(
        "init_transactions (InitProducerId with a transactional.id)",
        producer
            .init_transactions(timeout)
            .map_err(|e| e.to_string()),
    );
    let send = |n: usize, tag: &str| -> Result<(), String> {
        for i in 0..n {
            let v = format!("{tag}-{i}");
            producer
                .send(BaseRecord::<(), str>::to(&topic).payload(&v))
                .map_err(|(e, _)| e.to_string())?;
        }
        Ok(())
    };
    if all {
        all &= step(
            "begin + 3 records + send_offsets_to_transaction + commit",
            (|| {
                producer.begin_transaction().map_err(|e| e.to_string())?;
                send(3, "committed")?;
                let group: BaseConsumer = ClientConfig::new()
                    .set("bootstrap.servers", &broker)
                    .set("group.id", "txn-probe-group")
                    .create()
                    .map_err(|e| e.to_string())?;
                let mut offsets = TopicPartitionList::new();
                offsets
                    .add_partition_offset("txn-probe-input", 0, Offset::Offset(0))
                    .map_err(|e| e.to_string())?;
                let meta = group.group_metadata().ok_or("no consumer group metadata")?;
                producer
                    .send_offsets_to_transaction(&offsets, &meta, timeout)
                    .map_err(|e| format!("send_offsets_to_transaction: {e}"))?;
                producer
                    .commit_transaction(timeout)
                    .map_err(|e| format!("commit_transaction: {e}"))
            })(),
        );
    }
    if all {
        all &= step(
            "begin + 2 records + abort",
            (|| {
                producer.begin_transaction().map_err(|e| e.to_string())?;
                send(2, "aborted")?;
                producer.flush(timeout).map_err(|e| e.to_string())?;
                producer
                    .abort_transaction(timeout)
                    .map_err(|e| format!("abort_transaction: {e}"))
            })(),
        );
    }
    // What a read_committed consumer sees.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &broker)
        .set("group.id", "txn-probe-reader")
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("a consumer");
    let mut tpl = TopicPartitionList::new();
    // Offset 0, not Beginning: tansu 0.6 answers "earliest" with the batch stored first.
    tpl.add_partition_offset(&topic, 0, Offset::Offset(0))
        .expect("an offset");
    consumer.assign(&tpl).expect("assigned");
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            seen.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }
    let committed = seen.iter().filter(|s| s.starts_with("committed")).count();
    let aborted = seen.iter().filter(|s| s.starts_with("aborted")).count();
    let exact = committed == 3 && aborted == 0;
    step(
        "read_committed consumer sees the 3 committed records and not the 2 aborted",
        if exact {
            Ok(())
        } else {
            Err(format!(
                "saw {committed} committed and {aborted} aborted: {seen:?}"
            ))
        },
    );
    println!(
        "exactly-once output: {}",
        if all && exact {
            "supported"
        } else {
            "NOT supported"
        }
    );
}
