//! The source operator: lines in, events with their effective time out (SPEC 2), rejects as data.

use std::hash::{BuildHasher, Hash, Hasher};
use std::time::Duration;

use rustc_hash::FxHashSet;
use timely::dataflow::Stream;
use timely::dataflow::operators::generic::operator::source;

use crate::domain::event::parse_line;
use crate::domain::order::{ReplayKey, Watermark};
use crate::domain::time::Micros;
use crate::io::lines::{LineSource, Poll};
use crate::records::{Input, Reject};

/// Lines handled per activation, so downstream operators and progress keep moving.
const LINES_PER_ACTIVATION: usize = 16 * 1024;

/// One input of this worker, with the state SPEC 2 keeps per source.
pub struct SourceState {
    pub index: u32,
    pub lines: LineSource,
    watermark: Watermark,
    /// Hashes of `(session, redelivery key)` seen so far: a second copy is dropped on arrival.
    seen: FxHashSet<u64>,
    read: u64,
    done: bool,
}

impl SourceState {
    pub fn new(index: u32, lines: LineSource, lateness_us: Micros) -> Self {
        SourceState {
            index,
            lines,
            watermark: Watermark::new(lateness_us),
            seen: FxHashSet::default(),
            read: 0,
            done: false,
        }
    }

    /// Reads one line into zero or one `Input`.
    fn line(&mut self, line: u64, offset: u64, bytes: &[u8], out: &mut Vec<Input>) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.read += 1;
        match parse_line(bytes) {
            Ok(event) => {
                if let Some(k) = event.dedupe_key() {
                    // A fixed hasher: the same key must hash alike in every process.
                    let mut h =
                        std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default()
                            .build_hasher();
                    (&event.session_id, k).hash(&mut h);
                    if !self.seen.insert(h.finish()) {
                        out.push(Input::Redelivery {
                            session_id: event.session_id,
                        });
                        return;
                    }
                }
                let (eff, late) = self.watermark.admit(event.ts);
                let key = ReplayKey {
                    eff,
                    rank: event.type_rank(),
                    source: self.index,
                    position: line,
                };
                out.push(Input::Event {
                    key,
                    late,
                    event: Box::new(event),
                });
            }
            Err(e) => out.push(Input::Reject(Reject {
                source: self.lines.name.clone(),
                source_index: self.index,
                line,
                offset,
                reason: e.reason.to_string(),
                detail: e.detail,
                session_id: e.session_id,
                ts: e.ts,
                at: self.watermark.current().unwrap_or(0).max(0),
                raw: bytes.to_vec(),
            })),
        }
    }

    /// The least effective time this source can still produce.
    fn floor(&self) -> Option<u64> {
        if self.done {
            None
        } else {
            Some(self.watermark.current().unwrap_or(0).max(0) as u64)
        }
    }
}

pub trait ReadEvents<'scope> {
    /// Reads this worker's share of the inputs; the output's timestamps are event-time floors.
    fn read_events(self, sources: Vec<SourceState>) -> Stream<'scope, u64, Vec<Input>>;
}

impl<'scope> ReadEvents<'scope> for timely::dataflow::Scope<'scope, u64> {
    fn read_events(self, mut sources: Vec<SourceState>) -> Stream<'scope, u64, Vec<Input>> {
        let scope = self.clone();
        source(self, "ReadEvents", move |capability, info| {
            let activator = scope.activator_for(info.address);
            let mut cap = Some(capability);
            let mut buf: Vec<Input> = Vec::new();
            move |output| {
                let Some(c) = cap.as_mut() else { return };
                let mut budget = LINES_PER_ACTIVATION;
                let mut idle = true;
                for s in sources.iter_mut().filter(|s| !s.done) {
                    while budget > 0 {
                        match s.lines.poll() {
                            Poll::Block(block) => {
                                idle = false;
                                block.for_each_line(|n, o, l| s.line(n, o, l, &mut buf));
                                budget = budget.saturating_sub(buf.len().max(1));
                                output.session(&*c).give_iterator(buf.drain(..));
                            }
                            Poll::Pending => break,
                            end @ (Poll::Done | Poll::Failed(_)) => {
                                // A read error ends the source; what it read stays processed.
                                if let Poll::Failed(e) = end {
                                    eprintln!("livesell: {}: {e}", s.lines.name);
                                }
                                s.done = true;
                                output
                                    .session(&*c)
                                    .give(Input::SourceDone { lines: s.read });
                                break;
                            }
                        }
                    }
                }
                match sources.iter().filter_map(SourceState::floor).min() {
                    Some(t) => {
                        if t > *c.time() {
                            c.downgrade(&t);
                        }
                        if idle {
                            activator.activate_after(Duration::from_millis(1));
                        } else {
                            activator.activate();
                        }
                    }
                    None => cap = None,
                }
            }
        })
    }
}
