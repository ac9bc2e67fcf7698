//! Kafka mode against a real broker (tansu): same decisions as file mode, kill -9 restarts, two processes.
//!
//! Each test starts its own tansu broker on a free loopback port with in-memory storage. The
//! `tansu` binary comes from PATH or ~/.cargo/bin (`.ci/run` installs it); without it these tests
//! fail, unless LIVESELL_SKIP_KAFKA=1 says this machine has no broker on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::DefaultProducerContext;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const BIN: &str = env!("CARGO_BIN_EXE_livesell");

fn tansu_binary() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(home.map(|h| h.join(".cargo/bin")))
        .map(|d| d.join("tansu"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A broker for one test: tansu (a real broker, stopped when dropped) or librdkafka's
/// in-process mock cluster.
struct Broker {
    addr: String,
    kind: Kind,
}

enum Kind {
    Tansu { child: Child, tansu: PathBuf },
    Mock(rdkafka::mocking::MockCluster<'static, DefaultProducerContext>),
}

impl Broker {
    /// A tansu broker; `None` when the machine says it has none (LIVESELL_SKIP_KAFKA=1).
    fn start() -> Option<Broker> {
        let Some(tansu) = tansu_binary() else {
            if std::env::var("LIVESELL_SKIP_KAFKA").as_deref() == Ok("1") {
                eprintln!("LIVESELL_SKIP_KAFKA=1 and no tansu: skipping a Kafka test");
                return None;
            }
            panic!("no tansu binary (cargo install tansu --locked --features dynostore)");
        };
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let url = format!("tcp://{addr}");
        let child = Command::new(&tansu)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Broker {
            addr,
            kind: Kind::Tansu { child, tansu },
        })
    }

    fn mock() -> Broker {
        let mock = rdkafka::mocking::MockCluster::new(1).expect("a mock cluster");
        Broker {
            addr: mock.bootstrap_servers(),
            kind: Kind::Mock(mock),
        }
    }

    fn create_topic(&self, name: &str, partitions: u32) {
        match &self.kind {
            Kind::Tansu { tansu, .. } => {
                let status = Command::new(tansu)
                    .args([
                        "topic",
                        "create",
                        name,
                        "--partitions",
                        &partitions.to_string(),
                    ])
                    .args(["--broker", &format!("tcp://{}", self.addr)])
                    .stdout(Stdio::null())
                    .status()
                    .expect("tansu topic create runs");
                assert!(status.success(), "creating topic {name}");
            }
            Kind::Mock(m) => m
                .create_topic(name, partitions as i32, 1)
                .expect("a mock topic"),
        }
    }

    fn url(&self) -> String {
        format!("kafka://{}", self.addr)
    }

    /// Produces every line of `show`, keyed by its session, in file order.
    fn produce_show(&self, topic: &str, lines: &[String]) {
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.addr)
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "1000000")
            .create()
            .expect("a producer");
        for line in lines {
            send(&producer, topic, line);
        }
        producer.flush(Duration::from_secs(60)).expect("flushed");
    }

    /// Every value of `topic` as text, in each partition's order, up to the end it has now:
    /// the product's own reader, from offset 0 to each partition's end-of-partition event.
    /// (tansu 0.6 answers ListOffsets with the batch *stored* first or last, not the log's
    /// ends, so asking it for "the beginning" of a partition two workers wrote to at once
    /// skipped batches: a test that read a topic short one run in a few.)
    fn read_all(&self, topic: &str) -> Vec<String> {
        let started = Instant::now();
        let mut out = Vec::new();
        livesell::io::kafka::read_topic(&self.addr, &[topic.to_string()], None, |v| {
            out.push(String::from_utf8(v.to_vec())?);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("reading {topic}: {e:#}"));
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "reading {topic} took too long"
        );
        out
    }
}

/// Compares decision lists without printing megabytes: counts, then the first difference.
fn assert_same(got: &[String], expected: &[String], what: &str) {
    if let Some(i) = (0..got.len().min(expected.len())).find(|&i| got[i] != expected[i]) {
        panic!(
            "{what}: first difference at {i} of {} (expected {}):\n got      {}\n expected {}",
            got.len(),
            expected.len(),
            got[i],
            expected[i]
        );
    }
    assert_eq!(got.len(), expected.len(), "{what}: lengths differ");
}

/// Each session's decisions, in order, session after session.
fn per_session(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    by_session(lines).into_values().flatten().collect()
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Kind::Tansu { child, .. } = &mut self.kind {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn send(producer: &ThreadedProducer<DefaultProducerContext>, topic: &str, line: &str) {
    let v: serde_json::Value = serde_json::from_str(line).expect("generated lines are JSON");
    let key = v["session_id"].as_str().unwrap_or_default().to_string();
    let mut record = BaseRecord::to(topic).key(&key).payload(line);
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                std::thread::sleep(Duration::from_millis(2));
            }
            Err((e, _)) => panic!("cannot send to {topic}: {e}"),
        }
    }
}

fn generate(dir: &Path, events: u64, sessions: u32, seed: u64) -> (PathBuf, Vec<String>) {
    let show = dir.join("show.jsonl");
    let st = Command::new(BIN)
        .args([
            "gen",
            "--events",
            &events.to_string(),
            "--sessions",
            &sessions.to_string(),
        ])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&show)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let lines = std::fs::read_to_string(&show)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    (show, lines)
}

fn file_mode(show: &Path, out: &Path) -> String {
    let st = Command::new(BIN)
        .args(["run", "--quiet", "--workers", "2", "--input"])
        .arg(show)
        .arg("--out")
        .arg(out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read_to_string(out.join("decisions.jsonl")).unwrap()
}

fn kafka_run(broker: &Broker, group: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "run",
        "--source",
        &format!("{}/livesell.events", broker.url()),
    ])
    .args(["--group", group, "--sink", &broker.url()]);
    if !extra.contains(&"--idle-timeout") {
        c.args(["--idle-timeout", "1"]);
    }
    c.args(extra).stderr(Stdio::null());
    c
}

fn create_topics(broker: &Broker, input_partitions: u32) {
    broker.create_topic("livesell.events", input_partitions);
    for t in [
        "livesell.decisions",
        "livesell.gmv",
        "livesell.dead-letter",
        "livesell.orders-out",
        "livesell.carts",
        "livesell.notifications",
    ] {
        broker.create_topic(t, 4);
    }
    broker.create_topic("livesell.progress", 1);
}

