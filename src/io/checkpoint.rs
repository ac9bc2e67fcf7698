//! Checkpoint storage: one directory per checkpoint, a file per part, and a manifest naming the complete set.
//!
//! Layout (schemas/README.md, "Checkpoints"): `DIR/ckpt-<id>/part-<worker>.bin` (each worker's
//! engine state), `writer.bin` (the file writer's), then `MANIFEST.json`, written last and
//! atomically: a directory without a valid manifest is an unfinished checkpoint and is never
//! read. Every part is `MAGIC`, the format version, its length and its CRC-32, then the
//! payload (bincode); the manifest repeats each part's length and CRC.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"LSCK";
/// Bumped whenever the state layout changes: an older checkpoint is refused, not misread.
pub const FORMAT_VERSION: u32 = 3;
const MANIFEST: &str = "MANIFEST.json";
/// Complete checkpoints kept: the newest, and the one before in case the newest is damaged.
const KEEP: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Corrupt { path: PathBuf, why: String },
    /// A checkpoint another build wrote, in a layout this one does not read: the run stops
    /// rather than misread it or start over and write the outputs anew.
    #[error(
        "{path} was written in checkpoint format {found}, and this build reads format {FORMAT_VERSION}: finish its shows with the build that wrote it, or move {root} away to start over from the input (nothing was changed)"
    )]
    OtherFormat {
        path: PathBuf,
        root: PathBuf,
        found: u32,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, why: impl Into<String>) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

/// One part as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    pub file: String,
    pub bytes: u64,
    pub crc32: u32,
}

/// The next offset to read of one input partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    pub next: u64,
}

/// What names a complete checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub id: u64,
    /// Every engine worker of the run that took it (their parts are `part-<i>.bin`).
    pub workers: usize,
    pub parts: Vec<PartEntry>,
    pub positions: Vec<Position>,
    /// Open sessions it holds, and when it was written (Unix milliseconds), for an operator.
    pub open_sessions: u64,
    pub written_at_ms: u64,
    /// The longest an engine worker spent on its part, and the writer on its own
    /// (milliseconds): the time the dataflow stood still for it.
    #[serde(default)]
    pub took_ms: f64,
}

/// What a worker's part adds to its checkpoint, for the writer that completes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartDone {
    pub id: u64,
    pub worker: usize,
    pub peers: usize,
    /// `None`: the part could not be written (the reason was logged): the checkpoint stays
    /// incomplete and the previous one stands.
    pub entry: Option<PartEntry>,
    /// Per source, the offset its next block starts at (`None`: where the run started it).
    pub positions: Vec<Option<u64>>,
    pub open_sessions: u64,
    /// How long the engine was busy with its part (applying up to the cut, encoding, writing).
    pub took_us: u64,
}

/// A checkpoint read back and checked: its manifest and every part's payload.
pub struct Loaded {
    pub manifest: Manifest,
    pub dir: PathBuf,
    /// Worker parts in worker order.
    pub workers: Vec<Vec<u8>>,
    pub writer: Option<Vec<u8>>,
    /// The Kafka producers' parts (records waiting for a release mark), any order.
    pub producers: Vec<Vec<u8>>,
}

