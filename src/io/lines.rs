//! Line transport: reads a file, a `.gz` file or stdin on its own thread into blocks of whole lines.
//!
//! Transport only: bytes, line numbers and byte offsets. Turning a line into an event is the
//! format layer's job (`domain::event::parse::parse_line`).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

const BLOCK_BYTES: usize = 1 << 20;
// The longest line an event may be (`parse_line`'s limit).
use crate::domain::event::parse::MAX_LINE_BYTES;

/// Whole lines (each ending in `\n`, except perhaps the last of the input), with where they start.
pub struct Block {
    pub bytes: Vec<u8>,
    /// 1-based number of the first line in `bytes`.
    pub first_line: u64,
    /// Byte offset of `bytes[0]` in the (decompressed) input.
    pub first_offset: u64,
    /// Position of this block in its input (0, 1, 2, …), whichever hand takes it.
    pub index: u64,
    /// The input ends here: this block carries no lines, only the end (and a read error, if any).
    pub last: bool,
    /// The stream position after this block: bytes of lines and quiet spells before it (what
    /// a checkpoint's input goes on from; see `io::journal`).
    pub end: u64,
    /// The input had nothing to say for its idle timeout: this block carries no lines, only
    /// that (a live source; SPEC 2 leaves an idle source out of the minimum watermark).
    pub idle: bool,
    /// With `idle`, the live source's clock (event time) when the quiet spell was noticed: an
    /// idle source's timers fire on it, so a quiet show's holds expire on time.
    pub heartbeat: Option<crate::domain::time::Micros>,
    pub error: Option<String>,
    /// Where the buffer goes back to once the block is parsed, so the reader reuses it instead
    /// of faulting in a fresh megabyte for every block.
    pool: Option<Pool>,
}

type Pool = Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

/// A live source's clock: the event time it stands at now.
pub type Clock = Arc<dyn Fn() -> Option<crate::domain::time::Micros> + Send + Sync>;

impl Drop for Block {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            if let Ok(mut free) = pool.lock() {
                if free.len() < 16 {
                    free.push(std::mem::take(&mut self.bytes));
                }
            }
        }
    }
}

impl Block {
    /// Calls `f(line_number, byte_offset, line)` for each line, without its `\n` (or `\r\n`).
    pub fn for_each_line(&self, mut f: impl FnMut(u64, u64, &[u8])) {
        let mut start = 0usize;
        let mut line = self.first_line;
        let bytes = &self.bytes;
        for end in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
            if start >= bytes.len() && end == bytes.len() {
                break;
            }
            let mut l = &bytes[start..end];
            // A line past the limit is cut as the reader cuts one it carries over, so the
            // reject is the same bytes wherever the reads happened to split the input.
            if l.len() > MAX_LINE_BYTES {
                l = &l[..=MAX_LINE_BYTES];
            }
            if let [rest @ .., b'\r'] = l {
                l = rest;
            }
            f(line, self.first_offset + start as u64, l);
            line += 1;
            start = end + 1;
        }
    }
}

pub enum Poll {
    Block(Block),
    Pending,
    Done,
}

/// How an input's blocks are dealt to its hands (one hand per worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deal {
    /// Block `i` to hand `i % hands`. Each hand knows the next block it can get, so a worker's
    /// progress never waits for another worker to run: live inputs, where latency counts
    /// (measured: the shared queue tripled the p99 of `bench/latency.rs`).
    RoundRobin,
    /// One queue; each hand takes the next block when it is free, so a worker with more work
    /// of its own (the writer, a busier show) parses fewer blocks: files, where throughput
    /// counts. A block's index, not who parsed it, places it in the input.
    Shared,
}

/// One hand of an input's blocks.
pub struct Hand {
    rx: Arc<Mutex<Receiver<Block>>>,
    done: bool,
    low: Low,
}

/// Where the lowest block a hand may still take is known.
enum Low {
    /// Round robin: the next block this hand gets, and the number of hands.
    Own { next: u64, hands: u64 },
    /// Shared: one past the index of the last block any hand took.
    Shared(Arc<AtomicU64>),
}

