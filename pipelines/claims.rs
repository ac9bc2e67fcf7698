//! The claim pipeline of `livesell run`: the whole dataflow graph, top to bottom.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use anyhow::{Context, bail};
use timely::dataflow::operators::Concat;
use timely::dataflow::operators::vec::Partition;

use crate::io::lines::LineSource;
use crate::ops::apply_claims::ApplyClaims;
use crate::ops::maintain_metrics::MaintainMetrics;
use crate::ops::rank_claimants::RankClaimants;
use crate::ops::read_events::{ReadEvents, SourceHand};
use crate::ops::write_outputs::{RunReport, WriteOutputs};

#[derive(Debug, Clone)]
pub struct RunConfig {
    /// JSONL files; `-` is standard input; `.gz` is decompressed.
    pub inputs: Vec<String>,
    pub out: PathBuf,
    pub workers: usize,
    pub allowed_lateness_ms: u64,
}

/// Runs the pipeline over finite inputs with `workers` threads; returns worker 0's report.
pub fn run(cfg: RunConfig, progress: Arc<AtomicU64>) -> anyhow::Result<RunReport> {
    if cfg.inputs.is_empty() {
        bail!("no input: give --input FILE (or - for standard input)");
    }
    if cfg.inputs.iter().filter(|p| *p == "-").count() > 1 {
        bail!("standard input (-) can be read only once");
    }
    // Open everything up front so a missing file is a clear error before any work starts.
    let mut opened = Vec::new();
    for path in &cfg.inputs {
        opened.push(LineSource::open(
            path,
            progress.clone(),
            cfg.workers.max(1),
        )?);
    }
    run_sources(opened, &cfg)
}

/// Runs the pipeline over already-opened sources, each dealt to `cfg.workers` hands (tests feed
/// readers of their own here).
pub fn run_sources(sources: Vec<LineSource>, cfg: &RunConfig) -> anyhow::Result<RunReport> {
    let workers = cfg.workers.max(1);
    let source_count = sources.len();
    // Hand h of source s goes to worker (h + s) % workers, so one-file runs spread evenly too.
    let mut dealt: Vec<Vec<SourceHand>> = (0..workers).map(|_| Vec::new()).collect();
    for (s, src) in sources.into_iter().enumerate() {
        if src.hands.len() != workers {
            bail!(
                "{} was opened for {} workers, not {workers}",
                src.name,
                src.hands.len()
            );
        }
        for (h, hand) in src.hands.into_iter().enumerate() {
            dealt[(h + s) % workers].push(SourceHand::new(
                s as u32,
                src.name.clone(),
                hand,
                h as u64,
                workers,
            ));
        }
    }
    let dealt: Vec<Mutex<Vec<SourceHand>>> = dealt.into_iter().map(Mutex::new).collect();
    let dealt = Arc::new(dealt);
    let lateness_us = cfg.allowed_lateness_ms as i64 * 1000;
    let out = cfg.out.clone();

    let guards = timely::execute(timely::Config::process(workers), move |worker| {
        let index = worker.index();
        let hands = std::mem::take(
            &mut *dealt[index]
                .lock()
                .expect("no worker panics while holding its hands"),
        );
        let report = Rc::new(RefCell::new(RunReport::default()));

        worker.dataflow::<u64, _, _>(|scope| {
            // events in source order, with effective times and rejects
            let inputs = scope.read_events(hands);
            // decisions per session once final, in SPEC 2 order
            let outputs = inputs.apply_claims(source_count, lateness_us);
            // split without copying: files, metric additions, claim placements
            let mut parts = outputs.partition(3, |o| (o.part(), o)).into_iter();
            let (files, metrics, placements) = (parts.next(), parts.next(), parts.next());
            let (files, metrics, placements) = (
                files.expect("3 parts"),
                metrics.expect("3 parts"),
                placements.expect("3 parts"),
            );
            // gmv_minute totals, maintained incrementally by differential
            let totals = metrics.maintain_metrics();
            // each sku's claimants ranked by platform time, maintained by differential
            let ranked = placements.rank_claimants();
            // decisions.jsonl, dead_letter.jsonl, summary.json, snapshots/
            files.concat(totals).concat(ranked).write_outputs(
                out.clone(),
                report.clone(),
                index == 0,
            );
        });

        while worker.step_or_park(None) {}
        report.take()
    })
    .map_err(|e| anyhow::anyhow!("cannot start workers: {e}"))?;

    let mut reports = Vec::new();
    for r in guards.join() {
        reports.push(r.map_err(|e| anyhow::anyhow!("a worker failed: {e}"))?);
    }
    let report = reports.into_iter().next().context("no workers ran")?;
    if let Some(e) = &report.error {
        bail!("{e}");
    }
    Ok(report)
}