/// The checkpoints directory of a run.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, id: u64) -> PathBuf {
        self.root.join(format!("ckpt-{id:012}"))
    }

    /// Writes one part of checkpoint `id` (a temporary file renamed into place, synced);
    /// returns its manifest entry.
    pub fn write_part(
        &self,
        id: u64,
        file: &str,
        payload: &[u8],
    ) -> Result<PartEntry, CheckpointError> {
        let dir = self.dir(id);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let crc = crc32fast::hash(payload);
        let path = dir.join(file);
        let tmp = dir.join(format!(".{file}.tmp"));
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        let mut head = Vec::with_capacity(20);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        head.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        head.extend_from_slice(&crc.to_le_bytes());
        f.write_all(&head).map_err(io(&tmp))?;
        f.write_all(payload).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        write_delay();
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(PartEntry {
            file: file.to_string(),
            bytes: payload.len() as u64,
            crc32: crc,
        })
    }

    /// `write_part` on a thread of its own: returns the entry the part will have. Until the
    /// part is in place (`parts_in_place`), its checkpoint must not be committed; a failure
    /// is logged and leaves the checkpoint incomplete.
    pub fn write_part_behind(&self, id: u64, file: &str, payload: Vec<u8>) -> PartEntry {
        let entry = PartEntry {
            file: file.to_string(),
            bytes: payload.len() as u64,
            crc32: crc32fast::hash(&payload),
        };
        let (store, file) = (self.clone(), file.to_string());
        let spawned = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                if let Err(e) = store.write_part(id, &file, &payload) {
                    eprintln!("livesell: checkpoint {id}: {file} not written: {e}");
                }
            });
        if let Err(e) = spawned {
            eprintln!("livesell: checkpoint {id}: {} not written: {e}", entry.file);
        }
        entry
    }

    /// Whether every part `m` names is in place (renamed after its sync).
    pub fn parts_in_place(&self, m: &Manifest) -> bool {
        let dir = self.dir(m.id);
        m.parts.iter().all(|p| dir.join(&p.file).is_file())
    }

    /// Completes checkpoint `m.id`: its manifest, atomically; then older checkpoints beyond
    /// the last `KEEP` complete ones, and unfinished ones older than it, are removed.
    pub fn commit(&self, m: &Manifest) -> Result<(), CheckpointError> {
        let dir = self.dir(m.id);
        let path = dir.join(MANIFEST);
        let tmp = dir.join(format!(".{MANIFEST}.tmp"));
        let json = serde_json::to_vec_pretty(m).expect("a manifest serializes");
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&json).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        // The rename itself is durable once the directory is synced.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        self.prune(m.id);
        Ok(())
    }

    /// Checkpoint ids present, newest first.
    fn ids(&self) -> Vec<u64> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut ids: Vec<u64> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_prefix("ckpt-")?.parse().ok())
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids
    }

    fn prune(&self, newest: u64) {
        let mut complete = 0;
        for id in self.ids() {
            let dir = self.dir(id);
            let done = dir.join(MANIFEST).exists();
            let keep = id > newest || (done && complete < KEEP);
            if done && id <= newest {
                complete += 1;
            }
            if !keep {
                let _ = fs::remove_dir_all(&dir);
            }
        }
    }

    /// The newest complete checkpoint whose every part checks out. Each one refused on the
    /// way (a truncated part, a wrong checksum, a manifest that does not parse) is reported to
    /// `refused` with the reason, and the one before it is tried. One of another format is an
    /// error: the ones before it are older still.
    pub fn load_newest(
        &self,
        refused: impl FnMut(&CheckpointError),
    ) -> Result<Option<Loaded>, CheckpointError> {
        self.load_newest_where(refused, |_| Ok(()))
    }

    /// `load_newest`, refusing also a checkpoint that `holds` finds does not match what is
    /// outside it (the output files it names shorter than it says, after a power loss): the
    /// one before is tried.
    pub fn load_newest_where(
        &self,
        mut refused: impl FnMut(&CheckpointError),
        holds: impl Fn(&Loaded) -> Result<(), String>,
    ) -> Result<Option<Loaded>, CheckpointError> {
        for id in self.ids() {
            let dir = self.dir(id);
            if !dir.join(MANIFEST).exists() {
                continue;
            }
            match load(&dir).and_then(|l| match holds(&l) {
                Ok(()) => Ok(l),
                Err(why) => Err(corrupt(&dir, why)),
            }) {
                Ok(l) => return Ok(Some(l)),
                Err(CheckpointError::OtherFormat { path, found, .. }) => {
                    let root = self.root.clone();
                    return Err(CheckpointError::OtherFormat { path, root, found });
                }
                Err(e) => refused(&e),
            }
        }
        Ok(None)
    }

    /// The next checkpoint id after every one present.
    pub fn next_id(&self) -> u64 {
        self.ids().first().map_or(1, |i| i + 1)
    }
}

