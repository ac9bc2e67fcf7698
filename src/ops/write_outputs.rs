//! The sink: decisions, dead letters, the summary and snapshots, written by worker 0 in key order.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;

use rustc_hash::FxHashMap;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;

use crate::io::snapshot::{GmvMinuteRow, claimants_batch, gmv_minute_batch, write_parquet};
use crate::records::{Claimant, Metric, MetricKey, Out, OutKey};

/// What the writer saw, for the command line to print.
#[derive(Debug, Default, Clone)]
pub struct RunReport {
    pub lines: u64,
    pub decisions: u64,
    pub dead_letters: u64,
    pub sessions: u64,
    pub error: Option<String>,
    pub summary_json: String,
}

/// How long written decisions may sit in the buffer: a tail of `decisions.jsonl` sees them soon.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(2);

struct Writer {
    out_dir: PathBuf,
    last_flush: std::time::Instant,
    decisions: BufWriter<File>,
    dead: BufWriter<File>,
    pending_decisions: Vec<(OutKey, String)>,
    pending_dead: Vec<(OutKey, String)>,
    summaries: BTreeMap<String, String>,
    totals: FxHashMap<(MetricKey, i64), i64>,
    ranked: FxHashMap<(String, u64, Claimant), i64>,
    report: Rc<RefCell<RunReport>>,
}

impl Writer {
    fn open(out_dir: PathBuf, report: Rc<RefCell<RunReport>>) -> std::io::Result<Writer> {
        std::fs::create_dir_all(&out_dir)?;
        let open =
            |n: &str| File::create(out_dir.join(n)).map(|f| BufWriter::with_capacity(1 << 20, f));
        Ok(Writer {
            decisions: open("decisions.jsonl")?,
            dead: open("dead_letter.jsonl")?,
            out_dir,
            pending_decisions: Vec::new(),
            pending_dead: Vec::new(),
            summaries: BTreeMap::new(),
            totals: FxHashMap::default(),
            ranked: FxHashMap::default(),
            report,
            last_flush: std::time::Instant::now(),
        })
    }

    fn take(&mut self, o: Out) {
        match o {
            Out::Decision { key, line } => self.pending_decisions.push((key, line)),
            Out::DeadLetter { key, line } => self.pending_dead.push((key, line)),
            Out::Summary { session_id, json } => {
                self.summaries.insert(session_id, json);
            }
            Out::MetricTotal { key, total, diff } => {
                let key = *key;
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
                let k = (session_id, rank, *claimant);
                let e = self.ranked.entry(k.clone()).or_default();
                *e += diff;
                if *e == 0 {
                    self.ranked.remove(&k);
                }
            }
            Out::Lines(n) => self.report.borrow_mut().lines += n,
            Out::Released { .. } => {}
            Out::Metric { .. } | Out::Claimant { .. } => {}
        }
    }

    /// Writes every buffered line whose key time is below `bound` (all when `None`), in key order.
    fn flush_below(&mut self, bound: Option<i64>) -> std::io::Result<()> {
        let below = |k: &OutKey| bound.is_none_or(|b| k.0 < b);
        let n = flush(&mut self.pending_decisions, &mut self.decisions, below)?;
        let d = flush(&mut self.pending_dead, &mut self.dead, below)?;
        if n + d > 0 && self.last_flush.elapsed() >= FLUSH_EVERY {
            self.decisions.flush()?;
            self.dead.flush()?;
            self.last_flush = std::time::Instant::now();
        }
        let mut r = self.report.borrow_mut();
        r.decisions += n;
        r.dead_letters += d;
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush_below(None)?;
        self.decisions.flush()?;
        self.dead.flush()?;
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
        std::fs::write(self.out_dir.join("summary.json"), &pretty)?;
        let run = serde_json::json!({
            "events_in": lines,
            "dead_letters": dead,
            "decisions": self.report.borrow().decisions,
            "sessions": self.summaries.len(),
        });
        std::fs::write(
            self.out_dir.join("run.json"),
            serde_json::to_string_pretty(&run)?,
        )?;
        self.report.borrow_mut().sessions = self.summaries.len() as u64;
        self.report.borrow_mut().summary_json = pretty;

        let mut cells: BTreeMap<(String, i64, String, String), GmvMinuteRow> = BTreeMap::new();
        for (key, total) in self.totals.keys() {
            let row = cells
                .entry((
                    key.session_id.clone(),
                    key.minute,
                    key.sku.clone(),
                    key.platform.clone(),
                ))
                .or_insert_with(|| GmvMinuteRow {
                    session_id: key.session_id.clone(),
                    minute: key.minute,
                    sku: key.sku.clone(),
                    platform: key.platform.clone(),
                    ..Default::default()
                });
            match key.metric {
                Metric::GmvCents => row.gmv_cents = *total,
                Metric::Units => row.units = *total,
                Metric::Claims => row.claims = *total,
            }
        }
        let rows: Vec<GmvMinuteRow> = cells.into_values().collect();
        let snapshots = self.out_dir.join("snapshots");
        write_parquet(&snapshots, "gmv_minute", &gmv_minute_batch(&rows)?)?;
        let mut ranked: Vec<(String, u64, Claimant)> = self.ranked.keys().cloned().collect();
        ranked.sort_by(|a, b| (&a.0, &a.2.sku, a.1).cmp(&(&b.0, &b.2.sku, b.1)));
        write_parquet(&snapshots, "claimants", &claimants_batch(&ranked)?)?;
        Ok(())
    }
}

