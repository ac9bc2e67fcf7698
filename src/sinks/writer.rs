//! The writer (worker 0): every output in key order to the record files, the live hub and the summary; snapshot files; the group's commits and the checkpoints' manifests in Kafka mode.
//!
//! It takes what comes at a timely time `t` (`receive`) and moves on when the frontier does
//! (`step`): release marks become a bound through the shared `Release`, records below it are
//! handed to the files and the hub, and each checkpoint cut the frontier passed is completed
//! with exactly what came before it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::domain::decision::write_json_str;
use crate::io::checkpoint::{PartEntry, Store};
use crate::records::{Control, Kind, Out, Show, View, session_hash};

use super::closed::ClosedShows;
use super::commits::{Commits, KafkaTarget};
use super::cuts::{CheckpointTarget, Cuts, WriterState, restored_state};
use super::files::{Files, Resume};
use super::hub::LiveHub;
use super::producer::ProducerTarget;
use super::release::Release;
use super::snapshots::Snapshots;

/// What the writer saw, for the command line to print.
#[derive(Debug, Default, Clone)]
pub struct RunReport {
    pub lines: u64,
    pub decisions: u64,
    pub dead_letters: u64,
    /// Records of `orders_out.jsonl` and `notifications.jsonl`.
    pub order_drafts: u64,
    pub notifications: u64,
    pub sessions: u64,
    /// Sessions still open at the end, closed during the run (SPEC 3.5), and redeliveries of
    /// closed sessions' events (counted in no session's summary, which is final).
    pub open_sessions: u64,
    pub closed_sessions: u64,
    pub late_redeliveries: u64,
    pub error: Option<String>,
    pub summary_json: String,
}

/// Where the outputs go: files under a directory, Kafka topics, or both.
#[derive(Clone, Default)]
pub struct Targets {
    pub out_dir: Option<PathBuf>,
    pub kafka: Option<KafkaTarget>,
    /// Write the snapshot tables this often during the run too (`--snapshot-interval`).
    pub snapshot_every: Option<Duration>,
    /// The live surfaces of `livesell serve`.
    pub live: Option<Arc<LiveHub>>,
    /// The updates differential's arrangements hold (`run.json`'s `arranged_updates`).
    pub arranged: Arc<crate::io::arranged::Arranged>,
    /// Complete the checkpoints the engines take, and start from one (`--checkpoint-dir`).
    pub checkpoints: Option<CheckpointTarget>,
    /// Every worker's Kafka producer (`--sink`).
    pub producer: Option<ProducerTarget>,
    /// What an operator that cannot go on raises: the run stops with its message.
    pub halt: crate::records::Halt,
    /// The input replays a journal an earlier run wrote these outputs from (`files::Resume`).
    pub replays_journal: bool,
}

impl Targets {
    pub fn describe(&self) -> String {
        match (&self.out_dir, &self.kafka) {
            (Some(d), _) => d.display().to_string(),
            (None, Some(k)) => format!("kafka://{}", k.brokers),
            (None, None) => "nowhere".into(),
        }
    }
}

pub struct Writer {
    pub targets: Targets,
    files: Option<Files>,
    kafka: Option<Commits>,
    /// Records waiting for their release, and the sessions they are keyed by.
    release: Release,
    summaries: BTreeMap<String, String>,
    snapshots: Snapshots,
    /// Sessions closed so far, and the newest closed ones' routing hashes: a show pushed out
    /// of that window leaves the writer (its summary and its name).
    closed_seen: u64,
    closed_ids: ClosedShows,
    report: Rc<RefCell<RunReport>>,
    /// Checkpoints waiting for their parts, or for the broker's acknowledgements.
    cuts: Cuts,
    /// What came at the next checkpoint's cut or later, waiting for it.
    waiting: Vec<(u64, Out)>,
    done: bool,
}

impl Writer {
    pub fn open(
        targets: Targets,
        report: Rc<RefCell<RunReport>>,
        peers: usize,
    ) -> anyhow::Result<Writer> {
        let state = restored_state(targets.checkpoints.as_ref())?;
        let every_ms = targets.checkpoints.as_ref().map(|c| c.every_ms);
        let resume = match &state {
            Some(s) => Resume::Checkpoint(s.lengths.clone()),
            None if targets.replays_journal => Resume::Replay,
            None => Resume::Fresh,
        };
        let files = match &targets.out_dir {
            Some(d) => Some(
                Files::open(d, resume).with_context(|| format!("cannot write {}", d.display()))?,
            ),
            None => None,
        };
        let by_checkpoint = targets.checkpoints.is_some();
        let kafka = match &targets.kafka {
            Some(t) => Some(Commits::open(t, peers, by_checkpoint)?),
            None => None,
        };
        Ok(Writer {
            targets,
            files,
            kafka,
            release: Release::default(),
            summaries: BTreeMap::new(),
            snapshots: Snapshots::default(),
            closed_seen: 0,
            closed_ids: Default::default(),
            report,
            cuts: Cuts::new(every_ms),
            waiting: Vec::new(),
            done: false,
        }
        .restore(state))
    }