fn load(dir: &Path) -> Result<Loaded, CheckpointError> {
    let path = dir.join(MANIFEST);
    let text = fs::read(&path).map_err(io(&path))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| corrupt(&path, format!("unreadable manifest: {e}")))?;
    if manifest.version != FORMAT_VERSION {
        return Err(CheckpointError::OtherFormat {
            path: dir.to_path_buf(),
            root: dir.to_path_buf(),
            found: manifest.version,
        });
    }
    let mut workers = vec![None; manifest.workers];
    let mut writer = None;
    let mut producers = Vec::new();
    for entry in &manifest.parts {
        let payload = read_part(&dir.join(&entry.file), entry)?;
        if entry.file == "writer.bin" {
            writer = Some(payload);
        } else if entry.file.starts_with("producer-") {
            producers.push(payload);
        } else if let Some(i) = entry
            .file
            .strip_prefix("part-")
            .and_then(|f| f.strip_suffix(".bin"))
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|i| *i < manifest.workers)
        {
            workers[i] = Some(payload);
        } else {
            return Err(corrupt(&path, format!("unknown part {}", entry.file)));
        }
    }
    let workers = workers
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.ok_or_else(|| corrupt(&path, format!("no part for worker {i}"))))
        .collect::<Result<_, _>>()?;
    Ok(Loaded {
        manifest,
        dir: dir.to_path_buf(),
        workers,
        writer,
        producers,
    })
}

fn read_part(path: &Path, entry: &PartEntry) -> Result<Vec<u8>, CheckpointError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut head = [0u8; 20];
    f.read_exact(&mut head)
        .map_err(|_| corrupt(path, "truncated header"))?;
    if &head[..4] != MAGIC {
        return Err(corrupt(path, "not a checkpoint part"));
    }
    let version = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(corrupt(path, format!("format version {version}")));
    }
    let len = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(head[16..20].try_into().expect("4 bytes"));
    if len != entry.bytes || crc != entry.crc32 {
        return Err(corrupt(path, "does not match its manifest entry"));
    }
    let mut payload = Vec::with_capacity(len as usize);
    f.read_to_end(&mut payload).map_err(io(path))?;
    if payload.len() as u64 != len {
        return Err(corrupt(
            path,
            format!("truncated: {} of {len} bytes", payload.len()),
        ));
    }
    if crc32fast::hash(&payload) != crc {
        return Err(corrupt(path, "checksum mismatch"));
    }
    Ok(payload)
}

