//! The journal of `livesell serve`'s local input: every block of lines it accepts and every quiet spell it reports, appended and synced before the pipeline sees them (and before an action is answered), read back in order after a restart.
//!
//! What the pipeline decides depends on its input's lines and on where the input went quiet
//! (SPEC 2's idle source, and the show clock's time then), nothing else: replaying the journal
//! gives the same decisions, so a restarted server rebuilds its shows' state and writes on
//! where its outputs stopped. Records are framed with their length and a CRC-32 (as the
//! checkpoint store frames its parts); a record cut short by a crash was never synced, so never
//! acknowledged, and is dropped from the end.
//!
//! The journal is a folder of segments, each named after the stream position it starts at. A
//! position counts units: a byte of lines is one, a quiet spell is one (the line reader's
//! blocks end at such positions, and a checkpoint names the one its input goes on from). A
//! restart reads from the newest checkpoint's position; the segments wholly before it are
//! deleted once that checkpoint is complete, so the journal holds what came after it.
//!
//! Built here rather than on a WAL crate: what a record holds (lines, the replay's position,
//! a quiet spell's clock) and when it is synced (group commit by the one reader thread) are
//! this input's own, and the framing is the checkpoint store's; no dependency is added.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::domain::event::parse::parse_line;
use crate::domain::time::Micros;
pub use crate::io::lines::StreamAt;

/// The journal's folder under the output folder.
pub fn dir_in(out_dir: &Path) -> PathBuf {
    out_dir.join("journal")
}

/// A segment is closed, and the next one started, once it holds this much.
pub const SEGMENT_BYTES: u64 = 64 << 20;

/// The segment that starts at stream position `start`.
fn segment_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(format!("input-{start:020}.journal"))
}

