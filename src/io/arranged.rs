//! How many updates differential's arrangements hold, from its logging events: the proof that
//! a closed session's views leave the traces (they shrink when compacted, not only stop growing).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use differential_dataflow::logging::{DifferentialEvent, DifferentialEventBuilder};

/// Updates held by every arrangement of this process, and the most they held.
#[derive(Debug, Default)]
pub struct Arranged {
    held: AtomicI64,
    peak: AtomicI64,
}

impl Arranged {
    pub fn held(&self) -> i64 {
        self.held.load(Ordering::Relaxed)
    }

    pub fn peak(&self) -> i64 {
        self.peak.load(Ordering::Relaxed)
    }

    fn add(&self, n: i64) {
        let now = self.held.fetch_add(n, Ordering::Relaxed) + n;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// Counts `worker`'s arrangements from now on: call before building its dataflow (an
    /// arrangement takes its logger when it is made). A batch adds its updates, a completed
    /// merge replaces its two inputs by its output (where compaction drops what cancelled out),
    /// a dropped batch removes its updates.
    pub fn track(self: &Arc<Self>, worker: &mut timely::worker::Worker) {
        let Some(mut register) = worker.log_register() else {
            return;
        };
        let me = self.clone();
        register.insert::<DifferentialEventBuilder, _>(
            "differential/arrange",
            move |_time, data: &mut Option<Vec<(std::time::Duration, DifferentialEvent)>>| {
                for (_, event) in data.iter().flatten() {
                    match event {
                        DifferentialEvent::Batch(b) => me.add(b.length as i64),
                        DifferentialEvent::Merge(m) => {
                            if let Some(n) = m.complete {
                                me.add(n as i64 - m.length1 as i64 - m.length2 as i64);
                            }
                        }
                        DifferentialEvent::Drop(d) => me.add(-(d.length as i64)),
                        _ => {}
                    }
                }
            },
        );
    }
}
