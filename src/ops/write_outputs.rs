//! The writer operator: gathers every output on worker 0 and hands it to `sinks::writer::Writer` at its timely time, stepping it as the frontier moves.

use std::cell::RefCell;
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;

use crate::records::Out;
use crate::sinks::writer::{RunReport, Targets, Writer};

pub trait WriteOutputs {
    /// Gathers every output on worker 0 and hands it to `targets`; `report` is filled in as it
    /// goes.
    fn write_outputs(self, targets: Targets, report: Rc<RefCell<RunReport>>, is_writer: bool);
}

impl<'scope> WriteOutputs for Stream<'scope, u64, Vec<Out>> {
    fn write_outputs(self, targets: Targets, report: Rc<RefCell<RunReport>>, is_writer: bool) {
        let scope = self.scope();
        let peers = scope.peers();
        let mut writer: Option<Writer> = None;
        // Only worker 0 owns the files; the exchange sends nothing to the others.
        let mut failed = !is_writer;
        // A sink with an activator: records written and not yet flushed are flushed on time
        // (`Writer::flush_due`) even when no more input comes to schedule the operator.
        let _: Stream<'scope, u64, Vec<()>> = self
            .unary_frontier::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                Exchange::new(|_: &Out| 0u64),
                "WriteOutputs",
                move |cap, info| {
                    drop(cap);
                    let activator = scope.activator_for(info.address);
                    move |(input, frontier), _output| {
                        if writer.is_none() && !failed {
                            match Writer::open(targets.clone(), report.clone(), peers) {
                                Ok(w) => writer = Some(w),
                                Err(e) => {
                                    // Nothing can be written: the run stops with the reason.
                                    failed = true;
                                    let message = format!("{e:#}");
                                    targets.halt.raise(message.clone());
                                    report.borrow_mut().error = Some(message);
                                }
                            }
                        }
                        let mut taken: anyhow::Result<()> = Ok(());
                        input.for_each_stamp(|cap, data| {
                            let t = cap.least().copied().unwrap_or_default();
                            let Some(w) = writer.as_mut() else { return };
                            for batch in data {
                                for o in batch.drain(..) {
                                    if let (Err(e), true) = (w.receive(o, t), taken.is_ok()) {
                                        taken = Err(e);
                                    }
                                }
                            }
                        });
                        let Some(w) = writer.as_mut() else { return };
                        let f = frontier.frontier().first().copied();
                        if let Err(e) = taken.and_then(|()| w.step(f)) {
                            let message = format!("writing to {}: {e:#}", w.targets.describe());
                            if w.sends_to_kafka() {
                                // A stream never ends by itself: the run stops here, uncommitted,
                                // so that a restart sends again what did not reach the broker.
                                w.targets.halt.raise(message.clone());
                            }
                            report.borrow_mut().error = Some(message);
                            writer = None;
                            failed = true;
                            return;
                        }
                        if let Some(after) = w.flush_due() {
                            activator.activate_after(after);
                        }
                    }
                },
            );
    }
}