/// The segments under `dir`, by the position they start at (the first run's single file,
/// `input.journal`, starts at 0).
fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for e in entries {
        let path = e?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let start = match name {
            "input.journal" => Some(0),
            _ => name
                .strip_prefix("input-")
                .and_then(|n| n.strip_suffix(".journal"))
                .and_then(|n| n.parse::<u64>().ok()),
        };
        if let Some(start) = start {
            found.push((start, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes the segments that end at or before stream position `upto` (a complete checkpoint's):
/// what a restart needs starts there. Returns how many went.
pub fn trim(dir: &Path, upto: u64) -> io::Result<usize> {
    let segs = segments(dir)?;
    let mut gone = 0;
    for pair in segs.windows(2) {
        // A segment ends where the next one starts.
        if pair[1].0 <= upto {
            std::fs::remove_file(&pair[0].1)?;
            gone += 1;
        }
    }
    Ok(gone)
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

/// What a journal holds after the position a run starts from, read once at the start.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    /// Records, lines and quiet spells after the position: what is read again.
    pub records: u64,
    pub lines: u64,
    pub quiet_spells: u64,
    /// Where the replay file stands after the last replayed lines.
    pub replay_end: Option<u64>,
    /// The largest event time in it (a replayed line's `ts` or a quiet spell's clock): a
    /// restarted replay's show clock goes on from there.
    pub newest: Option<Micros>,
    /// Bytes of complete records in the last segment; bytes after them (a record cut short)
    /// are dropped.
    pub valid_len: u64,
    pub dropped: u64,
    /// Where the stream stands at the position the run starts from.
    pub start: StreamAt,
}

/// Appends records to the newest segment; `sync` makes everything appended so far durable
/// (and starts a new segment when this one is full).
pub struct Writer {
    file: File,
    pub path: PathBuf,
    dir: PathBuf,
    len: u64,
    /// Where the stream stands after everything appended.
    at: StreamAt,
    /// What a new segment starts with: the replay's position and the newest time so far.
    replay_end: Option<u64>,
    newest: Option<Micros>,
    segment_bytes: u64,
}

impl Writer {
    pub fn append_lines(&mut self, bytes: &[u8], replay_end: Option<u64>) -> io::Result<()> {
        let extra = replay_end.map_or("-".into(), |e| e.to_string());
        self.write("L", bytes, &extra)?;
        self.at.offset += bytes.len() as u64;
        self.at.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
        if replay_end.is_some() {
            self.replay_end = replay_end;
            // The replay's lines are in time order: its last line has its newest time.
            let last = bytes
                .strip_suffix(b"\n")
                .unwrap_or(bytes)
                .rsplit(|&b| b == b'\n')
                .next();
            if let Some(ev) = last.and_then(|l| parse_line(l).ok()) {
                self.newest = self.newest.max(Some(ev.ts));
            }
        }
        Ok(())
    }

    pub fn append_quiet(&mut self, heartbeat: Option<Micros>) -> io::Result<()> {
        let extra = heartbeat.map_or("-".into(), |h| h.to_string());
        self.write("Q", &[], &extra)?;
        self.at.quiet += 1;
        self.newest = self.newest.max(heartbeat);
        Ok(())
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
        self.file.sync_data()?;
        if self.len >= self.segment_bytes {
            self.next_segment()?;
        }
        Ok(())
    }

    /// Starts the segment at the current position, with the replay's position and the newest
    /// time so far (what a restart from it needs of the segments before, once they are gone).
    fn next_segment(&mut self) -> io::Result<()> {
        let path = segment_path(&self.dir, self.at.units());
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut w = Writer {
            file,
            path,
            dir: self.dir.clone(),
            len: 0,
            at: self.at,
            replay_end: self.replay_end,
            newest: self.newest,
            segment_bytes: self.segment_bytes,
        };
        let extra = format!(
            "{} {} {} {} {}",
            w.replay_end.map_or("-".into(), |e| e.to_string()),
            w.newest.map_or("-".into(), |n| n.to_string()),
            w.at.line,
            w.at.offset,
            w.at.quiet
        );
        w.write("S", &[], &extra)?;
        w.file.sync_data()?;
        // The new file's name is durable too.
        File::open(&self.dir)?.sync_all()?;
        *self = w;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Opens (or starts) the journal in `dir` from stream position `from` (a checkpoint's; `None`:
/// the start): what it holds after it, a reader of its records from there (`None` when there
/// are none), and the writer that appends after them. A record cut short at the end is cut
/// off (it was never synced, so never acknowledged).
pub fn open(dir: &Path, from: Option<u64>) -> io::Result<(Found, Option<Replay>, Writer)> {
    open_with(dir, from, SEGMENT_BYTES)
}

pub fn open_with(
    dir: &Path,
    from: Option<u64>,
    segment_bytes: u64,
) -> io::Result<(Found, Option<Replay>, Writer)> {
    std::fs::create_dir_all(dir)?;
    let from = from.unwrap_or(0);
    let mut segs = segments(dir)?;
    if segs.is_empty() {
        let path = segment_path(dir, from);
        File::create(&path)?.sync_all()?;
        File::open(dir)?.sync_all()?;
        segs.push((from, path));
    }
    // From the last segment that starts at or before the position.
    let first = segs.iter().rposition(|(s, _)| *s <= from).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: the journal starts at position {}, after the checkpoint's {from}: what came between is gone; nothing was changed",
                dir.display(),
                segs[0].0
            ),
        )
    })?;
    let mut segs: Vec<(PathBuf, u64)> = segs
        .split_off(first)
        .into_iter()
        .map(|(_, p)| {
            let len = std::fs::metadata(&p)?.len();
            Ok((p, len))
        })
        .collect::<io::Result<_>>()?;
    let (last_path, total) = segs.last().cloned().expect("one segment at least");
    let file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(&last_path)?;
    let mut found = Found::default();
    let mut replay = Replay::new(segs.clone(), from)?;
    while let Some(r) = replay.next_record()? {
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
            }
            Record::Quiet { heartbeat } => {
                found.quiet_spells += 1;
                found.newest = found.newest.max(*heartbeat);
            }
        }
    }
    found.start = replay.start;
    found.replay_end = replay.replay_end;
    found.newest = found.newest.max(replay.newest);
    let scan = &replay.scan;
    if scan.damaged {
        // A complete record that does not check out is damage, not a crash's torn write
        // (which can only be the last, unfinished one): nothing after it is dropped.
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: the record at byte {} is damaged; nothing was changed: move the journal aside to start the input anew",
                scan.path.display(),
                scan.pos,
            ),
        ));
    }
    if replay.at.units() < from {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: the journal ends at position {}, before the checkpoint's {from}; nothing was changed",
                dir.display(),
                replay.at.units()
            ),
        ));
    }
    found.valid_len = scan.pos;
    found.dropped = total - scan.pos;
    if found.dropped > 0 {
        file.set_len(found.valid_len)?;
        file.sync_data()?;
    }
    let at = replay.at;
    let (replay_end, newest) = (replay.replay_end, found.newest);
    if let Some(last) = segs.last_mut() {
        last.1 = found.valid_len;
    }
    let again = match found.records {
        0 => None,
        _ => Some(Replay::new(segs, from)?),
    };
    Ok((
        found.clone(),
        again,
        Writer {
            file,
            path: last_path,
            dir: dir.to_path_buf(),
            len: found.valid_len,
            at,
            replay_end,
            newest,
            segment_bytes,
        },
    ))
}

