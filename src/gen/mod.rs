//! Synthetic live shows: realistic multi-platform comment, order, stock and director streams.
//!
//! The generator is a small discrete-event simulation. Every show (session) has a run sheet of
//! 8–20 products that a host activates one after another; viewers on TikTok, Facebook, Instagram,
//! YouTube (and a few on Twitch and the web store) chat and claim in many shapes, web shoppers tap
//! to reserve, the shop backend reports payments (most reservation holders pay, some only after
//! their hold expired, a few orders are refunded later), moderators answer some escalations and
//! the warehouse corrects and restocks pools. A simplified allocation model (pools, holds,
//! waitlists, expiries) decides who gets to pay, so orders look like the ones a real show
//! produces: scarce "hot" products sell out and get oversold now and then.
//!
//! Each platform stamps event time its own way (`ts`: integer epoch milliseconds on TikTok, whole
//! seconds on Facebook and Instagram, microseconds on YouTube, milliseconds elsewhere) and
//! delivers with its own delay. Lines are written in **arrival** order, so the stream is out of
//! event-time order, but every line arrives less than 1800 ms after its stamped `ts`: any line's
//! `ts` is at least the largest `ts` written before it minus 1800 ms, within the default allowed
//! lateness of 2000 ms.
//!
//! Memory stays small whatever the size: only the simulation agenda (pending comments, payments,
//! expiries), the per-show model and a reorder buffer of the last ~2 s of lines are held.

mod alloc;
mod chatter;
mod claims;
mod emit;
mod format;
mod phrases;
mod platforms;
#[cfg(test)]
mod reading;
mod runsheet;
mod shape;
mod show;
#[cfg(test)]
mod tests;
mod texts;
mod viewers;
mod words;

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Write};

use fastrand::Rng;

use crate::domain::time::days_from_civil;
use format::Id;
use show::Show;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Seed of the random generator: the same config always gives the same bytes.
    pub seed: u64,
    /// Lines to write (at least; the last simulated instant is completed).
    pub events: u64,
    /// Shows running at the same time; each slot runs shows back to back.
    pub sessions: u32,
    /// Event time of the first show's start, epoch milliseconds.
    pub start_ms: i64,
    /// Stop once the simulated clock passes this many hours after the start (a day of
    /// back-to-back shows per slot: `--hours 24`), or at `events`, whichever comes first.
    pub hours: Option<u32>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            events: 10_000,
            sessions: 1,
            // 2026-11-21T20:00:00Z
            start_ms: days_from_civil(2026, 11, 21) * 86_400_000 + 20 * 3_600_000,
            hours: None,
        }
    }
}

/// Writes `cfg.events` (approximately, at least) JSONL lines to `out`, in arrival order, calling progress(n_written) every 65536 lines.
///
/// Returns the number of lines written. `progress` is also called once at the end with the
/// final count when that is not a multiple of 65536. Output is buffered internally; `out` is
/// flushed before returning.
pub fn generate(
    cfg: &GenConfig,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> io::Result<u64> {
    Gen::new(cfg, out, progress).run()
}

const PROGRESS_EVERY: u64 = 65_536;
/// Every line arrives strictly less than this many ms after its stamped `ts`.
const MAX_DELAY_MS: i64 = 1_799;

enum StockChange {
    Set(i64),
    Delta(i64),
}

struct OrderLine {
    order_id: Id,
    platform: u8,
    user: u32,
    p: usize,
    v: usize,
    qty: u32,
    amount: i64,
    reservation_id: Option<String>,
}

struct Moderation {
    escalation_id: String,
    platform: u8,
    user: u32,
    claim_key: String,
    p: usize,
    v: usize,
    q: u32,
    accept: bool,
    /// A second answer or an answer to something never escalated: no effect on the model.
    idle: bool,
}

enum Act {
    StartShow {
        slot: u32,
    },
    Activate {
        p: usize,
    },
    Flash {
        p: usize,
    },
    RestorePrice {
        p: usize,
        price: i64,
    },
    EndSegment {
        p: usize,
    },
    EndShow,
    /// The chat of an ended show dies down: no more comments or taps.
    Quiet,
    Comment,
    Tap,
    Expire {
        res: u32,
    },
    Pay {
        res: u32,
    },
    Refund(Box<OrderLine>),
    Moderate(Box<Moderation>),
    Stock {
        p: usize,
        v: usize,
        change: StockChange,
    },
}

struct Sched {
    t: i64,
    seq: u64,
    show: u32,
    act: Act,
}
impl PartialEq for Sched {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Sched {}
impl PartialOrd for Sched {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Sched {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.t, self.seq).cmp(&(o.t, o.seq))
    }
}

struct Line {
    arrival: i64,
    seq: u64,
    text: String,
}
impl PartialEq for Line {
    fn eq(&self, o: &Self) -> bool {
        (self.arrival, self.seq) == (o.arrival, o.seq)
    }
}
impl Eq for Line {}
impl PartialOrd for Line {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Line {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.arrival, self.seq).cmp(&(o.arrival, o.seq))
    }
}

