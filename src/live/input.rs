//! The live input of `livesell serve`: one stream of JSONL lines fed by the replay and by the HTTP actions, on a show clock.
//!
//! Transport only: lines go to the pipeline's line reader through a channel, which reports a
//! quiet spell as `WouldBlock` so that the reader marks the source idle (SPEC 2) and what is
//! pending becomes final without waiting for more input.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::durable::Entry;
use crate::domain::event::parse::parse_line;
use crate::domain::time::Micros;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// The show's clock in event time: the replay's first `ts` plus wall time elapsed × speed, or
/// the wall clock when nothing is replayed. HTTP actions are stamped with it, so they fall
/// among the replayed events where the producer saw them.
pub struct ShowClock {
    origin: Mutex<(Instant, Micros)>,
    speed: f64,
    anchored: AtomicBool,
    /// A replay will anchor the clock: until it does, the clock says nothing about event time.
    awaits_anchor: AtomicBool,
}

impl ShowClock {
    pub fn new(speed: f64) -> ShowClock {
        ShowClock {
            origin: Mutex::new((Instant::now(), wall_micros())),
            speed: if speed > 0.0 { speed } else { 1.0 },
            anchored: AtomicBool::new(false),
            awaits_anchor: AtomicBool::new(false),
        }
    }

    /// A replay is coming: the clock is the show's only once its first event anchors it.
    pub fn await_anchor(&self) {
        self.awaits_anchor.store(true, Ordering::SeqCst);
    }

    /// The show's event time now, when the clock knows it (not before a replay anchors it):
    /// what a quiet live input reports, so that timers fire on it (SPEC 2).
    pub fn reading(&self) -> Option<Micros> {
        let known =
            self.anchored.load(Ordering::SeqCst) || !self.awaits_anchor.load(Ordering::SeqCst);
        known.then(|| self.now())
    }

    /// Starts the show at event time `ts`, now (the replay's first event); only once.
    fn anchor(&self, ts: Micros) {
        if !self.anchored.swap(true, Ordering::SeqCst) {
            *self.origin.lock().unwrap_or_else(|p| p.into_inner()) = (Instant::now(), ts);
        }
    }

    pub fn now(&self) -> Micros {
        let (at, ts) = *self.origin.lock().unwrap_or_else(|p| p.into_inner());
        ts + (at.elapsed().as_micros() as f64 * self.speed) as Micros
    }

    /// The wall time at which the show reaches event time `ts` (now, if it has).
    fn wall_of(&self, ts: Micros) -> Instant {
        let (at, origin) = *self.origin.lock().unwrap_or_else(|p| p.into_inner());
        let ahead = (ts - origin).max(0) as f64 / self.speed;
        at + Duration::from_micros(ahead as u64)
    }
}

fn wall_micros() -> Micros {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as Micros)
        .unwrap_or(0)
}

/// Bytes of lines waiting for the pipeline, at most, by default: a burst beyond it is pushed
/// back to its sender (503 with Retry-After) rather than held in memory.
pub const QUEUE_BYTES: usize = 32 << 20;
/// Messages waiting for the broker, at most, in Kafka mode (librdkafka's local queue).
pub const QUEUE_MESSAGES: usize = 100_000;
/// How long an action waits for the broker's acknowledgement before it is answered 503.
pub const ACK_WAIT: Duration = Duration::from_secs(5);

/// Why lines were not taken.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// The queue is full: retry shortly.
    Busy,
    /// The input has ended.
    Closed,
    /// The broker did not take them: its error, or no answer in time.
    Unavailable(String),
}

/// The channel to the pipeline's line reader, bounded in bytes.
struct Queue {
    tx: Mutex<Option<Sender<Entry>>>,
    shared: Arc<QueueShared>,
    /// The reader journals what it takes: an action is answered once it is synced.
    journaled: bool,
}

/// What the queue's two ends share: bytes queued, and whether the reader is gone.
struct QueueShared {
    queued: AtomicUsize,
    capacity: usize,
    reader_gone: AtomicBool,
}

impl QueueShared {
    /// The reader took `n` bytes: they leave the count.
    fn taken(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::AcqRel);
    }
}

