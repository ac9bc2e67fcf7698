//! Incremental show metrics with differential dataflow: `gmv_minute` totals kept as collections.

use differential_dataflow::AsCollection;
use differential_dataflow::operators::CountTotal;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::vec::Map;

use crate::records::{MetricKey, Out};

pub trait MaintainMetrics<'scope> {
    /// Sums metric additions per key: each addition is an update whose multiplicity is the amount,
    /// so `count_total` maintains the running total and emits its changes as `MetricTotal` updates.
    fn maintain_metrics(self) -> Stream<'scope, u64, Vec<Out>>;
}

impl<'scope> MaintainMetrics<'scope> for Stream<'scope, u64, Vec<Out>> {
    fn maintain_metrics(self) -> Stream<'scope, u64, Vec<Out>> {
        self.unary(Pipeline, "MetricUpdates", |_cap, _info| {
            move |input, output| {
                input.for_each_stamp(|cap, data| {
                    // Differential reads an update's time from the data: use the time it travels at.
                    let t = cap.least().copied().unwrap_or_default();
                    let mut session = output.session(&cap);
                    for batch in data {
                        for o in batch.drain(..) {
                            if let Out::Metric { key, amount } = o {
                                session.give((key, t, amount as isize));
                            }
                        }
                    }
                });
            }
        })
        .as_collection()
        .count_total()
        .inner
        .map(
            |((key, total), _time, diff): ((MetricKey, isize), u64, isize)| Out::MetricTotal {
                key,
                total: total as i64,
                diff: diff as i64,
            },
        )
    }
}