/// The records of a journal's segments after stream position `from`: the line records
/// before it are skipped (the one it falls in is cut there, at a line's end), as are the
/// quiet spells before it.
pub struct Replay {
    /// The segments still to read, each up to the length it had when the journal was opened.
    segs: std::vec::IntoIter<(PathBuf, u64)>,
    scan: Scan,
    from: u64,
    /// Where the stream stands after the last record read.
    at: StreamAt,
    /// Where it stands at `from`.
    start: StreamAt,
    replay_end: Option<u64>,
    newest: Option<Micros>,
}

impl Replay {
    fn new(segs: Vec<(PathBuf, u64)>, from: u64) -> io::Result<Replay> {
        let mut segs = segs.into_iter();
        let (path, limit) = segs.next().expect("one segment at least");
        Ok(Replay {
            scan: Scan::open(&path, limit)?,
            segs,
            from,
            at: StreamAt::default(),
            start: StreamAt::default(),
            replay_end: None,
            newest: None,
        })
    }

    /// The next record at or after the position.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            let Some(r) = self.scan.next_record()? else {
                if self.scan.damaged {
                    return Ok(None);
                }
                match self.segs.next() {
                    Some((path, limit)) => {
                        self.scan = Scan::open(&path, limit)?;
                        continue;
                    }
                    None => return Ok(None),
                }
            };
            let before = self.at;
            match r {
                Raw::State {
                    replay_end,
                    newest,
                    at,
                } => {
                    // A segment's start: where the stream stood (the segments before may be
                    // gone).
                    self.at = at;
                    if before.units() <= self.from {
                        self.start = at;
                    }
                    self.replay_end = self.replay_end.or(replay_end);
                    self.newest = self.newest.max(newest);
                }
                Raw::Lines { bytes, replay_end } => {
                    self.at.offset += bytes.len() as u64;
                    self.at.line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                    if replay_end.is_some() {
                        self.replay_end = replay_end;
                    }
                    if self.at.units() <= self.from {
                        self.start = self.at;
                        continue;
                    }
                    if before.units() < self.from {
                        // The position falls in this record, at a line's end.
                        let cut = (self.from - before.units()) as usize;
                        self.start = before;
                        self.start.offset += cut as u64;
                        self.start.line += memchr::memchr_iter(b'\n', &bytes[..cut]).count() as u64;
                        return Ok(Some(Record::Lines {
                            bytes: bytes[cut..].to_vec(),
                            replay_end,
                        }));
                    }
                    return Ok(Some(Record::Lines { bytes, replay_end }));
                }
                Raw::Quiet { heartbeat } => {
                    self.at.quiet += 1;
                    if self.at.units() <= self.from {
                        self.start = self.at;
                        self.newest = self.newest.max(heartbeat);
                        continue;
                    }
                    return Ok(Some(Record::Quiet { heartbeat }));
                }
            }
        }
    }
}

/// A record as stored: lines, a quiet spell, or a segment's start.
enum Raw {
    Lines {
        bytes: Vec<u8>,
        replay_end: Option<u64>,
    },
    Quiet {
        heartbeat: Option<Micros>,
    },
    State {
        replay_end: Option<u64>,
        newest: Option<Micros>,
        at: StreamAt,
    },
}

/// Reads the records of one segment from its start up to `limit` bytes.
struct Scan {
    reader: BufReader<io::Take<File>>,
    path: PathBuf,
    pos: u64,
    limit: u64,
    /// The scan stopped at a complete record that does not check out.
    damaged: bool,
}

impl Scan {
    fn open(path: &Path, limit: u64) -> io::Result<Scan> {
        Ok(Scan {
            reader: BufReader::with_capacity(1 << 20, File::open(path)?.take(limit)),
            path: path.to_path_buf(),
            pos: 0,
            limit,
            damaged: false,
        })
    }

    /// The next complete record, or `None` at the end (or at a record cut short or damaged:
    /// nothing after it is read).
    fn next_record(&mut self) -> io::Result<Option<Raw>> {
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
            Kind::Lines(replay_end) => Raw::Lines { bytes, replay_end },
            Kind::Quiet(heartbeat) => Raw::Quiet { heartbeat },
            Kind::State(replay_end, newest, at) => Raw::State {
                replay_end,
                newest,
                at,
            },
        }))
    }
}

/// `L <len> <crc> <replay end|->`, `Q 0 <crc> <heartbeat|->` or
/// `S 0 <crc> <replay end|-> <newest|-> <line> <offset> <quiet>`, then `len` bytes.
struct Header {
    kind: Kind,
    len: u64,
    crc: u32,
}