impl Queue {
    /// Queues `entry` (whole lines); `wait` for room (the replay) or refuse when full (actions).
    fn offer(&self, entry: Entry, wait: Option<&AtomicBool>) -> Result<(), Refused> {
        let (n, q) = (entry.bytes.len(), &self.shared);
        loop {
            let before = q.queued.fetch_add(n, Ordering::AcqRel);
            // A block larger than the whole queue still goes, alone.
            if before == 0 || before + n <= q.capacity {
                break;
            }
            q.queued.fetch_sub(n, Ordering::AcqRel);
            match wait {
                None => return Err(Refused::Busy),
                Some(stop) if stop.load(Ordering::Relaxed) => return Err(Refused::Closed),
                Some(_) if q.reader_gone.load(Ordering::Relaxed) => return Err(Refused::Closed),
                Some(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|tx| tx.send(entry).is_ok()) {
            return Ok(());
        }
        q.queued.fetch_sub(n, Ordering::AcqRel);
        Err(Refused::Closed)
    }
}

/// Where lines go: the channel the pipeline's line reader reads, or a Kafka topic of the
/// pipeline's input.
enum Route {
    Channel(Queue),
    Kafka {
        producer: FutureProducer,
        topic: String,
        ack_wait: Duration,
    },
}

/// Where lines enter the live pipeline: the channel the pipeline's line reader reads, or (when
/// the pipeline reads Kafka) a topic of its input.
pub struct LiveInput {
    route: Route,
    pub clock: ShowClock,
    pub lines_in: AtomicU64,
    /// Lines replayed so far, and the replay's total (0 while unknown).
    pub replayed: AtomicU64,
    /// Submissions pushed back because the queue was full.
    pub busy: AtomicU64,
}

impl LiveInput {
    /// The input and the reader the pipeline reads it through; `idle` is the quiet spell after
    /// which the source counts as idle.
    pub fn new(speed: f64, idle: Duration) -> (Arc<LiveInput>, ChannelReader) {
        LiveInput::bounded(speed, idle, QUEUE_BYTES)
    }

    /// As `new`, with at most `capacity` bytes waiting for the pipeline.
    pub fn bounded(speed: f64, idle: Duration, capacity: usize) -> (Arc<LiveInput>, ChannelReader) {
        LiveInput::journaled(speed, idle, capacity, None)
    }

    /// As `bounded`, with what the reader takes written to `journal` first (and synced before
    /// an action is answered); a journal that holds records is read back before anything new.
    pub fn journaled(
        speed: f64,
        idle: Duration,
        capacity: usize,
        journal: Option<super::durable::Journaled>,
    ) -> (Arc<LiveInput>, ChannelReader) {
        let (tx, rx) = channel();
        let shared = Arc::new(QueueShared {
            queued: AtomicUsize::new(0),
            capacity: capacity.max(1),
            reader_gone: AtomicBool::new(false),
        });
        let input = LiveInput::with_route(
            Route::Channel(Queue {
                tx: Mutex::new(Some(tx)),
                shared: shared.clone(),
                journaled: journal.is_some(),
            }),
            ShowClock::new(speed),
        );
        let reader = ChannelReader {
            rx,
            shared,
            idle,
            current: Vec::new(),
            pos: 0,
            journal,
        };
        (input, reader)
    }

    fn with_route(route: Route, clock: ShowClock) -> Arc<LiveInput> {
        Arc::new(LiveInput {
            route,
            clock,
            lines_in: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        })
    }

    /// Actions go to Kafka `topic` on `brokers` (keyed by session, so one show's actions stay
    /// in order on one partition); the show clock is the wall clock. An action is answered
    /// once the broker has it, or after `ack_wait` without an answer.
    pub fn kafka(
        brokers: &str,
        topic: String,
        ack_wait: Duration,
    ) -> anyhow::Result<Arc<LiveInput>> {
        crate::io::kafka::security()
            .map_err(|e| anyhow::anyhow!("Kafka security settings: {e}"))?;
        let producer: FutureProducer = crate::io::kafka::base_config(brokers)
            .set("linger.ms", "2")
            .set("acks", "all")
            .set("queue.buffering.max.messages", QUEUE_MESSAGES.to_string())
            // An action the broker never took fails in the end rather than waiting for ever.
            .set("message.timeout.ms", "30000")
            .create()
            .map_err(|e| anyhow::anyhow!("connecting a producer to {brokers}: {e}"))?;
        let route = Route::Kafka {
            producer,
            topic,
            ack_wait,
        };
        Ok(LiveInput::with_route(route, ShowClock::new(1.0)))
    }

    /// Sends lines of `session` (each without its newline) to the pipeline: all of them, or
    /// (on the channel) none. Never blocks the caller's thread: a full queue is `Busy` at
    /// once, and a broker's acknowledgement is awaited.
    pub async fn submit(&self, session: &str, lines: &[String]) -> Result<(), Refused> {
        let n = lines.len() as u64;
        let result = match &self.route {
            Route::Channel(q) => {
                let mut block = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
                for l in lines {
                    block.extend_from_slice(l.as_bytes());
                    block.push(b'\n');
                }
                let (tx, rx) = tokio::sync::oneshot::channel();
                let entry = Entry {
                    bytes: block,
                    replay_end: None,
                    durable: q.journaled.then_some(tx),
                };
                match q.offer(entry, None) {
                    // Accepted once it is in the journal on the disk (group commit: the reader
                    // syncs whatever came meanwhile in one go).
                    Ok(()) if q.journaled => match tokio::time::timeout(ACK_WAIT, rx).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(_)) => Err(Refused::Unavailable(
                            "the journal could not be written".into(),
                        )),
                        Err(_) => Err(Refused::Unavailable(format!(
                            "the journal was not synced within {} s",
                            ACK_WAIT.as_secs_f64()
                        ))),
                    },
                    other => other,
                }
            }
            Route::Kafka {
                producer,
                topic,
                ack_wait,
            } => send_to_kafka(producer, topic, session, lines, *ack_wait).await,
        };
        match &result {
            Ok(()) => {
                self.lines_in.fetch_add(n, Ordering::Relaxed);
            }
            Err(Refused::Busy) => {
                self.busy.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        result
    }

    /// Sends one line (without its newline), waiting while the queue is full (the replay is
    /// paced by the pipeline rather than held in memory); false once the input is closed or
    /// `stop` is set.
    fn send_waiting(&self, line: &[u8], replay_end: u64, stop: &AtomicBool) -> bool {
        let Route::Channel(q) = &self.route else {
            return false;
        };
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        let entry = Entry {
            bytes,
            replay_end: Some(replay_end),
            durable: None,
        };
        let ok = q.offer(entry, Some(stop)).is_ok();
        if ok {
            self.lines_in.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Ends the input: the pipeline finishes what it has and writes its final outputs.
    pub fn close(&self) {
        if let Route::Channel(q) = &self.route {
            q.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        }
    }

    /// Replays `reader`'s lines in event time, `speed` times faster than the show ran: each line
    /// goes out when the clock reaches the largest `ts` seen so far, so lines that arrived late
    /// in the recording (a platform's delivery delay) go out at once, in their recorded order.
    /// Unreadable lines go out at once too; the pipeline dead-letters them.
    pub fn replay(&self, reader: impl BufRead, stop: &AtomicBool) -> io::Result<u64> {
        self.replay_from(reader, None, stop)
    }

    /// `replay`, resumed: the lines before byte `from` of the replay were journaled by an earlier
    /// run (they are skipped), and the show clock goes on from `newest`, the latest event time
    /// that run journaled.
    pub fn replay_from(
        &self,
        reader: impl BufRead,
        from: Option<(u64, Option<Micros>)>,
        stop: &AtomicBool,
    ) -> io::Result<u64> {
        let mut high: Option<Micros> = None;
        let mut n = 0;
        let mut offset = 0u64;
        let (skip, newest) = from.unwrap_or((0, None));
        if let Some(t) = newest {
            self.clock.anchor(t);
            high = Some(t);
        }
        for line in reader.split(b'\n') {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let line = line?;
            offset += line.len() as u64 + 1;
            if offset <= skip {
                continue;
            }
            if let Ok(ev) = parse_line(&line) {
                if high.is_none() {
                    self.clock.anchor(ev.ts);
                }
                if high.is_none_or(|h| ev.ts > h) {
                    high = Some(ev.ts);
                    let due = self.clock.wall_of(ev.ts);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                }
            }
            if !self.send_waiting(&line, offset, stop) {
                break;
            }
            n += 1;
            self.replayed.store(n, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Queues every line on the producer, then awaits the broker's acknowledgements of all of them
/// (at most `ack_wait`): the runtime's threads go on serving meanwhile.
async fn send_to_kafka(
    producer: &FutureProducer,
    topic: &str,
    session: &str,
    lines: &[String],
    ack_wait: Duration,
) -> Result<(), Refused> {
    let mut acks = Vec::with_capacity(lines.len());
    for l in lines {
        let record = FutureRecord::to(topic).key(session).payload(l.as_bytes());
        match producer.send_result(record) {
            Ok(ack) => acks.push(ack),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                return Err(Refused::Busy);
            }
            Err((e, _)) => return Err(Refused::Unavailable(format!("sending to {topic}: {e}"))),
        }
    }
    let Ok(answers) = tokio::time::timeout(ack_wait, futures::future::join_all(acks)).await else {
        return Err(Refused::Unavailable(format!(
            "the broker did not acknowledge within {} s",
            ack_wait.as_secs_f64()
        )));
    };
    for a in answers {
        match a {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => return Err(Refused::Unavailable(format!("{topic}: {e}"))),
            Err(_) => return Err(Refused::Unavailable("the producer has stopped".into())),
        }
    }
    Ok(())
}

/// The pipeline's side of the live input: a `Read` over the channel's lines that reports
/// `WouldBlock` after `idle` without a line.
pub struct ChannelReader {
    rx: Receiver<Entry>,
    shared: Arc<QueueShared>,
    idle: Duration,
    current: Vec<u8>,
    pos: usize,
    /// Where what is read is journaled first (and what an earlier run journaled is read back).
    journal: Option<super::durable::Journaled>,
}

impl ChannelReader {
    /// The next entry; what it held leaves the queue's count.
    fn take(&mut self, entry: Entry) {
        self.shared
            .queued
            .fetch_sub(entry.bytes.len(), Ordering::AcqRel);
        (self.current, self.pos) = (entry.bytes, 0);
        if let Some(done) = entry.durable {
            let _ = done.send(());
        }
    }
}

impl Drop for ChannelReader {
    fn drop(&mut self) {
        self.shared.reader_gone.store(true, Ordering::Relaxed);
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(j) = &mut self.journal {
            let shared = &self.shared;
            return j.read(&self.rx, |n| shared.taken(n), self.idle, buf);
        }
        if self.pos == self.current.len() {
            match self.rx.recv_timeout(self.idle) {
                Ok(block) => self.take(block),
                Err(RecvTimeoutError::Timeout) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        // Everything already queued goes in one read, so a busy show makes large blocks rather
        // than one block per line (each block costs a progress round through the dataflow).
        let mut n = 0;
        loop {
            let k = (buf.len() - n).min(self.current.len() - self.pos);
            buf[n..n + k].copy_from_slice(&self.current[self.pos..self.pos + k]);
            (n, self.pos) = (n + k, self.pos + k);
            if n == buf.len() {
                break;
            }
            match self.rx.try_recv() {
                Ok(block) => self.take(block),
                Err(_) => break,
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` to completion on a runtime of one thread, as a handler would run.
    fn on_one_thread<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_reader_passes_lines_reports_quiet_and_ends() {
        let (input, mut reader) = LiveInput::new(1.0, Duration::from_millis(20));
        assert_eq!(
            on_one_thread(input.submit("s", &lines(&["{\"a\":1}"]))),
            Ok(())
        );
        let mut buf = [0u8; 64];
        let n = reader.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"{\"a\":1}\n");
        let quiet = reader.read(&mut buf).unwrap_err();
        assert_eq!(quiet.kind(), io::ErrorKind::WouldBlock);
        input.close();
        assert_eq!(reader.read(&mut buf).unwrap(), 0);
        let late = on_one_thread(input.submit("s", &lines(&["late"])));
        assert_eq!(late, Err(Refused::Closed));
    }

    #[test]
    fn a_full_queue_pushes_back_until_the_pipeline_reads() {
        // Room for two 10-byte lines.
        let (input, mut reader) = LiveInput::bounded(1.0, Duration::from_millis(20), 20);
        let line = lines(&["123456789"]);
        assert_eq!(on_one_thread(input.submit("s", &line)), Ok(()));
        assert_eq!(on_one_thread(input.submit("s", &line)), Ok(()));
        assert_eq!(on_one_thread(input.submit("s", &line)), Err(Refused::Busy));
        assert_eq!(input.busy.load(Ordering::Relaxed), 1);
        // Several lines go together or not at all.
        let (a, b) = ("aaaa".to_string(), "bbbb".to_string());
        assert_eq!(
            on_one_thread(input.submit("s", &[a, b])),
            Err(Refused::Busy)
        );
        let mut buf = [0u8; 64];
        assert_eq!(reader.read(&mut buf).unwrap(), 20);
        assert_eq!(on_one_thread(input.submit("s", &line)), Ok(()));
        assert_eq!(input.lines_in.load(Ordering::Relaxed), 3);
        // One submission larger than the queue still goes once the queue is empty.
        assert_eq!(reader.read(&mut buf).unwrap(), 10);
        let big = lines(&[&"x".repeat(40)]);
        assert_eq!(on_one_thread(input.submit("s", &big)), Ok(()));
    }

    #[test]
    fn the_replay_waits_for_room_rather_than_growing_the_queue() {
        let (input, mut reader) = LiveInput::bounded(1e9, Duration::from_millis(20), 64);
        let show: String = (0..100).map(|i| format!("line {i:04}\n")).collect();
        let replayer = {
            let input = input.clone();
            std::thread::spawn(move || input.replay(show.as_bytes(), &AtomicBool::new(false)))
        };
        std::thread::sleep(Duration::from_millis(100));
        // The replay is held at the queue's size, not 1,000 bytes ahead.
        assert!(input.replayed.load(Ordering::Relaxed) <= 7);
        let mut all = Vec::new();
        let mut buf = [0u8; 16];
        while all.len() < 1000 {
            let n = reader.read(&mut buf).unwrap_or(0);
            all.extend_from_slice(&buf[..n]);
        }
        assert_eq!(replayer.join().unwrap().unwrap(), 100);
        assert!(all.starts_with(b"line 0000\nline 0001\n"));
    }

    #[test]
    fn an_action_waiting_for_a_silent_broker_does_not_block_its_thread() {
        // A broker that accepts connections and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let brokers = silent.local_addr().unwrap().to_string();
        let input = LiveInput::kafka(&brokers, "t".into(), Duration::from_millis(1500)).unwrap();
        on_one_thread(async {
            let started = Instant::now();
            let beats = async {
                for _ in 0..5 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                started.elapsed()
            };
            let line = lines(&["{}"]);
            let (sent, beat) = tokio::join!(input.submit("s", &line), beats);
            // The same thread went on with other work while the action waited.
            assert!(beat < Duration::from_millis(1000), "{beat:?}");
            assert!(matches!(sent, Err(Refused::Unavailable(_))), "{sent:?}");
            assert!(started.elapsed() >= Duration::from_millis(1400));
        });
        assert_eq!(input.lines_in.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn replay_paces_by_event_time_and_anchors_the_clock() {
        let (input, mut reader) = LiveInput::new(100.0, Duration::from_secs(5));
        let show = concat!(
            r#"{"type":"stock","session_id":"s","ts":1000000,"sku":"x","set":1}"#,
            "\n",
            r#"{"type":"stock","session_id":"s","ts":1050000,"sku":"x","set":2}"#,
            "\n",
            "not json\n",
        );
        let started = Instant::now();
        let stop = AtomicBool::new(false);
        assert_eq!(input.replay(show.as_bytes(), &stop).unwrap(), 3);
        // 50 s of show at 100× is 0.5 s of wall time.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(450), "{took:?}");
        let now = input.clock.now();
        assert!(now >= 1_000_000_000 + 45_000_000, "{now}");
        let mut all = Vec::new();
        input.close();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all.iter().filter(|&&b| b == b'\n').count(), 3);
    }
}
