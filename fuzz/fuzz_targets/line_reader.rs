//! Fuzzes the line reader (`src/io/lines.rs`, compiled here from its source): any bytes, long runs with no newline, in reads of any size, against a naive reference.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The reader lives in the main crate, whose dataflow and SQL stack a fuzz build must not
// compile: its source is included as is, with the two core paths it names.
mod domain {
    pub use livesell_core::domain::{event, time};
}
#[allow(dead_code)]
#[path = "../../src/io/lines.rs"]
mod lines;

use domain::event::parse::MAX_LINE_BYTES;
use lines::reference::{read_chunked, reference};

/// The fuzz input is a script, so that 4 KiB of it can make lines far past the 64 KiB limit:
/// byte 0 picks the hands (1 or 2), bytes 1..5 the read sizes; then ops of 3 bytes: a kind and
/// a 16-bit length.
fn script(data: &[u8]) -> Option<(usize, Vec<usize>, Vec<u8>)> {
    let (head, mut ops) = data.split_at_checked(5)?;
    let hands = 1 + (head[0] & 1) as usize;
    let sizes = head[1..]
        .iter()
        .map(|&b| match b >> 6 {
            0 => 1 + (b & 63) as usize,
            1 => 4096 * (1 + (b & 63) as usize),
            _ => 1 << (10 + (b & 15) as usize % 12),
        })
        .collect();
    let mut input = Vec::new();
    while let Some((op, rest)) = ops.split_first_chunk::<3>() {
        ops = rest;
        let len = u16::from_le_bytes([op[1], op[2]]) as usize;
        match op[0] % 5 {
            // The next bytes of the script, as they are.
            0 => {
                let n = (len % 64).min(ops.len());
                input.extend_from_slice(&ops[..n]);
                ops = &ops[n..];
            }
            // A run with no newline around the limit, or far past it.
            1 => input.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES - 256 + len % 512)),
            2 => input.extend(std::iter::repeat_n(b'x', len * 32)),
            3 => input.push(b'\n'),
            _ => input.extend_from_slice(b"\r\n"),
        }
        if input.len() > 3 << 20 {
            break;
        }
    }
    Some((hands, sizes, input))
}

fuzz_target!(|data: &[u8]| {
    let Some((hands, sizes, input)) = script(data) else {
        return;
    };
    let expected = reference(&input);
    let got = read_chunked(input, sizes, hands);
    assert_eq!(got.len(), expected.len(), "the number of lines");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!((g.0, g.1), (e.0, e.1), "a line's number and offset");
        assert!(
            g.2 == e.2,
            "line {}: {} bytes, expected {}",
            g.0,
            g.2.len(),
            e.2.len()
        );
    }
});
