//! Kafka transactions for `--transactional`: a producer per worker with its own `transactional.id`, the progress record each transaction ends with, and reading them back at a restart.
//!
//! Each worker's outputs between two checkpoints go in one transaction, which ends with a
//! progress record on `livesell.progress`: this worker (of how many, in which run) has
//! committed every record of its sessions keyed below `bound`. A restart reads the committed
//! progress records (`read_committed`) and leaves out what they cover: the outputs are
//! deterministic, so a record covered by any committed transaction is the one that was sent.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, Producer};
use serde::{Deserialize, Serialize};

use super::{KafkaSink, TransportError, base_config, kafka, reader_config};

pub const PROGRESS_TOPIC: &str = "livesell.progress";

/// What one committed transaction says: `worker` of `peers` in `run` has committed every
/// record of its sessions (`session hash % peers == worker`) keyed below `bound`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub run: String,
    pub worker: usize,
    pub peers: usize,
    /// The checkpoint the transaction ends at (`None`: the run's first or last one).
    pub checkpoint: Option<u64>,
    pub bound: Option<i64>,
}

impl Progress {
    /// The message key: one per run and worker, so that a compacted topic keeps the newest.
    pub fn key(&self) -> String {
        format!("{}/{}", self.run, self.worker)
    }
}

/// The transactional id of worker `worker` of consumer group `group`'s run.
pub fn transactional_id(group: &str, worker: usize) -> String {
    format!("livesell-{group}-{worker}")
}

/// Everything committed transactions have sent: per number of workers, each worker's bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Committed {
    by_peers: BTreeMap<usize, Vec<Option<i64>>>,
    /// The most workers any run had: the transactional ids to fence at a restart.
    pub most_workers: usize,
}

impl Committed {
    /// The newest bound of every (run, worker), from progress records in any order.
    pub fn from_progress(records: &[Progress]) -> Committed {
        let mut c = Committed::default();
        for p in records {
            if p.worker >= p.peers {
                continue;
            }
            c.most_workers = c.most_workers.max(p.peers);
            let bounds = c
                .by_peers
                .entry(p.peers)
                .or_insert_with(|| vec![None; p.peers]);
            // Bounds only grow; any committed one holds whichever run committed it.
            bounds[p.worker] = bounds[p.worker].max(p.bound);
        }
        c
    }

    /// Whether a record of the session with routing hash `hash`, keyed at `at`, is already in
    /// a committed transaction.
    pub fn covers(&self, at: i64, hash: u64) -> bool {
        self.by_peers
            .iter()
            .any(|(&peers, bounds)| bounds[(hash % peers as u64) as usize].is_some_and(|b| at < b))
    }

    pub fn is_empty(&self) -> bool {
        self.by_peers.is_empty()
    }
}

impl KafkaSink {
    /// A transactional producer to `brokers` as `id`: fences every earlier producer with the
    /// same id (its open transaction is aborted) and begins the first transaction.
    pub fn open_transactional(
        brokers: &str,
        id: &str,
        transaction_timeout: Duration,
    ) -> Result<Self, TransportError> {
        let mut sink = KafkaSink::with(brokers, |c| {
            c.set("transactional.id", id).set(
                "transaction.timeout.ms",
                transaction_timeout.as_millis().to_string(),
            );
        })?;
        let timeout = Duration::from_secs(30);
        sink.producer
            .init_transactions(timeout)
            .map_err(kafka(format!(
                "initialising transactions as {id} on {brokers}"
            )))?;
        sink.producer
            .begin_transaction()
            .map_err(kafka(format!("beginning a transaction as {id}")))?;
        sink.transactional = true;
        Ok(sink)
    }

    /// Ends the open transaction with `progress` and commits it (waiting for every message of
    /// it to be acknowledged), then begins the next.
    pub fn commit_transaction(&mut self, progress: &Progress) -> Result<(), TransportError> {
        let value = serde_json::to_vec(progress).expect("progress serialises");
        self.send(PROGRESS_TOPIC, Some(&progress.key()), &value)?;
        let timeout = Duration::from_secs(60);
        self.producer
            .commit_transaction(timeout)
            .map_err(kafka("committing a transaction"))?;
        self.watch.check()?;
        self.producer
            .begin_transaction()
            .map_err(kafka("beginning a transaction"))
    }
}

