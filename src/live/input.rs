//! The live input of `livesell serve`: one stream of JSONL lines fed by the replay and by the HTTP actions, on a show clock.
//!
//! Transport only: lines go to the pipeline's line reader through a channel, which reports a
//! quiet spell as `WouldBlock` so that the reader marks the source idle (SPEC 2) and what is
//! pending becomes final without waiting for more input.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::domain::event::parse_line;
use crate::domain::time::Micros;
use crate::io::kafka::KafkaSink;

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

/// Where lines enter the live pipeline: the channel the pipeline's line reader reads, or (when
/// the pipeline reads Kafka) a topic of its input.
pub struct LiveInput {
    tx: Mutex<Option<Sender<Vec<u8>>>>,
    kafka: Option<(KafkaSink, String)>,
    pub clock: ShowClock,
    pub lines_in: AtomicU64,
    /// Lines replayed so far, and the replay's total (0 while unknown).
    pub replayed: AtomicU64,
}

impl LiveInput {
    /// The input and the reader the pipeline reads it through; `idle` is the quiet spell after
    /// which the source counts as idle.
    pub fn new(speed: f64, idle: Duration) -> (Arc<LiveInput>, ChannelReader) {
        let (tx, rx) = channel();
        let input = Arc::new(LiveInput {
            tx: Mutex::new(Some(tx)),
            kafka: None,
            clock: ShowClock::new(speed),
            lines_in: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
        });
        let reader = ChannelReader {
            rx,
            idle,
            current: Vec::new(),
            pos: 0,
        };
        (input, reader)
    }

    /// Actions go to Kafka `topic` (keyed by session, so one show's actions stay in order on
    /// one partition); the show clock is the wall clock.
    pub fn kafka(sink: KafkaSink, topic: String) -> Arc<LiveInput> {
        Arc::new(LiveInput {
            tx: Mutex::new(None),
            kafka: Some((sink, topic)),
            clock: ShowClock::new(1.0),
            lines_in: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
        })
    }

    /// Sends an action of `session` (one line, without its newline); false when it could not go.
    pub fn send_action(&self, session: &str, line: &[u8]) -> bool {
        let Some((sink, topic)) = &self.kafka else {
            return self.send(line);
        };
        let sent = sink.send(topic, Some(session), line).is_ok()
            && sink.flush(Duration::from_secs(5)).is_ok();
        if sent {
            self.lines_in.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Sends one line (without its newline); false once the input is closed.
    pub fn send(&self, line: &[u8]) -> bool {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        let ok = guard.as_ref().is_some_and(|tx| tx.send(bytes).is_ok());
        if ok {
            self.lines_in.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Ends the input: the pipeline finishes what it has and writes its final outputs.
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Replays `reader`'s lines in event time, `speed` times faster than the show ran: each line
    /// goes out when the clock reaches the largest `ts` seen so far, so lines that arrived late
    /// in the recording (a platform's delivery delay) go out at once, in their recorded order.
    /// Unreadable lines go out at once too; the pipeline dead-letters them.
    pub fn replay(&self, reader: impl BufRead, stop: &AtomicBool) -> io::Result<u64> {
        let mut high: Option<Micros> = None;
        let mut n = 0;
        for line in reader.split(b'\n') {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let line = line?;
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
            if !self.send(&line) {
                break;
            }
            n += 1;
            self.replayed.store(n, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// The pipeline's side of the live input: a `Read` over the channel's lines that reports
/// `WouldBlock` after `idle` without a line.
pub struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    idle: Duration,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.current.len() {
            self.current = match self.rx.recv_timeout(self.idle) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            };
            self.pos = 0;
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
                Ok(line) => (self.current, self.pos) = (line, 0),
                Err(_) => break,
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_passes_lines_reports_quiet_and_ends() {
        let (input, mut reader) = LiveInput::new(1.0, Duration::from_millis(20));
        assert!(input.send(b"{\"a\":1}"));
        let mut buf = [0u8; 64];
        let n = reader.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"{\"a\":1}\n");
        let quiet = reader.read(&mut buf).unwrap_err();
        assert_eq!(quiet.kind(), io::ErrorKind::WouldBlock);
        input.close();
        assert_eq!(reader.read(&mut buf).unwrap(), 0);
        assert!(!input.send(b"late"));
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
