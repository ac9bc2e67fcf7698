//! What the line reader must make of any input, naively, and a reader in reads of any size: shared by its property test and its fuzz target (`fuzz/fuzz_targets/line_reader.rs`).

use std::io::{self, Read};

use super::{Deal, LineSource, Poll};
use crate::domain::event::parse::MAX_LINE_BYTES;

/// A reader that hands out its bytes in the chunk sizes given, round and round.
pub struct Chunked {
    bytes: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl Chunked {
    pub fn new(bytes: Vec<u8>, sizes: Vec<usize>) -> Chunked {
        Chunked {
            bytes,
            pos: 0,
            sizes,
            turn: 0,
        }
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let n = size.min(buf.len()).min(self.bytes.len() - self.pos);
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What the reader must make of `input`: every `\n`-separated line (not the empty rest
/// after a final newline), numbered from 1 with its offset, cut to the limit and one byte,
/// then one trailing `\r` dropped.
pub fn reference(input: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut offset = 0u64;
    let segments: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    for (i, seg) in segments.iter().enumerate() {
        if i + 1 == segments.len() && seg.is_empty() {
            break;
        }
        let mut l = &seg[..seg.len().min(MAX_LINE_BYTES + 1)];
        if let [rest @ .., b'\r'] = l {
            l = rest;
        }
        out.push((i as u64 + 1, offset, l.to_vec()));
        offset += seg.len() as u64 + 1;
    }
    out
}

/// Every line the reader makes of `input`, handed out in reads of `sizes` to `hands` hands
/// taken in turn (blocks come back in order, as the workers fold them).
pub fn read_chunked(input: Vec<u8>, sizes: Vec<usize>, hands: usize) -> Vec<(u64, u64, Vec<u8>)> {
    read_dealt(input, sizes, hands, Deal::RoundRobin)
}

/// `read_chunked`, with the blocks dealt as `deal` says.
pub fn read_dealt(
    input: Vec<u8>,
    sizes: Vec<usize>,
    hands: usize,
    deal: Deal,
) -> Vec<(u64, u64, Vec<u8>)> {
    let reader = Chunked::new(input, sizes);
    let mut src = LineSource::from_reader("t".into(), Box::new(reader), hands, deal);
    let mut got = Vec::new();
    let mut next = 0u64;
    loop {
        let h = (next % hands as u64) as usize;
        match src.hands[h].poll() {
            Poll::Block(b) => {
                assert_eq!(b.index, next, "blocks come in order");
                next += 1;
                b.for_each_line(|n, o, l| got.push((n, o, l.to_vec())));
                if b.last {
                    return got;
                }
            }
            Poll::Pending => std::thread::yield_now(),
            Poll::Done => return got,
        }
    }
}
