//! The writer's side of a checkpoint: its own part, the manifest once every part is in (and, with a Kafka sink, acknowledged), and a restart from it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::io::checkpoint::{FORMAT_VERSION, Manifest, PartDone, PartEntry, Position, Store};
use crate::io::kafka::PartitionId;
use crate::records::{Kind, Line, RowGroups};

use super::commits::Commits;

/// Where the writer completes checkpoints.
#[derive(Clone)]
pub struct CheckpointTarget {
    pub store: Store,
    /// Every input partition, in source order: the manifest's positions name them.
    pub partitions: Vec<PartitionId>,
    /// The writer's part of the checkpoint this run starts from.
    pub restore: Option<Arc<Vec<u8>>>,
    /// Block time between two cuts: the engines cut at every multiple of it.
    pub every_ms: u64,
    /// Told every complete checkpoint's input positions (a journal deletes what is before).
    pub committed: Option<Committed>,
}

/// Called with a complete checkpoint's positions, in source order (`None`: never read).
pub type Committed = Arc<dyn Fn(&[Option<u64>]) + Send + Sync>;

/// What the writer holds at a cut.
#[derive(Serialize, Deserialize)]
pub struct WriterState {
    /// The length of every record file (by kind) at the cut.
    pub lengths: Vec<(Kind, u64)>,
    /// The records of every kind still waiting for their release.
    pub pending: Vec<(Kind, Vec<Line>)>,
    pub summaries: BTreeMap<String, String>,
    /// Open sessions' row groups: `(session, first_t, table, parts)`.
    pub gathered: Vec<(String, i64, String, RowGroups)>,
    pub closed_seen: u64,
    pub closed_ids: Vec<u64>,
    pub decisions: u64,
    pub dead_letters: u64,
    pub order_drafts: u64,
}

/// The writer's part of the checkpoint this run starts from, read back.
pub fn restored_state(
    checkpoints: Option<&CheckpointTarget>,
) -> anyhow::Result<Option<WriterState>> {
    let Some(bytes) = checkpoints.and_then(|c| c.restore.as_ref()) else {
        return Ok(None);
    };
    crate::io::checkpoint::decode(bytes)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("the writer's part of the checkpoint does not read back: {e}"))
}

