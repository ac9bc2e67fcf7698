//! Session application: released events and fired timers applied to their sessions, their
//! decisions turned into outputs, and closed sessions written out and freed (SPEC 3.5).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::cart::{CartState, cart_id};
use crate::domain::decision::{Body as DBody, Decision, ResEvent};
use crate::domain::draft::draft_line;
use crate::domain::event::{Body, Director, Event};
use crate::domain::notify::{Templates, messages};
use crate::domain::order::ReplayKey;
use crate::domain::text::normalize_code;
use crate::records::{About, Kind, Line, Out, Reject, Show, View};
use crate::tables::rows::CommentRow;

use super::emit::{MetricSums, claimant, metrics, reject_outputs};
use super::slots::{OpenSlot, Sessions, track_reservation};

/// How long, in event time, a closed session's redelivery keys are kept after its close: a
/// copy of one of its events within this is counted as a redelivery (SPEC 3.5); after it, the
/// keys are forgotten and such a copy is a `session_closed` reject (schemas/README.md).
pub const REDELIVERIES_KEPT_US: i64 = 3_600_000_000;

/// An event waiting to be final, with what its reject would need.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub key: ReplayKey,
    pub late: bool,
    /// Index of the session's slot in `Sessions`.
    pub slot: u32,
    pub event: Box<Event>,
    /// Its byte offset, for the dead letter should its session be closed by then.
    pub offset: u64,
    /// A copy of an event that arrived before it (SPEC 2): only counted.
    pub redelivery: bool,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// The sessions of this worker and what their decisions feed.
#[derive(Default)]
pub struct Shows {
    pub sessions: Sessions,
    decisions: Vec<Decision>,
    pub metric_sums: MetricSums,
    /// Open sessions' next timers, `(due, slot)` (SPEC 2: they fire on the watermark).
    pub(super) timers: BTreeSet<(i64, u32)>,
    /// Closed sessions' redelivery keys to forget, `(when, slot)`.
    pub(super) forget: BTreeSet<(i64, u32)>,
    /// The closed slots in `forget`: their keys are still kept (and grow with new events).
    /// A closed slot not in it has forgotten its keys and keeps no new ones, so a closed show
    /// that goes on receiving events holds no memory for them.
    pub(super) keeping: rustc_hash::FxHashSet<u32>,
    /// Emit an order-out record for every reservation change (winners to orders).
    pub drafts: bool,
    /// Emit the buyer's cart after every reservation change (the carts are kept regardless:
    /// the `carts` table is theirs).
    pub cart_updates: bool,
    /// Write the buyers' messages (`notifications.jsonl`, `livesell.notifications`).
    pub messages: Option<Arc<Templates>>,
    /// Gather the snapshot tables' rows (only when there is a directory to write them to).
    pub tables: bool,
    /// Send a closing session's last live view (`livesell serve`).
    pub live: bool,
    /// Tables that cannot be built halt the run: their rows are not dropped in silence.
    pub halt: crate::records::Halt,
    /// No decision is keyed below this: the writer may have written everything under it.
    pub floor: i64,
    pub closed: u64,
    /// Redeliveries of closed sessions' events (their summaries are final, SPEC 3.5).
    pub late_redeliveries: u64,
    /// Something was applied since the last snapshot, and since the last live views.
    pub changed: bool,
    pub live_changed: bool,
    /// The last event applied had been sent by an earlier run (a replay of the committed
    /// prefix): timers firing meanwhile had been sent too.
    pub replaying: bool,
}

impl Shows {
    pub fn new(drafts: bool, tables: bool, live: bool) -> Shows {
        Shows {
            drafts,
            tables,
            live,
            floor: i64::MIN,
            ..Default::default()
        }
    }

    /// Raise `halt` when this engine cannot go on.
    pub fn halting(mut self, halt: crate::records::Halt) -> Shows {
        self.halt = halt;
        self
    }

    /// Emit every cart update too, and the buyers' messages from `messages`' templates.
    pub fn with_carts(mut self, cart_updates: bool, messages: Option<Arc<Templates>>) -> Shows {
        self.cart_updates = cart_updates;
        self.messages = messages;
        self
    }