/// Decisions per session, in the order they were decided.
fn by_session(lines: impl IntoIterator<Item = String>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(&l).expect("decisions are JSON");
        let s = v["session_id"].as_str().unwrap_or("").to_string();
        out.entry(s).or_default().push(l);
    }
    out
}

/// Keeps the first copy of each (session, id): what a consumer deduplicating by id sees.
fn dedupe(lines: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    lines
        .into_iter()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            seen.insert((v["session_id"].to_string(), v["id"].to_string()))
        })
        .collect()
}

#[test]
fn kafka_mode_decides_exactly_as_file_mode() {
    if let Some(broker) = Broker::start() {
        decides_as_file_mode(&broker, 30_000);
    }
}

/// Fast, and needs no broker binary: librdkafka's in-process mock cluster (which keeps only the
/// newest 5 MB or 100K messages of a partition, so its shows are small).
#[test]
fn on_the_mock_cluster_kafka_mode_decides_as_file_mode() {
    decides_as_file_mode(&Broker::mock(), 5_000);
}

fn decides_as_file_mode(broker: &Broker, events: u64) {
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), events, 3, 11);
    let expected = file_mode(&show, &dir.path().join("file"));
    broker.produce_show("livesell.events", &lines);

    let out = dir.path().join("kafka");
    let st = kafka_run(
        &broker,
        "g1",
        &["--workers", "2", "--exit-when-idle", "2", "--out"],
    )
    .arg(&out)
    .status()
    .unwrap();
    assert!(st.success());
    // The files of a Kafka run are the files of a file run.
    let got_file = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_eq!(got_file.lines().count(), expected.lines().count());
    assert!(
        got_file == expected,
        "decisions.jsonl differs between Kafka and file mode"
    );
    // The decisions topic holds each session's decisions in the same order.
    let topic = broker.read_all("livesell.decisions");
    assert_same(
        &per_session(topic),
        &per_session(expected.lines().map(str::to_string)),
        "decisions topic vs file mode, per session",
    );

    // Winners to orders: a draft per reservation created, a cancellation per one released,
    // a completion per conversion.
    let count = |events: &[&str]| {
        expected
            .lines()
            .filter(|l| l.contains(r#""kind":"reservation""#))
            .filter(|l| {
                events
                    .iter()
                    .any(|e| l.contains(&format!(r#""event":"{e}""#)))
            })
            .count()
    };
    let drafts = broker.read_all("livesell.orders-out");
    let kinds = |k: &str| {
        drafts
            .iter()
            .filter(|l| l.contains(&format!(r#""kind":"{k}""#)))
            .count()
    };
    assert!(count(&["created"]) > 100, "the show reserves things");
    assert_eq!(kinds("draft_order"), count(&["created"]));
    assert_eq!(
        kinds("cancel_draft"),
        count(&["expired", "cancelled", "revoked"])
    );
    assert_eq!(kinds("complete_draft"), count(&["converted"]));
    // orders_out.jsonl holds the topic's records, in the same order per session, in file
    // mode and in Kafka mode alike.
    for run in ["file", "kafka"] {
        let file = std::fs::read_to_string(dir.path().join(run).join("orders_out.jsonl")).unwrap();
        assert_same(
            &per_session(drafts.clone()),
            &per_session(file.lines().map(str::to_string)),
            &format!("orders-out topic vs orders_out.jsonl of the {run} run, per session"),
        );
    }
    // A cart update per reservation decision.
    let carts = broker.read_all("livesell.carts");
    assert_eq!(
        carts.len(),
        count(&["created", "converted", "expired", "cancelled", "revoked"])
    );
    let ticker = broker.read_all("livesell.gmv");
    assert!(!ticker.is_empty(), "the GMV ticker ticks");
}

#[test]
fn a_bad_message_becomes_a_dead_letter_and_the_run_goes_on() {
    let broker = &Broker::mock();
    create_topics(broker, 1);
    let dir = tempfile::tempdir().unwrap();
    let (_, mut lines) = generate(dir.path(), 200, 1, 3);
    lines.insert(
        50,
        r#"{"type":"comment","session_id":"s1","ts":"yesterday"}"#.into(),
    );
    broker.produce_show("livesell.events", &lines);
    let st = kafka_run(broker, "g1", &["--exit-when-idle", "1"])
        .status()
        .unwrap();
    assert!(st.success());
    let dead = broker.read_all("livesell.dead-letter");
    assert_eq!(dead.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&dead[0]).unwrap();
    assert_eq!(v["source"], "livesell.events/0");
    assert_eq!(v["line"], 50);
    let decisions = broker.read_all("livesell.decisions");
    assert!(decisions.iter().any(|l| l.contains(r#""kind":"reject""#)));
    assert!(decisions.len() > 10);
}

/// A sink the broker refuses stops the run in order: `run_kafka` returns the broker's error
/// (before, an operator exited the whole process), and the group's offsets stay where the
/// outputs were last delivered, so a restart sends it all again.
#[test]
fn a_sink_the_broker_refuses_ends_the_run_with_its_error() {
    use livesell::io::kafka::KafkaAddress;
    use livesell::pipelines::claims::{KafkaRunConfig, run_kafka};
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    let broker = &Broker::mock();
    create_topics(broker, 2);
    let dir = tempfile::tempdir().unwrap();
    let (_, lines) = generate(dir.path(), 500, 2, 5);
    broker.produce_show("livesell.events", &lines);
    let Kind::Mock(mock) = &broker.kind else {
        unreachable!()
    };
    // Every produce request is refused, for good.
    let refusals = [RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 5000];
    mock.request_errors(RDKafkaApiKey::Produce, &refusals);
    let started = Instant::now();
    let result = run_kafka(KafkaRunConfig {
        source: KafkaAddress::parse(&format!("{}/livesell.events", broker.url()), None).unwrap(),
        group: "refused".into(),
        sink: Some(broker.addr.clone()),
        out: None,
        workers: 2,
        allowed_lateness_ms: 2000,
        idle_timeout: Duration::from_millis(500),
        exit_when_idle: Some(Duration::from_secs(30)),
        cluster: None,
        snapshot_interval: None,
        live: None,
        checkpoints: None,
        transactional: false,
        messages: None,
    });
    let e = format!("{:#}", result.expect_err("the run must fail"));
    assert!(
        e.contains("writing to Kafka") || e.contains("writing to kafka"),
        "{e}"
    );
    assert!(e.to_lowercase().contains("authoriz"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(60));
    mock.clear_request_errors(RDKafkaApiKey::Produce);
    // Nothing was committed for the group: a restart reads from the start.
    assert!(
        committed(broker, "refused").iter().all(|&o| o <= 0),
        "{:?}",
        committed(broker, "refused")
    );
}

/// The group's committed offset of each partition of `livesell.events` (-1: none).
fn committed(broker: &Broker, group: &str) -> Vec<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &broker.addr)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition("livesell.events", 0);
    tpl.add_partition("livesell.events", 1);
    let got = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    got.elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => o,
            _ => -1,
        })
        .collect()
}

#[test]
fn kill_9_at_five_random_moments_loses_and_doubles_nothing() {
    if let Some(broker) = Broker::start() {
        kill_9_five_times(&broker, 200_000, 15_000);
    }
}

/// The mock cluster keeps only the newest 5 MB of a partition: a show that fits.
#[test]
fn on_the_mock_cluster_kill_9_loses_nothing() {
    kill_9_five_times(&Broker::mock(), 40_000, 3_000);
}

/// Produces `lines` to the input topic at `rate` lines/s, on a thread of its own.
fn stream_in(broker: &Broker, lines: Vec<String>, rate: u64) -> std::thread::JoinHandle<()> {
    let addr = broker.addr.clone();
    std::thread::spawn(move || {
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", &addr)
            .set("linger.ms", "5")
            .set("queue.buffering.max.messages", "1000000")
            .create()
            .expect("a producer");
        let started = Instant::now();
        for (i, line) in lines.iter().enumerate() {
            send(&producer, "livesell.events", line);
            if i % 1000 == 999 {
                let due = Duration::from_micros(i as u64 * 1_000_000 / rate);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        producer.flush(Duration::from_secs(60)).expect("flushed");
    })
}

/// Streams a show of `events` at `rate` events/s, kills the processor at five random moments
/// while it streams in, and checks what reached the decisions topic.
fn kill_9_five_times(broker: &Broker, events: u64, rate: u64) {
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), events, 8, 21);
    let expected = file_mode(&show, &dir.path().join("file"));

    // The show streams in at `rate` while the processor is killed and restarted.
    let stream_ms = events * 1000 / rate;
    let feeder = stream_in(broker, lines, rate);

    let mut rng = fastrand::Rng::with_seed(2026);
    for kill in 0..5 {
        let mut child = kafka_run(broker, "g-kill", &["--workers", "2"])
            .spawn()
            .unwrap();
        // Five moments within the streaming; each run lives long enough to start (and to see
        // an empty partition go idle) and to send something before it dies.
        let after = Duration::from_millis(rng.u64(1_200..(stream_ms / 5).max(1_300)));
        std::thread::sleep(after);
        assert!(
            child.try_wait().unwrap().is_none(),
            "run {kill} ended by itself before the kill"
        );
        child.kill().unwrap(); // SIGKILL: no flush, no commit, no goodbye
        child.wait().unwrap();
    }
    feeder.join().unwrap();
    let before_last = broker.read_all("livesell.decisions").len();
    assert!(
        before_last > 0,
        "the killed runs sent nothing: the test proves nothing"
    );
    let st = kafka_run(
        broker,
        "g-kill",
        &["--workers", "2", "--exit-when-idle", "3"],
    )
    .status()
    .unwrap();
    assert!(st.success());

    let sent = broker.read_all("livesell.decisions");
    let unique = dedupe(sent.clone());
    let expected_lines: Vec<String> = expected.lines().map(str::to_string).collect();
    eprintln!(
        "decisions: {} sent over 6 runs ({before_last} by the 5 killed ones), {} unique, {} in an uninterrupted run",
        sent.len(),
        unique.len(),
        expected_lines.len()
    );
    assert_same(
        &per_session(unique.clone()),
        &per_session(expected_lines.clone()),
        "deduplicated decisions topic vs an uninterrupted run, per session",
    );
    // Spelled out: each reservation is created exactly once, and nothing is oversold.
    let created: Vec<&String> = unique
        .iter()
        .filter(|l| l.contains(r#""event":"created""#))
        .collect();
    let distinct: BTreeSet<&String> = created.iter().copied().collect();
    assert_eq!(created.len(), distinct.len());
    assert!(!created.is_empty());
    assert_eq!(
        unique
            .iter()
            .filter(|l| l.contains(r#""outcome":"oversell""#))
            .count(),
        expected_lines
            .iter()
            .filter(|l| l.contains(r#""outcome":"oversell""#))
            .count()
    );
}

#[test]
fn two_processes_split_the_partitions_and_decide_as_one() {
    if let Some(broker) = Broker::start() {
        two_processes(&broker);
    }
}

#[test]
fn on_the_mock_cluster_two_processes_decide_as_one() {
    two_processes(&Broker::mock());
}

fn two_processes(broker: &Broker) {
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), 30_000, 4, 5);
    let expected = file_mode(&show, &dir.path().join("file"));
    broker.produce_show("livesell.events", &lines);

    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port()),
    )
    .unwrap();
    let out = dir.path().join("cluster");
    let spawn = |process: usize| {
        let mut c = kafka_run(
            &broker,
            "g-cluster",
            &["--workers", "1", "--exit-when-idle", "2"],
        );
        c.args([
            "--processes",
            "2",
            "--process",
            &process.to_string(),
            "--hosts",
        ])
        .arg(&hosts)
        .arg("--out")
        .arg(&out);
        c.spawn().unwrap()
    };
    let mut p0 = spawn(0);
    let mut p1 = spawn(1);
    assert!(p0.wait().unwrap().success());
    assert!(p1.wait().unwrap().success());
    let got = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_same(
        &got.lines().map(str::to_string).collect::<Vec<_>>(),
        &expected.lines().map(str::to_string).collect::<Vec<_>>(),
        "decisions.jsonl of two processes vs one",
    );
}

mod common;

#[test]
fn serve_reads_kafka_and_sends_director_actions_through_it() {
    let broker = &Broker::mock();
    create_topics(broker, 2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 60_000;
    let mut lines = vec![
        format!(
            r#"{{"type":"director","session_id":"k1","ts":{now},"action":"product","code":"A1","price_cents":900,"variants":[{{"sku":"A1","stock":4}}]}}"#
        ),
        format!(
            r#"{{"type":"director","session_id":"k1","ts":{now},"action":"product","code":"B2","price_cents":500,"variants":[{{"sku":"B2","stock":9}}]}}"#
        ),
    ];
    for i in 0..20 {
        lines.push(format!(
            r#"{{"type":"comment","session_id":"k1","ts":{},"platform":"tiktok","comment_id":"c{i}","user_id":"u{i}","text":"sold A1"}}"#,
            now + 100 * i
        ));
    }
    broker.produce_show("livesell.events", &lines);
    let out = tempfile::tempdir().unwrap();
    let director = "kafka-director-token-0001";
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--source",
        &format!("{}/livesell.events", broker.url()),
    ])
    .args([
        "--group",
        "g-serve",
        "--listen",
        "127.0.0.1:0",
        "--idle-ms",
        "300",
    ])
    .args(["--allowed-lateness-ms", "100", "--out"])
    .arg(out.path())
    .env("LIVESELL_DIRECTOR_TOKENS", director)
    .env("LIVESELL_VIEWER_TOKENS", "kafka-viewer-token-00001");
    let s = common::serve(cmd);
    let a = s.addr.as_str();
    // The show's claims are decided from the topic: 4 units of A1 held, the rest waiting.
    common::wait_for("A1 held", || {
        let (st, body) = common::http(
            a,
            "GET",
            "/api/claims?session=k1&sku=A1",
            // Claims name buyers: the staff's tokens read them (a viewer's is 403).
            Some(director),
            None,
        );
        st == 200 && body.contains(r#""holders_total":4"#)
    });
    // An action goes to the input topic and comes back through the pipeline.
    let (st, body) = common::http(
        a,
        "POST",
        "/api/director",
        Some(director),
        Some(r#"{"session_id":"k1","action":"activate","code":"B2"}"#),
    );
    assert_eq!(st, 202, "{body}");
    common::wait_for("B2 on the overlay", || {
        let (st, body) = common::http(a, "GET", "/api/overlay?session=k1", None, None);
        st == 200 && body.contains(r#""code":"B2""#)
    });
    let topic = broker.read_all("livesell.events");
    assert!(
        topic
            .iter()
            .any(|l| l.contains(r#""action":"activate""#) && l.contains("B2")),
        "the activation is on the input topic"
    );
}

/// A show that goes quiet after a claim while another show goes on: its hold expires on the
/// watermark, while the run is still running, and the order-draft cancellation goes out.
#[test]
fn a_quiet_shows_hold_expires_while_the_run_goes_on_and_its_draft_is_cancelled() {
    let broker = &Broker::mock();
    create_topics(broker, 2);
    let t0: i64 = 1_795_000_000_000;
    let mut lines = vec![
        format!(
            r#"{{"type":"director","session_id":"quiet","ts":{t0},"action":"config","reservation_window_s":2}}"#
        ),
        format!(
            r#"{{"type":"director","session_id":"quiet","ts":{t0},"action":"product","code":"K1","price_cents":2500,"variants":[{{"sku":"K1","stock":1}}]}}"#
        ),
        format!(
            r#"{{"type":"director","session_id":"quiet","ts":{t0},"action":"activate","code":"K1"}}"#
        ),
        format!(
            r#"{{"type":"comment","session_id":"quiet","ts":{},"platform":"tiktok","comment_id":"c1","user_id":"u1","text":"sold"}}"#,
            t0 + 300
        ),
        format!(
            r#"{{"type":"director","session_id":"busy","ts":{t0},"action":"product","code":"B1","price_cents":900,"variants":[{{"sku":"B1","stock":100}}]}}"#
        ),
    ];
    // The busy show chats for 10 s of event time; the quiet one says nothing more.
    for i in 0..100 {
        lines.push(format!(
            r#"{{"type":"comment","session_id":"busy","ts":{},"platform":"tiktok","comment_id":"b{i}","user_id":"v{i}","text":"nice"}}"#,
            t0 + 500 + i * 100
        ));
    }
    broker.produce_show("livesell.events", &lines);
    let mut child = kafka_run(broker, "quiet", &[]).spawn().unwrap();
    let _stop = Kill(&mut child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let cancelled = loop {
        let drafts = broker.read_all("livesell.orders-out");
        if let Some(d) = drafts
            .iter()
            .find(|d| d.contains(r#""id":"res:tiktok:c1/cancel""#))
        {
            break d.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no cancellation within 60 s: {drafts:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let v: serde_json::Value = serde_json::from_str(&cancelled).unwrap();
    assert_eq!(v["kind"], "cancel_draft");
    assert_eq!(v["reason"], "expired");
    assert_eq!(v["ts"], "2026-11-18T11:06:42.300000Z");
}

/// A show that closes sends its last ticker frame with its final figures, and the retraction of
/// its views does not tick it down to zero afterwards.
#[test]
fn a_closed_shows_last_ticker_frame_keeps_its_figures() {
    let broker = &Broker::mock();
    create_topics(broker, 1);
    let t0: i64 = 1_795_000_000_000;
    let mut lines = vec![
        format!(
            r#"{{"type":"director","session_id":"shut","ts":{t0},"action":"config","idle_close_s":5}}"#
        ),
        format!(
            r#"{{"type":"director","session_id":"shut","ts":{t0},"action":"product","code":"K1","price_cents":2500,"variants":[{{"sku":"K1","stock":5}}]}}"#
        ),
        format!(
            r#"{{"type":"order","session_id":"shut","ts":{},"order_id":"o1","platform":"web","user_id":"w1","sku":"K1","qty":1,"amount_cents":2500,"status":"paid"}}"#,
            t0 + 100
        ),
    ];
    // Another show goes on past the first one's idle close (5 s after its order).
    for i in 0..100 {
        lines.push(format!(
            r#"{{"type":"comment","session_id":"on","ts":{},"platform":"tiktok","comment_id":"b{i}","user_id":"v{i}","text":"nice"}}"#,
            t0 + 200 + i * 100
        ));
    }
    broker.produce_show("livesell.events", &lines);
    let st = kafka_run(broker, "shut", &["--exit-when-idle", "2"])
        .status()
        .unwrap();
    assert!(st.success());
    let frames: Vec<serde_json::Value> = broker
        .read_all("livesell.gmv")
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["session_id"] == "shut")
        .collect();
    let last = frames.last().expect("frames of the closed show");
    assert_eq!(last["closed"], true, "{frames:?}");
    assert_eq!(last["gmv_cents"], 2500, "{frames:?}");
    assert_eq!(frames.iter().filter(|f| f["closed"] == true).count(), 1);
}

/// Kills a child when dropped (a run that does not end by itself).
struct Kill<'a>(&'a mut Child);

impl Drop for Kill<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A run with `--out DIR` takes a checkpoint every `interval` seconds (under DIR/checkpoints)
/// and restarts from the newest; its stderr goes to `log`.
fn checkpointed_run(
    broker: &Broker,
    group: &str,
    out: &Path,
    interval: &str,
    log: &Path,
    extra: &[&str],
) -> Command {
    let mut c = kafka_run(broker, group, extra);
    c.arg("--out")
        .arg(out)
        .args(["--checkpoint-interval", interval])
        .stderr(std::fs::File::create(log).unwrap());
    c
}

fn complete_checkpoints(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out.join("checkpoints"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("MANIFEST.json").is_file());
    dirs.sort();
    dirs
}

#[test]
fn restarts_from_checkpoints_after_kill_9_and_decides_as_one_run() {
    if let Some(broker) = Broker::start() {
        kill_9_with_checkpoints(&broker, 200_000, 15_000, &[]);
    }
}

#[test]
fn on_the_mock_cluster_restarts_from_checkpoints() {
    kill_9_with_checkpoints(&Broker::mock(), 40_000, 3_000, &[]);
}

/// The mock cluster has transactions (it takes InitProducerId, AddPartitionsToTxn and EndTxn)
/// but no isolation: aborted messages stay visible, so only what a deduplicating consumer
/// sees is checked here.
#[test]
fn on_the_mock_cluster_transactional_runs_restart_from_checkpoints() {
    kill_9_with_checkpoints(&Broker::mock(), 40_000, 3_000, &["--transactional"]);
}

/// A transactional run that ended commits everything it sent; a restart from an older
/// checkpoint decides the same again and sends none of it: the topic holds each decision once.
#[test]
fn a_restart_sends_nothing_an_earlier_runs_transactions_committed() {
    let broker = &Broker::mock();
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), 20_000, 4, 37);
    let expected = file_mode(&show, &dir.path().join("file"));
    let expected: Vec<String> = expected.lines().map(str::to_string).collect();
    let out = dir.path().join("kafka");
    let total = lines.len() as u64;
    let feeder = stream_in(broker, lines, 5_000);
    let run = |log: &str, workers: &str| {
        let log = dir.path().join(log);
        let args = [
            "--transactional",
            "--workers",
            workers,
            "--exit-when-idle",
            "2",
        ];
        let child = checkpointed_run(broker, "g-txn", &out, "0.2", &log, &args)
            .spawn()
            .unwrap();
        (child, log)
    };
    let (mut first, log) = run("first.log", "2");
    // Keep a checkpoint from early in the show: the second run starts from it.
    let saved = dir.path().join("saved");
    while first.try_wait().unwrap().is_none() {
        if !saved.exists() {
            for c in complete_checkpoints(&out) {
                let n = covered(&c);
                let copy = saved.join(c.file_name().unwrap());
                if n > 0 && n < total / 2 && copy_dir(&c, &copy).is_err() {
                    let _ = std::fs::remove_dir_all(&saved);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    feeder.join().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(first.wait().unwrap().success(), "{text}");
    let once = broker.read_all("livesell.decisions");
    assert_same(
        &per_session(once.clone()),
        &per_session(expected.clone()),
        "a transactional run's topic vs a file run",
    );
    assert!(
        saved.exists(),
        "no checkpoint covered less than half the show"
    );
    std::fs::remove_dir_all(out.join("checkpoints")).unwrap();
    copy_dir(&saved, &out.join("checkpoints")).unwrap();

    let (second, log) = run("second.log", "3");
    let st = second.wait_with_output().unwrap().status;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(st.success(), "{text}");
    assert!(text.contains("restoring checkpoint"), "{text}");
    assert!(text.contains("committed progress record(s) read"), "{text}");
    assert!(text.contains("were not sent again"), "{text}");
    let twice = broker.read_all("livesell.decisions");
    assert_eq!(
        twice.len(),
        once.len(),
        "the restart sent {} decision(s) again",
        twice.len() - once.len()
    );
    let got = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_same(
        &got.lines().map(str::to_string).collect::<Vec<_>>(),
        &expected,
        "decisions.jsonl after the restart vs a file run",
    );
}

/// Streams a show, kills the checkpointed processor with -9 five times (one of them while a
/// checkpoint is being written), and checks that every restart started from a checkpoint,
/// that the files equal an uninterrupted file run byte for byte, and that the deduplicated
/// decisions topic equals it too.
fn kill_9_with_checkpoints(broker: &Broker, events: u64, rate: u64, extra: &[&str]) {
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), events, 8, 23);
    let expected = file_mode(&show, &dir.path().join("file"));
    let out = dir.path().join("kafka");

    let stream_ms = events * 1000 / rate;
    let feeder = stream_in(broker, lines, rate);

    let mut rng = fastrand::Rng::with_seed(2027);
    let mut restored = 0;
    for kill in 0..5 {
        let log = dir.path().join(format!("run{kill}.log"));
        let args = [&["--workers", "2"], extra].concat();
        let mut run = checkpointed_run(broker, "g-ckpt", &out, "0.5", &log, &args);
        if kill == 2 {
            // This run's checkpoints write slowly: it is killed in the middle of one.
            run.env("LIVESELL_CHECKPOINT_WRITE_DELAY_MS", "400");
        }
        let mut child = run.spawn().unwrap();
        if kill == 2 {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                assert!(Instant::now() < deadline, "no checkpoint write began");
                let writing = std::fs::read_dir(out.join("checkpoints"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|d| {
                        std::fs::read_dir(d.path())
                            .into_iter()
                            .flatten()
                            .flatten()
                            .any(|f| f.file_name().to_string_lossy().ends_with(".tmp"))
                    });
                if writing {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        } else {
            let after = Duration::from_millis(rng.u64(1_500..(stream_ms / 5).max(1_600)));
            std::thread::sleep(after);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "run {kill} ended before the kill"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        restored += text.contains("restoring checkpoint") as usize;
    }
    feeder.join().unwrap();
    let log = dir.path().join("last.log");
    let st = checkpointed_run(
        broker,
        "g-ckpt",
        &out,
        "0.5",
        &log,
        &[&["--workers", "2", "--exit-when-idle", "3"], extra].concat(),
    )
    .status()
    .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(st.success(), "{text}");
    assert!(
        text.contains("restoring checkpoint"),
        "the last run restored nothing: {text}"
    );
    assert!(
        restored >= 3,
        "only {restored} of the killed runs started from a checkpoint"
    );
    assert!(!complete_checkpoints(&out).is_empty());

    // The files: cut back to the checkpoint and written on, they are an uninterrupted run's.
    let got = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_same(
        &got.lines().map(str::to_string).collect::<Vec<_>>(),
        &expected.lines().map(str::to_string).collect::<Vec<_>>(),
        "decisions.jsonl after five kills vs an uninterrupted run",
    );
    let summary = |d: &Path| std::fs::read_to_string(d.join("summary.json")).unwrap();
    assert_eq!(summary(&out), summary(&dir.path().join("file")));

    // The topic: what came after a checkpoint is sent again, and a consumer deduplicating by
    // id sees one uninterrupted run; nothing before a completed checkpoint was sent twice.
    let sent = broker.read_all("livesell.decisions");
    let unique = dedupe(sent.clone());
    let expected_lines: Vec<String> = expected.lines().map(str::to_string).collect();
    eprintln!(
        "decisions: {} sent over 6 runs, {} unique, {} in an uninterrupted run",
        sent.len(),
        unique.len(),
        expected_lines.len()
    );
    assert_same(
        &per_session(unique.clone()),
        &per_session(expected_lines.clone()),
        "deduplicated decisions topic vs an uninterrupted run, per session",
    );
    let oversells = |l: &[String]| {
        l.iter()
            .filter(|l| l.contains(r#""outcome":"oversell""#))
            .count()
    };
    assert_eq!(oversells(&unique), oversells(&expected_lines));
}

/// Copies a folder and what it holds (one level of folders below it).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()))?;
        } else {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// The input positions a complete checkpoint resumes at, summed over the partitions: how
/// many messages it covers (every partition's offsets start at 0).
fn covered(checkpoint: &Path) -> u64 {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checkpoint.join("MANIFEST.json")).unwrap()).unwrap();
    m["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["next"].as_u64().unwrap())
        .sum()
}

/// Runs `lines` in two halves: the first run is killed with -9 once a checkpoint covers the
/// first half and two more have been taken (its sources never go idle: an idle source that
/// comes back is applied at a bound that depends on timing); `damage` may spoil what it left.
/// Returns the second run's log and checks that its files equal an uninterrupted run's.
fn in_two_halves(broker: &Broker, workers: (&str, &str), damage: impl FnOnce(&Path)) -> String {
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), 30_000, 4, 31);
    let expected = file_mode(&show, &dir.path().join("file"));
    let out = dir.path().join("kafka");
    let (first, second) = lines.split_at(lines.len() / 2);
    broker.produce_show("livesell.events", first);
    let log = dir.path().join("first.log");
    let busy = ["--idle-timeout", "60"];
    let mut child = checkpointed_run(
        broker,
        "g-halves",
        &out,
        "0.2",
        &log,
        &["--workers", workers.0, busy[0], busy[1]],
    )
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut after_all = None;
    loop {
        assert!(
            Instant::now() < deadline,
            "no checkpoint covered the first half: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        let done = complete_checkpoints(&out);
        if let Some(newest) = done.last() {
            if covered(newest) == first.len() as u64 {
                let first_full = after_all.get_or_insert_with(|| newest.clone()).clone();
                if done.iter().filter(|d| **d > first_full).count() >= 1 && done.len() >= 2 {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    damage(&out);
    broker.produce_show("livesell.events", second);
    let log = dir.path().join("second.log");
    let st = checkpointed_run(
        broker,
        "g-halves",
        &out,
        "0.2",
        &log,
        &[
            "--workers",
            workers.1,
            "--exit-when-idle",
            "2",
            busy[0],
            busy[1],
        ],
    )
    .status()
    .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(st.success(), "{text}");
    let got = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_same(
        &got.lines().map(str::to_string).collect::<Vec<_>>(),
        &expected.lines().map(str::to_string).collect::<Vec<_>>(),
        "decisions.jsonl of two halves vs one run",
    );
    let summary = |d: &Path| std::fs::read_to_string(d.join("summary.json")).unwrap();
    assert_eq!(summary(&out), summary(&dir.path().join("file")));
    text
}

#[test]
fn a_corrupted_newest_checkpoint_is_refused_and_the_one_before_is_used() {
    let broker = Broker::mock();
    let log = in_two_halves(&broker, ("2", "2"), |out| {
        let newest = complete_checkpoints(out).pop().unwrap();
        let part = newest.join("part-1.bin");
        let mut bytes = std::fs::read(&part).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0x40;
        std::fs::write(&part, bytes).unwrap();
    });
    assert!(
        log.contains("checkpoint refused") && log.contains("checksum"),
        "{log}"
    );
    assert!(log.contains("restoring checkpoint"), "{log}");
}

#[test]
fn a_checkpoint_taken_with_two_workers_restores_with_one() {
    let broker = Broker::mock();
    let log = in_two_halves(&broker, ("2", "1"), |_| {});
    assert!(
        log.contains("restoring checkpoint") && log.contains("2 worker part(s)"),
        "{log}"
    );
}

#[test]
fn a_checkpoint_taken_with_one_worker_restores_with_three() {
    let broker = Broker::mock();
    let log = in_two_halves(&broker, ("1", "3"), |_| {});
    assert!(log.contains("restoring checkpoint"), "{log}");
}

#[test]
fn two_processes_killed_restart_from_their_checkpoint() {
    if let Some(broker) = Broker::start() {
        two_processes_checkpointed(&broker);
    }
}

/// Two processes (one worker each) share a checkpoint directory: both killed with -9 once a
/// checkpoint covers the first half of a show, then both restarted for the second half; their
/// decisions equal one uninterrupted run's, in the files and on the topic.
fn two_processes_checkpointed(broker: &Broker) {
    create_topics(broker, 4);
    let dir = tempfile::tempdir().unwrap();
    let (show, lines) = generate(dir.path(), 30_000, 4, 41);
    let expected = file_mode(&show, &dir.path().join("file"));
    let (first, second) = lines.split_at(lines.len() / 2);
    broker.produce_show("livesell.events", first);
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port()),
    )
    .unwrap();
    let out = dir.path().join("cluster");
    let spawn = |process: usize, extra: &[&str]| {
        let log = dir.path().join(format!("p{process}-{}.log", extra.len()));
        let mut args = vec!["--workers", "1", "--idle-timeout", "60"];
        args.extend_from_slice(extra);
        let mut c = checkpointed_run(broker, "g-cluster-ckpt", &out, "0.3", &log, &args);
        c.args([
            "--processes",
            "2",
            "--process",
            &process.to_string(),
            "--hosts",
        ])
        .arg(&hosts);
        (c.spawn().unwrap(), log)
    };
    let (mut p0, _) = spawn(0, &[]);
    let (mut p1, _) = spawn(1, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "no checkpoint covered the first half"
        );
        let done = complete_checkpoints(&out);
        if done
            .last()
            .is_some_and(|d| covered(d) == first.len() as u64)
            && done.len() >= 2
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for p in [&mut p0, &mut p1] {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    broker.produce_show("livesell.events", second);
    let (mut p0, log0) = spawn(0, &["--exit-when-idle", "2"]);
    let (mut p1, log1) = spawn(1, &["--exit-when-idle", "2"]);
    assert!(
        p0.wait().unwrap().success(),
        "{}",
        std::fs::read_to_string(&log0).unwrap()
    );
    assert!(
        p1.wait().unwrap().success(),
        "{}",
        std::fs::read_to_string(&log1).unwrap()
    );
    for log in [&log0, &log1] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(text.contains("restoring checkpoint"), "{text}");
    }
    let got = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_same(
        &got.lines().map(str::to_string).collect::<Vec<_>>(),
        &expected.lines().map(str::to_string).collect::<Vec<_>>(),
        "decisions.jsonl of two killed and restarted processes vs one run",
    );
    let unique = dedupe(broker.read_all("livesell.decisions"));
    assert_same(
        &per_session(unique),
        &per_session(expected.lines().map(str::to_string)),
        "deduplicated decisions topic vs one run, per session",
    );
}

/// `livesell push --from kafka://…`: the orders-out topic's records reach a webhook once each,
/// and a second push sends none of them again (the outbox).
#[test]
fn the_pusher_reads_the_orders_out_topic() {
    use std::io::{BufRead, BufReader, Read, Write};
    let broker = &Broker::mock();
    create_topics(broker, 1);
    let dir = tempfile::tempdir().unwrap();
    let (show, _) = generate(dir.path(), 3_000, 2, 17);
    file_mode(&show, &dir.path().join("file"));
    let drafts: Vec<String> = std::fs::read_to_string(dir.path().join("file/orders_out.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(drafts.len() > 20);
    broker.produce_show("livesell.orders-out", &drafts);

    // A receiver that answers 204 and notes each X-Livesell-Id.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let noted = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream);
            let (mut id, mut len) = (String::new(), 0usize);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                let l = line.to_ascii_lowercase();
                if let Some(v) = l.strip_prefix("x-livesell-id:") {
                    id = line[line.len() - v.len()..].trim().to_string();
                }
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            noted.lock().unwrap().push(id);
            let _ = r
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    let push = || {
        Command::new(BIN)
            .args([
                "push",
                "--from",
                &broker.url(),
                "--to",
                "webhook",
                "--url",
                &url,
            ])
            .args(["--secret", "s3cret", "--follow", "1", "--outbox"])
            .arg(dir.path().join("outbox.redb"))
            .output()
            .unwrap()
    };
    let o = push();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut ids = seen.lock().unwrap().clone();
    ids.sort();
    let mut want: Vec<String> = drafts
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    want.sort();
    assert_eq!(ids, want);
    let o = push();
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains(&format!("0 sent, {} already sent", drafts.len())),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(seen.lock().unwrap().len(), drafts.len());
}

/// Issue 31: a show already on the topic (a backlog), read with a short idle timeout, the run
/// killed after a checkpoint and restarted. A partition whose reader had not caught up counted
/// as idle (and a restored clock kept the idleness it had at the checkpoint), so the other
/// partitions' watermarks passed its events, which came out `late` with a later effective time.
/// A partition with unread messages is never idle now: every decision, `ts` and `late`
/// included, is an uninterrupted file run's.
fn backlog_restart(broker: &Broker, events: u64, mid_input: bool) {
    create_topics(broker, 4);
    let tmp = tempfile::tempdir().unwrap();
    // LIVESELL_KEEP_TEST_DIR keeps the show, both runs' outputs and logs for a look after.
    let (_guard, root) = if std::env::var_os("LIVESELL_KEEP_TEST_DIR").is_some() {
        let root = tmp.keep();
        eprintln!("kept in {}", root.display());
        (None, root)
    } else {
        let root = tmp.path().to_path_buf();
        (Some(tmp), root)
    };
    let dir = root.as_path();
    let (show, lines) = generate(dir, events, 6, 37);
    let expected = file_mode(&show, &dir.join("file"));
    broker.produce_show("livesell.events", &lines);
    let out = dir.join("kafka");
    let quick = ["--idle-timeout", "0.05"];
    let log = dir.join("first.log");
    let mut child = checkpointed_run(
        broker,
        "g-backlog",
        &out,
        "0.1",
        &log,
        &["--workers", "2", quick[0], quick[1]],
    )
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while complete_checkpoints(&out).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let newest = complete_checkpoints(&out).pop().unwrap();
    let at_kill = std::fs::metadata(out.join("decisions.jsonl")).map_or(0, |m| m.len());
    eprintln!("decisions.jsonl at the kill: {at_kill} bytes");
    // The mock cluster hands the whole topic over before the first cut: a restart at its end.
    if mid_input {
        assert!(
            covered(&newest) < lines.len() as u64,
            "the first run read everything"
        );
    }
    let log = dir.join("second.log");
    let st = checkpointed_run(
        broker,
        "g-backlog",
        &out,
        "0.1",
        &log,
        &[
            "--workers",
            "2",
            "--exit-when-idle",
            "2",
            quick[0],
            quick[1],
        ],
    )
    .status()
    .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(st.success(), "{text}");
    assert!(text.contains("restoring checkpoint"), "{text}");
    let got = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    let late = |t: &str| t.matches(r#""late":true"#).count();
    eprintln!(
        "late decisions: {} after the restart, {} in the file run; the first run wrote {} bytes up to its newest checkpoint",
        late(&got),
        late(&expected),
        got.len()
    );
    {
        let g: std::collections::HashSet<&str> = got.lines().collect();
        let e: std::collections::HashSet<&str> = expected.lines().collect();
        let missing: Vec<&&str> = e.difference(&g).collect();
        let extra: Vec<&&str> = g.difference(&e).collect();
        let kinds = |v: &[&&str]| {
            let mut m = std::collections::BTreeMap::new();
            for l in v {
                let k = l
                    .split(r#""kind":""#)
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("?");
                let s = l
                    .split(r#""session_id":""#)
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("?");
                *m.entry(format!("{k}/{s}")).or_insert(0) += 1;
            }
            m
        };
        eprintln!(
            "missing {} {:?}; extra {} {:?}",
            missing.len(),
            kinds(&missing),
            extra.len(),
            kinds(&extra)
        );
        for l in missing.iter().take(3) {
            eprintln!("  missing: {}", &l[..l.len().min(300)]);
        }
    }
    assert_same(
        &got.lines().map(str::to_string).collect::<Vec<_>>(),
        &expected.lines().map(str::to_string).collect::<Vec<_>>(),
        "decisions.jsonl (ts and late included) after a restart on a backlog vs a file run",
    );
}

#[test]
fn on_the_mock_cluster_a_backlog_read_after_a_restart_decides_as_one_run() {
    // The mock cluster keeps ~100K messages of a partition: a smaller show.
    backlog_restart(&Broker::mock(), 60_000, false);
}

/// It failed about one run in three: tansu 0.6 answers a fetch from an offset inside a batch
/// with the batches after it, so a restart lost the rest of the batch it resumed in. The reader
/// now asks again from further back when the first message comes after its position.
#[test]
fn a_backlog_read_after_a_restart_decides_as_one_run() {
    if let Some(broker) = Broker::start() {
        backlog_restart(&broker, 400_000, true);
    }
}

/// A small show on `livesell.events` of `broker`, and a run with a sink as README.md's
/// command writes it (its broker address replaced, ending once the input is quiet).
fn readme_run(broker: &Broker, dir: &Path) -> std::process::Output {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("## Kafka on one laptop")
        .nth(1)
        .and_then(|r| r.split("```").nth(1))
        .expect("README.md has a Kafka section with commands");
    let run = block
        .lines()
        .find(|l| l.starts_with("cargo run --release -- run "))
        .expect("the README's run command");
    let args: Vec<String> = run["cargo run --release -- ".len()..]
        .split_whitespace()
        .map(|a| a.replace("127.0.0.1:9092", &broker.addr))
        .collect();
    let (_, lines) = generate(dir, 3_000, 2, 32);
    broker.produce_show("livesell.events", &lines);
    Command::new(BIN)
        .args(&args)
        .args(["--exit-when-idle", "2"])
        .output()
        .unwrap()
}

/// Issue 32: the README's Kafka commands work as written: the topics its loop creates are
/// every topic a run with a sink writes to (none is created behind its back), and the run ends
/// well.
#[test]
fn the_readmes_kafka_commands_work_as_written() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme.split("## Kafka on one laptop").nth(1).unwrap();
    let lines: Vec<&str> = block.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("for t in "))
        .expect("the README's topic loop");
    let topics: Vec<&str> = lines[at]["for t in ".len()..]
        .split("; do")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let create = lines[at + 1];
    assert!(create.contains("tansu topic create $t"), "{create}");
    let partitions: u32 = create
        .split("--partitions ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("--partitions N");
    for t in &topics {
        broker.create_topic(t, partitions);
    }
    let dir = tempfile::tempdir().unwrap();
    let o = readme_run(&broker, dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        !err.contains("did not exist"),
        "the README leaves out a topic: {err}"
    );
    assert!(!broker.read_all("livesell.decisions").is_empty());
}

/// Issue 32: a broker without topic auto-creation and no output topics: they are created
/// (one line each) before the first event is read, and the run goes through instead of halting
/// at a show's first cart with `UnknownTopicOrPartition`.
#[test]
fn missing_output_topics_are_created_before_the_run_reads() {
    let Some(broker) = Broker::start() else {
        return;
    };
    broker.create_topic("livesell.events", 2);
    let dir = tempfile::tempdir().unwrap();
    let o = readme_run(&broker, dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    for t in ["livesell.carts", "livesell.notifications", "livesell.gmv"] {
        assert!(
            err.contains(&format!("output topic {t} did not exist")),
            "{t}: {err}"
        );
    }
    assert!(!broker.read_all("livesell.decisions").is_empty());
    let carts = broker.read_all("livesell.carts");
    assert!(!carts.is_empty());
    // The kinds only Kafka carries, against their JSON Schemas (tests/schemas.rs has the rest).
    let ticker = broker.read_all("livesell.gmv");
    valid_records(dir.path(), &[("--carts", &carts), ("--ticker", &ticker)]);
}

/// Records against their JSON Schema with the Draft 2020-12 validator of `tests/schemas.rs`:
/// `(flag, lines)` as `tests/schemas/validate.py` takes them.
fn valid_records(dir: &Path, kinds: &[(&str, &[String])]) {
    let ok = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Python's jsonschema (.ci/run installs it)"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let empty = dir.join("no-run");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(root.join("tests/schemas/validate.py"))
        .arg(root.join("schemas/outputs"))
        .arg(&empty);
    for (flag, lines) in kinds {
        let path = dir.join(format!("{}.jsonl", flag.trim_start_matches('-')));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        cmd.arg(flag).arg(&path);
    }
    let o = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (flag, lines) in kinds {
        let name = if *flag == "--carts" {
            "cart"
        } else {
            "gmv-ticker"
        };
        assert!(
            text.contains(&format!("{name}: {} checked, 0 broken", lines.len())),
            "{text}"
        );
    }
}