impl Hand {
    pub fn poll(&mut self) -> Poll {
        if self.done {
            return Poll::Done;
        }
        let Ok(rx) = self.rx.lock() else {
            // Another hand panicked while taking a block: nothing more can be read.
            self.done = true;
            return Poll::Done;
        };
        match rx.try_recv() {
            Ok(b) => {
                match &mut self.low {
                    Low::Own { next, hands } => *next = b.index + *hands,
                    // Set while the queue is held, so `low` never passes a block being taken.
                    Low::Shared(next) => next.store(b.index + 1, Ordering::Release),
                }
                Poll::Block(b)
            }
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Disconnected) => {
                self.done = true;
                Poll::Done
            }
        }
    }

    /// The lowest block index this hand may still take.
    pub fn low(&self) -> u64 {
        match &self.low {
            Low::Own { next, .. } => *next,
            Low::Shared(next) => next.load(Ordering::Acquire),
        }
    }
}

/// An input read on its own thread and dealt in blocks of whole lines to `hands` readers, so
/// that every worker parses a share of one file.
pub struct LineSource {
    pub name: String,
    pub hands: Vec<Hand>,
}

impl LineSource {
    /// Opens `path` (`-` is stdin; a `.gz` suffix is decompressed) and starts its reader thread.
    /// `progress` counts bytes read from the underlying file, for progress bars.
    pub fn open(path: &str, progress: Arc<AtomicU64>, hands: usize) -> io::Result<LineSource> {
        let reader: Box<dyn Read + Send> = if path == "-" {
            Box::new(io::stdin())
        } else {
            let file = File::open(Path::new(path))
                .map_err(|e| io::Error::new(e.kind(), format!("cannot open {path}: {e}")))?;
            let counted = Counting {
                inner: file,
                progress,
            };
            if path.ends_with(".gz") {
                Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                    1 << 16,
                    counted,
                )))
            } else {
                Box::new(counted)
            }
        };
        let name = if path == "-" {
            "stdin".to_string()
        } else {
            path.to_string()
        };
        // A file is read as fast as it can be parsed; standard input may be a live feed.
        let deal = if path == "-" {
            Deal::RoundRobin
        } else {
            Deal::Shared
        };
        Ok(Self::from_reader(name, reader, hands, deal))
    }

    pub fn from_reader(
        name: String,
        reader: Box<dyn Read + Send>,
        hands: usize,
        deal: Deal,
    ) -> LineSource {
        Self::with_clock(name, reader, hands, deal, None)
    }

    /// `from_reader` for a live reader whose quiet spells report `clock` (`livesell serve`).
    pub fn with_clock(
        name: String,
        reader: Box<dyn Read + Send>,
        hands: usize,
        deal: Deal,
        clock: Option<Clock>,
    ) -> LineSource {
        Self::resumed(name, reader, hands, deal, clock, StreamAt::default())
    }

    /// `with_clock` for a stream that goes on from `start` (a checkpoint's position): its
    /// lines keep their numbers and offsets.
    pub fn resumed(
        name: String,
        reader: Box<dyn Read + Send>,
        hands: usize,
        deal: Deal,
        clock: Option<Clock>,
        start: StreamAt,
    ) -> LineSource {
        let hands = hands.max(1);
        let queues = match deal {
            Deal::Shared => 1,
            Deal::RoundRobin => hands,
        };
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..queues)
            .map(|_| sync_channel(4 * hands / queues))
            .unzip();
        std::thread::Builder::new()
            .name(format!("read {name}"))
            .spawn(move || read_blocks(reader, txs, clock, start))
            .expect("spawn reader thread");
        let rxs: Vec<_> = rxs.into_iter().map(|rx| Arc::new(Mutex::new(rx))).collect();
        let taken = Arc::new(AtomicU64::new(0));
        let hands = (0..hands)
            .map(|h| Hand {
                rx: rxs[h % rxs.len()].clone(),
                done: false,
                low: match deal {
                    Deal::RoundRobin => Low::Own {
                        next: h as u64,
                        hands: hands as u64,
                    },
                    Deal::Shared => Low::Shared(taken.clone()),
                },
            })
            .collect();
        LineSource { name, hands }
    }
}