    /// Applies one final event to its session. An event of a session closed by then is a
    /// `session_closed` reject, with its bytes, from `source`.
    pub fn apply(&mut self, p: Pending, sent: bool, source: &str, out: &mut Vec<Out>) {
        let index = p.slot;
        if p.redelivery {
            // Counted in its session's figures while the session is open at its place in
            // event time; a closed session's figures are final.
            let open = self.sessions.slots[index as usize].open.as_deref_mut();
            match open.filter(|o| o.session.close_at().is_none_or(|c| c > p.key.eff)) {
                Some(o) => o.session.count_redelivery(),
                None => self.late_redeliveries += 1,
            }
            return;
        }
        self.replaying = sent;
        let Some(open) = self.sessions.slots[index as usize].open.as_deref_mut() else {
            closed_reject(p, source, sent, out);
            return;
        };
        self.changed = true;
        self.live_changed = true;
        let eff = p.key.eff;
        open.last_t = eff;
        open.first_t.get_or_insert(eff);
        open.live_dirty = true;
        // The session's timers due by then fire first, as decisions of their own: the event's
        // decisions (and the claim it counts) are then the same whether a timer fired here or
        // earlier, on the watermark.
        self.decisions.clear();
        open.session.advance(eff, &mut self.decisions);
        if !self.decisions.is_empty() {
            self.emit(index, false, sent, out);
        }
        let Some(open) = self.sessions.slots[index as usize].open.as_deref_mut() else {
            return;
        };
        self.decisions.clear();
        if let Some(detail) = open.session.overflow(&p.event) {
            reject(p, source, sent, ("overflow", detail), out);
            return;
        }
        let applied = match apply_guarded(&mut open.session, &p, eff, &mut self.decisions) {
            Ok(applied) => applied,
            Err(why) => {
                // The decisions made before the fault stand; the event is reported, the run goes on.
                self.emit(index, false, sent, out);
                reject(p, source, sent, ("internal", why), out);
                return;
            }
        };
        if applied {
            self.record(index, &p);
        }
        // SPEC 4's `claims`: the claim the event made counts once, at its first claim decision.
        let opens_claim = applied
            && self.sessions.slots[index as usize]
                .open
                .as_ref()
                .is_some_and(|o| o.session.counted_a_claim());
        self.emit(index, opens_claim, sent, out);
        if applied {
            self.reschedule(index);
        } else {
            self.close(index, out);
            closed_reject(p, source, sent, out);
        }
    }

    /// What the tables keep of an applied event besides its decisions.
    fn record(&mut self, index: u32, p: &Pending) {
        let slot = &mut self.sessions.slots[index as usize];
        let Some(open) = slot.open.as_deref_mut() else {
            return;
        };
        match &p.event.body {
            Body::Comment {
                platform,
                comment_id,
                user_id,
                user_name,
                text,
            } if self.tables => {
                open.comments += 1;
                let row = CommentRow {
                    seq: open.comments,
                    ts: p.event.ts,
                    platform,
                    comment_id,
                    user_id,
                    user_name: user_name.as_deref(),
                    text,
                    reading: open.session.last_reading(),
                    late: p.late,
                };
                open.rows.comment(&slot.id, &row);
            }
            Body::Director(Director::Product(def)) => {
                let seq = open.seq as i64 + 1;
                open.catalog
                    .insert(normalize_code(&def.code), (seq, def.clone()));
            }
            Body::Director(Director::Price { code, price_cents }) => {
                if let Some((_, def)) = open.catalog.get_mut(&normalize_code(code)) {
                    def.price_cents = *price_cents;
                }
            }
            _ => {}
        }
    }