    /// How soon written records are due to be flushed: the operator wakes the writer then,
    /// however quiet the input.
    pub fn flush_due(&self) -> Option<Duration> {
        self.files.as_ref().and_then(|f| f.flush_in())
    }

    /// With a Kafka sink, a failure stops the run (a stream never ends by itself).
    pub fn sends_to_kafka(&self) -> bool {
        self.kafka.is_some()
    }

    /// One output sent at time `t`: what comes at the next checkpoint's cut or later waits
    /// for it; a release mark applies once the frontier passes `t`; the rest is taken now.
    pub fn receive(&mut self, o: Out, t: u64) -> anyhow::Result<()> {
        if t >= self.cuts.next_cut().unwrap_or(u64::MAX) {
            self.waiting.push((t, o));
            return Ok(());
        }
        self.accept(o, t)
    }

    fn accept(&mut self, o: Out, t: u64) -> anyhow::Result<()> {
        match o {
            Out::Record(kind, l) => {
                // Carts go to the live surfaces only (Kafka gets them from the producers, the
                // `carts` table from the engines).
                if kind != Kind::Cart || self.targets.live.is_some() {
                    self.release.push(kind, l);
                }
            }
            Out::Show(s) => self.show(s)?,
            Out::View(v) => self.view(v),
            Out::Rows(r) => self.snapshots.rows(*r),
            Out::Control(c) => self.control(c, t),
        }
        Ok(())
    }

    fn show(&mut self, s: Show) -> anyhow::Result<()> {
        match s {
            Show::Seen {
                hash,
                session_id,
                forgotten,
            } => {
                // A restored show still in the writer's window of closed ones keeps its name.
                let forgotten = forgotten && !self.closed_ids.contains(hash);
                self.release.seen(hash, session_id, forgotten)
            }
            Show::Summary { session_id, json } => {
                self.summaries.insert(session_id, json);
            }
            Show::Closed {
                session_id,
                closed_at,
            } => {
                self.closed_seen += 1;
                if let Some(old) = self.closed_ids.close(session_hash(&session_id)) {
                    // Its summary stays in `DIR/sessions/`, where summary.json finds it again.
                    if let (Some(id), true) = (self.release.forget(old), self.files.is_some()) {
                        self.summaries.remove(&id);
                    }
                }
                if let Some(h) = &self.targets.live {
                    h.remembered(self.closed_ids.len(), self.release.names_held());
                }
                if let Some(h) = &self.targets.live {
                    h.closed(&session_id, closed_at);
                }
                let out_dir = self.files.as_ref().map(|f| f.out_dir.clone());
                let summary = self.summaries.get(&session_id).map(String::as_str);
                self.snapshots
                    .closed(out_dir.as_deref(), &session_id, closed_at, summary)?;
            }
            Show::Counts {
                open,
                closed,
                late_redeliveries,
            } => {
                let mut r = self.report.borrow_mut();
                r.open_sessions += open;
                r.closed_sessions += closed;
                r.late_redeliveries += late_redeliveries;
            }
        }
        Ok(())
    }

    fn view(&mut self, v: View) {
        let live = self.targets.live.as_deref();
        match v {
            View::MetricTotal { key, total, diff } => {
                if let Some(h) = live {
                    h.metric(&key, total * diff);
                }
                self.snapshots.total(*key, total, diff);
            }
            View::RankedClaimant {
                session_id,
                rank,
                claimant,
                diff,
            } => {
                if let Some(h) = live {
                    h.ranked(&session_id, rank, &claimant, diff);
                }
                self.snapshots.ranked(session_id, rank, *claimant, diff);
            }
            View::Live(view) => {
                if let Some(h) = live {
                    h.view(*view);
                }
            }
            View::Metric { .. } | View::Claimant { .. } => {}
        }
    }

