//! The writer's side of a checkpoint: its own part, the manifest once every part is in (and, with a Kafka sink, acknowledged), and a restart from it.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::io::checkpoint::{FORMAT_VERSION, Manifest, PartEntry, Position, Store};
use crate::io::kafka::PartitionId;
use crate::ops::apply_claims::PartDone;
use crate::records::{Line, RowGroups};

use super::{Gathered, Targets, Writer};

/// Where the writer completes checkpoints.
#[derive(Clone)]
pub struct CheckpointTarget {
    pub store: Store,
    /// Every input partition, in source order: the manifest's positions name them.
    pub partitions: Vec<PartitionId>,
    /// The writer's part of the checkpoint this run starts from.
    pub restore: Option<Arc<Vec<u8>>>,
}

/// What the writer holds at a cut.
#[derive(Serialize, Deserialize)]
pub(super) struct WriterState {
    decisions_len: u64,
    dead_len: u64,
    pending_decisions: Vec<Line>,
    pending_dead: Vec<Line>,
    pending_drafts: Vec<Line>,
    summaries: BTreeMap<String, String>,
    /// Open sessions' row groups: `(session, first_t, table, parts)`.
    gathered: Vec<(String, i64, String, RowGroups)>,
    closed_seen: u64,
    closed_ids: Vec<u64>,
    decisions: u64,
    dead_letters: u64,
}

impl WriterState {
    pub(super) fn file_lengths(&self) -> (u64, u64) {
        (self.decisions_len, self.dead_len)
    }
}

/// The writer's part of the checkpoint this run starts from, read back.
pub(super) fn restored_state(targets: &Targets) -> anyhow::Result<Option<WriterState>> {
    let Some(bytes) = targets
        .checkpoints
        .as_ref()
        .and_then(|c| c.restore.as_ref())
    else {
        return Ok(None);
    };
    bincode::deserialize(bytes)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("the writer's part of the checkpoint does not read back: {e}"))
}

/// Checkpoints on their way: parts received per checkpoint id (and the time they were sent
/// at), then manifests waiting for the broker's acknowledgement of the outputs before them.
#[derive(Default)]
pub(super) struct Cuts {
    parts: BTreeMap<u64, (u64, Vec<PartDone>)>,
    acked: VecDeque<(usize, Manifest)>,
}

impl Cuts {
    pub(super) fn part_done(&mut self, t: u64, part: PartDone) {
        let e = self.parts.entry(part.id).or_insert((t, Vec::new()));
        e.0 = e.0.max(t);
        e.1.push(part);
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Writer {
    /// Starts from the writer's part of a checkpoint.
    pub(super) fn restore(mut self, state: Option<WriterState>) -> Writer {
        let Some(s) = state else { return self };
        self.restored = true;
        self.pending_decisions = s.pending_decisions;
        self.pending_dead = s.pending_dead;
        self.pending_drafts = s.pending_drafts;
        self.summaries = s.summaries;
        for (session, first_t, table, parts) in s.gathered {
            let g = self.gathered.entry(session).or_insert_with(|| Gathered {
                first_t,
                tables: BTreeMap::new(),
            });
            g.tables.insert(table, parts.0);
        }
        self.closed_seen = s.closed_seen;
        self.closed_ids = s.closed_ids.into_iter().collect();
        let mut r = self.report.borrow_mut();
        r.decisions = s.decisions;
        r.dead_letters = s.dead_letters;
        drop(r);
        self
    }

    /// Completes every checkpoint whose parts all came in below the frontier `f`: the
    /// writer's own part, then the manifest, at once for files, or once the broker has
    /// acknowledged every message sent before it; then the group commits its positions.
    pub(super) fn complete_cuts(&mut self, f: Option<u64>) -> anyhow::Result<()> {
        let Some(target) = self.targets.checkpoints.clone() else {
            return Ok(());
        };
        while let Some((&id, (t, _))) = self.cuts.parts.first_key_value() {
            if f.is_some_and(|f| *t >= f) {
                break;
            }
            let (_, (_, parts)) = self.cuts.parts.pop_first().expect("peeked");
            let peers = parts.first().map_or(0, |p| p.peers);
            let entries: Vec<PartEntry> = parts.iter().filter_map(|p| p.entry.clone()).collect();
            if entries.len() != peers || parts.len() != peers {
                eprintln!(
                    "livesell: checkpoint {id} is incomplete ({} of {peers} parts): the previous one stands",
                    entries.len()
                );
                continue;
            }
            let mut parts = parts;
            parts.sort_by_key(|p| p.worker);
            let mut entries = entries;
            entries.push(self.write_part(&target.store, id)?);
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
            };
            match &mut self.kafka {
                Some(k) => self.cuts.acked.push_back((k.sink.mark(), manifest)),
                None => target.store.commit(&manifest)?,
            }
        }
        let Some(k) = &mut self.kafka else {
            return Ok(());
        };
        while let Some((mark, _)) = self.cuts.acked.front() {
            if !k.sink.acknowledged_below(*mark)? {
                break;
            }
            let (_, manifest) = self.cuts.acked.pop_front().expect("peeked");
            target.store.commit(&manifest)?;
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
            if let Err(e) = k.sink.commit(&offsets, false) {
                eprintln!("livesell: {}", e.describe());
            }
        }
        Ok(())
    }

    /// The writer's part of checkpoint `id`: its files flushed to disk and their lengths,
    /// and what it holds that no engine does.
    fn write_part(&mut self, store: &Store, id: u64) -> anyhow::Result<PartEntry> {
        let (mut decisions_len, mut dead_len) = (0, 0);
        if let Some(f) = &mut self.files {
            f.decisions.flush()?;
            f.dead.flush()?;
            f.decisions.get_ref().sync_data()?;
            f.dead.get_ref().sync_data()?;
            decisions_len = f.decisions.get_ref().metadata()?.len();
            dead_len = f.dead.get_ref().metadata()?.len();
        }
        let r = self.report.borrow();
        let state = WriterState {
            decisions_len,
            dead_len,
            pending_decisions: self.pending_decisions.clone(),
            pending_dead: self.pending_dead.clone(),
            pending_drafts: self.pending_drafts.clone(),
            summaries: self.summaries.clone(),
            gathered: self
                .gathered
                .iter()
                .flat_map(|(id, g)| {
                    g.tables.iter().map(|(table, parts)| {
                        (
                            id.clone(),
                            g.first_t,
                            table.clone(),
                            RowGroups(parts.clone()),
                        )
                    })
                })
                .collect(),
            closed_seen: self.closed_seen,
            closed_ids: self.closed_ids.iter().copied().collect(),
            decisions: r.decisions,
            dead_letters: r.dead_letters,
        };
        drop(r);
        let bytes = bincode::serialize(&state)?;
        Ok(store.write_part(id, "writer.bin", &bytes)?)
    }
}
