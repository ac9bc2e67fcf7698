//! The record files under `DIR/`: one JSON line per record, a file per record kind that has one (`Kind::file_name`), buffered, flushed soon after a release, and synced for checkpoints.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::records::{Kind, Line};

use super::release::Released;

/// How long written records may sit in the buffer: a tail of `decisions.jsonl` sees them soon,
/// however quiet the input (the writer is woken to flush them), and a burst still shares a write.
pub const FLUSH_EVERY: Duration = Duration::from_millis(2);

/// The kinds with a file, and its name.
fn with_files() -> impl Iterator<Item = (Kind, &'static str)> {
    Kind::ALL
        .into_iter()
        .filter_map(|k| k.file_name().map(|n| (k, n)))
}

/// How a run starts on its output folder.
pub enum Resume {
    /// Anew: a folder that holds an earlier run's outputs is refused.
    Fresh,
    /// From a checkpoint: each kind's file is cut back to the length it had then (a kind it
    /// has no length for starts empty), and written on.
    Checkpoint(Vec<(Kind, u64)>),
    /// From the start of a journal the files were written from: what the run writes again is
    /// compared with what they hold and not repeated; it writes on where they end.
    Replay,
}

pub struct Files {
    pub out_dir: PathBuf,
    /// Per kind, its file (`None`: the kind has none).
    files: [Option<BufWriter<File>>; Kind::COUNT],
    /// Per kind, with `Resume::Replay`: what the file already holds, still to be written again.
    again: [Option<Again>; Kind::COUNT],
    last_flush: Instant,
    /// Records were written since the last flush.
    dirty: bool,
}

impl Files {
    /// Opens the record files as `resume` says; the sessions' files stay.
    pub fn open(out_dir: &Path, resume: Resume) -> anyhow::Result<Files> {
        std::fs::create_dir_all(out_dir)?;
        if let Resume::Fresh = resume {
            // Nothing an earlier run wrote is ever truncated or deleted: with no checkpoint to
            // resume from, a folder that holds outputs is refused (`--fresh` moves them aside).
            let found = earlier_outputs(out_dir)?;
            if !found.is_empty() {
                anyhow::bail!(
                    "{dir} holds the outputs of an earlier run ({}) and no checkpoint to resume from; nothing was changed. Resume it from its checkpoint (the same command with the checkpoints it wrote), start anew with --fresh (the old outputs are moved to {dir}.replaced-<time>, nothing is deleted), or write to another --out",
                    found.join(", "),
                    dir = out_dir.display()
                );
            }
        }
        let mut files: [Option<BufWriter<File>>; Kind::COUNT] = Default::default();
        let mut again: [Option<Again>; Kind::COUNT] = Default::default();
        for (kind, name) in with_files() {
            let path = out_dir.join(name);
            let (file, held) = match &resume {
                Resume::Fresh => (open_file(&path, None)?, None),
                Resume::Checkpoint(r) => {
                    let had = r.iter().find(|(k, _)| *k == kind);
                    (
                        open_file(&path, Some(had.map_or(0, |(_, len)| *len)))?,
                        None,
                    )
                }
                Resume::Replay => {
                    let (file, again) = Again::open(&path)?;
                    (BufWriter::with_capacity(1 << 20, file), again)
                }
            };
            files[kind.index()] = Some(file);
            again[kind.index()] = held;
        }
        Ok(Files {
            files,
            again,
            out_dir: out_dir.to_path_buf(),
            last_flush: Instant::now(),
            dirty: false,
        })
    }

    /// Writes the released records of every kind with a file; flushes them when the last flush
    /// is `FLUSH_EVERY` ago (else `flush_in` says when).
    pub fn write(&mut self, released: &Released) -> std::io::Result<()> {
        for (kind, lines) in released.iter() {
            if let Some(w) = &mut self.files[kind.index()] {
                let mut lines: &[Line] = lines;
                if let Some(a) = &mut self.again[kind.index()] {
                    lines = a.skip(lines).map_err(|e| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{e:#}"))
                    })?;
                    if a.left == 0 {
                        self.again[kind.index()] = None;
                    }
                }
                self.dirty |= !lines.is_empty();
                write_lines(lines, w)?;
            }
        }
        self.flush_if_due()
    }

