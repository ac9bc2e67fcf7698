//! Line transport: reads a file, a `.gz` file or stdin on its own thread into blocks of whole lines.
//!
//! Transport only: bytes, line numbers and byte offsets. Turning a line into an event is the
//! format layer's job (`domain::event::parse_line`).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

const BLOCK_BYTES: usize = 1 << 20;

/// Whole lines (each ending in `\n`, except perhaps the last of the input), with where they start.
pub struct Block {
    pub bytes: Vec<u8>,
    /// 1-based number of the first line in `bytes`.
    pub first_line: u64,
    /// Byte offset of `bytes[0]` in the (decompressed) input.
    pub first_offset: u64,
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
    Failed(String),
}

/// The receiving end of a reader thread.
pub struct LineSource {
    pub name: String,
    rx: Receiver<Result<Block, String>>,
    done: bool,
}

impl LineSource {
    /// Opens `path` (`-` is stdin; a `.gz` suffix is decompressed) and starts its reader thread.
    /// `progress` counts bytes read from the underlying file, for progress bars.
    pub fn open(path: &str, progress: Arc<AtomicU64>) -> io::Result<LineSource> {
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
        Ok(Self::from_reader(name, reader))
    }

    pub fn from_reader(name: String, reader: Box<dyn Read + Send>) -> LineSource {
        let (tx, rx) = sync_channel(8);
        std::thread::Builder::new()
            .name(format!("read {name}"))
            .spawn(move || read_blocks(reader, tx))
            .expect("spawn reader thread");
        LineSource {
            name,
            rx,
            done: false,
        }
    }

    pub fn poll(&mut self) -> Poll {
        if self.done {
            return Poll::Done;
        }
        match self.rx.try_recv() {
            Ok(Ok(b)) => Poll::Block(b),
            Ok(Err(e)) => {
                self.done = true;
                Poll::Failed(e)
            }
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Disconnected) => {
                self.done = true;
                Poll::Done
            }
        }
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

/// Reads blocks of whole lines; a partial last line waits for the rest of its bytes.
fn read_blocks(mut reader: Box<dyn Read + Send>, tx: SyncSender<Result<Block, String>>) {
    let mut carry: Vec<u8> = Vec::new();
    let mut line = 1u64;
    let mut offset = 0u64;
    loop {
        let mut buf = std::mem::take(&mut carry);
        let keep = buf.len();
        buf.resize(keep + BLOCK_BYTES, 0);
        let n = match read_some(&mut reader, &mut buf[keep..]) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                return;
            }
        };
        buf.truncate(keep + n);
        if n == 0 {
            if !buf.is_empty() {
                let _ = tx.send(Ok(Block {
                    bytes: buf,
                    first_line: line,
                    first_offset: offset,
                }));
            }
            return;
        }
        // Send everything up to the last newline; keep the partial line for the next read.
        match memchr::memrchr(b'\n', &buf) {
            Some(last) => {
                carry = buf[last + 1..].to_vec();
                buf.truncate(last + 1);
                let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                let len = buf.len() as u64;
                if tx
                    .send(Ok(Block {
                        bytes: buf,
                        first_line: line,
                        first_offset: offset,
                    }))
                    .is_err()
                {
                    return;
                }
                line += lines;
                offset += len;
            }
            None => carry = buf,
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
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &'static [u8]) -> Vec<(u64, u64, String)> {
        let mut src = LineSource::from_reader("t".into(), Box::new(input));
        let mut out = Vec::new();
        loop {
            match src.poll() {
                Poll::Block(b) => b.for_each_line(|n, o, l| {
                    out.push((n, o, String::from_utf8_lossy(l).into_owned()))
                }),
                Poll::Pending => std::thread::yield_now(),
                Poll::Done => return out,
                Poll::Failed(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn numbers_lines_and_offsets() {
        assert_eq!(
            collect(b"a\r\n\nbb\ncc"),
            vec![
                (1, 0, "a".into()),
                (2, 3, "".into()),
                (3, 4, "bb".into()),
                (4, 7, "cc".into())
            ]
        );
        assert_eq!(collect(b"x\n"), vec![(1, 0, "x".into())]);
        assert!(collect(b"").is_empty());
    }
}