enum Kind {
    Lines(Option<u64>),
    Quiet(Option<Micros>),
    State(Option<u64>, Option<Micros>, StreamAt),
}

impl Header {
    fn parse(h: &[u8]) -> Option<Header> {
        fn opt<T: std::str::FromStr>(v: &str) -> Option<Option<T>> {
            match v {
                "-" => Some(None),
                v => v.parse().ok().map(Some),
            }
        }
        let text = std::str::from_utf8(h).ok()?;
        let mut f = text.split(' ');
        let kind = f.next()?;
        let len = f.next()?.parse().ok()?;
        let crc = f.next()?.parse().ok()?;
        let kind = match kind {
            "L" => Kind::Lines(opt(f.next()?)?),
            "Q" => Kind::Quiet(opt(f.next()?)?),
            "S" => {
                let replay_end = opt(f.next()?)?;
                let newest = opt(f.next()?)?;
                let line = f.next()?.parse().ok()?;
                let offset = f.next()?.parse().ok()?;
                let quiet = f.next()?.parse().ok()?;
                Kind::State(
                    replay_end,
                    newest,
                    StreamAt {
                        line,
                        offset,
                        quiet,
                    },
                )
            }
            _ => return None,
        };
        f.next().is_none().then_some(Header { kind, len, crc })
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
        let dir = dir_in(tmp.path());
        let (found, scan, mut w) = open(&dir, None).unwrap();
        let path = w.path.clone();
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
        let (found, scan, w) = open(&dir, None).unwrap();
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

    /// Segments: a restart reads from a checkpoint's position (inside a record, at a line's
    /// end, and past the quiet spells before it), with the line numbers going on; the segments
    /// wholly before a position are deleted and a restart from it needs nothing of them.
    #[test]
    fn a_restart_reads_from_a_position_and_older_segments_go() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = dir_in(tmp.path());
        // Every sync starts a segment.
        let (_, _, mut w) = open_with(&dir, None, 1).unwrap();
        w.append_lines(b"a1\na2\n", Some(7)).unwrap(); // units 0..6
        w.sync().unwrap();
        w.append_quiet(Some(42)).unwrap(); // unit 6
        w.sync().unwrap();
        w.append_lines(b"b1\nb2\nb3\n", None).unwrap(); // units 7..16
        w.sync().unwrap();
        w.append_quiet(None).unwrap(); // unit 16
        w.sync().unwrap();
        drop(w);
        let read = |from: Option<u64>| {
            let (found, replay, _) = open_with(&dir, from, 1).unwrap();
            let mut back = Vec::new();
            if let Some(mut r) = replay {
                while let Some(rec) = r.next_record().unwrap() {
                    back.push(rec);
                }
            }
            (found, back)
        };
        // From the middle of the second line record: after "b1\n".
        let (found, back) = read(Some(10));
        assert_eq!(
            found.start,
            StreamAt {
                line: 4,
                offset: 9,
                quiet: 1
            }
        );
        assert_eq!(found.replay_end, Some(7));
        assert_eq!(found.newest, Some(42));
        assert_eq!(
            back,
            vec![lines("b2\nb3\n", None), Record::Quiet { heartbeat: None }]
        );
        // Past the quiet spell, before the lines after it.
        let (found, back) = read(Some(7));
        assert_eq!(found.start.quiet, 1);
        assert_eq!(back.len(), 2);
        let before = segments(&dir).unwrap().len();
        assert_eq!(trim(&dir, 10).unwrap(), 2, "the segments ending at 6 and 7");
        assert_eq!(segments(&dir).unwrap().len(), before - 2);
        let (found, back) = read(Some(10));
        assert_eq!(found.start.line, 4);
        assert_eq!(found.replay_end, Some(7));
        assert_eq!(back.len(), 2);
        // A position before what is kept is refused, changing nothing.
        let Err(e) = open_with(&dir, Some(3), 1) else {
            panic!("a position before the journal was taken")
        };
        assert!(e.to_string().contains("what came between is gone"), "{e}");
        assert_eq!(segments(&dir).unwrap().len(), before - 2);
    }

    #[test]
    fn a_damaged_record_is_refused_and_nothing_is_cut() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = dir_in(tmp.path());
        let (_, _, mut w) = open(&dir, None).unwrap();
        let path = w.path.clone();
        w.append(&lines("{\"a\":1}\n", None)).unwrap();
        let first = w.len();
        w.append(&lines("{\"b\":2}\n", None)).unwrap();
        drop(w);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let Err(e) = open(&dir, None) else {
            panic!("a damaged record was taken")
        };
        assert!(
            e.to_string().contains(&format!("byte {first} is damaged")),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
    }
}