    /// Flushes what was written if the last flush is `FLUSH_EVERY` ago.
    pub fn flush_if_due(&mut self) -> std::io::Result<()> {
        if self.dirty && self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// How soon what was written is due to be flushed (`None`: nothing waits).
    pub fn flush_in(&self) -> Option<Duration> {
        self.dirty
            .then(|| FLUSH_EVERY.saturating_sub(self.last_flush.elapsed()))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.files
            .iter_mut()
            .flatten()
            .try_for_each(|w| w.flush())?;
        self.dirty = false;
        self.last_flush = Instant::now();
        Ok(())
    }

    /// Flushes every file, syncs it to the disk, and returns their lengths by kind: a
    /// checkpoint's manifest names only bytes that are on the disk, so that after a power loss
    /// a restart finds every file at least as long as the checkpoint says.
    pub fn lengths(&mut self) -> anyhow::Result<Vec<(Kind, u64)>> {
        self.flush()?;
        let mut lengths = Vec::new();
        for (kind, _) in with_files() {
            if let Some(w) = &self.files[kind.index()] {
                w.get_ref().sync_data()?;
                lengths.push((kind, w.get_ref().metadata()?.len()));
            }
        }
        Ok(lengths)
    }
}

/// What an earlier run left in `out_dir`: its non-empty record files (with their line counts),
/// `run.json`, `summary.json`, and the `snapshots/`, `sessions/` and `checkpoints/` folders.
pub fn earlier_outputs(out_dir: &Path) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    for (_, name) in with_files() {
        match std::fs::metadata(out_dir.join(name)) {
            Ok(m) if m.len() > 0 => {
                let lines = count_lines(&out_dir.join(name))?;
                found.push(format!("{name}: {lines} lines"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    for name in ["run.json", "summary.json"] {
        if out_dir.join(name).is_file() {
            found.push(name.to_string());
        }
    }
    for dir in ["snapshots", "sessions", "checkpoints"] {
        let full = out_dir.join(dir);
        if full.is_dir() && std::fs::read_dir(&full)?.next().is_some() {
            found.push(format!("{dir}/"));
        }
    }
    Ok(found)
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let got = f.read(&mut buf)?;
        if got == 0 {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
    }
}

/// `--fresh`: moves a folder that holds an earlier run's outputs aside, whole, to
/// `DIR.replaced-<UTC time>` beside it (one rename: nothing is copied or deleted), and returns
/// where. A folder with no outputs stays as it is.
pub fn move_aside(out_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !out_dir.is_dir() || earlier_outputs(out_dir)?.is_empty() {
        return Ok(None);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    // `2026-12-07T20:15:03.000000Z` as `2026-12-07T20-15-03Z`: a file name on any system.
    let stamp = format!(
        "{}Z",
        crate::domain::time::format_micros(now)[..19].replace(':', "-")
    );
    let name = out_dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let mut aside = out_dir.with_file_name(format!("{name}.replaced-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = out_dir.with_file_name(format!("{name}.replaced-{stamp}-{n}"));
    }
    std::fs::rename(out_dir, &aside).map_err(|e| {
        anyhow::anyhow!(
            "cannot move {} aside to {}: {e}",
            out_dir.display(),
            aside.display()
        )
    })?;
    Ok(Some(aside))
}

/// A record file, new or cut back to `len` (what a checkpoint saw of it).
fn open_file(path: &Path, len: Option<u64>) -> anyhow::Result<BufWriter<File>> {
    let f = match len {
        // Only ever an empty or missing file here (`earlier_outputs` refused any other).
        None => File::create(path)?,
        Some(len) => {
            // A kind this build added since the checkpoint starts its file here.
            let f = std::fs::OpenOptions::new()
                .append(true)
                .create(len == 0)
                .open(path)?;
            let has = f.metadata()?.len();
            if has < len {
                anyhow::bail!(
                    "{} has {has} bytes, but the checkpoint this run starts from was taken when it had {len}: it was changed since; move it away, or start without the checkpoint",
                    path.display()
                );
            }
            // What came after the checkpoint is written again from it.
            f.set_len(len)?;
            f
        }
    };
    Ok(BufWriter::with_capacity(1 << 20, f))
}

/// What a record file held when a run that replays its journal opened it: the lines the run
/// writes again are read back from it and compared, not written twice.
struct Again {
    reader: std::io::BufReader<File>,
    /// Bytes still to be met again.
    left: u64,
    path: PathBuf,
    buf: Vec<u8>,
}

impl Again {
    /// The file opened to write on at its end, and what it holds (`None`: nothing). A last
    /// line with no newline (a write the process did not finish) is cut off, and said.
    fn open(path: &Path) -> anyhow::Result<(File, Option<Again>)> {
        use std::io::{Read, Seek, SeekFrom};
        let f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let len = f.metadata()?.len();
        // The end of the last whole line.
        let mut whole = len;
        let mut tail = File::open(path)?;
        let mut chunk = vec![0u8; 1 << 16];
        while whole > 0 {
            let from = whole.saturating_sub(chunk.len() as u64);
            tail.seek(SeekFrom::Start(from))?;
            let n = (whole - from) as usize;
            tail.read_exact(&mut chunk[..n])?;
            match memchr::memrchr(b'\n', &chunk[..n]) {
                Some(i) => {
                    whole = from + i as u64 + 1;
                    break;
                }
                None => whole = from,
            }
        }
        if whole < len {
            eprintln!(
                "livesell: {}: the last {} bytes are a line the stopped run did not finish; it is written again whole",
                path.display(),
                len - whole
            );
            f.set_len(whole)?;
        }
        let again = match whole {
            0 => None,
            _ => Some(Again {
                reader: std::io::BufReader::with_capacity(1 << 16, File::open(path)?),
                left: whole,
                path: path.to_path_buf(),
                buf: Vec::new(),
            }),
        };
        Ok((f, again))
    }

    /// Meets `lines` again as far as the file goes; returns the ones past its end. A line that
    /// differs stops the run: the journal replayed does not give what the file says.
    fn skip<'a>(&mut self, lines: &'a [Line]) -> anyhow::Result<&'a [Line]> {
        use std::io::Read;
        for (i, l) in lines.iter().enumerate() {
            if self.left == 0 {
                return Ok(&lines[i..]);
            }
            let want = l.line.len() + 1;
            self.buf.resize(want, 0);
            let n = (want as u64).min(self.left) as usize;
            self.reader.read_exact(&mut self.buf[..n])?;
            self.left -= n as u64;
            let same = n == want
                && &self.buf[..want - 1] == l.line.as_bytes()
                && self.buf[want - 1] == b'\n';
            if !same {
                anyhow::bail!(
                    "{}: replaying the journal wrote {:?} where the file has {:?}; nothing was changed: start anew with --fresh (the outputs are moved aside)",
                    self.path.display(),
                    l.line,
                    String::from_utf8_lossy(&self.buf[..n])
                );
            }
        }
        Ok(&[])
    }
}

fn write_lines(lines: &[Line], w: &mut BufWriter<File>) -> std::io::Result<()> {
    for Line { line, .. } in lines {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn released(lines: &[&str]) -> Released {
        let mut r = Released::default();
        for (i, l) in lines.iter().enumerate() {
            r.of_mut(Kind::Decision).push(Line {
                key: (i as i64, 0, 0, 0),
                line: l.to_string(),
                sent: false,
                about: crate::records::About::Nothing,
            });
        }
        r
    }

    /// Issue 31: records written right after a flush sat in the buffer until the next write,
    /// however long that took. Now the files say when they are due (the writer is woken then)
    /// and a call at that time flushes them, with no new record.
    #[test]
    fn the_tail_of_a_burst_is_flushed_on_time_without_more_records() {
        let tmp = tempfile::tempdir().unwrap();
        let mut f = Files::open(tmp.path(), Resume::Fresh).unwrap();
        let on_disk = || std::fs::read_to_string(tmp.path().join("decisions.jsonl")).unwrap();
        std::thread::sleep(FLUSH_EVERY * 2);
        f.write(&released(&["{\"a\":1}"])).unwrap();
        assert_eq!(
            on_disk(),
            "{\"a\":1}\n",
            "the first record after a quiet spell goes at once"
        );
        assert_eq!(f.flush_in(), None);
        // Within FLUSH_EVERY of that flush: buffered, and due soon.
        f.write(&released(&["{\"b\":2}"])).unwrap();
        let due = f.flush_in().expect("a flush is due");
        assert!(due <= FLUSH_EVERY);
        std::thread::sleep(due);
        f.flush_if_due().unwrap();
        assert_eq!(on_disk(), "{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(f.flush_in(), None);
    }

    #[test]
    fn a_replayed_journal_meets_what_the_files_hold_and_writes_on() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("decisions.jsonl");
        // An earlier run's file, its last line cut by a kill.
        std::fs::write(&path, "{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        let mut f = Files::open(tmp.path(), Resume::Replay).unwrap();
        f.write(&released(&["{\"a\":1}"])).unwrap();
        f.write(&released(&["{\"b\":2}", "{\"c\":3}", "{\"d\":4}"]))
            .unwrap();
        f.flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"d\":4}\n"
        );
        // A replay that decides otherwise stops, and the file keeps what it had.
        let mut g = Files::open(tmp.path(), Resume::Replay).unwrap();
        let e = g.write(&released(&["{\"a\":9}"])).unwrap_err().to_string();
        assert!(e.contains("replaying the journal wrote"), "{e}");
        drop(g);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("{\"d\":4}\n")
        );
    }

    #[test]
    fn a_folder_with_an_earlier_runs_outputs_is_refused_and_fresh_moves_it_aside_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("show");
        // An empty folder, or one with empty files, is no earlier run.
        Files::open(&out, Resume::Fresh).unwrap();
        Files::open(&out, Resume::Fresh).unwrap();
        std::fs::write(out.join("decisions.jsonl"), "{}\n{}\n").unwrap();
        std::fs::create_dir_all(out.join("snapshots/s")).unwrap();
        std::fs::write(out.join("snapshots/s/claims.parquet"), "x").unwrap();
        let Err(e) = Files::open(&out, Resume::Fresh) else {
            panic!("an earlier run's outputs were not refused")
        };
        let e = format!("{e:#}");
        assert!(e.contains("decisions.jsonl: 2 lines"), "{e}");
        assert!(e.contains("snapshots/") && e.contains("--fresh"), "{e}");
        assert_eq!(
            std::fs::read_to_string(out.join("decisions.jsonl")).unwrap(),
            "{}\n{}\n",
            "refusing changed nothing"
        );
        let aside = move_aside(&out).unwrap().expect("moved");
        assert!(
            aside
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("show.replaced-")
        );
        assert_eq!(
            std::fs::read_to_string(aside.join("decisions.jsonl")).unwrap(),
            "{}\n{}\n"
        );
        assert!(aside.join("snapshots/s/claims.parquet").exists());
        assert!(!out.exists());
        Files::open(&out, Resume::Fresh).unwrap();
        assert_eq!(move_aside(&out).unwrap(), None, "nothing to move");
    }
}