struct Counting<R> {
    inner: R,
    progress: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where the stream stands at a position: the next line's number, the bytes of lines and the
/// quiet spells before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAt {
    pub line: u64,
    pub offset: u64,
    pub quiet: u64,
}

impl Default for StreamAt {
    fn default() -> Self {
        StreamAt {
            line: 1,
            offset: 0,
            quiet: 0,
        }
    }
}

impl StreamAt {
    pub fn units(&self) -> u64 {
        self.offset + self.quiet
    }
}

/// Where the reader stands: the next block's index, the line and byte offset it starts at, and
/// the quiet spells before it.
struct Position {
    index: u64,
    line: u64,
    offset: u64,
    quiet: u64,
}

impl Position {
    /// A block of whole lines starting here (`lines` of them); the position moves past it.
    fn block(&mut self, bytes: Vec<u8>, lines: u64, pool: Option<Pool>) -> Block {
        let b = Block {
            end: self.offset + bytes.len() as u64 + self.quiet,
            first_line: self.line,
            first_offset: self.offset,
            index: self.index,
            last: false,
            idle: false,
            heartbeat: None,
            error: None,
            pool,
            bytes,
        };
        self.index += 1;
        self.line += lines;
        self.offset += b.bytes.len() as u64;
        b
    }

    /// An empty block that says the input has been quiet, with the clock's time if it has one.
    fn idle(&mut self, heartbeat: Option<crate::domain::time::Micros>) -> Block {
        self.quiet += 1;
        let mut b = self.block(Vec::new(), 0, None);
        b.idle = true;
        b.heartbeat = heartbeat;
        b
    }

    /// The last, empty block, with the read error that ended the input if one did.
    fn end(&self, error: Option<String>) -> Block {
        Block {
            end: self.offset + self.quiet,
            bytes: Vec::new(),
            first_line: self.line,
            first_offset: self.offset,
            index: self.index,
            last: true,
            idle: false,
            heartbeat: None,
            error,
            pool: None,
        }
    }
}

/// Drops the rest of a line cut at the limit from the front of `buf`, up to its newline (its
/// line was counted when it was sent). Returns whether the line goes on past `buf`.
fn skip_cut_line(buf: &mut Vec<u8>, at: &mut Position) -> bool {
    match memchr::memchr(b'\n', buf) {
        Some(i) => {
            at.offset += i as u64 + 1;
            buf.drain(..=i);
            false
        }
        None => {
            at.offset += buf.len() as u64;
            buf.clear();
            true
        }
    }
}

