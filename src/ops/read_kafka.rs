//! The Kafka source operator: each worker reads its partitions, every partition a SPEC 2 source.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use timely::dataflow::Stream;
use timely::dataflow::operators::generic::operator::source;

use crate::domain::order::CommitTrack;
use crate::io::kafka::{KafkaShared, PartitionId, PartitionReader};
use crate::ops::read_events::read_record;
use crate::records::Input;

/// Block times are milliseconds since the run started: each partition cuts at most one block
/// per millisecond, and every worker's blocks line up in time.
const TICK: Duration = Duration::from_millis(1);
/// Messages taken per activation, so the rest of the dataflow keeps moving.
const POLL_BUDGET: usize = 50_000;

/// Settings of the Kafka source.
#[derive(Debug, Clone)]
pub struct KafkaSourceConfig {
    pub lateness_us: i64,
    /// A partition quiet this long leaves the minimum watermark (SPEC 2's idle sources).
    pub idle_timeout: Duration,
    /// End the run once no partition has delivered anything for this long.
    pub exit_when_idle: Option<Duration>,
    /// Keep a commit track per partition (an entry per message until the sink has flushed
    /// what it caused): only a run that commits the group's offsets itself, with a Kafka sink
    /// and no checkpoints (checkpoints commit their own positions; nothing drains it then).
    pub track_commits: bool,
}

/// One partition this worker reads: a SPEC 2 source.
struct Part {
    source: u32,
    name: String,
    /// Values read since the last block was cut: bytes, and `(offset, start, end)` per message.
    bytes: Vec<u8>,
    spans: Vec<(u64, usize, usize)>,
    last_data: Instant,
    idle: bool,
    /// The offset after the last message read (`None` before the first, when the run starts
    /// from the beginning): where a checkpoint taken after this block resumes.
    next: Option<u64>,
    /// The partition's end when the run started: once read up to it, the run has caught up.
    end_at_start: u64,
}

/// This worker's partitions and the consumer that reads them.
pub struct KafkaHand {
    reader: Option<PartitionReader>,
    parts: Vec<Part>,
    peers: u64,
    shared: Arc<KafkaShared>,
    cfg: KafkaSourceConfig,
    last_error: Option<Instant>,
    /// Every partition here has been read up to its end as of the start (reported once).
    caught_up: bool,
}

impl KafkaHand {
    /// `parts`: `(source index, partition, offset the group committed before, offset to
    /// start at, its end at the start)` for each partition this worker owns (no start: the
    /// earliest retained); `peers`: all workers.
    pub fn open(
        brokers: &str,
        group: &str,
        parts: Vec<(u32, PartitionId, u64, Option<u64>, u64)>,
        peers: usize,
        shared: Arc<KafkaShared>,
        cfg: KafkaSourceConfig,
    ) -> Result<Self, crate::io::kafka::TransportError> {
        let reader = if parts.is_empty() {
            None
        } else {
            Some(PartitionReader::open(
                brokers,
                group,
                parts
                    .iter()
                    .map(|(_, p, _, start, _)| (p.clone(), *start))
                    .collect(),
            )?)
        };
        if let (true, Ok(mut tracks)) = (cfg.track_commits, shared.tracks.lock()) {
            for (s, p, committed, _, _) in &parts {
                tracks[*s as usize] = Some((p.clone(), CommitTrack::after(*committed)));
            }
        }
        let now = Instant::now();
        Ok(KafkaHand {
            reader,
            parts: parts
                .into_iter()
                .map(|(source, p, _, start, end)| Part {
                    source,
                    name: p.name(),
                    bytes: Vec::new(),
                    spans: Vec::new(),
                    last_data: now,
                    idle: false,
                    next: start,
                    end_at_start: end,
                })
                .collect(),
            peers: peers as u64,
            shared,
            cfg,
            last_error: None,
            caught_up: false,
        })
    }

    /// Takes what the consumer has fetched; returns how many messages.
    fn poll(&mut self) -> usize {
        let Some(reader) = &mut self.reader else {
            return 0;
        };
        let parts = &mut self.parts;
        let got = reader.poll(POLL_BUDGET, |slot, offset, value| {
            let p = &mut parts[slot];
            let start = p.bytes.len();
            p.bytes.extend_from_slice(value);
            p.spans.push((offset, start, p.bytes.len()));
        });
        match got {
            Ok(n) => {
                if n > 0 {
                    self.shared.delivered();
                }
                if !self.caught_up {
                    self.check_caught_up();
                }
                n
            }
            Err(e) => {
                // The client reconnects by itself; say so at most once a second.
                if self
                    .last_error
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
                {
                    eprintln!("livesell: kafka: {}", e.describe());
                    self.last_error = Some(Instant::now());
                }
                0
            }
        }
    }

