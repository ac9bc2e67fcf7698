//! The record files under `DIR/`: one JSON line per record, a file per record kind that has one (`Kind::file_name`), buffered, flushed soon after a release, and synced for checkpoints.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::records::{Kind, Line};

use super::release::Released;

/// How long written decisions may sit in the buffer: a tail of `decisions.jsonl` sees them soon.
const FLUSH_EVERY: Duration = Duration::from_millis(2);

/// The kinds with a file, and its name.
fn with_files() -> impl Iterator<Item = (Kind, &'static str)> {
    Kind::ALL
        .into_iter()
        .filter_map(|k| k.file_name().map(|n| (k, n)))
}

pub struct Files {
    pub out_dir: PathBuf,
    /// Per kind, its file (`None`: the kind has none).
    files: [Option<BufWriter<File>>; Kind::COUNT],
    last_flush: Instant,
}

impl Files {
    /// `resume`: the lengths the record files had at the checkpoint this run starts from: they
    /// are cut back to them and written on (a kind the checkpoint has no length for starts
    /// empty); the sessions' files stay. Without, a run writes everything anew.
    pub fn open(out_dir: &Path, resume: Option<Vec<(Kind, u64)>>) -> anyhow::Result<Files> {
        std::fs::create_dir_all(out_dir)?;
        if resume.is_none() {
            // A run writes its sessions' files anew: an earlier run's into the same directory
            // would otherwise mix with them (the other outputs are replaced whole).
            for dir in ["snapshots", "sessions"] {
                match std::fs::remove_dir_all(out_dir.join(dir)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
        }
        let mut files: [Option<BufWriter<File>>; Kind::COUNT] = Default::default();
        for (kind, name) in with_files() {
            let len = resume.as_ref().map(|r| {
                let had = r.iter().find(|(k, _)| *k == kind);
                had.map_or(0, |(_, len)| *len)
            });
            files[kind.index()] = Some(open_file(&out_dir.join(name), len)?);
        }
        Ok(Files {
            files,
            out_dir: out_dir.to_path_buf(),
            last_flush: Instant::now(),
        })
    }

    /// Writes the released records of every kind with a file; flushes them when decisions or
    /// dead letters came and the last flush is `FLUSH_EVERY` ago.
    pub fn write(&mut self, released: &Released) -> std::io::Result<()> {
        for (kind, lines) in released.iter() {
            if let Some(w) = &mut self.files[kind.index()] {
                write_lines(lines, w)?;
            }
        }
        let decided = released.count(Kind::Decision) + released.count(Kind::DeadLetter) > 0;
        if decided && self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
            self.last_flush = Instant::now();
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.files.iter_mut().flatten().try_for_each(|w| w.flush())
    }

    /// Flushes every file and returns their lengths by kind; syncing them to
    /// the disk goes on beside the dataflow. The bytes are the kernel's once flushed (a killed
    /// process loses none of them); after a power loss that came first, a restart finds a file
    /// shorter than its checkpoint says, and says so.
    pub fn lengths(&mut self) -> anyhow::Result<Vec<(Kind, u64)>> {
        self.flush()?;
        let mut lengths = Vec::new();
        let mut handles = Vec::new();
        for (kind, _) in with_files() {
            if let Some(w) = &self.files[kind.index()] {
                lengths.push((kind, w.get_ref().metadata()?.len()));
                handles.push(w.get_ref().try_clone()?);
            }
        }
        std::thread::spawn(move || handles.iter().for_each(|f| drop(f.sync_data())));
        Ok(lengths)
    }
}

/// A record file, new or cut back to `len` (what a checkpoint saw of it).
fn open_file(path: &Path, len: Option<u64>) -> anyhow::Result<BufWriter<File>> {
    let f = match len {
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

fn write_lines(lines: &[Line], w: &mut BufWriter<File>) -> std::io::Result<()> {
    for Line { line, .. } in lines {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}