/// Reads blocks of whole lines into the hands' queues (block `i` into queue `i % queues`); a
/// partial last line waits for the rest of its bytes. The end (with any read error) is a last,
/// empty block.
fn read_blocks(
    mut reader: Box<dyn Read + Send>,
    txs: Vec<SyncSender<Block>>,
    clock: Option<Clock>,
    start: StreamAt,
) {
    let pool: Pool = Default::default();
    let mut carry: Vec<u8> = Vec::new();
    let mut at = Position {
        index: 0,
        line: start.line,
        offset: start.offset,
        quiet: start.quiet,
    };
    let queues = txs.len() as u64;
    let send = |b: Block| txs[(b.index % queues) as usize].send(b).is_ok();
    let mut quiet = false;
    // The rest of a line cut at the limit is being dropped, up to its newline.
    let mut skipping = false;
    loop {
        let mut buf = pool
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(&carry);
        carry.clear();
        let keep = buf.len();
        buf.resize(keep + BLOCK_BYTES, 0);
        let n = match read_some(&mut reader, &mut buf[keep..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // A live reader's way of saying it has been quiet for its idle timeout. With a
                // clock, every quiet spell says what time it is (timers fire on it).
                carry.extend_from_slice(&buf[..keep]);
                if !quiet || clock.is_some() {
                    quiet = true;
                    if !send(at.idle(clock.as_ref().and_then(|c| c()))) {
                        return;
                    }
                }
                continue;
            }
            Err(e) => {
                send(at.end(Some(e.to_string())));
                return;
            }
        };
        buf.truncate(keep + n);
        quiet = false;
        if skipping {
            skipping = skip_cut_line(&mut buf, &mut at);
        }
        if n == 0 {
            if !buf.is_empty() {
                // The input ends without a newline: its last line.
                send(at.block(buf, 1, None));
            }
            send(at.end(None));
            return;
        }
        // Send everything up to the last newline; keep the partial line for the next read.
        match memchr::memrchr(b'\n', &buf) {
            Some(last) => {
                carry.extend_from_slice(&buf[last + 1..]);
                buf.truncate(last + 1);
                let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                if !send(at.block(buf, lines, Some(pool.clone()))) {
                    return;
                }
            }
            None => {
                // No newline yet: the whole read is the start of one long line.
                carry.extend_from_slice(&buf);
            }
        }
        // A line longer than any event may be (unterminated or binary input) is not kept
        // whole: its first bytes go on as the line (a `line_too_long` reject), the rest is
        // dropped up to its newline, so memory stays bounded by the limit and a block.
        if carry.len() > MAX_LINE_BYTES {
            let dropped = (carry.len() - MAX_LINE_BYTES - 1) as u64;
            let head = carry[..=MAX_LINE_BYTES].to_vec();
            carry.clear();
            carry.shrink_to(BLOCK_BYTES);
            if !send(at.block(head, 1, None)) {
                return;
            }
            at.offset += dropped;
            skipping = true;
        }
    }
}