    /// The decisions just made by slot `index`, as outputs. Each is keyed by its own time (an
    /// expiry at its `expires_at`, wherever it fired from), so the output order does not depend
    /// on when a timer fired.
    fn emit(&mut self, index: u32, opens_claim: bool, sent: bool, out: &mut Vec<Out>) {
        let slot = &mut self.sessions.slots[index as usize];
        let Some(open) = slot.open.as_deref_mut() else {
            return;
        };
        let sid = slot.id.as_str();
        let mut counted_claim = false;
        for d in &self.decisions {
            open.seq += 1;
            let key = (d.ts.max(self.floor), slot.order, open.seq, 0);
            let mut cart = None;
            if let DBody::Reservation(r) = &d.body {
                let currency = open.session.currency_of(&r.sku);
                if self.drafts {
                    if let Some(line) = draft_line(sid, d, currency) {
                        let about = About::Nothing;
                        out.push(Out::Record(
                            Kind::Draft,
                            Line {
                                key,
                                line,
                                sent,
                                about,
                            },
                        ));
                    }
                }
                let (buyer, c) = open.carts.apply(r, d.ts);
                if self.cart_updates {
                    let line = c.to_json(sid, buyer, currency);
                    let f = c.figures();
                    let about = About::Cart {
                        cart_id: cart_id(buyer),
                        // As a JSON reader's `as_i64` would: a sum past 64 bits counts as none.
                        unpaid_cents: i64::try_from(f.unpaid_cents).unwrap_or(0),
                        paid: f.state == CartState::Paid,
                    };
                    out.push(Out::Record(
                        Kind::Cart,
                        Line {
                            key,
                            line,
                            sent,
                            about,
                        },
                    ));
                }
                cart = Some(&*c);
            }
            if let Some(t) = &self.messages {
                let (hold, currency) = match &d.body {
                    DBody::Claim(c) => (
                        hold_of(&self.decisions, c.reservation_id.as_deref()),
                        c.sku.as_deref().and_then(|s| open.session.currency_of(s)),
                    ),
                    DBody::Reservation(r) => (None, open.session.currency_of(&r.sku)),
                    _ => (None, None),
                };
                // A decision's messages in their order: the key's last part tells them apart.
                for (n, line) in messages(t, sid, d, hold, cart, currency)
                    .into_iter()
                    .enumerate()
                {
                    let key = (key.0, key.1, key.2, n as u64);
                    let about = About::Nothing;
                    out.push(Out::Record(
                        Kind::Notification,
                        Line {
                            key,
                            line,
                            sent,
                            about,
                        },
                    ));
                }
            }
            let about = match &d.body {
                DBody::Claim(c) => About::Claim { sku: c.sku.clone() },
                _ => About::Nothing,
            };
            out.push(Out::Record(
                Kind::Decision,
                Line {
                    key,
                    line: d.to_json(sid),
                    sent,
                    about,
                },
            ));
            if self.tables {
                open.rows.decision(sid, open.seq as i64, d);
                track_reservation(d, open.seq as i64, &mut open.reservations);
            }
            metrics(sid, d, opens_claim && !counted_claim, &mut self.metric_sums);
            claimant(sid, d, &mut open.placed, &mut open.sent, out);
            counted_claim |= matches!(d.body, DBody::Claim(_));
        }
    }

    /// Registers slot `index` under its session's next timer. A registration earlier than the
    /// next timer is kept: every event puts the idle close off, and moving the registration
    /// each time would cost two tree updates an event; firing early does nothing and registers
    /// again.
    fn reschedule(&mut self, index: u32) {
        let slot = &mut self.sessions.slots[index as usize];
        let next = slot.open.as_ref().and_then(|o| o.session.next_timer());
        if slot.timer == next || next.is_some_and(|n| slot.timer.is_some_and(|t| t <= n)) {
            return;
        }
        if let Some(t) = slot.timer {
            self.timers.remove(&(t, index));
        }
        if let Some(t) = next {
            self.timers.insert((t, index));
        }
        slot.timer = next;
    }

    /// Fires every timer due at or before the watermark `due` (SPEC 2), session by session.
    pub fn fire(&mut self, due: i64, out: &mut Vec<Out>) {
        while let Some(&(t, index)) = self.timers.first() {
            if t > due {
                break;
            }
            self.timers.pop_first();
            let slot = &mut self.sessions.slots[index as usize];
            slot.timer = None;
            let Some(open) = slot.open.as_deref_mut() else {
                continue;
            };
            self.decisions.clear();
            open.session.advance(due, &mut self.decisions);
            if !self.decisions.is_empty() {
                open.live_dirty = true;
                self.changed = true;
                self.live_changed = true;
            }
            let closed = open.session.closed_at().is_some();
            self.emit(index, false, self.replaying, out);
            if closed {
                self.close(index, out);
            } else {
                self.reschedule(index);
            }
        }
        // Closed sessions' redelivery keys that have been kept long enough.
        while let Some(&(t, index)) = self.forget.first() {
            if t > due {
                break;
            }
            self.forget.pop_first();
            self.keeping.remove(&index);
            self.sessions.slots[index as usize].seen = Default::default();
        }
    }

