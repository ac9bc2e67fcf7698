//! Every worker's Kafka producer operator: the engine's outputs of this worker's sessions (on a pipeline) and differential's totals (exchanged by session) into `sinks::producer::Producer`; what the writer needs goes on.

use std::time::Duration;

use timely::dataflow::Stream;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;

use crate::records::{Control, Out, View, session_hash};
use crate::sinks::producer::{Producer, ProducerTarget, fail};

pub trait ProduceOutputs<'scope> {
    /// Sends this worker's sessions' records to Kafka; passes on to the writer what it needs.
    fn produce_outputs(
        self,
        totals: Stream<'scope, u64, Vec<Out>>,
        target: ProducerTarget,
    ) -> Stream<'scope, u64, Vec<Out>>;
}

impl<'scope> ProduceOutputs<'scope> for Stream<'scope, u64, Vec<Out>> {
    fn produce_outputs(
        self,
        totals: Stream<'scope, u64, Vec<Out>>,
        target: ProducerTarget,
    ) -> Stream<'scope, u64, Vec<Out>> {
        let (worker, peers) = (self.scope().index(), self.scope().peers());
        let by_session = |o: &Out| match o {
            Out::View(View::MetricTotal { key, .. }) => session_hash(&key.session_id),
            _ => 0,
        };
        let mut producer: Option<Producer> = None;
        let mut held: Option<Capability<u64>> = None;
        let mut finished = false;
        // The producer failed: the run is halting, and nothing more goes out or is committed.
        let mut broken = false;
        let mut buf: Vec<Out> = Vec::new();
        let scope = self.scope();
        self.binary_frontier(
            totals,
            Pipeline,
            Exchange::new(by_session),
            "ProduceOutputs",
            move |_cap, info| {
                let activator = scope.activator_for(info.address);
                move |(engine, f1), (totals, f2), output| {
                    if broken {
                        return;
                    }
                    let p = match &mut producer {
                        Some(p) => p,
                        None => match Producer::open(&target, worker, peers) {
                            Ok(p) => producer.insert(p),
                            Err(e) => {
                                fail(&target.halt, &e);
                                broken = true;
                                return;
                            }
                        },
                    };
                    let mut result: anyhow::Result<()> = Ok(());
                    let (mut decided, mut dead) = (0u64, 0u64);
                    engine.for_each_stamp(|cap, data| {
                        let t = cap.least().copied().unwrap_or_default();
                        if held.as_ref().is_none_or(|h| t < *h.time()) {
                            held = cap.retain_least(0);
                        }
                        let taken = take_stamp(p, t, data, peers, &mut buf);
                        match (taken, result.is_ok()) {
                            (Ok((d, x)), _) => (decided, dead) = (decided + d, dead + x),
                            (Err(e), true) => result = Err(e),
                            (Err(_), false) => {}
                        }
                        if !buf.is_empty() {
                            output.session(&cap).give_iterator(buf.drain(..));
                        }
                    });
                    totals.for_each_stamp(|cap, data| {
                        let t = cap.least().copied().unwrap_or_default();
                        for batch in data {
                            for o in batch.drain(..) {
                                if let Out::View(View::MetricTotal { key, total, diff }) = &o {
                                    p.total(key, total * diff, t);
                                }
                                buf.push(o);
                            }
                        }
                        output.session(&cap).give_iterator(buf.drain(..));
                    });
                    let done = f1.frontier().is_empty() && f2.frontier().is_empty();
                    if done && !finished && result.is_ok() {
                        finished = true;
                        result = p
                            .finish(peers)
                            .map(|(d, x)| (decided, dead) = (decided + d, dead + x));
                    }
                    let result = result
                        .and_then(|()| p.tick(false))
                        .and_then(|()| p.acks(&mut buf));
                    if let Err(e) = result {
                        fail(&p.target.halt, &e);
                        broken = true;
                        return;
                    }
                    if let Some(h) = held.as_mut() {
                        if decided + dead > 0 && !p.target.forward_lines {
                            buf.push(Out::Control(Control::Produced {
                                decisions: decided,
                                dead_letters: dead,
                            }));
                        }
                        if !buf.is_empty() {
                            output.session(&*h).give_iterator(buf.drain(..));
                        }
                        let (f1, f2) = (f1.frontier(), f2.frontier());
                        let f = f1.iter().chain(f2.iter()).min().copied();
                        if follow(h, f, !p.to_ack.is_empty()) {
                            held = None;
                        }
                    }
                    if p.busy() {
                        activator.activate_after(Duration::from_millis(5));
                    }
                }
            },
        )
    }
}

/// Everything the engine sent at `t`: what goes on to the writer into `out`; then what the
/// stamp's release marks allow is sent. Returns the decisions and dead letters handed over.
fn take_stamp<'a>(
    p: &mut Producer,
    t: u64,
    data: impl IntoIterator<Item = &'a mut Vec<Out>>,
    peers: usize,
    out: &mut Vec<Out>,
) -> anyhow::Result<(u64, u64)> {
    let mut result = Ok(());
    for batch in data {
        for o in batch.drain(..) {
            match p.take(o, t) {
                Ok(Some(o)) => out.push(o),
                Ok(None) => {}
                Err(e) => result = result.and(Err(e)),
            }
        }
    }
    result?;
    p.stamp_done(t, peers)
}

/// The capability follows the frontier `f`; returns whether it may go (the input is over and
/// no acknowledgement is still to come).
fn follow(h: &mut Capability<u64>, f: Option<u64>, acks_to_come: bool) -> bool {
    match f {
        Some(t) if t > *h.time() => h.downgrade(&t),
        Some(_) => {}
        None => return !acks_to_come,
    }
    false
}