    fn control(&mut self, c: Control, t: u64) {
        match c {
            Control::Lines(n) => self.report.borrow_mut().lines += n,
            Control::Released { bound } => self.release.mark(t, bound),
            Control::Checkpoint(part) => self.cuts.part_done(t, *part),
            Control::Acked {
                worker,
                bound,
                checkpoint,
            } => {
                if let Some(k) = &mut self.kafka {
                    k.acked(worker, bound, checkpoint);
                }
            }
            Control::Produced {
                decisions,
                dead_letters,
            } => {
                let mut r = self.report.borrow_mut();
                r.decisions += decisions;
                r.dead_letters += dead_letters;
            }
        }
    }

    /// The frontier moved to `f` (`None`: the input is over). Takes what waited, in time order,
    /// up to the next checkpoint's cut; flushes what the marks the frontier passed allow; at
    /// each cut the frontier passed, writes the writer's part of it, so that the part holds
    /// exactly what came before the cut (the rest was taken as it came).
    pub fn step(&mut self, f: Option<u64>) -> anyhow::Result<()> {
        self.waiting.sort_by_key(|(t, _)| *t);
        loop {
            let horizon = self.cuts.next_cut().unwrap_or(u64::MAX);
            let n = self.waiting.partition_point(|(t, _)| *t < horizon);
            let ready: Vec<(u64, Out)> = self.waiting.drain(..n).collect();
            for (t, o) in ready {
                self.accept(o, t)?;
            }
            // A mark sent at time t says: every worker has sent all decisions below its
            // bound by the time this frontier passes t.
            let limit = f.map_or(horizon, |f| f.min(horizon));
            let bound = self.release.passed(limit);
            if let (Some(b), Some(_)) = (bound, f) {
                self.flush_below(Some(b))?;
            }
            let passed = f.is_none_or(|f| f >= horizon);
            if horizon == u64::MAX || !passed || (f.is_none() && self.waiting.is_empty()) {
                break;
            }
            self.complete_cut(horizon)?;
        }
        if f.is_none() && !self.done {
            self.done = true;
            self.finish()?;
        }
        if let Some(files) = &mut self.files {
            files.flush_if_due()?;
        }
        // A live run's snapshots, every `--snapshot-interval`, from the parts received.
        self.live_snapshot()?;
        // Checkpoints every producer has acknowledged.
        self.commit_acked()
    }

    /// Hands over every buffered record whose key time is below `bound` (all when `None`), in
    /// key order: to the files and the live surfaces.
    fn flush_below(&mut self, bound: Option<i64>) -> anyhow::Result<()> {
        let released = self.release.take_below(bound);
        if let Some(f) = &mut self.files {
            f.write(&released)?;
        }
        if let Some(k) = &mut self.kafka {
            k.commit(false)?;
        }
        if let Some(h) = &self.targets.live {
            h.take_released(&released, &self.release, bound.unwrap_or(i64::MAX));
        }
        let mut r = self.report.borrow_mut();
        r.decisions += released.count(Kind::Decision);
        r.dead_letters += released.count(Kind::DeadLetter);
        r.order_drafts += released.count(Kind::Draft);
        r.notifications += released.count(Kind::Notification);
        Ok(())
    }

