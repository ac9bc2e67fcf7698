//! The writer's side of a checkpoint: its own part, the manifest once every part is in (and, with a Kafka sink, acknowledged), and a restart from it.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::io::checkpoint::{FORMAT_VERSION, Manifest, PartEntry, Position, Store};
use crate::io::kafka::PartitionId;
use crate::ops::apply_claims::PartDone;
use crate::records::{Line, RowGroups};

use super::{Gathered, LineQueue, Targets, Writer};

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
}

/// What the writer holds at a cut.
#[derive(Serialize, Deserialize)]
pub(super) struct WriterState {
    decisions_len: u64,
    dead_len: u64,
    drafts_len: u64,
    notes_len: u64,
    pending_decisions: Vec<Line>,
    pending_dead: Vec<Line>,
    pending_drafts: Vec<Line>,
    pending_notes: Vec<Line>,
    summaries: BTreeMap<String, String>,
    /// Open sessions' row groups: `(session, first_t, table, parts)`.
    gathered: Vec<(String, i64, String, RowGroups)>,
    closed_seen: u64,
    closed_ids: Vec<u64>,
    decisions: u64,
    dead_letters: u64,
    order_drafts: u64,
}

impl WriterState {
    pub(super) fn file_lengths(&self) -> [u64; 4] {
        [
            self.decisions_len,
            self.dead_len,
            self.drafts_len,
            self.notes_len,
        ]
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
    crate::io::checkpoint::decode(bytes)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("the writer's part of the checkpoint does not read back: {e}"))
}

/// Checkpoints on their way: parts received per checkpoint id (and the time they were sent
/// at), then manifests waiting for every producer's acknowledgement of the outputs before
/// them (and its part).
#[derive(Default)]
pub(super) struct Cuts {
    /// The engines' parts by the time they were sent at (a cut's time − 1).
    parts: BTreeMap<u64, Vec<PartDone>>,
    /// Manifests waiting for their parts and acknowledgements, and since when.
    acked: VecDeque<(Instant, Manifest)>,
    /// The next cut's block time, and the time between two (`None`: no checkpoints).
    next: Option<u64>,
    every: u64,
}

impl Cuts {
    pub(super) fn new(every_ms: Option<u64>) -> Cuts {
        Cuts {
            next: every_ms,
            every: every_ms.unwrap_or(0),
            ..Default::default()
        }
    }

    pub(super) fn next_cut(&self) -> Option<u64> {
        self.next
    }

    pub(super) fn part_done(&mut self, t: u64, part: PartDone) {
        self.parts.entry(t).or_default().push(part);
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

impl Writer {
    /// Starts from the writer's part of a checkpoint.
    pub(super) fn restore(mut self, state: Option<WriterState>) -> Writer {
        let Some(s) = state else { return self };
        self.restored = true;
        self.pending_decisions = LineQueue::from(s.pending_decisions);
        self.pending_dead = LineQueue::from(s.pending_dead);
        self.pending_drafts = LineQueue::from(s.pending_drafts);
        self.pending_notes = LineQueue::from(s.pending_notes);
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
        r.order_drafts = s.order_drafts;
        drop(r);
        self
    }

    /// The frontier passed cut `cut`, and the writer has taken everything before it: with
    /// every engine's part in, the writer writes its own, then the manifest (at once for
    /// files; once every producer has had everything before it acknowledged, with Kafka).
    pub(super) fn complete_cut(&mut self, cut: u64) -> anyhow::Result<()> {
        self.cuts.next = Some(cut + self.cuts.every.max(1));
        let Some(target) = self.targets.checkpoints.clone() else {
            return Ok(());
        };
        // Parts sent before this cut's time belong to cuts that were not complete.
        let mut parts = self.cuts.parts.remove(&(cut - 1)).unwrap_or_default();
        self.cuts.parts.retain(|t, _| *t >= cut);
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
        entries.push(self.write_part(&target.store, id)?);
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
        self.cuts.acked.push_back((Instant::now(), manifest));
        Ok(())
    }

    /// Commits every checkpoint whose outputs before it every producer has had acknowledged
    /// (with their parts), then the group's offsets at its positions.
    pub(super) fn commit_acked(&mut self) -> anyhow::Result<()> {
        let Some(target) = self.targets.checkpoints.clone() else {
            return Ok(());
        };
        while let Some((since, m)) = self.cuts.acked.front() {
            // The engines' parts are written beside the dataflow: wait for them (a part that
            // never comes, its write having failed, gives its checkpoint up after a minute).
            if !target.store.parts_in_place(m) {
                if since.elapsed() > Duration::from_secs(60) {
                    eprintln!(
                        "livesell: checkpoint {} is incomplete (a part was not written): the previous one stands",
                        m.id
                    );
                    self.cuts.acked.pop_front();
                    continue;
                }
                break;
            }
            let Some(k) = &mut self.kafka else {
                let (_, manifest) = self.cuts.acked.pop_front().expect("peeked");
                target.store.commit(&manifest)?;
                log_complete(&manifest);
                continue;
            };
            let acks = k.cut_acks.get(&m.id).map_or(0, Vec::len);
            if acks < k.peers {
                break;
            }
            let (_, mut manifest) = self.cuts.acked.pop_front().expect("peeked");
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

    /// The writer's part of checkpoint `id`: its files flushed to disk and their lengths,
    /// and what it holds that no engine does.
    fn write_part(&mut self, store: &Store, id: u64) -> anyhow::Result<PartEntry> {
        let [
            mut decisions_len,
            mut dead_len,
            mut drafts_len,
            mut notes_len,
        ] = [0; 4];
        if let Some(f) = &mut self.files {
            f.decisions.flush()?;
            f.dead.flush()?;
            f.drafts.flush()?;
            f.notes.flush()?;
            decisions_len = f.decisions.get_ref().metadata()?.len();
            dead_len = f.dead.get_ref().metadata()?.len();
            drafts_len = f.drafts.get_ref().metadata()?.len();
            notes_len = f.notes.get_ref().metadata()?.len();
            // The bytes are the kernel's once flushed (a killed process loses none of them);
            // syncing them to the disk goes on beside the dataflow. After a power loss that
            // came first, a restart finds a file shorter than its checkpoint says, and says so.
            let files = [
                f.decisions.get_ref().try_clone()?,
                f.dead.get_ref().try_clone()?,
                f.drafts.get_ref().try_clone()?,
                f.notes.get_ref().try_clone()?,
            ];
            std::thread::spawn(move || files.iter().for_each(|f| drop(f.sync_data())));
        }
        let r = self.report.borrow();
        let state = WriterState {
            decisions_len,
            dead_len,
            drafts_len,
            notes_len,
            pending_decisions: self.pending_decisions.to_vec(),
            pending_dead: self.pending_dead.to_vec(),
            pending_drafts: self.pending_drafts.to_vec(),
            pending_notes: self.pending_notes.to_vec(),
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
            order_drafts: r.order_drafts,
        };
        drop(r);
        let bytes = crate::io::checkpoint::encode(&state)?;
        Ok(store.write_part(id, "writer.bin", &bytes)?)
    }
}
