//! The sink: decisions, dead letters, order drafts, the summary and snapshots, handed by worker 0 in key order to files and/or Kafka.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use rustc_hash::FxHashMap;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;

use crate::domain::decision::JsonObject;
use crate::io::kafka::GroupCommitter;
use crate::io::snapshot::{
    GmvMinuteRow, claimants_batch, gmv_minute_batch, gmv_minute_rows, write_parquet,
    write_row_groups,
};
use crate::io::{layout, tables};
use crate::live::hub::LiveHub;
use crate::ops::apply_claims::session_hash;
use crate::ops::read_kafka::KafkaShared;
use crate::records::{Claimant, Line, MetricKey, Out};
use bytes::Bytes;

mod checkpoint;
mod line_queue;
pub use checkpoint::CheckpointTarget;
pub(crate) use line_queue::LineQueue;

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

/// How long written decisions may sit in the buffer: a tail of `decisions.jsonl` sees them soon.
const FLUSH_EVERY: Duration = Duration::from_millis(2);
/// How often the Kafka sink waits for the broker's acknowledgements and commits the group.
const COMMIT_EVERY: Duration = Duration::from_millis(200);
/// How often the GMV ticker is updated.

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
    pub producer: Option<crate::ops::produce_outputs::ProducerTarget>,
    /// What an operator that cannot go on raises: the run stops with its message.
    pub halt: crate::ops::halt::Halt,
}

#[derive(Clone)]
pub struct KafkaTarget {
    pub brokers: String,
    /// Where the input partitions live: the group commits there.
    pub commit_brokers: String,
    pub group: String,
    pub shared: Arc<KafkaShared>,
}

impl Targets {
    fn describe(&self) -> String {
        match (&self.out_dir, &self.kafka) {
            (Some(d), _) => d.display().to_string(),
            (None, Some(k)) => format!("kafka://{}", k.brokers),
            (None, None) => "nowhere".into(),
        }
    }
}

struct Files {
    out_dir: PathBuf,
    decisions: BufWriter<File>,
    dead: BufWriter<File>,
    /// `orders_out.jsonl`: the order drafts (the records of `livesell.orders-out`).
    drafts: BufWriter<File>,
    /// `notifications.jsonl`: the buyers' messages (`livesell.notifications`).
    notes: BufWriter<File>,
    last_flush: Instant,
}

