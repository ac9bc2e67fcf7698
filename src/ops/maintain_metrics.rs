//! Incremental show metrics with differential dataflow: `gmv_minute` totals kept as collections.

use differential_dataflow::operators::CountTotal;
use timely::dataflow::Stream;
use timely::dataflow::operators::vec::Map;

use crate::ops::select_updates::{SelectUpdates, ViewTimes};
use crate::records::{MetricKey, Out, View};

pub trait MaintainMetrics<'scope> {
    /// Sums metric additions per key: each addition is an update whose multiplicity is the amount,
    /// so `count_total` maintains the running total and emits its changes as `MetricTotal` updates.
    fn maintain_metrics(self, times: ViewTimes) -> Stream<'scope, u64, Vec<Out>>;
}

impl<'scope> MaintainMetrics<'scope> for Stream<'scope, u64, Vec<Out>> {
    fn maintain_metrics(self, times: ViewTimes) -> Stream<'scope, u64, Vec<Out>> {
        self.select_updates("MetricUpdates", times, |o| match o {
            Out::View(View::Metric { key, amount }) => Some(((**key).clone(), *amount as isize)),
            _ => None,
        })
        .count_total()
        .inner
        .map(
            |((key, total), _time, diff): ((MetricKey, isize), u64, isize)| {
                Out::View(View::MetricTotal {
                    key: Box::new(key),
                    total: total as i64,
                    diff: diff as i64,
                })
            },
        )
    }
}
