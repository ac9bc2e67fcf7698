//! The live input's reader with a journal (`io::journal`): what it takes is journaled and synced before the pipeline sees it and before an action is answered (one sync for whatever came meanwhile), each quiet spell too, and an earlier run's journal is read back first.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::domain::time::Micros;
use crate::io::journal::{Record, Replay, Writer};

/// What goes to the pipeline's line reader: whole lines; for the replay's, where the replay
/// file stands after them; for an action with a journal, who waits for it to be durable.
pub struct Entry {
    pub bytes: Vec<u8>,
    pub replay_end: Option<u64>,
    pub durable: Option<tokio::sync::oneshot::Sender<()>>,
}

/// At most this many bytes of actions share one sync (the rest wait for the next).
const GROUP_BYTES: usize = 4 << 20;

/// A clock that says what time a quiet spell noticed (`None`: unknown).
pub type Clock = Arc<dyn Fn() -> Option<Micros> + Send + Sync>;

pub struct Journaled {
    writer: Writer,
    /// An earlier run's records, read back before anything new.
    earlier: Option<Replay>,
    /// The show clock, read when a quiet spell is noticed (set once the input exists).
    clock: Arc<std::sync::OnceLock<Clock>>,
    /// The last quiet spell's time as journaled, which the line reader's clock reports
    /// (`i64::MIN`: none), so that a spell read back has the time it had.
    heartbeat: Arc<AtomicI64>,
    current: Vec<u8>,
    pos: usize,
}

impl Journaled {
    /// A reader that journals to `writer`, reading `earlier` back first, noting quiet spells
    /// at the time `clock` says once it is set; returns it with the clock the line reader
    /// reports quiet spells with.
    pub fn new(
        writer: Writer,
        earlier: Option<Replay>,
        clock: Arc<std::sync::OnceLock<Clock>>,
    ) -> (Journaled, Clock) {
        let heartbeat = Arc::new(AtomicI64::new(i64::MIN));
        let said = heartbeat.clone();
        let reported: Clock = Arc::new(move || {
            let h = said.load(Ordering::Acquire);
            (h != i64::MIN).then_some(h)
        });
        let j = Journaled {
            writer,
            earlier,
            clock,
            heartbeat,
            current: Vec::new(),
            pos: 0,
        };
        (j, reported)
    }

    /// The next bytes for the line reader: an earlier run's, then new entries once journaled;
    /// a quiet spell (`WouldBlock`) once journaled with its time.
    pub(super) fn read(
        &mut self,
        rx: &Receiver<Entry>,
        taken: impl Fn(usize),
        idle: Duration,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        loop {
            if self.pos < self.current.len() {
                let n = buf.len().min(self.current.len() - self.pos);
                buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if let Some(earlier) = &mut self.earlier {
                match earlier.next_record()? {
                    Some(Record::Lines { bytes, .. }) => {
                        (self.current, self.pos) = (bytes, 0);
                        continue;
                    }
                    Some(Record::Quiet { heartbeat }) => return Err(self.quiet(heartbeat)),
                    None => {
                        self.earlier = None;
                        continue;
                    }
                }
            }
            let first = match rx.recv_timeout(idle) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) => {
                    let heartbeat = self.clock.get().and_then(|c| c());
                    self.writer.append_quiet(heartbeat)?;
                    self.writer.sync()?;
                    return Err(self.quiet(heartbeat));
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            };
            let mut group = vec![first];
            let mut size = group[0].bytes.len();
            while size < GROUP_BYTES {
                match rx.try_recv() {
                    Ok(e) => {
                        size += e.bytes.len();
                        group.push(e);
                    }
                    Err(_) => break,
                }
            }
            taken(size);
            // On a failure the group is not answered (its senders see the error) and the
            // input stops with it: nothing the pipeline decides is missing from the journal.
            for e in &group {
                self.writer.append_lines(&e.bytes, e.replay_end)?;
            }
            self.writer.sync()?;
            let mut bytes = Vec::with_capacity(size);
            for e in group {
                bytes.extend_from_slice(&e.bytes);
                if let Some(done) = e.durable {
                    let _ = done.send(());
                }
            }
            (self.current, self.pos) = (bytes, 0);
        }
    }

    fn quiet(&self, heartbeat: Option<Micros>) -> io::Error {
        self.heartbeat
            .store(heartbeat.unwrap_or(i64::MIN), Ordering::Release);
        io::ErrorKind::WouldBlock.into()
    }
}