/// Fences the transactional ids of workers an earlier run had and this one has not: their
/// open transactions are aborted now rather than when they time out (until then they hold
/// back every `read_committed` consumer).
pub fn fence(brokers: &str, ids: &[String]) -> Result<(), TransportError> {
    for id in ids {
        let p: BaseProducer = base_config(brokers)
            .set("transactional.id", id)
            .create()
            .map_err(kafka(format!("connecting a producer to {brokers}")))?;
        p.init_transactions(Duration::from_secs(30))
            .map_err(kafka(format!("fencing transactional id {id}")))?;
    }
    Ok(())
}

/// Every committed progress record on `brokers` (none when the topic does not exist yet).
pub fn read_progress(brokers: &str, timeout: Duration) -> Result<Vec<Progress>, TransportError> {
    let consumer: BaseConsumer = reader_config(brokers, "livesell-progress-reader")
        .set("isolation.level", "read_committed")
        .create()
        .map_err(kafka(format!("connecting to {brokers}")))?;
    let md = consumer
        .fetch_metadata(Some(PROGRESS_TOPIC), timeout)
        .map_err(kafka(format!("reading the metadata of {PROGRESS_TOPIC}")))?;
    let mut ends = BTreeMap::new();
    let mut tpl = TopicPartitionList::new();
    for t in md.topics().iter().filter(|t| t.error().is_none()) {
        for p in t.partitions() {
            let (_, high) = consumer
                .fetch_watermarks(PROGRESS_TOPIC, p.id(), timeout)
                .map_err(kafka(format!("reading the offsets of {PROGRESS_TOPIC}")))?;
            if high > 0 {
                ends.insert(p.id(), high);
                tpl.add_partition_offset(PROGRESS_TOPIC, p.id(), super::LOG_START)
                    .map_err(kafka("assigning the progress topic"))?;
            }
        }
    }
    let mut out = Vec::new();
    if ends.is_empty() {
        return Ok(out);
    }
    consumer
        .assign(&tpl)
        .map_err(kafka("assigning the progress topic"))?;
    // A committed reader stops at the last stable offset; transaction markers take offsets of
    // their own, so the end is where the consumer's position reaches the high watermark.
    let deadline = Instant::now() + timeout.max(Duration::from_secs(30));
    while !ends.is_empty() {
        if Instant::now() > deadline {
            return Err(TransportError::Delivery(
                ends.len() as u64,
                format!("{PROGRESS_TOPIC} was not read to its end in time"),
            ));
        }
        if let Some(m) = consumer.poll(Duration::from_millis(50)) {
            let m = m.map_err(kafka(format!("reading {PROGRESS_TOPIC}")))?;
            // A record this version cannot read is someone else's: it covers nothing.
            if let Some(p) = m.payload().and_then(|v| serde_json::from_slice(v).ok()) {
                out.push(p);
            }
        }
        let position = consumer
            .position()
            .map_err(kafka(format!("reading {PROGRESS_TOPIC}")))?;
        ends.retain(|&partition, &mut high| {
            !matches!(
                position.find_partition(PROGRESS_TOPIC, partition).map(|e| e.offset()),
                Some(Offset::Offset(o)) if o >= high
            )
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(run: &str, worker: usize, peers: usize, bound: Option<i64>) -> Progress {
        Progress {
            run: run.into(),
            worker,
            peers,
            checkpoint: None,
            bound,
        }
    }

    #[test]
    fn a_record_is_covered_by_its_owners_newest_bound_in_any_run() {
        let c = Committed::from_progress(&[
            p("a", 0, 2, Some(100)),
            p("a", 1, 2, Some(50)),
            p("a", 0, 2, Some(80)), // older, read later: bounds only grow
            p("b", 2, 3, Some(200)),
            p("b", 0, 3, None), // registered, nothing committed yet
        ]);
        assert_eq!(c.most_workers, 3);
        // hash 4: worker 0 of 2 (bound 100), worker 1 of 3 (nothing)
        assert!(c.covers(99, 4));
        assert!(!c.covers(100, 4));
        // hash 5: worker 1 of 2 (50), worker 2 of 3 (200)
        assert!(c.covers(150, 5));
        assert!(!c.covers(200, 5));
        // hash 3: worker 1 of 2 (50), worker 0 of 3 (none)
        assert!(c.covers(49, 3) && !c.covers(50, 3));
        assert!(!Committed::default().covers(0, 0));
        // a record naming a worker past its run's count is nobody's
        assert!(Committed::from_progress(&[p("x", 3, 2, Some(9))]).is_empty());
    }

    #[test]
    fn progress_reads_back_from_its_json() {
        let r = Progress {
            checkpoint: Some(7),
            ..p("run-1", 1, 2, Some(i64::MAX))
        };
        let back: Progress = serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(r.key(), "run-1/1");
        assert_eq!(transactional_id("g", 3), "livesell-g-3");
    }
}
