//! The journal of `livesell serve`'s local input: every block of lines it accepts and every quiet spell it reports, appended and synced before the pipeline sees them (and before an action is answered), read back in order after a restart.
//!
//! What the pipeline decides depends on its input's lines and on where the input went quiet
//! (SPEC 2's idle source, and the show clock's time then), nothing else: replaying the journal
//! gives the same decisions, so a restarted server rebuilds its shows' state and writes on
//! where its outputs stopped. Records are framed with their length and a CRC-32 (as the
//! checkpoint store frames its parts); a record cut short by a crash was never synced, so never
//! acknowledged, and is dropped from the end.
//!
//! Built here rather than on a WAL crate: what a record holds (lines, the replay's position,
//! a quiet spell's clock) and when it is synced (group commit by the one reader thread) are
//! this input's own, and the framing is the checkpoint store's; no dependency is added.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::domain::event::parse::parse_line;
use crate::domain::time::Micros;

/// The journal's file under the output folder.
pub fn path_in(out_dir: &Path) -> PathBuf {
    out_dir.join("journal").join("input.journal")
}

/// One record: lines (whole, each with its newline) and, for the replay's, where the replay
/// file stands after them; or a quiet spell, with the show clock's time when it was noticed.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Lines {
        bytes: Vec<u8>,
        replay_end: Option<u64>,
    },
    Quiet {
        heartbeat: Option<Micros>,
    },
}

/// What a journal holds, read once at the start.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    pub records: u64,
    pub lines: u64,
    pub quiet_spells: u64,
    /// Where the replay file stands after the last replayed lines.
    pub replay_end: Option<u64>,
    /// The largest event time in it (a replayed line's `ts` or a quiet spell's clock): a
    /// restarted replay's show clock goes on from there.
    pub newest: Option<Micros>,
    /// Bytes of complete records; bytes after them (a record cut short) are dropped.
    pub valid_len: u64,
    pub dropped: u64,
}

/// Appends records; `sync` makes everything appended so far durable.
pub struct Writer {
    file: File,
    pub path: PathBuf,
    len: u64,
}

impl Writer {
    pub fn append_lines(&mut self, bytes: &[u8], replay_end: Option<u64>) -> io::Result<()> {
        let extra = replay_end.map_or("-".into(), |e| e.to_string());
        self.write("L", bytes, &extra)
    }

    pub fn append_quiet(&mut self, heartbeat: Option<Micros>) -> io::Result<()> {
        let extra = heartbeat.map_or("-".into(), |h| h.to_string());
        self.write("Q", &[], &extra)
    }

    fn write(&mut self, kind: &str, bytes: &[u8], extra: &str) -> io::Result<()> {
        let head = format!(
            "{kind} {} {} {extra}\n",
            bytes.len(),
            crc32fast::hash(bytes)
        );
        let written = self
            .file
            .write_all(head.as_bytes())
            .and_then(|()| self.file.write_all(bytes));
        if let Err(e) = written {
            // Nothing half-written stays before what comes next.
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len += (head.len() + bytes.len()) as u64;
        Ok(())
    }

    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Opens (or starts) the journal at `path`: what it holds, a reader of its records from the
/// start (`None` when it is empty), and the writer that appends after them. A record cut short
/// at the end is cut off (it was never synced, so never acknowledged).
pub fn open(path: &Path) -> io::Result<(Found, Option<Scan>, Writer)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let total = file.metadata()?.len();
    let mut found = Found::default();
    let mut scan = Scan::new(File::open(path)?, total);
    while let Some(r) = scan.next_record()? {
        found.records += 1;
        match &r {
            Record::Lines { bytes, replay_end } => {
                for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    found.lines += 1;
                    // Only a replay's clock goes on from its lines' times (actions are
                    // stamped with that clock, and its quiet spells carry it): the rest are
                    // left to the pipeline to parse.
                    if replay_end.is_some() {
                        if let Ok(ev) = parse_line(line) {
                            found.newest = found.newest.max(Some(ev.ts));
                        }
                    }
                }
                if replay_end.is_some() {
                    found.replay_end = *replay_end;
                }
            }
            Record::Quiet { heartbeat } => {
                found.quiet_spells += 1;
                found.newest = found.newest.max(*heartbeat);
            }
        }
    }
    found.valid_len = scan.pos;
    found.dropped = total - scan.pos;
    if scan.damaged {
        // A complete record that does not check out is damage, not a crash's torn write
        // (which can only be the last, unfinished one): nothing after it is dropped.
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: the record at byte {} is damaged ({} bytes follow); nothing was changed: move the journal aside to start the input anew",
                path.display(),
                scan.pos,
                found.dropped
            ),
        ));
    }
    if found.dropped > 0 {
        file.set_len(found.valid_len)?;
        file.sync_data()?;
    }
    let replay = match found.records {
        0 => None,
        _ => Some(Scan::new(File::open(path)?, found.valid_len)),
    };
    Ok((
        found.clone(),
        replay,
        Writer {
            file,
            path: path.to_path_buf(),
            len: found.valid_len,
        },
    ))
}