struct Gen<'a> {
    rng: Rng,
    target: u64,
    /// The simulated clock stops here (`GenConfig::hours`).
    until: i64,
    agenda: BinaryHeap<Reverse<Sched>>,
    sched_seq: u64,
    shows: HashMap<u32, Show>,
    shows_started: u32,
    comment_seq: [u64; 6],
    request_seq: u64,
    order_seq: u64,
    /// Reorder buffer: lines not yet written, by arrival time.
    reorder: BinaryHeap<Reverse<Line>>,
    line_seq: u64,
    pushed: u64,
    written: u64,
    buf: Vec<u8>,
    spare: Vec<String>,
    out: &'a mut dyn Write,
    progress: &'a mut dyn FnMut(u64),
    /// Every comment with its Intent, for the tests that read them as the processor does.
    #[cfg(test)]
    log: Option<tests::Log>,
}

impl<'a> Gen<'a> {
    fn new(cfg: &GenConfig, out: &'a mut dyn Write, progress: &'a mut dyn FnMut(u64)) -> Self {
        let mut g = Gen {
            rng: Rng::with_seed(cfg.seed),
            target: cfg.events,
            until: cfg
                .hours
                .map_or(i64::MAX, |h| cfg.start_ms + h as i64 * 3_600_000),
            agenda: BinaryHeap::new(),
            sched_seq: 0,
            shows: HashMap::new(),
            shows_started: 0,
            comment_seq: [0; 6],
            request_seq: 0,
            order_seq: 0,
            reorder: BinaryHeap::new(),
            line_seq: 0,
            pushed: 0,
            written: 0,
            buf: Vec::with_capacity(1 << 17),
            spare: Vec::new(),
            out,
            progress,
            #[cfg(test)]
            log: None,
        };
        for slot in 0..cfg.sessions.max(1) {
            let t = if slot == 0 {
                cfg.start_ms
            } else {
                cfg.start_ms + g.rng.i64(0..=20_000)
            };
            g.push_sched(t, 0, Act::StartShow { slot });
        }
        g
    }

    fn run(&mut self) -> io::Result<u64> {
        while let Some(Reverse(s)) = self.agenda.pop() {
            if self.pushed >= self.target || s.t > self.until {
                break;
            }
            // Everything still to come happens at or after s.t, is stamped at most 999 ms
            // earlier (whole-second platforms) and arrives after its stamp.
            self.flush_before(s.t - 1000)?;
            self.handle(s);
        }
        self.flush_before(i64::MAX)?;
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.out.flush()?;
        if !self.written.is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(self.written);
        }
        Ok(self.written)
    }

    fn flush_before(&mut self, limit: i64) -> io::Result<()> {
        while self.reorder.peek().is_some_and(|l| l.0.arrival < limit) {
            let Some(Reverse(line)) = self.reorder.pop() else {
                break;
            };
            let mut text = line.text;
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.push(b'\n');
            self.written += 1;
            if self.buf.len() >= 1 << 16 {
                self.out.write_all(&self.buf)?;
                self.buf.clear();
            }
            if self.written.is_multiple_of(PROGRESS_EVERY) {
                (self.progress)(self.written);
            }
            if self.spare.len() < 4096 {
                text.clear();
                self.spare.push(text);
            }
        }
        Ok(())
    }

    fn push_sched(&mut self, t: i64, show: u32, act: Act) {
        self.sched_seq += 1;
        self.agenda.push(Reverse(Sched {
            t,
            seq: self.sched_seq,
            show,
            act,
        }));
    }

    fn schedule(&mut self, show: &mut Show, t: i64, act: Act) {
        show.pending += 1;
        self.push_sched(t, show.num, act);
    }

    fn handle(&mut self, s: Sched) {
        if let Act::StartShow { slot } = s.act {
            self.start_show(s.t, slot);
            return;
        }
        let Some(mut show) = self.shows.remove(&s.show) else {
            return;
        };
        show.pending -= 1;
        let t = s.t;
        match s.act {
            Act::StartShow { .. } => {}
            Act::Activate { p } => self.activate(&mut show, t, p),
            Act::Flash { p } => self.flash(&mut show, t, p),
            Act::RestorePrice { p, price } => {
                if show.active == Some(p) {
                    show.products[p].price = price;
                    self.emit_price(&show, t, p);
                }
            }
            Act::EndSegment { p } => self.end_segment(&mut show, t, p),
            Act::EndShow => {
                // SPEC 3.5: the host ends the show; some viewers still claim and tap for a
                // while (rejected, show_ended), payments of live holds still come in.
                self.emit_director(&show, t, "end", None);
                show.after_end = true;
                let quiet = t + self.rng.i64(10_000..=30_000);
                self.schedule(&mut show, quiet, Act::Quiet);
                let at = t + self.rng.i64(5_000..=60_000);
                self.push_sched(at, 0, Act::StartShow { slot: show.slot });
            }
            Act::Quiet => show.ended = true,
            Act::Comment => self.comment(&mut show, t),
            Act::Tap => self.tap(&mut show, t),
            Act::Expire { res } => self.expire(&mut show, t, res),
            Act::Pay { res } => self.pay(&mut show, t, res),
            Act::Refund(order) => self.refund(&mut show, t, *order),
            Act::Moderate(m) => self.moderate(&mut show, t, *m),
            Act::Stock { p, v, change } => self.stock(&mut show, t, p, v, change),
        }
        if !(show.ended && show.pending == 0) {
            self.shows.insert(show.num, show);
        }
    }
}
