//! A run's fatal error, shared by the process's workers: the first one raised stops them all, in order, and the run ends with it.
//!
//! An operator cannot return an error, and a stream never ends by itself: an operator that
//! cannot go on (a sink the broker refuses, tables that cannot be built) raises the halt
//! instead of exiting the process, every worker drops its dataflow at its next step, and the
//! run returns the message. Nothing after the failure is committed, so a restart does it again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Halt(Arc<Inner>);

#[derive(Default)]
struct Inner {
    raised: AtomicBool,
    message: Mutex<Option<String>>,
}

impl std::fmt::Debug for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Halt({:?})", self.message())
    }
}

/// How long a parked worker may sleep before it looks at the halt again.
const LOOK_EVERY: Duration = Duration::from_millis(50);

impl Halt {
    /// Stops the run with `message`; the first one raised is the run's.
    pub fn raise(&self, message: impl Into<String>) {
        let mut m = self.0.message.lock().unwrap_or_else(|p| p.into_inner());
        if m.is_none() {
            *m = Some(message.into());
        }
        self.0.raised.store(true, Ordering::Release);
    }

    pub fn raised(&self) -> bool {
        self.0.raised.load(Ordering::Acquire)
    }

    pub fn message(&self) -> Option<String> {
        self.0
            .message
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Steps `worker` until its dataflows are done or the run halts; on a halt drops them, so
    /// that timely's own wait for them ends.
    pub fn step(&self, worker: &mut timely::worker::Worker) {
        while !self.raised() && worker.step_or_park(Some(LOOK_EVERY)) {}
        if self.raised() {
            for id in worker.installed_dataflows() {
                worker.drop_dataflow(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_message_is_the_runs() {
        let h = Halt::default();
        assert!(!h.raised());
        let other = h.clone();
        other.raise("the broker refused");
        h.raise("later");
        assert!(h.raised());
        assert_eq!(h.message().as_deref(), Some("the broker refused"));
    }

    #[test]
    fn a_halt_stops_workers_whose_dataflow_never_ends() {
        use timely::dataflow::operators::Inspect;
        use timely::dataflow::operators::generic::operator::source;
        let halt = Halt::default();
        let h = halt.clone();
        let guards = timely::execute(timely::Config::process(2), move |worker| {
            let index = worker.index();
            worker.dataflow::<u64, _, _>(|scope| {
                // A source that holds its capability for ever, as a stream's does.
                let mut steps = 0u64;
                let h = h.clone();
                source(scope, "Forever", move |cap, info| {
                    let keep = cap;
                    let activator = scope.activator_for(info.address);
                    move |_output: &mut timely::dataflow::operators::generic::OutputBuilderSession<
                        '_,
                        u64,
                        timely::container::CapacityContainerBuilder<Vec<u64>>,
                    >| {
                        steps += 1;
                        if steps == 100 && index == 1 {
                            h.raise("worker 1 cannot go on");
                        }
                        let _ = keep.time();
                        activator.activate();
                    }
                })
                .container::<Vec<u64>>()
                .inspect(|_| {});
            });
            h.step(worker);
        })
        .unwrap();
        for r in guards.join() {
            r.unwrap();
        }
        assert_eq!(halt.message().as_deref(), Some("worker 1 cannot go on"));
    }
}
