//! Turns selected outputs into a differential collection, stamped with the time they travel at.

use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;

use crate::records::Out;

pub trait SelectUpdates<'scope> {
    /// Keeps the outputs `select` maps to `(data, diff)`, as updates of a collection.
    fn select_updates<D, F>(self, name: &str, select: F) -> VecCollection<'scope, u64, D, isize>
    where
        D: Clone + 'static,
        F: FnMut(&Out) -> Option<(D, isize)> + 'static;
}

impl<'scope> SelectUpdates<'scope> for Stream<'scope, u64, Vec<Out>> {
    fn select_updates<D, F>(self, name: &str, mut select: F) -> VecCollection<'scope, u64, D, isize>
    where
        D: Clone + 'static,
        F: FnMut(&Out) -> Option<(D, isize)> + 'static,
    {
        self.unary(Pipeline, name, move |_cap, _info| {
            move |input, output| {
                input.for_each_stamp(|cap, data| {
                    // Differential reads an update's time from the data: use the time it travels at.
                    let t = cap.least().copied().unwrap_or_default();
                    let mut session = output.session(&cap);
                    for batch in data {
                        for o in batch.iter() {
                            if let Some((d, r)) = select(o) {
                                session.give((d, t, r));
                            }
                        }
                    }
                });
            }
        })
        .as_collection()
    }
}
