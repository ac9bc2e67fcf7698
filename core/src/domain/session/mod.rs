//! One show's state machine (SPEC 2–3.5): its state and `apply` here, each concern's rules beside.
//!
//! `Session::apply` is the sequential replay of SPEC 2: the pipeline feeds each session's events
//! in `(effective ts, type rank, arrival)` order and this decides, deterministically. It stays one
//! machine: each file below adds an `impl Session` block for one concern, with its tests.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::decision::{
    Body as DBody, Buyer, ClaimDecision, ClaimOutcome, Decision, OrderDecision, OrderOutcome,
    ResEvent, ReservationDecision, Summary,
};
use super::event::{Body, Event, Order, OrderStatus, StockChange, Text};
use super::grammar::{self, Reading, Reason};
use super::runsheet::{Config, RunSheet};
use super::time::Micros;

mod allocation;
mod comments;
mod director;
mod moderation;
mod orders;
mod statics;
mod stock;
mod timers;
mod views;

#[cfg(test)]
mod tests;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Waiting {
    claim_id: Text,
    buyer: Buyer,
    qty: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sku {
    pool: i64,
    held: i64,
    sold: i64,
    waitlist: VecDeque<Waiting>,
    holders: FxHashMap<Buyer, Text>,
    waiting: FxHashSet<Buyer>,
    bought: FxHashSet<Buyer>,
}

impl Sku {
    fn available(&self) -> i64 {
        self.pool - self.held - self.sold
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reservation {
    id: Text,
    claim_id: Text,
    sku: Text,
    qty: u64,
    buyer: Buyer,
    created_at: Micros,
    expires_at: Micros,
    unit_price_cents: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Escalation {
    claim_id: Text,
    buyer: Buyer,
    answered: bool,
    /// What the moderator needs to answer it (the live console).
    ts: Micros,
    text: Text,
    reason: Reason,
    sku: Option<Text>,
    qty: Option<u64>,
    candidates: Vec<String>,
}

/// A session's whole state serializes (a checkpoint, `livesell run --checkpoint-dir`); the
/// memo of readings is a cache and starts empty again.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Session {
    cfg: Config,
    sheet: RunSheet,
    ever_defined: FxHashSet<String>,
    active: Option<String>,
    skus: FxHashMap<String, Sku>,
    /// Live reservations only.
    reservations: FxHashMap<Text, Reservation>,
    expiry: BTreeSet<(Micros, Text)>,
    escalations: FxHashMap<Text, Escalation>,
    /// Unanswered escalations per reason, each in the order they were raised: the moderator
    /// queue counts them per reason and lists the oldest of each, so a filter by reason is
    /// never cut before it filters.
    #[serde(with = "statics::reason_keys")]
    open_escalations: BTreeMap<&'static str, BTreeSet<(Micros, Text)>>,
    buyers: FxHashSet<Buyer>,
    stats: Summary,
    /// How the last comment was read (the `reading` column of the comments table).
    last_reading: statics::Label,
    /// Readings of texts seen since the last director event.
    #[serde(skip)]
    readings: grammar::Memo,
    /// SPEC 3.5: the effective time of the first `end`, the close it sets (`E + close_after_s`),
    /// the close the latest applied event sets (`last + idle_close_s`), and the close once done.
    ended: Option<Micros>,
    /// The last event applied counted in `claims`.
    counted_claim: bool,
    close_by_end: Option<Micros>,
    close_by_idle: Option<Micros>,
    closed: Option<Micros>,
    /// A state the rules say cannot happen, met while applying the last event (a bug, or input
    /// the parser should have refused): the event's other decisions stand, and the pipeline
    /// writes an `internal` dead letter with this reason instead of stopping a worker.
    #[serde(skip)]
    fault: Option<String>,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event at its effective time `t`; decisions are appended to `out` in order.
    /// Every timer due at or before `t` fires first (SPEC 2). Returns false, applying nothing,
    /// when the session is closed by then: the event is a `session_closed` reject (SPEC 3.5).
    pub fn apply(&mut self, ev: &Event, t: Micros, late: bool, out: &mut Vec<Decision>) -> bool {
        self.advance(t, out);
        if self.closed.is_some() {
            return false;
        }
        self.apply_open(ev, t, late, out);
        // Every applied event, chatter included, puts the idle close off (at the value in force
        // after it: a config applies from its own `ts` on).
        self.close_by_idle = Some(t + self.cfg.idle_close_us);
        true
    }

    /// Why `ev` cannot be applied without a figure passing 64 bits (a pool, GMV, units sold),
    /// if it would: such an event is a reject, never a wrapped number.
    pub fn overflow(&self, ev: &Event) -> Option<String> {
        let sku = |k: &str| self.skus.get(k);
        match &ev.body {
            Body::Stock {
                sku: k,
                change: StockChange::Delta(n),
            } => {
                let pool = sku(k).map_or(0, |s| s.pool);
                pool.checked_add(*n)
                    .is_none()
                    .then(|| format!("the pool of {k} ({pool}) plus {n} passes 64 bits"))
            }
            Body::Order(o) => {
                let Ok(qty) = i64::try_from(o.qty) else {
                    return Some(format!("qty {} passes 64 bits", o.qty));
                };
                let (sold, pool) = sku(&o.sku).map_or((0, 0), |s| (s.sold, s.pool));
                let gmv = self.stats.gmv_cents;
                let fits = match o.status {
                    OrderStatus::Refunded => {
                        gmv.checked_sub(o.amount_cents).is_some()
                            && sold.checked_sub(qty).is_some()
                            && pool.checked_sub(qty).is_some()
                    }
                    _ => {
                        gmv.checked_add(o.amount_cents).is_some() && sold.checked_add(qty).is_some()
                    }
                };
                (!fits).then(|| {
                    format!(
                        "order {} would take GMV ({gmv}) or the units of {} past 64 bits",
                        o.order_id, o.sku
                    )
                })
            }
            _ => None,
        }
    }

    fn apply_open(&mut self, ev: &Event, t: Micros, late: bool, out: &mut Vec<Decision>) {
        self.counted_claim = false;
        if late {
            self.stats.late_events += 1;
        }
        let mut cx = Cx { t, late, out };
        match &ev.body {
            Body::Director(d) => self.director(d, &mut cx),
            Body::Stock { sku, change } => {
                let s = sku_entry(&mut self.skus, sku);
                match *change {
                    StockChange::Set(n) => s.pool = n,
                    StockChange::Delta(n) => s.pool += n,
                }
                self.after_pool_change(sku, &mut cx);
            }
            Body::Comment {
                platform,
                comment_id,
                user_id,
                text,
                ..
            } => self.comment(platform, comment_id, user_id, text, &mut cx),
            Body::Reserve {
                request_id,
                platform,
                user_id,
                sku,
                qty,
            } => {
                let buyer = Buyer {
                    platform: platform.clone(),
                    user_id: user_id.clone(),
                };
                self.count_claim();
                note_buyer(&mut self.buyers, &buyer);
                if self.ended.is_some() {
                    // SPEC 3.5: no tap-to-buy after the end, whatever the sku.
                    self.stats.rejected += 1;
                    cx.claim(
                        Text::concat(&["req:", request_id]),
                        buyer,
                        Some(sku.clone()),
                        Some(*qty),
                        ClaimOutcome::Rejected,
                        Some(Reason::ShowEnded),
                    );
                    return;
                }
                self.allocate(
                    Text::concat(&["req:", request_id]),
                    buyer,
                    sku,
                    *qty,
                    &mut cx,
                );
            }
            Body::Order(o) => self.order(o, &mut cx),
            Body::Moderation {
                escalation_id,
                decision,
            } => self.moderation(escalation_id, decision, &mut cx),
        }
    }

    /// The currency of the product a sku belongs to, as the run sheet stands now.
    pub fn currency_of(&self, sku: &str) -> Option<&str> {
        self.sheet.owner_of(sku)?.currency.as_deref()
    }

    /// How this session would read `text` now (its run sheet, active product and config), without
    /// applying it: the reading benchmark and the moderator's tools ask this.
    pub fn reading(&self, text: &str) -> Reading {
        grammar::read(text, &self.sheet, self.active.as_deref(), &self.cfg)
    }

    /// How the last comment applied was read: `claim`, `escalated`, `rejected`, `cancel` or
    /// `ignored`.
    pub fn last_reading(&self) -> &'static str {
        self.last_reading.0
    }

    /// Whether the last event applied counted in `claims` (SPEC 4: a comment read as a claim,
    /// or a reserve request): the `gmv_minute` claims of the pipeline count the same events.
    pub fn counted_a_claim(&self) -> bool {
        self.counted_claim
    }

    fn count_claim(&mut self) {
        self.stats.claims += 1;
        self.counted_claim = true;
    }

    /// The impossible state the last event met, if any (see `fault`); taking it clears it.
    pub fn take_fault(&mut self) -> Option<String> {
        self.fault.take()
    }

    /// Notes an impossible state; the first one of an event is the one reported.
    fn fault(&mut self, why: impl FnOnce() -> String) {
        if self.fault.is_none() {
            self.fault = Some(why());
        }
    }

    /// Counted by the pipeline, which drops redeliveries before they reach the session.
    pub fn count_redelivery(&mut self) {
        self.stats.redeliveries += 1;
    }
}

/// Counts a buyer, cloning it only the first time.
fn note_buyer(buyers: &mut FxHashSet<Buyer>, buyer: &Buyer) {
    if !buyers.contains(buyer) {
        buyers.insert(buyer.clone());
    }
}

/// A sku's state, made on first use; looked up before allocating its key.
fn sku_entry<'a>(skus: &'a mut FxHashMap<String, Sku>, sku: &str) -> &'a mut Sku {
    if !skus.contains_key(sku) {
        skus.insert(sku.to_string(), Sku::default());
    }
    skus.get_mut(sku).expect("inserted above")
}