    /// This activation's metric sums: to differential, and into each session's totals.
    pub fn drain_metrics(&mut self, out: &mut Vec<Out>) {
        for (key, amount) in self.metric_sums.drain() {
            if let Some(open) = self.sessions.open_mut(&key.session_id) {
                match open.cells.get_mut(&key) {
                    Some(total) => *total += amount,
                    None => {
                        open.cells.insert(key.clone(), amount);
                    }
                }
            }
            out.push(Out::View(View::Metric {
                key: Box::new(key),
                amount,
            }));
        }
    }

    /// SPEC 3.5: the session in slot `index` has closed. Its last rows and figures go out, its
    /// views are taken back out of differential, and its state is freed: what stays is the
    /// slot's id and order, and its redelivery keys for `REDELIVERIES_KEPT_US`.
    fn close(&mut self, index: u32, out: &mut Vec<Out>) {
        // The sums of this activation first, so that the session's totals are complete.
        self.drain_metrics(out);
        let slot = &mut self.sessions.slots[index as usize];
        let Some(mut open) = slot.open.take() else {
            return;
        };
        if let Some(t) = slot.timer.take() {
            self.timers.remove(&(t, index));
        }
        let id = slot.id.clone();
        let closed_at = open.session.closed_at().unwrap_or(open.last_t);
        if self.live {
            out.push(Out::View(View::Live(Box::new(
                open.session.live_view(&id, closed_at),
            ))));
        }
        if self.tables {
            if let Err(e) = open.snapshot(&id, true, out) {
                self.halt.raise(format!(
                    "cannot build the snapshot tables of session {id}: {e}"
                ));
            }
        }
        out.push(Out::Show(Show::Summary {
            session_id: id.clone(),
            json: summary_json(&open),
        }));
        out.push(Out::Show(Show::Closed {
            session_id: id.clone(),
            closed_at,
        }));
        for (key, total) in std::mem::take(&mut open.cells) {
            if total != 0 {
                out.push(Out::View(View::Metric {
                    key: Box::new(key),
                    amount: -total,
                }));
            }
        }
        for c in std::mem::take(&mut open.sent) {
            out.push(Out::View(View::Claimant {
                session_id: id.clone(),
                claimant: Box::new(c),
                diff: -1,
            }));
        }
        slot.seen.shrink_to_fit();
        self.forget
            .insert((closed_at.saturating_add(REDELIVERIES_KEPT_US), index));
        self.keeping.insert(index);
        self.closed += 1;
    }

    /// Whether a slot keeps the redelivery keys of new events: open, or closed and not yet
    /// past `REDELIVERIES_KEPT_US`.
    pub fn keeps_keys(&self, index: u32) -> bool {
        self.sessions.slots[index as usize].open.is_some() || self.keeping.contains(&index)
    }

    /// The live view of every open session changed since the last call.
    pub fn live_views(&mut self, out: &mut Vec<Out>) {
        self.live_changed = false;
        for slot in &mut self.sessions.slots {
            let Some(open) = slot.open.as_deref_mut().filter(|o| o.live_dirty) else {
                continue;
            };
            open.live_dirty = false;
            out.push(Out::View(View::Live(Box::new(
                open.session.live_view(&slot.id, open.last_t),
            ))));
        }
    }

    /// Every open session's snapshot rows (closed ones went at their close).
    pub fn snapshot(&mut self, out: &mut Vec<Out>) {
        for (id, open) in self.sessions.open_by_id() {
            if let Err(e) = open.snapshot(id, false, out) {
                self.halt.raise(format!(
                    "cannot build the snapshot tables of session {id}: {e}"
                ));
            }
        }
    }