    /// Writes the snapshot tables when new parts came in.
    fn live_snapshot(&mut self) -> anyhow::Result<()> {
        // The engine workers pace the parts (one round per interval, only when something
        // changed), so every round that came in is written.
        let (Some(_), Some(f)) = (self.targets.snapshot_every, &self.files) else {
            return Ok(());
        };
        if !self.snapshots.dirty {
            return Ok(());
        }
        let dir = f.out_dir.join("snapshots");
        let run = f.out_dir.join("run.json");
        self.snapshots.write_open(&dir)?;
        // A long-running run's figures so far, for an operator (and the memory benchmark).
        let r = self.report.borrow();
        let sessions = self.release.sessions() as u64;
        let progress = serde_json::json!({
            "running": true,
            "decisions": r.decisions,
            "dead_letters": r.dead_letters,
            "sessions": sessions,
            "open_sessions": sessions - self.closed_seen,
            "closed_sessions": self.closed_seen,
            "arranged_updates": self.targets.arranged.held(),
            "arranged_updates_peak": self.targets.arranged.peak(),
        });
        drop(r);
        let tmp = run.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&progress)?)?;
        std::fs::rename(&tmp, &run)?;
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush_below(None)?;
        if let Some(k) = &mut self.kafka {
            k.commit(true)?;
        }
        if self.closed_seen > self.closed_ids.len() as u64 {
            if let Some(f) = &self.files {
                let dir = f.out_dir.join("sessions");
                recall_summaries(&dir, &mut self.summaries)?;
            }
        }
        let dead = self.report.borrow().dead_letters;
        let lines = self.report.borrow().lines;
        // summary.json is keyed by session, as SPEC 4 lays it out ("per session {...}"); the
        // run's own counts go to run.json beside it.
        let mut json = String::from("{");
        for (i, (id, s)) in self.summaries.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            write_json_str(&mut json, id);
            json.push(':');
            json.push_str(s);
        }
        json.push('}');
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&json)?)?;
        self.report.borrow_mut().sessions = self.summaries.len() as u64;
        self.report.borrow_mut().summary_json = pretty.clone();
        let Some(f) = &mut self.files else {
            return Ok(());
        };
        f.flush()?;
        let out_dir = f.out_dir.clone();
        std::fs::write(out_dir.join("summary.json"), &pretty)?;
        let r = self.report.borrow();
        let run = serde_json::json!({
            "events_in": lines,
            "dead_letters": dead,
            "decisions": r.decisions,
            "order_drafts": r.order_drafts,
            "notifications": r.notifications,
            "sessions": self.summaries.len(),
            "open_sessions": r.open_sessions,
            "closed_sessions": r.closed_sessions,
            "redeliveries_after_close": r.late_redeliveries,
            "arranged_updates_peak": self.targets.arranged.peak(),
        });
        drop(r);
        std::fs::write(
            out_dir.join("run.json"),
            serde_json::to_string_pretty(&run)?,
        )?;
        self.snapshots.write_open(&out_dir.join("snapshots"))
    }

    /// Starts from the writer's part of a checkpoint.
    fn restore(mut self, state: Option<WriterState>) -> Writer {
        let Some(s) = state else { return self };
        for (kind, lines) in s.pending {
            self.release.restore(kind, lines);
        }
        self.summaries = s.summaries;
        self.snapshots.restore(s.gathered);
        self.closed_seen = s.closed_seen;
        self.closed_ids = ClosedShows::from_ordered(s.closed_ids);
        let mut r = self.report.borrow_mut();
        r.decisions = s.decisions;
        r.dead_letters = s.dead_letters;
        r.order_drafts = s.order_drafts;
        drop(r);
        self
    }

    /// The writer's part of checkpoint `id`: its files flushed to disk and their lengths,
    /// and what it holds that no engine does.
    fn write_part(&mut self, store: &Store, id: u64) -> anyhow::Result<PartEntry> {
        let lengths = match &mut self.files {
            Some(f) => f.lengths()?,
            None => Vec::new(),
        };
        let r = self.report.borrow();
        let state = WriterState {
            lengths,
            pending: self.release.pending(),
            summaries: self.summaries.clone(),
            gathered: self.snapshots.state(),
            closed_seen: self.closed_seen,
            closed_ids: self.closed_ids.ordered(),
            decisions: r.decisions,
            dead_letters: r.dead_letters,
            order_drafts: r.order_drafts,
        };
        drop(r);
        let bytes = crate::io::checkpoint::encode(&state)?;
        Ok(store.write_part(id, "writer.bin", &bytes)?)
    }

    /// The frontier passed cut `cut`, and the writer has taken everything before it: with
    /// every engine's part in, the writer writes its own, then the manifest.
    fn complete_cut(&mut self, cut: u64) -> anyhow::Result<()> {
        let target = self.targets.checkpoints.clone();
        let mut cuts = std::mem::take(&mut self.cuts);
        let done = cuts.complete(cut, target.as_ref(), |store, id| self.write_part(store, id));
        self.cuts = cuts;
        done
    }

    /// Commits every checkpoint every producer has acknowledged.
    fn commit_acked(&mut self) -> anyhow::Result<()> {
        let target = self.targets.checkpoints.as_ref();
        self.cuts.commit_acked(target, self.kafka.as_mut())
    }
}

/// The summaries of the closed shows the writer no longer holds, read back from their
/// `DIR/sessions/<show>.json` for summary.json (the ones it holds are newer or equal).
fn recall_summaries(
    dir: &std::path::Path,
    into: &mut BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries {
        let path = e?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)
            .with_context(|| format!("reading {}", path.display()))?;
        if let (Some(id), Some(summary)) = (v["session_id"].as_str(), v.get("summary")) {
            into.entry(id.to_string())
                .or_insert_with(|| summary.to_string());
        }
    }
    Ok(())
}