/// The time, lateness and output of the event being applied.
struct Cx<'a> {
    t: Micros,
    late: bool,
    out: &'a mut Vec<Decision>,
}

impl Cx<'_> {
    fn push(&mut self, body: DBody) {
        self.out.push(Decision {
            ts: self.t,
            late: self.late,
            body,
        });
    }

    fn claim(
        &mut self,
        claim_id: Text,
        buyer: Buyer,
        sku: Option<Text>,
        qty: Option<u64>,
        outcome: ClaimOutcome,
        reason: Option<Reason>,
    ) {
        self.push(DBody::Claim(ClaimDecision {
            claim_id,
            buyer,
            sku,
            qty,
            outcome,
            reason,
            reservation_id: None,
            waitlist_position: None,
            escalation_id: None,
            candidates: vec![],
        }));
    }

    fn reservation(&mut self, r: &Reservation, event: ResEvent, reason: Option<&'static str>) {
        self.push(DBody::Reservation(ReservationDecision {
            reservation_id: r.id.clone(),
            event,
            sku: r.sku.clone(),
            qty: r.qty,
            buyer: r.buyer.clone(),
            claim_id: r.claim_id.clone(),
            expires_at: r.expires_at,
            unit_price_cents: r.unit_price_cents,
            reason,
        }));
    }

    fn order(
        &mut self,
        o: &Order,
        buyer: Buyer,
        outcome: OrderOutcome,
        reservation_id: Option<Text>,
    ) {
        self.push(DBody::Order(OrderDecision {
            order_id: o.order_id.clone(),
            outcome,
            sku: o.sku.clone(),
            qty: o.qty,
            amount_cents: o.amount_cents,
            buyer,
            reservation_id,
        }));
    }
}