impl Files {
    /// `resume`: the lengths `decisions.jsonl`, `dead_letter.jsonl` and `orders_out.jsonl` had
    /// at the checkpoint this run starts from: they are cut back to them and written on; the
    /// sessions' files stay. Without, a run writes everything anew.
    fn open(out_dir: &PathBuf, resume: Option<[u64; 4]>) -> anyhow::Result<Files> {
        std::fs::create_dir_all(out_dir)?;
        if resume.is_none() {
            // A run writes its sessions' files anew: an earlier run's into the same directory
            // would otherwise mix with them (the other outputs are replaced whole).
            for dir in ["snapshots", "sessions"] {
                match std::fs::remove_dir_all(out_dir.join(dir)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
        }
        let open = |n: &str, len: Option<u64>| -> anyhow::Result<BufWriter<File>> {
            let path = out_dir.join(n);
            let f = match len {
                None => File::create(&path)?,
                Some(len) => {
                    let f = std::fs::OpenOptions::new().append(true).open(&path)?;
                    let has = f.metadata()?.len();
                    if has < len {
                        anyhow::bail!(
                            "{} has {has} bytes, but the checkpoint this run starts from was taken when it had {len}: it was changed since; move it away, or start without the checkpoint",
                            path.display()
                        );
                    }
                    // What came after the checkpoint is written again from it.
                    f.set_len(len)?;
                    f
                }
            };
            Ok(BufWriter::with_capacity(1 << 20, f))
        };
        Ok(Files {
            decisions: open("decisions.jsonl", resume.map(|r| r[0]))?,
            dead: open("dead_letter.jsonl", resume.map(|r| r[1]))?,
            drafts: open("orders_out.jsonl", resume.map(|r| r[2]))?,
            notes: open("notifications.jsonl", resume.map(|r| r[3]))?,
            out_dir: out_dir.clone(),
            last_flush: Instant::now(),
        })
    }
}

/// The consumer group's commits: what every worker's producer has had acknowledged.
struct KafkaOut {
    committer: GroupCommitter,
    target: KafkaTarget,
    /// All workers, and per worker the bound below which the broker has acknowledged
    /// everything its producer sent.
    peers: usize,
    acked: BTreeMap<usize, i64>,
    /// Per checkpoint, the producers that had everything before it acknowledged, and their
    /// parts.
    cut_acks: BTreeMap<u64, Vec<Option<crate::io::checkpoint::PartEntry>>>,
    last_commit: Instant,
    /// Checkpoints are taken: the group commits their positions, once complete.
    by_checkpoint: bool,
}

impl KafkaOut {
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
    fn commit(&mut self, force: bool) -> anyhow::Result<()> {
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

/// One open session's snapshot rows, as encoded row groups per table.
struct Gathered {
    /// Its first event's effective time: the date partition of its files.
    first_t: i64,
    tables: BTreeMap<String, Vec<Bytes>>,
}

struct Writer {
    targets: Targets,
    files: Option<Files>,
    kafka: Option<KafkaOut>,
    pending_decisions: LineQueue,
    pending_dead: LineQueue,
    pending_drafts: LineQueue,
    pending_notes: LineQueue,
    /// Cart updates for the live surfaces (with `live` only: Kafka gets them from the
    /// producers, the `carts` table from the engines).
    pending_carts: LineQueue,
    /// Session ids by the routing hash their decisions are keyed with (Kafka message keys).
    sessions: FxHashMap<u64, String>,
    summaries: BTreeMap<String, String>,
    totals: FxHashMap<(MetricKey, i64), i64>,
    ranked: FxHashMap<(String, u64, Claimant), i64>,
    /// Each open session's parts of the snapshot tables (a closed one's are written and gone).
    gathered: BTreeMap<String, Gathered>,
    /// Sessions closed so far, and their routing hashes (8 bytes a show).
    closed_seen: u64,
    closed_ids: rustc_hash::FxHashSet<u64>,
    /// Tables changed since they were last written, and when that was (live snapshots).
    snapshots_dirty: bool,
    last_snapshot: Instant,
    report: Rc<RefCell<RunReport>>,
    /// Checkpoints waiting for their parts, or for the broker's acknowledgements.
    cuts: checkpoint::Cuts,
    /// The run started from a checkpoint: what comes at time 0 is the views brought back.
    restored: bool,
}

impl Writer {
    fn open(
        targets: Targets,
        report: Rc<RefCell<RunReport>>,
        peers: usize,
    ) -> anyhow::Result<Writer> {
        let state = checkpoint::restored_state(&targets)?;
        let every_ms = targets.checkpoints.as_ref().map(|c| c.every_ms);
        let resume = state.as_ref().map(|s| s.file_lengths());
        let files = match &targets.out_dir {
            Some(d) => Some(
                Files::open(d, resume).with_context(|| format!("cannot write {}", d.display()))?,
            ),
            None => None,
        };
        let kafka = match &targets.kafka {
            Some(t) => Some(KafkaOut {
                committer: GroupCommitter::open(&t.commit_brokers, &t.group)?,
                target: t.clone(),
                peers,
                acked: BTreeMap::new(),
                cut_acks: BTreeMap::new(),
                last_commit: Instant::now(),
                by_checkpoint: targets.checkpoints.is_some(),
            }),
            None => None,
        };
        Ok(Writer {
            targets,
            files,
            kafka,
            pending_decisions: LineQueue::default(),
            pending_dead: LineQueue::default(),
            pending_drafts: LineQueue::default(),
            pending_notes: LineQueue::default(),
            pending_carts: LineQueue::default(),
            sessions: FxHashMap::default(),
            summaries: BTreeMap::new(),
            totals: FxHashMap::default(),
            ranked: FxHashMap::default(),
            gathered: BTreeMap::new(),
            closed_seen: 0,
            closed_ids: Default::default(),
            snapshots_dirty: false,
            last_snapshot: Instant::now(),
            report,
            cuts: checkpoint::Cuts::new(every_ms),
            restored: false,
        }
        .restore(state))
    }

    /// Takes one output sent at time `t`.
    fn take(&mut self, o: Out, t: u64) -> anyhow::Result<()> {
        match o {
            Out::Decision(l) => self.pending_decisions.push(l),
            Out::DeadLetter(l) => self.pending_dead.push(l),
            Out::Draft(l) => self.pending_drafts.push(l),
            Out::Notification(l) => self.pending_notes.push(l),
            Out::Cart(l) if self.targets.live.is_some() => self.pending_carts.push(l),
            Out::Cart(_) => {}
            Out::Session { hash, session_id } => {
                self.sessions.insert(hash, session_id);
            }
            Out::Summary { session_id, json } => {
                self.summaries.insert(session_id, json);
            }
            Out::MetricTotal { key, total, diff } => {
                let key = *key;
                if let Some(h) = &self.targets.live {
                    h.metric(&key, total * diff);
                }
                // A closed show's ticker said its last word at the close: the retraction of its
                // views must not tick it down to zero.
                let e = self.totals.entry((key.clone(), total)).or_default();
                *e += diff;
                if *e == 0 {
                    self.totals.remove(&(key, total));
                }
            }
            Out::RankedClaimant {
                session_id,
                rank,
                claimant,
                diff,
            } => {
                if let Some(h) = &self.targets.live {
                    h.ranked(&session_id, rank, &claimant, diff);
                }
                let k = (session_id, rank, *claimant);
                let e = self.ranked.entry(k.clone()).or_default();
                *e += diff;
                if *e == 0 {
                    self.ranked.remove(&k);
                }
            }
            Out::Lines(n) => self.report.borrow_mut().lines += n,
            Out::Snapshot {
                table,
                session_id,
                date,
                parts: new,
                delta,
            } => {
                let g = self.gathered.entry(session_id).or_insert_with(|| Gathered {
                    first_t: date,
                    tables: BTreeMap::new(),
                });
                let part = g.tables.entry(table).or_default();
                if !delta {
                    part.clear();
                }
                part.extend(new.0);
                self.snapshots_dirty = true;
            }
            Out::Closed {
                session_id,
                closed_at,
            } => self.closed(&session_id, closed_at)?,
            Out::Sessions {
                open,
                closed,
                late_redeliveries,
            } => {
                let mut r = self.report.borrow_mut();
                r.open_sessions += open;
                r.closed_sessions += closed;
                r.late_redeliveries += late_redeliveries;
            }
            Out::Live(view) => {
                if let Some(h) = &self.targets.live {
                    h.view(*view);
                }
            }
            Out::Checkpoint(part) => self.cuts.part_done(t, *part),
            Out::Acked {
                worker,
                bound,
                checkpoint,
            } => {
                if let Some(k) = &mut self.kafka {
                    if let Some(b) = bound {
                        let e = k.acked.entry(worker).or_insert(b);
                        *e = (*e).max(b);
                    }
                    if let Some((id, entry)) = checkpoint {
                        k.cut_acks.entry(id).or_default().push(entry);
                    }
                }
            }
            Out::Produced {
                decisions,
                dead_letters,
            } => {
                let mut r = self.report.borrow_mut();
                r.decisions += decisions;
                r.dead_letters += dead_letters;
            }
            Out::Released { .. } => {}
            Out::Metric { .. } | Out::Claimant { .. } => {}
        }
        Ok(())
    }

    /// SPEC 3.5: a session closed. Its tables are written, once, to their partitions, and its
    /// figures to `DIR/sessions/<session>.json`; then the writer forgets its rows.
    fn closed(&mut self, session_id: &str, closed_at: i64) -> anyhow::Result<()> {
        self.closed_seen += 1;
        self.closed_ids.insert(session_hash(session_id));
        if let Some(h) = &self.targets.live {
            h.closed(session_id, closed_at);
        }
        let gathered = self.gathered.remove(session_id);
        let Some(f) = &self.files else {
            return Ok(());
        };
        let snapshots = f.out_dir.join("snapshots");
        if let Some(g) = &gathered {
            write_session(&snapshots, session_id, g, None)?;
        }
        let sessions = f.out_dir.join("sessions");
        std::fs::create_dir_all(&sessions)?;
        let summary = self
            .summaries
            .get(session_id)
            .map(String::as_str)
            .unwrap_or("{}");
        let mut o = JsonObject::new();
        o.str("session_id", session_id);
        o.ts("closed_at", closed_at);
        o.raw("summary", summary);
        let path = sessions.join(format!("{}.json", layout::file_stem(session_id)));
        let tmp = sessions.join(format!(".{}.json.tmp", layout::file_stem(session_id)));
        std::fs::write(&tmp, o.finish() + "\n")?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    /// One record sent at time `t`: a release mark to apply once the frontier passes `t`, or
    /// something to take now.
    fn accept(&mut self, o: Out, t: u64, marks: &mut Vec<(u64, i64)>) -> anyhow::Result<()> {
        match o {
            Out::Released { bound } => {
                marks.push((t, bound.unwrap_or(i64::MAX)));
                Ok(())
            }
            o => self.take(o, t),
        }
    }

    /// Takes what waited, in time order, up to the next checkpoint's cut; flushes what the
    /// marks the frontier passed allow; at each cut the frontier passed, writes the writer's
    /// part of it, so that the part holds exactly what came before the cut (`waiting` keeps
    /// what came at or after the cut until then; the rest was taken as it came).
    fn step(
        &mut self,
        waiting: &mut Vec<(u64, Out)>,
        marks: &mut Vec<(u64, i64)>,
        f: Option<u64>,
        done: &mut bool,
    ) -> anyhow::Result<()> {
        waiting.sort_by_key(|(t, _)| *t);
        loop {
            let horizon = self.cuts.next_cut().unwrap_or(u64::MAX);
            let n = waiting.partition_point(|(t, _)| *t < horizon);
            for (t, o) in waiting.drain(..n) {
                self.accept(o, t, marks)?;
            }
            // A mark sent at time t says: every worker has sent all decisions below its
            // bound by the time this frontier passes t.
            let limit = f.map_or(horizon, |f| f.min(horizon));
            let bound = marks
                .iter()
                .filter(|(t, _)| *t < limit)
                .map(|(_, b)| *b)
                .max();
            marks.retain(|(t, _)| *t >= limit);
            if let (Some(b), Some(_)) = (bound, f) {
                self.flush_below(Some(b))?;
            }
            let passed = f.is_none_or(|f| f >= horizon);
            if horizon == u64::MAX || !passed || (f.is_none() && waiting.is_empty()) {
                break;
            }
            self.complete_cut(horizon)?;
        }
        if f.is_none() && !*done {
            *done = true;
            self.finish()?;
        }
        // A live run's snapshots, every `--snapshot-interval`, from the parts received.
        self.live_snapshot()?;
        // Checkpoints every producer has acknowledged.
        self.commit_acked()
    }

    /// Hands over every buffered record whose key time is below `bound` (all when `None`), in
    /// key order: to the files, and to Kafka (unless an earlier run sent it already).
    fn flush_below(&mut self, bound: Option<i64>) -> anyhow::Result<()> {
        let decisions = self.pending_decisions.take_below(bound);
        let dead = self.pending_dead.take_below(bound);
        let drafts = self.pending_drafts.take_below(bound);
        let notes = self.pending_notes.take_below(bound);
        let carts = self.pending_carts.take_below(bound);
        if let Some(f) = &mut self.files {
            write_lines(&decisions, &mut f.decisions)?;
            write_lines(&dead, &mut f.dead)?;
            write_lines(&drafts, &mut f.drafts)?;
            write_lines(&notes, &mut f.notes)?;
            if !(decisions.is_empty() && dead.is_empty()) && f.last_flush.elapsed() >= FLUSH_EVERY {
                f.decisions.flush()?;
                f.dead.flush()?;
                f.drafts.flush()?;
                f.notes.flush()?;
                f.last_flush = Instant::now();
            }
        }
        if let Some(k) = &mut self.kafka {
            k.commit(false)?;
        }
        if let Some(h) = &self.targets.live {
            let sessions = &self.sessions;
            h.decisions(decisions.iter().filter_map(|l| {
                sessions
                    .get(&l.key.1)
                    .map(|s| (s.as_str(), l.line.as_str()))
            }));
            h.carts(carts.iter().filter_map(|l| {
                sessions
                    .get(&l.key.1)
                    .map(|s| (s.as_str(), l.line.as_str()))
            }));
            h.counters
                .dead_letters
                .fetch_add(dead.len() as u64, std::sync::atomic::Ordering::Relaxed);
            h.released(bound.unwrap_or(i64::MAX));
        }
        let mut r = self.report.borrow_mut();
        r.decisions += decisions.len() as u64;
        r.dead_letters += dead.len() as u64;
        r.order_drafts += drafts.len() as u64;
        r.notifications += notes.len() as u64;
        Ok(())
    }

    /// Writes the snapshot tables when new parts came in.
    fn live_snapshot(&mut self) -> anyhow::Result<()> {
        // The engine workers pace the parts (one round per interval, only when something
        // changed), so every round that came in is written.
        let (Some(_), Some(f)) = (self.targets.snapshot_every, &self.files) else {
            return Ok(());
        };
        if !self.snapshots_dirty {
            return Ok(());
        }
        let dir = f.out_dir.join("snapshots");
        let run = f.out_dir.join("run.json");
        self.write_snapshots(&dir)?;
        // A long-running run's figures so far, for an operator (and the memory benchmark).
        let r = self.report.borrow();
        let progress = serde_json::json!({
            "running": true,
            "decisions": r.decisions,
            "dead_letters": r.dead_letters,
            "sessions": self.sessions.len(),
            "open_sessions": self.sessions.len() as u64 - self.closed_seen,
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
        let dead = self.report.borrow().dead_letters;
        let lines = self.report.borrow().lines;
        // summary.json is keyed by session, as SPEC 4 lays it out ("per session {...}"); the
        // run's own counts go to run.json beside it.
        let mut json = String::from("{");
        for (i, (id, s)) in self.summaries.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            crate::domain::decision::write_json_str(&mut json, id);
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
        f.decisions.flush()?;
        f.dead.flush()?;
        f.drafts.flush()?;
        f.notes.flush()?;
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

        self.write_snapshots(&out_dir.join("snapshots"))
    }

    /// Every open session's snapshot files as they stand, each replaced atomically (closed
    /// sessions' files were written at their close and are never rewritten). Sessions are
    /// independent, so they are written on a few threads.
    fn write_snapshots(&mut self, snapshots: &std::path::Path) -> anyhow::Result<()> {
        self.snapshots_dirty = false;
        self.last_snapshot = Instant::now();
        let views = open_views(&self.totals, &self.ranked);
        let empty = SessionViews::default();
        let sessions: Vec<(&String, &Gathered)> = self.gathered.iter().collect();
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(4);
        let chunk = sessions.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let jobs: Vec<_> = sessions
                .chunks(chunk)
                .map(|part| {
                    let (views, empty) = (&views, &empty);
                    scope.spawn(move || {
                        part.iter().try_for_each(|(id, g)| {
                            let v = views.get(id.as_str()).unwrap_or(empty);
                            write_session(snapshots, id, g, Some(v))
                        })
                    })
                })
                .collect();
            jobs.into_iter().try_for_each(|j| {
                j.join()
                    .map_err(|_| anyhow::anyhow!("a snapshot writer panicked"))?
            })
        })
    }
}

/// An open session's rows of the two views differential maintains.
#[derive(Default)]
struct SessionViews {
    gmv: Vec<GmvMinuteRow>,
    ranked: Vec<(String, u64, Claimant)>,
}

/// The maintained views per open session: `gmv_minute` by minute, sku and platform; the
/// claimants by sku and rank.
fn open_views(
    totals: &FxHashMap<(MetricKey, i64), i64>,
    ranked: &FxHashMap<(String, u64, Claimant), i64>,
) -> BTreeMap<String, SessionViews> {
    let mut views: BTreeMap<String, SessionViews> = BTreeMap::new();
    for row in gmv_minute_rows(totals.keys().map(|(k, t)| (k, *t))) {
        views
            .entry(row.session_id.clone())
            .or_default()
            .gmv
            .push(row);
    }
    let mut rows: Vec<&(String, u64, Claimant)> = ranked.keys().collect();
    rows.sort_unstable_by(|a, b| (&a.0, &a.2.sku, a.1).cmp(&(&b.0, &b.2.sku, b.1)));
    for r in rows {
        views.entry(r.0.clone()).or_default().ranked.push(r.clone());
    }
    views
}

/// One session's files, each table to its partition. `views`: an open session's rows of the
/// differential views (a closed session brought its own among its tables).
fn write_session(
    snapshots: &std::path::Path,
    session_id: &str,
    g: &Gathered,
    views: Option<&SessionViews>,
) -> anyhow::Result<()> {
    let stem = layout::file_stem(session_id);
    for (name, parts) in &g.tables {
        let dir = layout::partition_dir(snapshots, name, g.first_t);
        let schema = table_schema(name);
        write_row_groups(&dir, &stem, schema, parts.iter())
            .with_context(|| format!("the {name} table of session {session_id}"))?;
    }
    if let Some(v) = views {
        for (name, batch) in [
            ("gmv_minute", gmv_minute_batch(&v.gmv)?),
            ("claimants", claimants_batch(&v.ranked)?),
        ] {
            if batch.num_rows() > 0 {
                let dir = layout::partition_dir(snapshots, name, g.first_t);
                write_parquet(&dir, &stem, &batch)?;
            }
        }
    }
    Ok(())
}

/// The Arrow schema of any snapshot table.
pub fn table_schema(name: &str) -> datafusion::arrow::datatypes::SchemaRef {
    match name {
        "gmv_minute" => crate::io::snapshot::gmv_minute_schema(),
        "claimants" => crate::io::snapshot::claimants_schema(),
        other => tables::schema(other),
    }
}

fn write_lines(lines: &[Line], w: &mut BufWriter<File>) -> std::io::Result<()> {
    for Line { line, .. } in lines {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

pub trait WriteOutputs {
    /// Gathers every output on worker 0 and hands it to `targets`; `report` is filled in as it
    /// goes.
    fn write_outputs(self, targets: Targets, report: Rc<RefCell<RunReport>>, is_writer: bool);
}

impl<'scope> WriteOutputs for Stream<'scope, u64, Vec<Out>> {
    fn write_outputs(self, targets: Targets, report: Rc<RefCell<RunReport>>, is_writer: bool) {
        let peers = self.scope().peers();
        let mut writer: Option<Writer> = None;
        // Only worker 0 owns the files; the exchange sends nothing to the others.
        let mut failed = !is_writer;
        let mut done = false;
        // Release marks `(time, bound)` not yet passed by this operator's frontier, and what
        // came in but waits for a checkpoint's cut before it.
        let mut marks: Vec<(u64, i64)> = Vec::new();
        let mut waiting: Vec<(u64, Out)> = Vec::new();
        self.sink(
            Exchange::new(|_: &Out| 0u64),
            "WriteOutputs",
            move |(input, frontier)| {
                if writer.is_none() && !failed {
                    match Writer::open(targets.clone(), report.clone(), peers) {
                        Ok(w) => writer = Some(w),
                        Err(e) => {
                            failed = true;
                            report.borrow_mut().error = Some(format!("{e:#}"));
                        }
                    }
                }
                let mut taken: anyhow::Result<()> = Ok(());
                input.for_each_stamp(|cap, data| {
                    let t = cap.least().copied().unwrap_or_default();
                    let Some(w) = writer.as_mut() else { return };
                    // What comes at the next checkpoint's cut or later waits for it.
                    let horizon = w.cuts.next_cut().unwrap_or(u64::MAX);
                    for batch in data {
                        for o in batch.drain(..) {
                            if t >= horizon {
                                waiting.push((t, o));
                            } else if let Err(e) = w.accept(o, t, &mut marks) {
                                if taken.is_ok() {
                                    taken = Err(e);
                                }
                            }
                        }
                    }
                });
                let Some(w) = writer.as_mut() else { return };
                let f = frontier.frontier().first().copied();
                let result = taken.and_then(|()| w.step(&mut waiting, &mut marks, f, &mut done));
                if let Err(e) = result {
                    let message = format!("writing to {}: {e:#}", w.targets.describe());
                    if w.kafka.is_some() {
                        // A stream never ends by itself: the run stops here, uncommitted, so
                        // that a restart sends again what did not reach the broker.
                        w.targets.halt.raise(message.clone());
                    }
                    report.borrow_mut().error = Some(message);
                    writer = None;
                    failed = true;
                }
            },
        );
    }
}