    /// The summary of every open session (the input is over).
    pub fn summaries(&mut self, out: &mut Vec<Out>) {
        for (id, open) in self.sessions.open_by_id() {
            out.push(Out::Show(Show::Summary {
                session_id: id.to_string(),
                json: summary_json(open),
            }));
        }
    }
}

fn summary_json(open: &OpenSlot) -> String {
    serde_json::to_string(&open.session.summary())
        .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

/// SPEC 3.5: an event of a closed session is not applied; it is a reject at its effective
/// time, the event in the dead letter. Its `raw` is the event written back as a canonical line
/// (`Event::to_line`): keeping every line's own bytes until it is applied cost 15% of a run
/// (schemas/README.md).
pub fn closed_reject(p: Pending, source: &str, sent: bool, out: &mut Vec<Out>) {
    let detail = format!("session {} has closed", p.event.session_id);
    reject(p, source, sent, ("session_closed", detail), out);
}

/// An event its session does not take, as a reject with its bytes: `(reason, detail)`.
/// Applies an event to its session, turning an impossible state into an `Err` with its reason
/// (an `internal` dead letter) instead of a stopped worker: the session's own checks report
/// theirs, and a panic left in the rules is caught as a last resort (the session goes on from
/// the state the panic left; the reject says so).
fn apply_guarded(
    session: &mut crate::domain::session::Session,
    p: &Pending,
    eff: i64,
    decisions: &mut Vec<Decision>,
) -> Result<bool, String> {
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        session.apply(&p.event, eff, p.late, decisions)
    }));
    match applied {
        Ok(applied) => match session.take_fault() {
            None => Ok(applied),
            Some(why) => Err(why),
        },
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(format!("the rules stopped on this event: {what}"))
        }
    }
}

fn reject(p: Pending, source: &str, sent: bool, why: (&str, String), out: &mut Vec<Out>) {
    let reject = Reject {
        source: source.to_string(),
        source_index: p.key.source,
        line: p.key.position,
        offset: p.offset,
        reason: why.0.into(),
        detail: why.1,
        session_id: Some(p.event.session_id.to_string()),
        ts: Some(p.key.eff),
        raw: p.event.to_line().into_bytes(),
    };
    reject_outputs(Box::new(reject), p.key.eff, sent, out);
}