/// Reads until the buffer is full or the input ends, so blocks are large even from a pipe.
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                // A pipe delivers what it has: hand over whole lines now rather than wait.
                if filled >= 64 * 1024 || buf[..filled].contains(&b'\n') {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Quiet: hand over what came, or report the quiet when nothing did.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && filled > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

// Naive expectations, shared with the fuzz target (which includes this file from source).
#[cfg(any(test, fuzzing))]
#[path = "lines/reference.rs"]
pub(crate) mod reference;

#[cfg(test)]
mod tests {
    use super::reference::{read_chunked, read_dealt, reference};
    use super::*;

    fn collect(input: &'static [u8], hands: usize, deal: Deal) -> Vec<(u64, u64, String)> {
        // One read takes as much as the reader asks for, as a slice's read does.
        read_dealt(input.to_vec(), vec![usize::MAX], hands, deal)
            .into_iter()
            .map(|(n, o, l)| (n, o, String::from_utf8_lossy(&l).into_owned()))
            .collect()
    }

    /// Unterminated or binary input never grows the reader past the line limit: a line over
    /// it is cut to the limit and one byte (a `line_too_long` reject downstream), the rest is
    /// skipped to its newline, and the lines after it keep their numbers and offsets.
    #[test]
    fn a_line_past_the_limit_is_cut_and_reading_goes_on_at_the_next_newline() {
        let long = 3 * BLOCK_BYTES + 17;
        let mut input = vec![b'a'; long];
        input.extend_from_slice(b"\n{\"ok\":1}\n");
        input.extend(std::iter::repeat_n(0xffu8, 2 * BLOCK_BYTES));
        let input: &'static [u8] = input.leak();
        for hands in [1, 2] {
            let lines = collect(input, hands, Deal::RoundRobin);
            assert_eq!(
                lines.len(),
                3,
                "{:?}",
                lines
                    .iter()
                    .map(|l| (l.0, l.1, l.2.len()))
                    .collect::<Vec<_>>()
            );
            assert_eq!(
                (lines[0].0, lines[0].1, lines[0].2.len()),
                (1, 0, MAX_LINE_BYTES + 1)
            );
            assert_eq!((lines[1].0, lines[1].1), (2, long as u64 + 1));
            assert_eq!(lines[1].2, "{\"ok\":1}");
            assert_eq!(lines[2].0, 3);
            assert_eq!(lines[2].1, long as u64 + 10);
            assert_eq!(
                crate::domain::event::parse::parse_line(lines[0].2.as_bytes())
                    .unwrap_err()
                    .reason,
                "line_too_long"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("LINES_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
            ..Default::default()
        })]

        /// Short lines, runs past the limit with no newline, and raw binary, read in chunks of
        /// any size: the lines, numbers and offsets of the reference, and no panic.
        #[test]
        fn any_bytes_in_any_chunks_read_as_the_reference_says(
            parts in proptest::collection::vec((0u8..3, 0usize..(3 * BLOCK_BYTES), proptest::prelude::any::<u64>()), 1..8),
            sizes in proptest::collection::vec(1usize..(2 * BLOCK_BYTES), 1..6),
            hands in 1usize..3,
        ) {
            let mut input = Vec::new();
            for (kind, len, seed) in parts {
                let mut rng = fastrand::Rng::with_seed(seed);
                match kind {
                    0 => {
                        let n = len % 200;
                        input.extend((0..n).map(|_| rng.alphanumeric() as u8));
                        input.push(b'\n');
                    }
                    1 => input.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES - 2 + len % (2 * BLOCK_BYTES))),
                    _ => input.extend((0..len % 100_000).map(|_| rng.u8(..))),
                }
            }
            let expected = reference(&input);
            let got = read_chunked(input, sizes, hands);
            proptest::prop_assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                proptest::prop_assert_eq!((g.0, g.1, g.2.len()), (e.0, e.1, e.2.len()));
                proptest::prop_assert!(g.2 == e.2);
            }
        }
    }

    #[test]
    fn numbers_lines_and_offsets() {
        for (hands, deal) in [1, 3]
            .into_iter()
            .flat_map(|h| [(h, Deal::RoundRobin), (h, Deal::Shared)])
        {
            assert_eq!(
                collect(b"a\r\n\nbb\ncc", hands, deal),
                vec![
                    (1, 0, "a".into()),
                    (2, 3, "".into()),
                    (3, 4, "bb".into()),
                    (4, 7, "cc".into())
                ]
            );
            assert_eq!(collect(b"x\n", hands, deal), vec![(1, 0, "x".into())]);
            assert!(collect(b"", hands, deal).is_empty());
        }
    }

    #[test]
    fn hands_share_the_blocks_each_taken_once_and_never_below_low() {
        // About 6 blocks of 1 MiB, taken unevenly: hand 0 polls three times for hand 1's once.
        let line = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
        let input: &'static [u8] = line.repeat(100_000).leak();
        let src = LineSource::from_reader("t".into(), Box::new(input), 2, Deal::Shared);
        let mut hands = src.hands;
        let (mut taken, mut lines, mut turn) = (Vec::new(), 0u64, 0usize);
        let mut last_of = [None::<u64>; 2];
        while hands.iter().any(|h| !h.done) {
            let h = if turn % 4 == 3 { 1 } else { 0 };
            turn += 1;
            let low = hands[h].low();
            match hands[h].poll() {
                Poll::Block(b) => {
                    assert!(b.index >= low, "block {} below low {low}", b.index);
                    assert!(last_of[h].is_none_or(|l| b.index > l));
                    last_of[h] = Some(b.index);
                    taken.push((b.index, h));
                    b.for_each_line(|_, _, _| lines += 1);
                }
                Poll::Pending => std::thread::yield_now(),
                Poll::Done => {}
            }
        }
        taken.sort();
        let indexes: Vec<u64> = taken.iter().map(|t| t.0).collect();
        assert_eq!(indexes, (0..taken.len() as u64).collect::<Vec<_>>());
        assert!(taken.len() >= 7, "{} blocks", taken.len());
        assert!(taken.iter().any(|t| t.1 == 1), "both hands took blocks");
        assert_eq!(lines, 100_000);
    }
}
