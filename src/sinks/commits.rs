//! The consumer group's commits in Kafka mode: what every worker's producer has had acknowledged, committed every 200 ms (or at each completed checkpoint's positions).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::io::checkpoint::PartEntry;
use crate::io::kafka::GroupCommitter;

use crate::io::kafka::KafkaShared;

/// How often the Kafka sink waits for the broker's acknowledgements and commits the group.
const COMMIT_EVERY: Duration = Duration::from_millis(200);

/// Where a Kafka run commits its consumer group.
#[derive(Clone)]
pub struct KafkaTarget {
    pub brokers: String,
    /// Where the input partitions live: the group commits there.
    pub commit_brokers: String,
    pub group: String,
    pub shared: Arc<KafkaShared>,
}

pub struct Commits {
    pub committer: GroupCommitter,
    target: KafkaTarget,
    /// All workers, and per worker the bound below which the broker has acknowledged
    /// everything its producer sent.
    pub peers: usize,
    acked: BTreeMap<usize, i64>,
    /// Per checkpoint, the producers that had everything before it acknowledged, and their
    /// parts.
    pub cut_acks: BTreeMap<u64, Vec<Option<PartEntry>>>,
    last_commit: Instant,
    /// Checkpoints are taken: the group commits their positions, once complete.
    by_checkpoint: bool,
}

impl Commits {
    pub fn open(target: &KafkaTarget, peers: usize, by_checkpoint: bool) -> anyhow::Result<Self> {
        Ok(Commits {
            committer: GroupCommitter::open(&target.commit_brokers, &target.group)?,
            target: target.clone(),
            peers,
            acked: BTreeMap::new(),
            cut_acks: BTreeMap::new(),
            last_commit: Instant::now(),
            by_checkpoint,
        })
    }

    /// A worker's producer had everything keyed below `bound`, or everything before a
    /// checkpoint (with its part), acknowledged.
    pub fn acked(
        &mut self,
        worker: usize,
        bound: Option<i64>,
        checkpoint: Option<(u64, Option<PartEntry>)>,
    ) {
        if let Some(b) = bound {
            let e = self.acked.entry(worker).or_insert(b);
            *e = (*e).max(b);
        }
        if let Some((id, entry)) = checkpoint {
            self.cut_acks.entry(id).or_default().push(entry);
        }
    }

    /// The least bound every producer has had acknowledged.
    fn commit_bound(&self) -> Option<i64> {
        if self.acked.len() < self.peers {
            return None;
        }
        self.acked.values().min().copied()
    }

    /// Commits, without waiting for the broker, every 200 ms: each partition's first message
    /// whose outputs not every producer has had acknowledged. `force` (the end of the run)
    /// waits for the broker's answer. With checkpoints, the commits are theirs.
    pub fn commit(&mut self, force: bool) -> anyhow::Result<()> {
        if self.by_checkpoint || (!force && self.last_commit.elapsed() < COMMIT_EVERY) {
            return Ok(());
        }
        self.last_commit = Instant::now();
        if let Some(b) = self.commit_bound() {
            let offsets = self.target.shared.covered(b);
            self.committer.commit(&offsets, force)?;
        }
        Ok(())
    }
}