/// A reserving claim's reservation among the decisions made with it: its unit price and the
/// end of its hold.
fn hold_of(decisions: &[Decision], reservation: Option<&str>) -> Option<(i64, i64)> {
    let id = reservation?;
    decisions.iter().find_map(|d| match &d.body {
        DBody::Reservation(r) if &*r.reservation_id == id && r.event == ResEvent::Created => {
            Some((r.unit_price_cents, r.expires_at))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::parse::parse_line;

    const T0: i64 = 1_800_000_000_000_000;

    fn pending(shows: &mut Shows, line: u64, json: &str, out: &mut Vec<Out>) -> Pending {
        let event = parse_line(json.as_bytes()).expect("an event");
        let slot = shows.sessions.slot_of(&event.session_id, out);
        Pending {
            key: ReplayKey {
                eff: event.ts,
                rank: event.type_rank(),
                source: 0,
                position: line,
            },
            late: false,
            slot,
            event: Box::new(event),
            offset: 0,
            redelivery: false,
        }
    }

    /// Applies `lines` in order, numbered from 1.
    fn apply_all(shows: &mut Shows, lines: &[String], out: &mut Vec<Out>) {
        for (i, l) in lines.iter().enumerate() {
            let p = pending(shows, i as u64 + 1, l, out);
            shows.apply(p, false, "show", out);
        }
    }

    #[test]
    fn a_closed_session_is_written_out_and_freed() {
        let mut shows = Shows::new(true, true, false);
        let mut out = Vec::new();
        let ms = T0 / 1000;
        let lines = [
            format!(
                r#"{{"type":"director","session_id":"s","ts":{ms},"action":"config","idle_close_s":60}}"#
            ),
            format!(
                r#"{{"type":"director","session_id":"s","ts":{ms},"action":"product","code":"K1","price_cents":900,"variants":[{{"sku":"K1","stock":1}}]}}"#
            ),
            format!(
                r#"{{"type":"director","session_id":"s","ts":{ms},"action":"activate","code":"K1"}}"#
            ),
            format!(
                r#"{{"type":"comment","session_id":"s","ts":{},"platform":"tiktok","comment_id":"c1","user_id":"u1","text":"sold"}}"#,
                ms + 1000
            ),
            format!(
                r#"{{"type":"order","session_id":"s","ts":{},"order_id":"o1","platform":"tiktok","user_id":"u1","sku":"K1","qty":1,"amount_cents":900,"status":"paid"}}"#,
                ms + 2000
            ),
        ];
        apply_all(&mut shows, &lines, &mut out);
        shows.drain_metrics(&mut out);
        assert!(shows.sessions.slots[0].open.is_some());
        assert_eq!(shows.timers.len(), 1, "the session's close is its timer");
        out.clear();
        // The watermark passes the idle close (60 s after the order).
        shows.fire(T0 + 62_000_000, &mut out);
        let slot = &shows.sessions.slots[0];
        assert!(slot.open.is_none(), "the closed session's state is freed");
        assert!(shows.timers.is_empty());
        assert_eq!(shows.closed, 1);
        assert_eq!(slot.seen.len(), 0, "no redelivery keys were made here");
        // Its last rows and figures went out, and its views are taken back out of differential.
        let tables: Vec<&str> = out
            .iter()
            .filter_map(|o| match o {
                Out::Rows(r) => Some(r.table.as_str()),
                _ => None,
            })
            .collect();
        for t in ["comments", "claims", "orders", "gmv_minute", "claimants"] {
            assert!(tables.contains(&t), "{t} in {tables:?}");
        }
        let retracted: i64 = out
            .iter()
            .filter_map(|o| match o {
                Out::View(View::Metric { key, amount })
                    if key.metric == crate::records::Metric::GmvCents =>
                {
                    Some(*amount)
                }
                _ => None,
            })
            .sum();
        assert_eq!(
            retracted, -900,
            "the session's GMV leaves the maintained view"
        );
        assert!(
            out.iter()
                .any(|o| matches!(o, Out::View(View::Claimant { diff: -1, .. })))
        );
        assert!(
            out.iter()
                .any(|o| matches!(o, Out::Show(Show::Closed { .. })))
        );
        // A later event is a session_closed reject with its bytes; nothing is reopened.
        out.clear();
        let late = format!(
            r#"{{"type":"comment","session_id":"s","ts":{},"platform":"tiktok","comment_id":"c2","user_id":"u2","text":"sold"}}"#,
            ms + 70_000
        );
        let p = pending(&mut shows, 9, &late, &mut out);
        shows.apply(p, false, "show", &mut out);
        assert!(shows.sessions.slots[0].open.is_none());
        let dead: Vec<&str> = out
            .iter()
            .filter_map(|o| match o {
                Out::Record(Kind::DeadLetter, l) => Some(l.line.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(dead.len(), 1);
        assert!(
            dead[0].contains("session_closed") && dead[0].contains("c2"),
            "{}",
            dead[0]
        );
    }

    #[test]
    fn tables_that_cannot_be_built_halt_the_run_with_the_session_named() {
        let mut shows = Shows::new(false, true, false);
        let mut out = Vec::new();
        let ms = T0 / 1000;
        let lines = [
            format!(
                r#"{{"type":"director","session_id":"s","ts":{ms},"action":"config","idle_close_s":60}}"#
            ),
            format!(
                r#"{{"type":"comment","session_id":"s","ts":{},"platform":"tiktok","comment_id":"c1","user_id":"u1","text":"hi"}}"#,
                ms + 1000
            ),
        ];
        apply_all(&mut shows, &lines, &mut out);
        let open = shows.sessions.slots[0].open.as_mut().unwrap();
        open.rows.poison("a column came out short");
        assert!(!shows.halt.raised());
        shows.fire(T0 + 62_000_000, &mut out);
        // Not printed and dropped: the run stops with a message that names the session.
        assert!(shows.halt.raised());
        let m = shows.halt.message().unwrap();
        assert!(
            m.contains("session s") && m.contains("a column came out short"),
            "{m}"
        );
    }
}