/// Reads records from the start of a journal up to `limit` bytes.
pub struct Scan {
    reader: BufReader<io::Take<File>>,
    pos: u64,
    limit: u64,
    /// The scan stopped at a complete record that does not check out.
    damaged: bool,
}

impl Scan {
    fn new(file: File, limit: u64) -> Scan {
        Scan {
            reader: BufReader::with_capacity(1 << 20, file.take(limit)),
            pos: 0,
            limit,
            damaged: false,
        }
    }

    /// The next complete record, or `None` at the end (or at a record cut short or damaged:
    /// nothing after it is read).
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let mut head = Vec::with_capacity(48);
        let n = self.reader.read_until(b'\n', &mut head)?;
        if n == 0 || head.last() != Some(&b'\n') {
            return Ok(None);
        }
        let Some(h) = Header::parse(&head[..head.len() - 1]) else {
            self.damaged = true;
            return Ok(None);
        };
        let end = self.pos + n as u64 + h.len;
        if end > self.limit {
            // Cut short: the last record, unfinished when the process stopped.
            return Ok(None);
        }
        let mut bytes = vec![0u8; h.len as usize];
        self.reader.read_exact(&mut bytes)?;
        if crc32fast::hash(&bytes) != h.crc {
            self.damaged = true;
            return Ok(None);
        }
        self.pos += n as u64 + h.len;
        Ok(Some(match h.kind {
            b'L' => Record::Lines {
                bytes,
                replay_end: h.extra,
            },
            _ => Record::Quiet {
                heartbeat: h.extra.map(|v| v as i64),
            },
        }))
    }
}

/// `L <len> <crc> <replay end|->` or `Q 0 <crc> <heartbeat|->`, then `len` bytes.
struct Header {
    kind: u8,
    len: u64,
    crc: u32,
    extra: Option<u64>,
}

impl Header {
    fn parse(h: &[u8]) -> Option<Header> {
        let text = std::str::from_utf8(h).ok()?;
        let mut f = text.split(' ');
        let kind = match f.next()? {
            "L" => b'L',
            "Q" => b'Q',
            _ => return None,
        };
        let len = f.next()?.parse().ok()?;
        let crc = f.next()?.parse().ok()?;
        let extra = match f.next()? {
            "-" => None,
            v if kind == b'Q' => Some(v.parse::<i64>().ok()? as u64),
            v => Some(v.parse().ok()?),
        };
        f.next().is_none().then_some(Header {
            kind,
            len,
            crc,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Writer {
        fn append(&mut self, r: &Record) -> io::Result<()> {
            match r {
                Record::Lines { bytes, replay_end } => self.append_lines(bytes, *replay_end),
                Record::Quiet { heartbeat } => self.append_quiet(*heartbeat),
            }
        }
    }

    fn lines(s: &str, replay_end: Option<u64>) -> Record {
        Record::Lines {
            bytes: s.as_bytes().to_vec(),
            replay_end,
        }
    }

    #[test]
    fn records_read_back_in_order_and_a_torn_tail_is_cut_off() {
        let tmp = tempfile::tempdir().unwrap();
        let path = path_in(tmp.path());
        let (found, scan, mut w) = open(&path).unwrap();
        assert_eq!(found, Found::default());
        assert!(scan.is_none());
        let written = [
            lines(
                "{\"type\":\"stock\",\"session_id\":\"s\",\"ts\":5000,\"sku\":\"a\",\"set\":1}\nnot json\n",
                Some(120),
            ),
            Record::Quiet {
                heartbeat: Some(9_000_000),
            },
            lines("{\"x\":1}\n", None),
            Record::Quiet { heartbeat: None },
        ];
        for r in &written {
            w.append(r).unwrap();
        }
        w.sync().unwrap();
        let whole = w.len();
        drop(w);
        // A record cut short by a crash: dropped, and the journal cut back to before it.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"L 100 7 -\n{\"half").unwrap();
        drop(f);
        let (found, scan, w) = open(&path).unwrap();
        assert_eq!(found.records, 4);
        assert_eq!(found.lines, 3);
        assert_eq!(found.replay_end, Some(120));
        assert_eq!(found.newest, Some(9_000_000));
        assert_eq!(found.valid_len, whole);
        assert_eq!(found.dropped, 16);
        assert_eq!(w.len(), whole);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
        let mut scan = scan.unwrap();
        let mut back = Vec::new();
        while let Some(r) = scan.next_record().unwrap() {
            back.push(r);
        }
        assert_eq!(back, written);
    }

    #[test]
    fn a_damaged_record_is_refused_and_nothing_is_cut() {
        let tmp = tempfile::tempdir().unwrap();
        let path = path_in(tmp.path());
        let (_, _, mut w) = open(&path).unwrap();
        w.append(&lines("{\"a\":1}\n", None)).unwrap();
        let first = w.len();
        w.append(&lines("{\"b\":2}\n", None)).unwrap();
        drop(w);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let Err(e) = open(&path) else {
            panic!("a damaged record was taken")
        };
        assert!(
            e.to_string().contains(&format!("byte {first} is damaged")),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
    }
}