fn flush(
    pending: &mut Vec<(OutKey, String)>,
    w: &mut BufWriter<File>,
    below: impl Fn(&OutKey) -> bool,
) -> std::io::Result<u64> {
    if pending.is_empty() {
        return Ok(0);
    }
    // Sort only what is ready: the rest waits, unsorted, for a later bound.
    let (mut ready, rest): (Vec<_>, Vec<_>) = std::mem::take(pending)
        .into_iter()
        .partition(|(k, _)| below(k));
    *pending = rest;
    ready.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (_, line) in &ready {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(ready.len() as u64)
}

pub trait WriteOutputs {
    /// Gathers every output on worker 0 and writes `out_dir`; `report` is filled in as it goes.
    fn write_outputs(self, out_dir: PathBuf, report: Rc<RefCell<RunReport>>, is_writer: bool);
}

impl<'scope> WriteOutputs for Stream<'scope, u64, Vec<Out>> {
    fn write_outputs(self, out_dir: PathBuf, report: Rc<RefCell<RunReport>>, is_writer: bool) {
        let mut writer: Option<Writer> = None;
        // Only worker 0 owns the files; the exchange sends nothing to the others.
        let mut failed = !is_writer;
        let mut done = false;
        // Release marks `(time, bound)` not yet passed by this operator's frontier.
        let mut marks: Vec<(u64, i64)> = Vec::new();
        self.sink(
            Exchange::new(|_: &Out| 0u64),
            "WriteOutputs",
            move |(input, frontier)| {
                if writer.is_none() && !failed {
                    match Writer::open(out_dir.clone(), report.clone()) {
                        Ok(w) => writer = Some(w),
                        Err(e) => {
                            failed = true;
                            report.borrow_mut().error =
                                Some(format!("cannot write {}: {e}", out_dir.display()));
                        }
                    }
                }
                input.for_each_stamp(|cap, data| {
                    let t = cap.least().copied().unwrap_or_default();
                    for batch in data {
                        for o in batch.drain(..) {
                            match (o, writer.as_mut()) {
                                (Out::Released { bound }, _) => {
                                    marks.push((t, bound.unwrap_or(i64::MAX)))
                                }
                                (o, Some(w)) => w.take(o),
                                (_, None) => {}
                            }
                        }
                    }
                });
                let Some(w) = writer.as_mut() else { return };
                let f = frontier.frontier().first().copied();
                // A mark sent at time t says: every worker has sent all decisions below its
                // bound by the time this frontier passes t.
                let bound = marks
                    .iter()
                    .filter(|(t, _)| f.is_none_or(|f| *t < f))
                    .map(|(_, b)| *b)
                    .max();
                marks.retain(|(t, _)| f.is_some_and(|f| *t >= f));
                let result = match f {
                    Some(_) => match bound {
                        Some(b) => w.flush_below(Some(b)).map_err(anyhow::Error::from),
                        None => Ok(()),
                    },
                    None if !done => {
                        done = true;
                        w.finish()
                    }
                    None => Ok(()),
                };
                if let Err(e) = result {
                    report.borrow_mut().error =
                        Some(format!("writing {}: {e:#}", out_dir.display()));
                    writer = None;
                    failed = true;
                }
            },
        );
    }
}