/// A part's payload: bincode with variable-length integers (string lengths and ids are
/// mostly small: fixed eight-byte lengths made parts a third bigger).
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, bincode::Error> {
    use bincode::Options;
    bincode::DefaultOptions::new().serialize(v)
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, bincode::Error> {
    use bincode::Options;
    bincode::DefaultOptions::new().deserialize(bytes)
}

/// A test hook: `LIVESELL_CHECKPOINT_WRITE_DELAY_MS` holds every part between its temporary
/// file and its rename, so that a test can kill the process in the middle of a checkpoint.
fn write_delay() {
    use std::sync::OnceLock;
    static DELAY: OnceLock<Option<u64>> = OnceLock::new();
    let d = DELAY.get_or_init(|| {
        std::env::var("LIVESELL_CHECKPOINT_WRITE_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(ms) = d {
        std::thread::sleep(std::time::Duration::from_millis(*ms));
    }
}

/// The one `&'static str` of a value read back from a checkpoint. The values are the few
/// labels the engine itself writes (states, reasons, table names), so the set stays tiny.
pub fn intern(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(v) = seen.get(s) {
        return v;
    }
    let v: &'static str = Box::leak(s.to_string().into_boxed_str());
    seen.insert(v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(store: &Store, id: u64, parts: &[(&str, &[u8])]) -> Manifest {
        let parts = parts
            .iter()
            .map(|(f, p)| store.write_part(id, f, p).unwrap())
            .collect();
        Manifest {
            version: FORMAT_VERSION,
            id,
            workers: 1,
            parts,
            positions: vec![Position {
                topic: "t".into(),
                partition: 0,
                next: id * 10,
            }],
            open_sessions: 1,
            written_at_ms: 0,
            took_ms: 0.0,
        }
    }

    #[test]
    fn a_checkpoint_whose_outputs_do_not_hold_falls_back_to_the_one_before() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        for (id, w) in [(1, b"short"), (2, b"long!")] {
            let m = manifest(&store, id, &[("part-0.bin", b"state"), ("writer.bin", w)]);
            store.commit(&m).unwrap();
        }
        let mut why = Vec::new();
        let l = store
            .load_newest_where(
                |e| why.push(e.to_string()),
                |l| match l.writer.as_deref() {
                    Some(b"long!") => Err("decisions.jsonl has 10 bytes, fewer than 20".into()),
                    _ => Ok(()),
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(l.manifest.id, 1);
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("fewer than 20"), "{why:?}");
    }

    #[test]
    fn the_newest_complete_checkpoint_is_read_and_a_damaged_one_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        assert!(store.load_newest(|_| panic!()).unwrap().is_none());
        for id in 1..=3 {
            let m = manifest(
                &store,
                id,
                &[("part-0.bin", b"state"), ("writer.bin", b"w")],
            );
            store.commit(&m).unwrap();
        }
        // Pruned to the newest two.
        assert_eq!(store.ids(), vec![3, 2]);
        // An unfinished checkpoint (no manifest) is skipped silently.
        store.write_part(4, "part-0.bin", b"half").unwrap();
        let l = store.load_newest(|e| panic!("{e}")).unwrap().unwrap();
        assert_eq!(l.manifest.id, 3);
        assert_eq!(l.workers, vec![b"state".to_vec()]);
        assert_eq!(l.writer.as_deref(), Some(&b"w"[..]));
        // Truncate the newest complete one's part: refused with a reason, the previous used.
        let part = store.dir(3).join("part-0.bin");
        let bytes = fs::read(&part).unwrap();
        fs::write(&part, &bytes[..bytes.len() - 2]).unwrap();
        let mut why = Vec::new();
        let l = store
            .load_newest(|e| why.push(e.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(l.manifest.id, 2);
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("truncated"), "{why:?}");
        // A flipped byte fails the checksum.
        let part = store.dir(2).join("part-0.bin");
        let mut bytes = fs::read(&part).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        fs::write(&part, &bytes).unwrap();
        let mut why = Vec::new();
        assert!(
            store
                .load_newest(|e| why.push(e.to_string()))
                .unwrap()
                .is_none()
        );
        assert!(why[1].contains("checksum"), "{why:?}");
        assert_eq!(store.next_id(), 5);
    }

    /// A checkpoint an older build wrote (format 2, before records were kept per kind) is
    /// refused with a message that says what to do, not misread, skipped or deleted.
    #[test]
    fn a_checkpoint_of_another_format_is_refused_with_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let mut m = manifest(&store, 7, &[("part-0.bin", b"state")]);
        store.commit(&m).unwrap();
        m.version = 2;
        let path = store.dir(7).join(MANIFEST);
        fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
        let Err(e) = store.load_newest(|e| panic!("{e}")) else {
            panic!("a checkpoint of format 2 was read");
        };
        let shown = e.to_string();
        assert!(shown.contains("checkpoint format 2"), "{shown}");
        assert!(shown.contains("this build reads format 3"), "{shown}");
        assert!(
            shown.contains("finish its shows with the build that wrote it"),
            "{shown}"
        );
        assert!(shown.contains(&format!("move {} away", tmp.path().display())));
        assert!(path.exists(), "nothing is deleted");
    }

    #[test]
    fn interned_strings_are_one_static_each() {
        let a = intern(&String::from("expired"));
        let b = intern("expired");
        assert!(std::ptr::eq(a, b));
    }
}