    /// Says once when this worker has read every partition of its up to where it ended when
    /// the run started: a restarted run is back to live input (lag 0 as of the start).
    fn check_caught_up(&mut self) {
        let read = |p: &Part| {
            let last = p.spans.last().map(|s| s.0 + 1);
            last.or(p.next).unwrap_or(0)
        };
        if self.parts.iter().all(|p| read(p) >= p.end_at_start) {
            self.caught_up = true;
            eprintln!(
                "livesell: caught up: {} read to its end as of the start, {} ms after the start",
                self.parts
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.shared.start.elapsed().as_millis()
            );
        }
    }

    /// Cuts block `block` of partition `i` from what it read since the last one (perhaps
    /// nothing: an idle or closing report), and reports it to every worker.
    fn cut(&mut self, i: usize, block: u64, last: bool, out: &mut Vec<Input>) {
        let now = Instant::now();
        let p = &mut self.parts[i];
        let had_data = !p.spans.is_empty();
        if had_data {
            p.last_data = now;
            p.idle = false;
        }
        // A partition with messages still unread as of the start is slow, not quiet: it never
        // counts as idle (a restart's reader catching up on a backlog would otherwise let the
        // other partitions' watermarks pass its events, which would come out late).
        let read_to = p.next.unwrap_or(0);
        let behind = read_to < p.end_at_start;
        let became_idle =
            !had_data && !p.idle && !behind && now - p.last_data >= self.cfg.idle_timeout;
        if !had_data && !last && !became_idle {
            return;
        }
        p.idle |= became_idle;
        let mut local = None;
        let mut reads = Vec::with_capacity(p.spans.len());
        for &(offset, start, end) in &p.spans {
            let ts = read_record(
                (p.source, &p.name),
                block,
                (offset, offset),
                &p.bytes[start..end],
                &mut local,
                out,
            );
            reads.push((offset, ts));
        }
        // The lock is shared with the sink and this process's other sources: hold it briefly.
        if let Ok(mut tracks) = self.shared.tracks.lock() {
            if let Some((_, t)) = &mut tracks[p.source as usize] {
                for (offset, ts) in reads {
                    t.read(offset, ts, self.cfg.lateness_us);
                }
            }
        }
        let lines = p.spans.len() as u64;
        if let Some(&(offset, _, _)) = p.spans.last() {
            p.next = Some(offset + 1);
        }
        p.spans.clear();
        p.bytes.clear();
        for target in 0..self.peers {
            out.push(Input::BlockDone {
                target,
                source: p.source,
                block,
                max: local,
                last,
                idle: p.idle,
                heartbeat: None,
                lines,
                next: p.next,
            });
        }
    }
}

pub trait ReadKafka<'scope> {
    /// Reads this worker's partitions; the output's timestamps are milliseconds of the run.
    fn read_kafka(self, hand: KafkaHand) -> Stream<'scope, u64, Vec<Input>>;
}

impl<'scope> ReadKafka<'scope> for timely::dataflow::Scope<'scope, u64> {
    fn read_kafka(self, mut hand: KafkaHand) -> Stream<'scope, u64, Vec<Input>> {
        let scope = self.clone();
        source(self, "ReadKafka", move |capability, info| {
            let activator = scope.activator_for(info.address);
            // Block times start at 1: time 0 is a restored engine's, for the views it brings
            // back before any block.
            let mut capability = capability;
            capability.downgrade(&1);
            let mut cap = Some(capability);
            let mut buf: Vec<Input> = Vec::new();
            move |output| {
                let Some(c) = cap.as_mut() else { return };
                if hand.parts.is_empty() {
                    // Nothing to read here: the other workers' partitions decide the time.
                    cap = None;
                    return;
                }
                let got = hand.poll();
                let now_ms = hand.shared.now_ms();
                let tick = now_ms / TICK.as_millis() as u64;
                let quiet_ms =
                    now_ms.saturating_sub(hand.shared.last_delivery_ms.load(Ordering::Relaxed));
                let exiting = hand
                    .cfg
                    .exit_when_idle
                    .is_some_and(|d| got == 0 && quiet_ms >= d.as_millis() as u64);
                let block = *c.time();
                if tick > block || exiting {
                    for i in 0..hand.parts.len() {
                        hand.cut(i, block, exiting, &mut buf);
                    }
                    if !buf.is_empty() {
                        output.session(&*c).give_iterator(buf.drain(..));
                    }
                    if exiting {
                        cap = None;
                        return;
                    }
                    c.downgrade(&tick.max(block + 1));
                }
                if got > 0 {
                    activator.activate();
                } else {
                    activator.activate_after(TICK);
                }
            }
        })
    }
}
