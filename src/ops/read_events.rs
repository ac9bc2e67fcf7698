//! The source operator: each worker parses its hand of every input's blocks; rejects are data.

use std::time::Duration;

use timely::dataflow::Stream;
use timely::dataflow::operators::generic::operator::source;

use crate::domain::event::parse::parse_line;
use crate::io::lines::{Block, Hand, Poll};
use crate::records::{Input, Reject};

/// Blocks handled per activation, so downstream operators and progress keep moving. One: with
/// four, each worker step carried so much work that the writer's frontier trailed the engines'
/// by seconds and ~170K decisions waited in memory (measured: 2-worker 1M-event run, the same
/// time, 56 MiB less peak RSS, and decisions.jsonl growing steadily instead of in bursts).
const BLOCKS_PER_ACTIVATION: usize = 1;

/// This worker's hand of one input: whichever of its blocks this worker takes (the output's
/// time is a block index).
pub struct SourceHand {
    pub index: u32,
    pub name: String,
    pub hand: Hand,
    peers: u64,
    done: bool,
}

impl SourceHand {
    pub fn new(index: u32, name: String, hand: Hand, peers: usize) -> Self {
        SourceHand {
            index,
            name,
            hand,
            peers: peers as u64,
            done: false,
        }
    }

    /// Parses one block into events and rejects, then reports it to every worker.
    fn block(&mut self, b: &Block, out: &mut Vec<Input>) {
        let mut local: Option<i64> = None;
        let mut lines = 0u64;
        b.for_each_line(|line, offset, bytes| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            lines += 1;
            read_record(
                (self.index, &self.name),
                b.index,
                (line, offset),
                bytes,
                &mut local,
                out,
            );
        });
        if let Some(e) = &b.error {
            // The rest of the input is lost (a truncated `.gz`, a failing disk): said on stderr
            // and, so that nothing is dropped silently, as a reject at the line it stopped at.
            eprintln!(
                "livesell: {}: read error after line {}: {e}",
                self.name,
                b.first_line.saturating_sub(1)
            );
            out.push(Input::Reject {
                block: b.index,
                local,
                reject: Box::new(Reject {
                    source: self.name.clone(),
                    source_index: self.index,
                    line: b.first_line,
                    offset: b.first_offset,
                    reason: "read_error".to_string(),
                    detail: format!("the input could not be read from here on: {e}"),
                    session_id: None,
                    ts: None,
                    raw: Vec::new(),
                }),
            });
        }
        for target in 0..self.peers {
            out.push(Input::BlockDone {
                target,
                source: self.index,
                block: b.index,
                max: local,
                last: b.last,
                idle: b.idle,
                heartbeat: b.heartbeat,
                next: Some(b.end),
                lines,
            });
        }
    }
}

/// Parses one record of source `(index, name)` in block `block` at `(position, offset)`: an
/// event, or a reject carrying the raw bytes. `local` is the largest `ts` read so far in the
/// block (SPEC 2's watermark inside a block); Kafka's source shares this with the file source.
/// Returns the event's `ts`, or `None` for a reject.
pub fn read_record(
    (index, name): (u32, &str),
    block: u64,
    (position, offset): (u64, u64),
    bytes: &[u8],
    local: &mut Option<i64>,
    out: &mut Vec<Input>,
) -> Option<i64> {
    // A byte-order mark (files saved by Windows tools) is no part of the JSON.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match parse_line(bytes) {
        Ok(event) => {
            let ts = event.ts;
            out.push(Input::Event {
                source: index,
                block,
                line: position,
                offset,
                local: *local,
                event: Box::new(event),
            });
            *local = (*local).max(Some(ts));
            Some(ts)
        }
        Err(e) => {
            out.push(Input::Reject {
                block,
                local: *local,
                reject: Box::new(Reject {
                    source: name.to_string(),
                    source_index: index,
                    line: position,
                    offset,
                    reason: e.reason.to_string(),
                    detail: e.detail,
                    session_id: e.session_id,
                    ts: e.ts,
                    raw: bytes.to_vec(),
                }),
            });
            None
        }
    }
}

pub trait ReadEvents<'scope> {
    /// Parses this worker's hands; the output's timestamps are block indexes.
    fn read_events(self, hands: Vec<SourceHand>) -> Stream<'scope, u64, Vec<Input>>;
}

impl<'scope> ReadEvents<'scope> for timely::dataflow::Scope<'scope, u64> {
    fn read_events(self, mut hands: Vec<SourceHand>) -> Stream<'scope, u64, Vec<Input>> {
        let scope = self.clone();
        source(self, "ReadEvents", move |capability, info| {
            let activator = scope.activator_for(info.address);
            let mut cap = Some(capability);
            let mut buf: Vec<Input> = Vec::new();
            move |output| {
                let Some(c) = cap.as_mut() else { return };
                let mut busy = false;
                // Take the hand of the input furthest behind first, so every input moves along.
                for _ in 0..BLOCKS_PER_ACTIVATION {
                    let Some(h) = hands
                        .iter_mut()
                        .filter(|h| !h.done)
                        .min_by_key(|h| h.hand.low())
                    else {
                        break;
                    };
                    match h.hand.poll() {
                        Poll::Block(b) => {
                            busy = true;
                            h.block(&b, &mut buf);
                            // The capability is at most the `low` read before this block was
                            // taken, which is at most its index.
                            let at = c.delayed(&b.index);
                            output.session(&at).give_iterator(buf.drain(..));
                            h.done |= b.last;
                        }
                        Poll::Pending => break,
                        Poll::Done => h.done = true,
                    }
                }
                match hands.iter().filter(|h| !h.done).map(|h| h.hand.low()).min() {
                    Some(t) => {
                        if t > *c.time() {
                            c.downgrade(&t);
                        }
                        if busy {
                            activator.activate();
                        } else {
                            activator.activate_after(Duration::from_micros(200));
                        }
                    }
                    None => cap = None,
                }
            }
        })
    }
}
