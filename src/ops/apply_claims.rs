//! The claim engine operator: routes inputs to their session's worker, hands them to `engine::Engine`, and sends its outputs, release marks and checkpoint parts at the right timely times.

use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;

use crate::engine::{Engine, EngineSettings};
use crate::records::{Control, Input, Out, route};

pub trait ApplyClaims<'scope> {
    /// Routes events to their session's worker and applies them once final; emits decisions,
    /// dead letters, metric additions, release marks, and each session's summary at its close
    /// or at the end.
    fn apply_claims(self, settings: EngineSettings) -> Stream<'scope, u64, Vec<Out>>;
}

impl<'scope> ApplyClaims<'scope> for Stream<'scope, u64, Vec<Input>> {
    fn apply_claims(self, mut settings: EngineSettings) -> Stream<'scope, u64, Vec<Out>> {
        let scope = self.scope();
        let (worker, peers) = (scope.index(), scope.peers());
        let restore = settings.checkpoints.as_mut().and_then(|c| c.restore.take());
        self.unary_frontier(Exchange::new(route), "ApplyClaims", move |cap, info| {
            let activator = scope.activator_for(info.address);
            let mut engine = Engine::new(settings, worker, peers);
            // A restored run's first outputs (the views brought back) go out at time 0, before
            // any block: the writer tells them from what the new input causes.
            let mut restore = restore.map(|parts| (cap, parts));
            let mut held: Option<Capability<u64>> = None;
            let mut marked: Option<u64> = None;
            let mut finished = false;
            let mut buf: Vec<Out> = Vec::new();
            move |(input, frontier), output| {
                if let Some((cap, parts)) = restore.take() {
                    if let Err(e) = engine.restore(&parts, worker, peers, &mut buf) {
                        // Checked before the run started: a part that reads back there reads
                        // back here; a failure is a bug, and the run must not go on without it.
                        panic!("cannot restore the checkpoint: {e:#}");
                    }
                    output.session(&cap).give_iterator(buf.drain(..));
                }
                input.for_each_stamp(|cap, data| {
                    if let Some(t) = cap.least() {
                        if held.as_ref().is_none_or(|h| t < h.time()) {
                            held = cap.retain_least(0);
                        }
                    }
                    for batch in data {
                        // A batch is mostly one block's events: its stash starts with room for
                        // them instead of growing (and copying them) a dozen times.
                        let room = batch.len();
                        for item in batch.drain(..) {
                            engine.take(item, room);
                        }
                    }
                });
                let f = frontier.frontier().first().copied();
                if let (Some(fr), Some(h)) = (f, held.as_mut()) {
                    // Each cut's outputs go out below it, with its release mark and this
                    // worker's part; what comes after goes out at the cut or later, so that
                    // the writer's state at a cut is that of the engines'.
                    while let Some(c) = engine.cut_due(fr, *h.time(), &mut buf) {
                        output.session(&*h).give_iterator(buf.drain(..));
                        let at = h.delayed(&(c.at - 1));
                        let bound = c.mark.or(Some(i64::MAX));
                        output
                            .session(&at)
                            .give(Out::Control(Control::Released { bound }));
                        let done = Box::new(c.done);
                        output
                            .session(&at)
                            .give(Out::Control(Control::Checkpoint(done)));
                        marked = Some(c.at);
                        h.downgrade(&c.at);
                    }
                }
                let (bound, due) = engine.settle(f, &mut buf);
                if let Some(later) = engine.pace(f, &mut buf) {
                    activator.activate_after(later);
                }
                if f.is_none() && !finished {
                    finished = true;
                    engine.finish(&mut buf);
                }
                let Some(h) = held.as_mut() else { return };
                if !buf.is_empty() {
                    output.session(&*h).give_iterator(buf.drain(..));
                }
                match f {
                    Some(t) => {
                        // Once the writer's frontier passes t − 1, every worker has sent every
                        // decision keyed below the mark: the writer may write it.
                        if t > 0 && marked.is_none_or(|m| t > m) && t - 1 >= *h.time() {
                            marked = Some(t);
                            let bound = engine.mark(bound, due).or(Some(i64::MAX));
                            let at = h.delayed(&(t - 1));
                            output
                                .session(&at)
                                .give(Out::Control(Control::Released { bound }));
                        }
                        if t > *h.time() {
                            h.downgrade(&t);
                        }
                    }
                    None => held = None,
                }
            }
        })
    }
}