/// Whether the record files under `out_dir` hold at least what the writer's part of a
/// checkpoint says they had: a file shorter than that (written after the checkpoint's data but
/// lost with the disk's cache, or changed by hand) makes the checkpoint unusable.
pub fn files_hold(out_dir: &std::path::Path, writer_part: Option<&[u8]>) -> Result<(), String> {
    let Some(bytes) = writer_part else {
        return Ok(());
    };
    let state: WriterState = crate::io::checkpoint::decode(bytes)
        .map_err(|e| format!("the writer's part does not read back: {e}"))?;
    for (kind, len) in state.lengths {
        let Some(name) = kind.file_name() else {
            continue;
        };
        let path = out_dir.join(name);
        let has = std::fs::metadata(&path).map_or(0, |m| m.len());
        if has < len {
            return Err(format!(
                "{} has {has} bytes, fewer than the {len} this checkpoint saw",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Checkpoints on their way: parts received per checkpoint id (and the time they were sent
/// at), then manifests waiting for every producer's acknowledgement of the outputs before
/// them (and its part).
#[derive(Default)]
pub struct Cuts {
    /// The engines' parts by the time they were sent at (a cut's time − 1).
    parts: BTreeMap<u64, Vec<PartDone>>,
    /// Manifests waiting for their parts and acknowledgements, and since when.
    acked: VecDeque<(Instant, Manifest)>,
    /// The next cut's block time, and the time between two (`None`: no checkpoints).
    next: Option<u64>,
    every: u64,
}

impl Cuts {
    pub fn new(every_ms: Option<u64>) -> Cuts {
        Cuts {
            next: every_ms,
            every: every_ms.unwrap_or(0),
            ..Default::default()
        }
    }

    pub fn next_cut(&self) -> Option<u64> {
        self.next
    }

    pub fn part_done(&mut self, t: u64, part: PartDone) {
        self.parts.entry(t).or_default().push(part);
    }

    /// The frontier passed cut `cut`, and the writer has taken everything before it: with
    /// every engine's part in, the writer writes its own, then the manifest (at once for
    /// files; once every producer has had everything before it acknowledged, with Kafka).
    /// `write_part` writes the writer's own part of a checkpoint by its id.
    pub fn complete(
        &mut self,
        cut: u64,
        target: Option<&CheckpointTarget>,
        write_part: impl FnOnce(&Store, u64) -> anyhow::Result<PartEntry>,
    ) -> anyhow::Result<()> {
        self.next = Some(cut + self.every.max(1));
        let Some(target) = target else {
            return Ok(());
        };
        // Parts sent before this cut's time belong to cuts that were not complete.
        let mut parts = self.parts.remove(&(cut - 1)).unwrap_or_default();
        self.parts.retain(|t, _| *t >= cut);
        let Some(id) = parts.first().map(|p| p.id) else {
            return Ok(());
        };
        let peers = parts[0].peers;
        let entries: Vec<PartEntry> = parts.iter().filter_map(|p| p.entry.clone()).collect();
        if entries.len() != peers || parts.len() != peers || parts.iter().any(|p| p.id != id) {
            eprintln!(
                "livesell: checkpoint {id} is incomplete ({} of {peers} parts): the previous one stands",
                entries.len()
            );
            return Ok(());
        }
        parts.sort_by_key(|p| p.worker);
        let mut entries = entries;
        let began = std::time::Instant::now();
        entries.push(write_part(&target.store, id)?);
        let writer_ms = began.elapsed().as_secs_f64() * 1e3;
        if std::env::var_os("LIVESELL_CHECKPOINT_SIZES").is_some() {
            eprintln!("livesell: checkpoint {id}: the writer's part in {writer_ms:.1} ms");
        }
        let engines_ms = parts.iter().map(|p| p.took_us).max().unwrap_or(0) as f64 / 1e3;
        let positions = parts[0]
            .positions
            .iter()
            .zip(&target.partitions)
            .filter_map(|(next, p)| {
                next.map(|next| Position {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    next,
                })
            })
            .collect();
        let manifest = Manifest {
            version: FORMAT_VERSION,
            id,
            workers: peers,
            parts: entries,
            positions,
            open_sessions: parts.iter().map(|p| p.open_sessions).sum(),
            written_at_ms: now_ms(),
            took_ms: engines_ms + writer_ms,
        };
        self.acked.push_back((Instant::now(), manifest));
        Ok(())
    }

    /// Commits every checkpoint whose outputs before it every producer has had acknowledged
    /// (with their parts), then the group's offsets at its positions.
    pub fn commit_acked(
        &mut self,
        target: Option<&CheckpointTarget>,
        kafka: Option<&mut Commits>,
    ) -> anyhow::Result<()> {
        let Some(target) = target else {
            return Ok(());
        };
        let mut kafka = kafka;
        while let Some((since, m)) = self.acked.front() {
            // The engines' parts are written beside the dataflow: wait for them (a part that
            // never comes, its write having failed, gives its checkpoint up after a minute).
            if !target.store.parts_in_place(m) {
                if since.elapsed() > Duration::from_secs(60) {
                    eprintln!(
                        "livesell: checkpoint {} is incomplete (a part was not written): the previous one stands",
                        m.id
                    );
                    self.acked.pop_front();
                    continue;
                }
                break;
            }
            let Some(k) = kafka.as_deref_mut() else {
                let (_, manifest) = self.acked.pop_front().expect("peeked");
                target.store.commit(&manifest)?;
                log_complete(&manifest);
                if let Some(told) = &target.committed {
                    let at: Vec<Option<u64>> = target
                        .partitions
                        .iter()
                        .map(|p| {
                            manifest
                                .positions
                                .iter()
                                .find(|x| x.topic == p.topic && x.partition == p.partition)
                                .map(|x| x.next)
                        })
                        .collect();
                    told(&at);
                }
                continue;
            };
            let acks = k.cut_acks.get(&m.id).map_or(0, Vec::len);
            if acks < k.peers {
                break;
            }
            let (_, mut manifest) = self.acked.pop_front().expect("peeked");
            let producers = k.cut_acks.remove(&manifest.id).unwrap_or_default();
            // Acknowledgements of older checkpoints that never completed are of no use.
            k.cut_acks.retain(|id, _| *id > manifest.id);
            if producers.iter().any(Option::is_none) {
                eprintln!(
                    "livesell: checkpoint {} is incomplete (a producer's part was not written): the previous one stands",
                    manifest.id
                );
                continue;
            }
            manifest.parts.extend(producers.into_iter().flatten());
            target.store.commit(&manifest)?;
            log_complete(&manifest);
            let offsets: Vec<(PartitionId, u64)> = manifest
                .positions
                .iter()
                .map(|p| {
                    let id = PartitionId {
                        topic: p.topic.clone(),
                        partition: p.partition,
                    };
                    (id, p.next)
                })
                .collect();
            // A failed commit is covered by the next checkpoint's.
            if let Err(e) = k.committer.commit(&offsets, false) {
                eprintln!("livesell: {}", e.describe());
            }
        }
        Ok(())
    }
}

/// One line per checkpoint, for an operator (and the benchmarks).
fn log_complete(m: &Manifest) {
    let bytes: u64 = m.parts.iter().map(|p| p.bytes).sum();
    eprintln!(
        "livesell: checkpoint {} complete: {} open session(s), {} bytes, {:.1} ms",
        m.id, m.open_sessions, bytes, m.took_ms
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
