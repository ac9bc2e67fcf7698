//! One show's state machine: allocation (3.2), orders (3.3), stock (3.4), expiry and promotion.
//!
//! `Session::apply` is the sequential replay of SPEC 2: the pipeline feeds each session's events
//! in `(effective ts, type rank, arrival)` order and this decides, deterministically.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::decision::{
    Body as DBody, Buyer, ClaimDecision, ClaimOutcome, Decision, OrderDecision, OrderOutcome,
    ResEvent, ReservationDecision, SessionEvent, SkuSummary, Summary,
};
use super::event::{Body, Director, Event, Moderation, Order, OrderStatus, StockChange, Text};
use super::grammar::{self, Reading, Reason};
use super::live::{
    EscalationView, Holder, ProductView, SessionView, SkuView, VIEW_LIMIT, VariantView, Waiter,
};
use super::runsheet::{Config, Product, RunSheet, Variant};
use super::text::normalize_code;
use super::time::Micros;

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

    /// Counted by the pipeline, which drops redeliveries before they reach the session.
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

    pub fn count_redelivery(&mut self) {
        self.stats.redeliveries += 1;
    }

    /// Fires every timer of the session due at or before `t` (SPEC 2): the expiries due by
    /// then, or by the close when it comes first, and then the close itself (SPEC 3.5).
    pub fn advance(&mut self, t: Micros, out: &mut Vec<Decision>) {
        if self.closed.is_some() {
            return;
        }
        let close = self.close_at();
        self.expire_until(close.map_or(t, |c| c.min(t)), out);
        if let Some(c) = close.filter(|c| *c <= t) {
            self.close(c, out);
        }
    }

    /// When the next timer is due: the first expiry or the close; none once closed.
    pub fn next_timer(&self) -> Option<Micros> {
        if self.closed.is_some() {
            return None;
        }
        let expiry = self.expiry.first().map(|(at, _)| *at);
        match (expiry, self.close_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When the session closes as things stand (SPEC 3.5's `C`).
    pub fn close_at(&self) -> Option<Micros> {
        match (self.close_by_end, self.close_by_idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The time the session closed at, once it has.
    pub fn closed_at(&self) -> Option<Micros> {
        self.closed
    }

    /// The effective time of the show's first `end`.
    pub fn ended_at(&self) -> Option<Micros> {
        self.ended
    }

    /// SPEC 3.5's close at `c`: every live reservation expires (no promotion), the waitlists are
    /// emptied, and the decision `session/closed` carries the figures the session ends with.
    fn close(&mut self, c: Micros, out: &mut Vec<Decision>) {
        let mut cx = Cx {
            t: c,
            late: false,
            out,
        };
        while let Some((_, id)) = self.expiry.pop_first() {
            let Some(r) = self.reservations.remove(&id) else {
                continue;
            };
            let s = sku_entry(&mut self.skus, &r.sku);
            s.held -= r.qty as i64;
            s.holders.remove(&r.buyer);
            self.stats.reservations_expired += 1;
            cx.reservation(&r, ResEvent::Expired, Some("session_closed"));
        }
        for s in self.skus.values_mut() {
            s.waitlist.clear();
            s.waiting.clear();
        }
        self.closed = Some(c);
        let summary = self.summary();
        cx.push(DBody::Session(SessionEvent::Closed(Box::new(summary))));
    }

    /// Expires every reservation due at or before `t`, in (expires_at, id) order, promoting as it goes.
    fn expire_until(&mut self, t: Micros, out: &mut Vec<Decision>) {
        while self.expiry.first().is_some_and(|(at, _)| *at <= t) {
            let Some((at, id)) = self.expiry.pop_first() else {
                break;
            };
            let Some(r) = self.reservations.remove(&id) else {
                continue;
            };
            let s = sku_entry(&mut self.skus, &r.sku);
            s.held -= r.qty as i64;
            s.holders.remove(&r.buyer);
            self.stats.reservations_expired += 1;
            let mut cx = Cx {
                t: at,
                late: false,
                out,
            };
            cx.reservation(&r, ResEvent::Expired, None);
            self.walk_waitlist(&r.sku, &mut cx);
        }
    }

    /// The session as the live surfaces show it (ticker, overlay, run sheet, moderator queue,
    /// claimants); long lists are cut at `VIEW_LIMIT` entries with their totals beside them.
    pub fn live_view(&self, session_id: &str, as_of: Micros) -> SessionView {
        let mut v = SessionView {
            session_id: session_id.to_string(),
            as_of,
            gmv_cents: self.stats.gmv_cents,
            claims: self.stats.claims,
            comments: self.stats.comments,
            escalations_open: self.open_escalations.values().map(|o| o.len() as u64).sum(),
            escalation_reasons: self
                .open_escalations
                .iter()
                .map(|(r, o)| (r.to_string(), o.len() as u64))
                .collect(),
            active: self.active.clone(),
            ended_at: self.ended,
            closed_at: self.closed,
            ..Default::default()
        };
        for key in self.sheet.codes() {
            let Some(p) = self.sheet.by_code(key) else {
                continue;
            };
            let variants = p
                .variants
                .iter()
                .map(|var| {
                    let none = Sku::default();
                    let s = self.skus.get(&var.sku).unwrap_or(&none);
                    VariantView {
                        sku: var.sku.clone(),
                        options: var.values.iter().map(|t| t.join(" ")).collect(),
                        pool: s.pool,
                        held: s.held,
                        sold: s.sold,
                        available: s.available(),
                        waitlist: s.waitlist.len() as u64,
                    }
                })
                .collect();
            v.products.push(ProductView {
                code: p.code.clone(),
                key: key.clone(),
                title: p.title.clone(),
                price_cents: p.price_cents,
                currency: p.currency.clone(),
                variants,
            });
        }
        for (sku, s) in &self.skus {
            v.units_sold += s.sold;
            v.held_units += s.held;
            if s.holders.is_empty() && s.waitlist.is_empty() {
                continue;
            }
            let mut holders: Vec<Holder> = s
                .holders
                .values()
                .filter_map(|id| self.reservations.get(id))
                .map(|r| Holder {
                    reservation_id: r.id.to_string(),
                    platform: r.buyer.platform.to_string(),
                    user_id: r.buyer.user_id.to_string(),
                    qty: r.qty,
                    created_at: r.created_at,
                    expires_at: r.expires_at,
                })
                .collect();
            let holders_total = holders.len() as u64;
            let order = |a: &Holder, b: &Holder| {
                (a.created_at, &a.reservation_id).cmp(&(b.created_at, &b.reservation_id))
            };
            // Only the first VIEW_LIMIT are listed: select them before sorting.
            if holders.len() > VIEW_LIMIT {
                holders.select_nth_unstable_by(VIEW_LIMIT, order);
                holders.truncate(VIEW_LIMIT);
            }
            holders.sort_by(order);
            let waitlist = s
                .waitlist
                .iter()
                .take(VIEW_LIMIT)
                .map(|w| Waiter {
                    claim_id: w.claim_id.to_string(),
                    platform: w.buyer.platform.to_string(),
                    user_id: w.buyer.user_id.to_string(),
                    qty: w.qty,
                })
                .collect();
            v.skus.insert(
                sku.clone(),
                SkuView {
                    holders,
                    holders_total,
                    waitlist,
                    waitlist_total: s.waitlist.len() as u64,
                },
            );
        }
        // The oldest VIEW_LIMIT of each reason; the oldest VIEW_LIMIT of all are among them.
        let mut oldest: Vec<&(Micros, Text)> = self
            .open_escalations
            .values()
            .flat_map(|o| o.iter().take(VIEW_LIMIT))
            .collect();
        oldest.sort_unstable();
        v.escalations = oldest
            .into_iter()
            .filter_map(|(_, id)| self.escalations.get(id).map(|e| (id, e)))
            .map(|(id, e)| EscalationView {
                escalation_id: id.to_string(),
                claim_id: e.claim_id.to_string(),
                ts: e.ts,
                platform: e.buyer.platform.to_string(),
                user_id: e.buyer.user_id.to_string(),
                text: e.text.to_string(),
                reason: e.reason.as_str().to_string(),
                sku: e.sku.as_deref().map(str::to_string),
                qty: e.qty,
                candidates: e.candidates.clone(),
            })
            .collect();
        v
    }

    pub fn summary(&self) -> Summary {
        let mut s = self.stats.clone();
        s.buyers = self.buyers.len() as u64;
        s.skus = self
            .skus
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    SkuSummary {
                        pool: v.pool,
                        held: v.held,
                        sold: v.sold,
                        available: v.available(),
                        waitlist: v.waitlist.len() as u64,
                    },
                )
            })
            .collect();
        s.units_sold = self.skus.values().map(|v| v.sold).sum();
        s.held_units = self.skus.values().map(|v| v.held).sum();
        s
    }

    fn director(&mut self, d: &Director, cx: &mut Cx) {
        // Every director event may change how a text reads (products, the active one, keywords).
        self.readings.forget();
        match d {
            Director::Product(p) => {
                let variants = p
                    .variants
                    .iter()
                    .map(|v| {
                        let values: Vec<String> =
                            v.options.iter().map(|(_, val)| val.clone()).collect();
                        Variant::new(v.sku.clone(), &values, v.stock)
                    })
                    .collect();
                let product = Product::new(
                    p.code.clone(),
                    p.title.clone(),
                    p.price_cents,
                    p.currency.clone(),
                    variants,
                );
                for (sku, stock) in self.sheet.define(product, &mut self.ever_defined) {
                    sku_entry(&mut self.skus, &sku).pool = stock;
                    self.after_pool_change(&sku, cx);
                }
            }
            Director::Activate { code } => self.active = Some(normalize_code(code)),
            Director::Deactivate => self.active = None,
            Director::Price { code, price_cents } => {
                if let Some(p) = self.sheet.by_code_mut(&normalize_code(code)) {
                    p.price_cents = *price_cents;
                }
            }
            Director::Config(c) => self.cfg.apply(c),
            // SPEC 3.5: only the first end counts; the show stays ended whatever follows.
            Director::End if self.ended.is_none() => {
                self.ended = Some(cx.t);
                self.close_by_end = Some(cx.t + self.cfg.close_after_us);
                cx.push(DBody::Session(SessionEvent::Ended));
            }
            Director::End => {}
        }
    }

    fn comment(
        &mut self,
        platform: &str,
        comment_id: &str,
        user_id: &str,
        text: &str,
        cx: &mut Cx,
    ) {
        self.stats.comments += 1;
        let reading = self
            .readings
            .read(text, &self.sheet, self.active.as_deref(), &self.cfg);
        self.last_reading = statics::Label(reading.label());
        if self.ended.is_some() && !matches!(reading, Reading::Cancel { .. }) {
            self.after_the_end(platform, comment_id, user_id, reading.is_claim(), cx);
            return;
        }
        if let Reading::Ignored(_) = reading {
            // Half of a show is chatter: it costs no ids and no buyer.
            self.stats.ignored += 1;
            return;
        }
        let claim_id = Text::concat(&[platform, ":", comment_id]);
        let buyer = Buyer {
            platform: platform.into(),
            user_id: user_id.into(),
        };
        if reading.is_claim() {
            self.count_claim();
            note_buyer(&mut self.buyers, &buyer);
        }
        match reading {
            Reading::Ignored(_) => {}
            Reading::Claim { sku, qty } => self.allocate(claim_id, buyer, &sku, qty, cx),
            Reading::Rejected { reason } => {
                self.stats.rejected += 1;
                cx.claim(
                    claim_id,
                    buyer,
                    None,
                    None,
                    ClaimOutcome::Rejected,
                    Some(reason),
                );
            }
            Reading::Escalated {
                reason,
                sku,
                qty,
                candidates,
            } => {
                self.stats.escalations += 1;
                let escalation_id = Text::concat(&["esc:", &claim_id]);
                self.escalations.insert(
                    escalation_id.clone(),
                    Escalation {
                        claim_id: claim_id.clone(),
                        buyer: buyer.clone(),
                        answered: false,
                        ts: cx.t,
                        text: text.into(),
                        reason,
                        sku: sku.clone(),
                        qty,
                        candidates: candidates.clone(),
                    },
                );
                self.open_escalations
                    .entry(reason.as_str())
                    .or_default()
                    .insert((cx.t, escalation_id.clone()));
                cx.push(DBody::Claim(ClaimDecision {
                    claim_id,
                    buyer,
                    sku,
                    qty,
                    outcome: ClaimOutcome::Escalated,
                    reason: Some(reason),
                    reservation_id: None,
                    waitlist_position: None,
                    escalation_id: Some(escalation_id),
                    candidates,
                }));
            }
            Reading::Cancel { skus } => {
                let mut any = false;
                for sku in &skus {
                    any |= self.cancel(&claim_id, &buyer, sku, cx);
                }
                if !any {
                    self.stats.ignored += 1;
                }
            }
        }
    }

    /// SPEC 3.5: after the end, a claim is rejected (`show_ended`, no sku, no qty) and nothing
    /// else but a cancel is acted on.
    fn after_the_end(
        &mut self,
        platform: &str,
        comment_id: &str,
        user_id: &str,
        claim: bool,
        cx: &mut Cx,
    ) {
        if !claim {
            self.stats.ignored += 1;
            self.last_reading = statics::Label("ignored");
            return;
        }
        let buyer = Buyer {
            platform: platform.into(),
            user_id: user_id.into(),
        };
        self.count_claim();
        self.stats.rejected += 1;
        self.last_reading = statics::Label("rejected");
        note_buyer(&mut self.buyers, &buyer);
        cx.claim(
            Text::concat(&[platform, ":", comment_id]),
            buyer,
            None,
            None,
            ClaimOutcome::Rejected,
            Some(Reason::ShowEnded),
        );
    }

    /// Releases the buyer's hold on and waitlist place for one sku; true when there was one.
    fn cancel(&mut self, claim_id: &str, buyer: &Buyer, sku: &str, cx: &mut Cx) -> bool {
        let Some(s) = self.skus.get_mut(sku) else {
            return false;
        };
        let held = s.holders.remove(buyer);
        let waited = s.waiting.remove(buyer);
        if waited {
            s.waitlist.retain(|w| &w.buyer != buyer);
        }
        let mut qty = None;
        if let Some(res_id) = &held {
            if let Some(r) = self.reservations.remove(res_id) {
                s.held -= r.qty as i64;
                self.expiry.remove(&(r.expires_at, r.id.clone()));
                self.stats.reservations_cancelled += 1;
                qty = Some(r.qty);
                cx.reservation(&r, ResEvent::Cancelled, None);
            }
        }
        if held.is_none() && !waited {
            return false;
        }
        cx.claim(
            claim_id.into(),
            buyer.clone(),
            Some(Text::from(sku)),
            qty,
            ClaimOutcome::Cancelled,
            None,
        );
        self.walk_waitlist(sku, cx);
        true
    }

    /// SPEC 3.2 for one claim of a known buyer, sku and quantity.
    fn allocate(&mut self, claim_id: Text, buyer: Buyer, sku: &str, qty: u64, cx: &mut Cx) {
        if self.sheet.owner_of(sku).is_none() {
            self.stats.rejected += 1;
            cx.claim(
                claim_id,
                buyer,
                Some(Text::from(sku)),
                Some(qty),
                ClaimOutcome::Rejected,
                Some(Reason::UnknownProduct),
            );
            return;
        }
        let s = sku_entry(&mut self.skus, sku);
        if s.holders.contains_key(&buyer) || s.bought.contains(&buyer) || s.waiting.contains(&buyer)
        {
            self.stats.rejected += 1;
            cx.claim(
                claim_id,
                buyer,
                Some(Text::from(sku)),
                Some(qty),
                ClaimOutcome::Rejected,
                Some(Reason::DuplicateClaim),
            );
            return;
        }
        if qty as i64 <= s.available() {
            self.reserve(claim_id, buyer, sku, qty, ClaimOutcome::Reserved, cx);
        } else {
            s.waiting.insert(buyer.clone());
            s.waitlist.push_back(Waiting {
                claim_id: claim_id.clone(),
                buyer: buyer.clone(),
                qty,
            });
            let position = s.waitlist.len() as u64;
            self.stats.waitlisted += 1;
            cx.push(DBody::Claim(ClaimDecision {
                claim_id,
                buyer,
                sku: Some(Text::from(sku)),
                qty: Some(qty),
                outcome: ClaimOutcome::Waitlisted,
                reason: None,
                reservation_id: None,
                waitlist_position: Some(position),
                escalation_id: None,
                candidates: vec![],
            }));
        }
    }

    fn reserve(
        &mut self,
        claim_id: Text,
        buyer: Buyer,
        sku: &str,
        qty: u64,
        outcome: ClaimOutcome,
        cx: &mut Cx,
    ) {
        let r = Reservation {
            id: Text::concat(&["res:", &claim_id]),
            claim_id,
            sku: sku.into(),
            qty,
            buyer,
            created_at: cx.t,
            expires_at: cx.t + self.cfg.window_us,
            unit_price_cents: self.sheet.owner_of(sku).map_or(0, |p| p.price_cents),
        };
        let s = sku_entry(&mut self.skus, sku);
        s.held += qty as i64;
        s.holders.insert(r.buyer.clone(), r.id.clone());
        self.stats.reservations_created += 1;
        cx.push(DBody::Claim(ClaimDecision {
            claim_id: r.claim_id.clone(),
            buyer: r.buyer.clone(),
            sku: Some(r.sku.clone()),
            qty: Some(qty),
            outcome,
            reason: None,
            reservation_id: Some(r.id.clone()),
            waitlist_position: None,
            escalation_id: None,
            candidates: vec![],
        }));
        cx.reservation(&r, ResEvent::Created, None);
        self.expiry.insert((r.expires_at, r.id.clone()));
        self.reservations.insert(r.id.clone(), r);
    }

    /// Promotes, in waitlist order, every entry whose quantity fits what is available now.
    ///
    /// Linear in the part of the waitlist looked at: the entries are picked in one scan that
    /// stops once nothing is free, then taken out of that scanned prefix in one pass (removing
    /// them one by one from the middle of a long waitlist was quadratic).
    fn walk_waitlist(&mut self, sku: &str, cx: &mut Cx) {
        let mut promoted = Vec::new();
        {
            let Some(s) = self.skus.get_mut(sku) else {
                return;
            };
            let mut free = s.available();
            let mut picked = Vec::new();
            let mut i = 0;
            while free > 0 && i < s.waitlist.len() {
                let qty = s.waitlist[i].qty as i64;
                if qty <= free {
                    picked.push(i);
                    free -= qty;
                }
                i += 1;
            }
            if let Some(&last) = picked.last() {
                let mut next = picked.iter().copied().peekable();
                let mut kept = Vec::new();
                for (j, w) in s.waitlist.drain(..=last).enumerate() {
                    if next.next_if_eq(&j).is_some() {
                        promoted.push(w);
                    } else {
                        kept.push(w);
                    }
                }
                for w in kept.into_iter().rev() {
                    s.waitlist.push_front(w);
                }
                for w in &promoted {
                    s.waiting.remove(&w.buyer);
                }
            }
        }
        // Each promotion is decided in turn, so `available` is re-read by `reserve`. A late
        // event's promotions are its decisions too and carry its `late` (SPEC 2); an expiry's
        // carry none, as its context is never late.
        for w in promoted {
            self.reserve(w.claim_id, w.buyer, sku, w.qty, ClaimOutcome::Promoted, cx);
        }
    }

    /// SPEC 3.4: revoke newest holds while the pool is short, then hand free units to the waitlist.
    ///
    /// The holds are put in a heap once, newest on top, so that revoking k of n holds costs
    /// O(n + k log n) rather than a scan of every holder per revocation.
    fn after_pool_change(&mut self, sku: &str, cx: &mut Cx) {
        let short = |s: &Sku| s.held + s.sold > s.pool && !s.holders.is_empty();
        if self.skus.get(sku).is_some_and(short) {
            let s = &self.skus[sku];
            let mut newest: std::collections::BinaryHeap<(Micros, Text)> = s
                .holders
                .values()
                .filter_map(|id| self.reservations.get(id))
                .map(|r| (r.created_at, r.id.clone()))
                .collect();
            while self.skus.get(sku).is_some_and(short) {
                let Some((_, id)) = newest.pop() else { break };
                let r = self
                    .reservations
                    .remove(&id)
                    .expect("holder has a live reservation");
                let s = self.skus.get_mut(sku).expect("sku checked above");
                s.held -= r.qty as i64;
                s.holders.remove(&r.buyer);
                self.expiry.remove(&(r.expires_at, r.id.clone()));
                self.stats.reservations_revoked += 1;
                cx.reservation(&r, ResEvent::Revoked, Some("stock_shortfall"));
            }
        }
        self.walk_waitlist(sku, cx);
    }

    fn order(&mut self, o: &Order, cx: &mut Cx) {
        let buyer = Buyer {
            platform: o.platform.clone(),
            user_id: o.user_id.clone(),
        };
        let s = sku_entry(&mut self.skus, &o.sku);
        match o.status {
            OrderStatus::Refunded => {
                self.stats.orders_refunded += 1;
                self.stats.gmv_cents -= o.amount_cents;
                s.sold -= o.qty as i64;
                s.pool -= o.qty as i64;
                cx.order(o, buyer, OrderOutcome::Refunded, None);
            }
            OrderStatus::Paid => {
                self.stats.orders_paid += 1;
                self.stats.gmv_cents += o.amount_cents;
                note_buyer(&mut self.buyers, &buyer);
                let named = o
                    .reservation_id
                    .as_ref()
                    .filter(|id| self.reservations.get(*id).is_some_and(|r| r.sku == o.sku))
                    .cloned();
                let live = named.or_else(|| s.holders.get(&buyer).cloned());
                s.bought.insert(buyer.clone());
                match live.and_then(|id| self.reservations.remove(&id)) {
                    Some(r) => {
                        s.held -= r.qty as i64;
                        s.sold += r.qty as i64;
                        s.holders.remove(&r.buyer);
                        self.expiry.remove(&(r.expires_at, r.id.clone()));
                        self.stats.reservations_converted += 1;
                        cx.reservation(&r, ResEvent::Converted, None);
                        cx.order(o, buyer, OrderOutcome::Converted, Some(r.id.clone()));
                    }
                    None => {
                        let outcome = if o.qty as i64 <= s.available() {
                            self.stats.direct_sales += 1;
                            OrderOutcome::DirectSale
                        } else {
                            self.stats.oversells += 1;
                            OrderOutcome::Oversell
                        };
                        s.sold += o.qty as i64;
                        cx.order(o, buyer, outcome, None);
                    }
                }
            }
        }
    }

    fn moderation(&mut self, escalation_id: &str, decision: &Moderation, cx: &mut Cx) {
        let Some(e) = self
            .escalations
            .get_mut(escalation_id)
            .filter(|e| !e.answered)
        else {
            self.stats.moderation_ignored += 1;
            return;
        };
        e.answered = true;
        let reason = e.reason.as_str();
        if let Some(open) = self.open_escalations.get_mut(reason) {
            open.remove(&(e.ts, Text::from(escalation_id)));
            // No empty reasons: the queue's counts list only reasons with something open.
            if open.is_empty() {
                self.open_escalations.remove(reason);
            }
        }
        let (claim_id, buyer) = (e.claim_id.clone(), e.buyer.clone());
        match decision {
            Moderation::Reject => {
                self.stats.rejected += 1;
                // SPEC 4: `sku` when known; the rejection names what the escalation read.
                cx.push(DBody::Claim(ClaimDecision {
                    claim_id,
                    buyer,
                    sku: e.sku.clone(),
                    qty: e.qty,
                    outcome: ClaimOutcome::Rejected,
                    reason: Some(Reason::Moderator),
                    reservation_id: None,
                    waitlist_position: None,
                    escalation_id: Some(escalation_id.into()),
                    candidates: vec![],
                }));
            }
            Moderation::Accept { sku, qty } => {
                note_buyer(&mut self.buyers, &buyer);
                self.allocate(claim_id, buyer, sku, *qty, cx);
            }
        }
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

/// Serde for the session's `&'static str` fields: written as strings, read back as the one
/// static string of that value (an unknown one is a corrupt checkpoint).
mod statics {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Micros, Reason, Text};

    /// A `Reading::label` (a field of this type is not borrowed from the bytes, as a `&str`
    /// would be).
    #[derive(Debug, Default, Clone, Copy)]
    pub struct Label(pub &'static str);

    impl Serialize for Label {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.0)
        }
    }

    impl<'de> Deserialize<'de> for Label {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
            let v = String::deserialize(d)?;
            // An empty label: no comment read yet.
            std::iter::once("")
                .chain(crate::domain::grammar::READING_LABELS)
                .find(|l| *l == v)
                .map(Label)
                .ok_or_else(|| D::Error::custom(format!("unknown reading label {v:?}")))
        }
    }

    type Open = BTreeMap<&'static str, BTreeSet<(Micros, Text)>>;

    pub mod reason_keys {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Open, s: S) -> Result<S::Ok, S::Error> {
            v.iter().collect::<Vec<_>>().serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Open, D::Error> {
            let v: Vec<(String, BTreeSet<(Micros, Text)>)> = Vec::deserialize(d)?;
            v.into_iter()
                .map(|(k, set)| {
                    Reason::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .find(|r| *r == k)
                        .map(|r| (r, set))
                        .ok_or_else(|| D::Error::custom(format!("unknown reason {k:?}")))
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::parse::parse_line;

    const T0: Micros = 1_800_000_000_000_000;

    /// The event `body` stamped `sec` seconds after `T0`.
    fn event(sec: i64, body: &str) -> Event {
        let line = format!(
            r#"{{"session_id":"s","ts":{},{body}}}"#,
            (T0 / 1000) + sec * 1000
        );
        parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    /// Applies `(second, json-without-type-prefix)` events in order and returns every decision.
    fn run(s: &mut Session, events: &[(i64, &str)]) -> Vec<Decision> {
        let mut out = Vec::new();
        for (sec, body) in events {
            let ev = event(*sec, body);
            s.apply(&ev, ev.ts, false, &mut out);
        }
        out
    }

    fn brief(d: &Decision) -> String {
        let when = (d.ts - T0) / 1_000_000;
        match &d.body {
            DBody::Claim(c) => format!(
                "{when} claim {} {} {}{}{}",
                c.claim_id,
                c.outcome.as_str(),
                c.sku.as_deref().unwrap_or("-"),
                c.reason
                    .map(|r| format!(" {}", r.as_str()))
                    .unwrap_or_default(),
                c.waitlist_position
                    .map(|p| format!(" #{p}"))
                    .unwrap_or_default()
            ),
            DBody::Reservation(r) => format!(
                "{when} res {} {} until {}",
                r.reservation_id,
                r.event.as_str(),
                (r.expires_at - T0) / 1_000_000
            ),
            DBody::Order(o) => format!("{when} order {} {}", o.order_id, o.outcome.as_str()),
            DBody::Session(e) => format!("{when} session {}", e.as_str()),
        }
    }

    /// `run`, with the rejects of a closed session as `"<t> reject session_closed"` and the
    /// reasons of reservation events after them.
    fn replay(s: &mut Session, events: &[(i64, String)]) -> Vec<String> {
        let mut lines = Vec::new();
        for (sec, body) in events {
            let mut out = Vec::new();
            let ev = event(*sec, body);
            let applied = s.apply(&ev, ev.ts, false, &mut out);
            lines.extend(out.iter().map(brief_with_reason));
            if !applied {
                lines.push(format!("{sec} reject session_closed"));
            }
        }
        lines
    }

    fn brief_with_reason(d: &Decision) -> String {
        match &d.body {
            DBody::Reservation(r) if r.reason.is_some() => {
                format!("{} {}", brief(d), r.reason.unwrap_or_default())
            }
            _ => brief(d),
        }
    }

    /// Fires the session's timers as a watermark at `sec` would.
    fn watermark(s: &mut Session, sec: i64) -> Vec<String> {
        let mut out = Vec::new();
        s.advance(T0 + sec * 1_000_000, &mut out);
        out.iter().map(brief_with_reason).collect()
    }

    fn owned(events: &[(i64, &str)]) -> Vec<(i64, String)> {
        events.iter().map(|(t, e)| (*t, e.to_string())).collect()
    }

    const K1: &[(i64, &str)] = &[
        (
            0,
            r#""type":"director","action":"config","reservation_window_s":60"#,
        ),
        (
            0,
            r#""type":"director","action":"product","code":"K1","price_cents":2500,"variants":[{"sku":"K1","stock":2}]"#,
        ),
        (0, r#""type":"director","action":"activate","code":"K1""#),
    ];

    fn comment(platform: &str, id: &str, user: &str, text: &str) -> String {
        format!(
            r#""type":"comment","platform":"{platform}","comment_id":"{id}","user_id":"{user}","text":"{text}""#
        )
    }

    fn order(id: &str, platform: &str, user: &str, status: &str) -> String {
        format!(
            r#""type":"order","order_id":"{id}","platform":"{platform}","user_id":"{user}","sku":"K1","qty":1,"amount_cents":2500,"status":"{status}""#
        )
    }

    #[test]
    fn a_repeated_text_is_read_again_after_a_director_event() {
        // The memo of readings must not outlive the sheet, the active product or the keywords.
        let mut s = Session::new();
        let setup = &K1[..2];
        run(&mut s, setup);
        let k2 = r#""type":"director","action":"product","code":"K2","price_cents":900,"variants":[{"sku":"K2","stock":5}]"#;
        let yes = r#""type":"director","action":"config","claim_keywords":["yes"]"#;
        let events: Vec<(i64, String)> = vec![
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, K1[2].1.to_string()),
            (3, comment("tiktok", "c2", "u2", "sold")),
            (4, comment("tiktok", "c3", "u3", "sold K2")),
            (5, k2.to_string()),
            (6, comment("tiktok", "c4", "u4", "sold K2")),
            (7, comment("tiktok", "c5", "u5", "yes K2")),
            (8, yes.to_string()),
            (9, comment("tiktok", "c6", "u6", "yes K2")),
            (10, r#""type":"director","action":"deactivate""#.to_string()),
            (11, comment("tiktok", "c7", "u7", "sold")),
        ];
        let events: Vec<(i64, &str)> = events.iter().map(|(t, e)| (*t, e.as_str())).collect();
        let got: Vec<String> = run(&mut s, &events)
            .iter()
            .filter(|d| matches!(d.body, DBody::Claim(_)))
            .map(brief)
            .collect();
        let want = vec![
            "1 claim tiktok:c1 escalated - no_product",
            "3 claim tiktok:c2 reserved K1",
            "4 claim tiktok:c3 escalated - fuzzy_code",
            "6 claim tiktok:c4 reserved K2",
            "9 claim tiktok:c6 reserved K2",
            "11 claim tiktok:c7 escalated - no_product",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn the_worked_example_timeline() {
        let mut s = Session::new();
        run(&mut s, K1);
        let events: Vec<(i64, String)> = vec![
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("facebook", "c2", "u2", "sold")),
            (3, comment("youtube", "c3", "u3", "sold x2")),
            (4, comment("instagram", "c4", "u4", "mine")),
            (5, comment("tiktok", "c5", "u1", "sold")),
            (10, order("o1", "tiktok", "u1", "paid")),
            (20, comment("facebook", "c6", "u2", "cancel")),
            (30, r#""type":"stock","sku":"K1","delta":1"#.to_string()),
            (85, order("o2", "instagram", "u4", "paid")),
        ];
        let events: Vec<(i64, &str)> = events.iter().map(|(t, e)| (*t, e.as_str())).collect();
        let got: Vec<String> = run(&mut s, &events).iter().map(brief).collect();
        let want = vec![
            "1 claim tiktok:c1 reserved K1",
            "1 res res:tiktok:c1 created until 61",
            "2 claim facebook:c2 reserved K1",
            "2 res res:facebook:c2 created until 62",
            "3 claim youtube:c3 waitlisted K1 #1",
            "4 claim instagram:c4 waitlisted K1 #2",
            "5 claim tiktok:c5 rejected K1 duplicate_claim",
            "10 res res:tiktok:c1 converted until 61",
            "10 order o1 converted",
            "20 res res:facebook:c2 cancelled until 62",
            "20 claim facebook:c6 cancelled K1",
            "20 claim instagram:c4 promoted K1",
            "20 res res:instagram:c4 created until 80",
            "80 res res:instagram:c4 expired until 80",
            "80 claim youtube:c3 promoted K1",
            "80 res res:youtube:c3 created until 140",
            "85 order o2 oversell",
        ];
        assert_eq!(got, want);
        // Had the show gone quiet, the expiry at 80 would have fired on the watermark alone.
        let mut quiet = Session::new();
        run(&mut quiet, K1);
        run(&mut quiet, &events[..8]);
        assert_eq!(quiet.next_timer(), Some(T0 + 80_000_000));
        assert_eq!(watermark(&mut quiet, 79), Vec::<String>::new());
        assert_eq!(
            watermark(&mut quiet, 80),
            [
                "80 res res:instagram:c4 expired until 80",
                "80 claim youtube:c3 promoted K1",
                "80 res res:youtube:c3 created until 140",
            ]
        );
        let sum = s.summary();
        assert_eq!(sum.gmv_cents, 5000);
        assert_eq!(sum.units_sold, 2);
        assert_eq!(sum.held_units, 2);
        assert_eq!(sum.oversells, 1);
        assert_eq!(
            sum.skus["K1"],
            SkuSummary {
                pool: 3,
                held: 2,
                sold: 2,
                available: -1,
                waitlist: 0
            }
        );
        assert_eq!(sum.claims, 5);
        assert_eq!(sum.comments, 6);
        assert_eq!(sum.buyers, 4);
        assert_eq!(sum.waitlisted, 2);
        assert_eq!(sum.rejected, 1);
        assert_eq!(sum.reservations_created, 4);
    }

    #[test]
    fn shortfall_revokes_newest_first_then_promotes() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold"),
            comment("tiktok", "b", "u2", "sold"),
            comment("tiktok", "c", "u3", "sold"),
            r#""type":"stock","sku":"K1","set":0"#.to_string(),
            r#""type":"stock","sku":"K1","set":1"#.to_string(),
        ];
        let got: Vec<String> = run(
            &mut s,
            &[
                (1, &evs[0]),
                (2, &evs[1]),
                (3, &evs[2]),
                (4, &evs[3]),
                (5, &evs[4]),
            ],
        )
        .iter()
        .map(brief)
        .collect();
        assert_eq!(
            got,
            vec![
                "1 claim tiktok:a reserved K1",
                "1 res res:tiktok:a created until 61",
                "2 claim tiktok:b reserved K1",
                "2 res res:tiktok:b created until 62",
                "3 claim tiktok:c waitlisted K1 #1",
                "4 res res:tiktok:b revoked until 62",
                "4 res res:tiktok:a revoked until 61",
                "5 claim tiktok:c promoted K1",
                "5 res res:tiktok:c created until 65",
            ]
        );
    }

    #[test]
    fn escalations_are_answered_once() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold x9"),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"accept","sku":"K1","qty":2"#.to_string(),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"reject""#.to_string(),
            r#""type":"moderation","escalation_id":"esc:tiktok:zzz","decision":"reject""#.to_string(),
            r#""type":"reserve","request_id":"r1","platform":"web","user_id":"w","sku":"NOPE","qty":1"#.to_string(),
        ];
        let got: Vec<String> = run(
            &mut s,
            &[
                (1, &evs[0]),
                (2, &evs[1]),
                (3, &evs[2]),
                (4, &evs[3]),
                (5, &evs[4]),
            ],
        )
        .iter()
        .map(brief)
        .collect();
        assert_eq!(
            got,
            vec![
                "1 claim tiktok:a escalated K1 qty_over_limit",
                "2 claim tiktok:a reserved K1",
                "2 res res:tiktok:a created until 62",
                "5 claim req:r1 rejected NOPE unknown_product",
            ]
        );
        assert_eq!(s.summary().moderation_ignored, 2);
    }

    #[test]
    fn a_moderator_rejection_names_the_sku_the_escalation_read() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold x9"),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"reject""#.to_string(),
        ];
        let got = run(&mut s, &[(1, &evs[0]), (2, &evs[1])]);
        let DBody::Claim(c) = &got[1].body else {
            panic!("a claim decision: {:?}", got[1]);
        };
        assert_eq!(
            (brief(&got[1]).as_str(), c.qty),
            ("2 claim tiktok:a rejected K1 moderator", Some(9))
        );
        assert_eq!(s.summary().rejected, 1);
    }

    #[test]
    fn a_late_event_marks_the_promotions_it_causes_but_an_expiry_does_not() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold"),
            comment("tiktok", "b", "u2", "sold"),
            comment("tiktok", "c", "u3", "sold"),
            comment("tiktok", "d", "u4", "sold"),
            comment("tiktok", "x", "u1", "cancel"),
        ];
        run(
            &mut s,
            &[(1, &evs[0]), (2, &evs[1]), (3, &evs[2]), (4, &evs[3])],
        );
        let mut out = Vec::new();
        s.apply(&event(5, &evs[4]), T0 + 10_000_000, true, &mut out);
        // u1's cancel frees a unit for u3 (late), then u2's hold expires at 62 and promotes u4.
        let chatter = event(65, &comment("tiktok", "e", "u5", "love it"));
        s.apply(&chatter, chatter.ts, false, &mut out);
        let got: Vec<(String, bool)> = out.iter().map(|d| (brief(d), d.late)).collect();
        assert_eq!(
            got,
            vec![
                ("10 res res:tiktok:a cancelled until 61".to_string(), true),
                ("10 claim tiktok:x cancelled K1".to_string(), true),
                ("10 claim tiktok:c promoted K1".to_string(), true),
                ("10 res res:tiktok:c created until 70".to_string(), true),
                ("62 res res:tiktok:b expired until 62".to_string(), false),
                ("62 claim tiktok:d promoted K1".to_string(), false),
                ("62 res res:tiktok:d created until 122".to_string(), false),
            ]
        );
    }

    #[test]
    fn the_live_view_shows_stock_holders_waitlist_and_open_escalations() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            comment("tiktok", "a", "u1", "sold x9"),
            comment("tiktok", "b", "u2", "sold k1"),
            comment("tiktok", "c", "u3", "sold k1 x2"),
            r#""type":"moderation","escalation_id":"esc:tiktok:a","decision":"reject""#.to_string(),
        ];
        run(&mut s, &[(1, &evs[0]), (2, &evs[1]), (3, &evs[2])]);
        let v = s.live_view("show", 3_000_000);
        assert_eq!(v.session_id, "show");
        assert_eq!(v.escalations_open, 1);
        assert_eq!(v.escalations[0].escalation_id, "esc:tiktok:a");
        assert_eq!(v.escalations[0].text, "sold x9");
        assert_eq!(v.escalations[0].reason, "qty_over_limit");
        let k1 = v.product("k1").expect("K1 on the run sheet");
        let sku = &v.skus["K1"];
        assert_eq!(k1.variants[0].held, v.held_units);
        assert_eq!(
            k1.stock_left(),
            (k1.variants[0].pool - k1.variants[0].held - k1.variants[0].sold).max(0)
        );
        assert_eq!(
            sku.holders_total + sku.waitlist_total,
            2,
            "u2 and u3 hold or wait"
        );
        assert_eq!(sku.holders[0].user_id, "u2");
        assert_eq!(
            v.escalation_reasons,
            BTreeMap::from([("qty_over_limit".into(), 1)])
        );
        run(&mut s, &[(4, &evs[3])]);
        let v = s.live_view("show", 4_000_000);
        assert_eq!(v.escalations_open, 0);
        assert!(v.escalations.is_empty());
        assert!(v.escalation_reasons.is_empty(), "no reason left at zero");
    }

    #[test]
    fn the_live_view_counts_every_open_escalation_per_reason_and_lists_each_reasons_oldest() {
        let mut s = Session::new();
        run(&mut s, K1);
        let n = VIEW_LIMIT + 5;
        let many: Vec<String> = (0..n)
            .map(|i| comment("tiktok", &format!("q{i}"), "u1", "sold x9"))
            .collect();
        let events: Vec<(i64, &str)> = many
            .iter()
            .enumerate()
            .map(|(i, e)| (1 + i as i64, e.as_str()))
            .collect();
        run(&mut s, &events);
        // Younger than all the others, and of another reason: listed all the same.
        let fuzzy = comment("tiktok", "f", "u2", "sold k2");
        run(&mut s, &[(1 + n as i64, &fuzzy)]);
        let v = s.live_view("show", 0);
        assert_eq!(v.escalations_open, n as u64 + 1);
        assert_eq!(
            v.escalation_reasons,
            BTreeMap::from([
                ("fuzzy_code".into(), 1),
                ("qty_over_limit".into(), n as u64)
            ])
        );
        assert_eq!(v.escalations.len(), VIEW_LIMIT + 1);
        assert!(
            v.escalations[..VIEW_LIMIT]
                .iter()
                .all(|e| e.reason == "qty_over_limit")
        );
        assert!(
            v.escalations.windows(2).all(|w| w[0].ts <= w[1].ts),
            "oldest first"
        );
        let last = v.escalations.last().unwrap();
        assert_eq!(
            (last.reason.as_str(), &last.candidates[..]),
            ("fuzzy_code", &["K1".to_string()][..])
        );
    }

    #[test]
    fn keyword_packs_let_other_markets_claim_and_cancel() {
        let comments = [
            comment("facebook", "a", "u1", "chốt K1 nha shop ơi"),
            comment("tiktok", "b", "u2", "pa-mine K1 po"),
            comment("instagram", "c", "u3", "mio K1 grazie"),
            comment("facebook", "d", "u1", "hủy K1 nha"),
            comment("tiktok", "e", "u4", "เอา K1 ค่ะ"),
            comment("youtube", "f", "u5", "我要K1+1 謝謝"),
        ];
        let timeline: Vec<(i64, &str)> = comments
            .iter()
            .enumerate()
            .map(|(i, c)| (i as i64 + 1, c.as_str()))
            .collect();
        // Without the packs these are chatter: no decision at all.
        let mut off = Session::new();
        run(&mut off, K1);
        assert!(run(&mut off, &timeline).is_empty());
        let mut on = Session::new();
        run(&mut on, K1);
        let packs =
            r#""type":"director","action":"config","keyword_packs":["vi","ph","it","th","tw"]"#;
        run(&mut on, &[(0, packs)]);
        let got: Vec<String> = run(&mut on, &timeline).iter().map(brief).collect();
        let has = |s: &str| got.iter().any(|g| g.contains(s));
        assert!(has("claim facebook:a reserved K1"), "{got:?}");
        assert!(has("claim tiktok:b reserved K1"), "{got:?}");
        assert!(has("claim instagram:c waitlisted K1"), "{got:?}");
        assert!(has("claim facebook:d cancelled K1"), "{got:?}");
        assert!(has("claim instagram:c promoted K1"), "{got:?}");
        assert!(has("claim tiktok:e waitlisted K1"), "{got:?}");
        assert!(has("claim youtube:f waitlisted K1"), "{got:?}");
    }

    #[test]
    fn refunds_leave_available_unchanged() {
        let mut s = Session::new();
        run(&mut s, K1);
        let evs = [
            order("o1", "web", "w", "paid"),
            order("o1", "web", "w", "refunded"),
        ];
        let got: Vec<String> = run(&mut s, &[(1, &evs[0]), (2, &evs[1])])
            .iter()
            .map(brief)
            .collect();
        assert_eq!(got, vec!["1 order o1 direct_sale", "2 order o1 refunded"]);
        let sum = s.summary();
        assert_eq!(sum.gmv_cents, 0);
        assert_eq!(
            sum.skus["K1"],
            SkuSummary {
                pool: 1,
                held: 0,
                sold: 0,
                available: 1,
                waitlist: 0
            }
        );
    }

    const CLOSE_AFTER_3600: &str = r#""type":"director","action":"config","close_after_s":3600"#;
    const END: &str = r#""type":"director","action":"end""#;

    fn paid(id: &str, platform: &str, user: &str, qty: u64) -> String {
        format!(
            r#""type":"order","order_id":"{id}","platform":"{platform}","user_id":"{user}","sku":"K1","qty":{qty},"amount_cents":{},"status":"paid""#,
            qty * 2500
        )
    }

    #[test]
    fn the_worked_example_timeline_continued_to_the_end_and_the_close() {
        let mut s = Session::new();
        let mut events = owned(K1);
        events.push((0, CLOSE_AFTER_3600.to_string()));
        events.extend([
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("facebook", "c2", "u2", "sold")),
            (3, comment("youtube", "c3", "u3", "sold x2")),
            (4, comment("instagram", "c4", "u4", "mine")),
            (5, comment("tiktok", "c5", "u1", "sold")),
            (10, order("o1", "tiktok", "u1", "paid")),
            (20, comment("facebook", "c6", "u2", "cancel")),
            (30, r#""type":"stock","sku":"K1","delta":1"#.to_string()),
            (85, order("o2", "instagram", "u4", "paid")),
        ]);
        replay(&mut s, &events);
        let got = replay(
            &mut s,
            &[
                (100, END.to_string()),
                (110, comment("tiktok", "c7", "u5", "sold")),
                (120, paid("o3", "youtube", "u3", 2)),
            ],
        );
        assert_eq!(
            got,
            [
                "100 session ended",
                "110 claim tiktok:c7 rejected - show_ended",
                "120 res res:youtube:c3 converted until 140",
                "120 order o3 converted",
            ]
        );
        assert_eq!(s.close_at(), Some(T0 + 3_700_000_000));
        assert_eq!(watermark(&mut s, 3699), Vec::<String>::new());
        assert_eq!(watermark(&mut s, 3700), ["3700 session closed"]);
        let at_close = s.summary();
        let after = replay(&mut s, &[(3800, paid("o4", "tiktok", "u6", 1))]);
        assert_eq!(after, ["3800 reject session_closed"]);
        let sum = s.summary();
        assert_eq!(sum, at_close, "nothing counts after the close");
        assert_eq!(sum.gmv_cents, 10000);
        assert_eq!(sum.units_sold, 4);
        assert_eq!(sum.held_units, 0);
        assert_eq!(sum.skus["K1"].available, -1);
        assert_eq!(s.closed_at(), Some(T0 + 3_700_000_000));
        assert_eq!(s.next_timer(), None, "no timer fires after the close");
    }

    /// A checkpoint (`livesell run --checkpoint-dir`) is the session's state serialized: a
    /// session read back at any point of the timeline goes on exactly as one that never
    /// stopped, its decisions, summary, live view and timers alike.
    #[test]
    fn a_session_read_back_from_its_bytes_goes_on_as_if_it_never_stopped() {
        let mut events = owned(K1);
        events.push((0, CLOSE_AFTER_3600.to_string()));
        events.extend([
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("facebook", "c2", "u2", "sold x2")),
            (3, comment("youtube", "c3", "u3", "sodl")),
            (4, comment("instagram", "c4", "u4", "K1 x9")),
            (5, comment("tiktok", "c5", "u1", "sold")),
            (10, order("o1", "tiktok", "u1", "paid")),
            (20, comment("facebook", "c6", "u2", "cancel")),
            (30, r#""type":"stock","sku":"K1","delta":1"#.to_string()),
            (85, order("o2", "instagram", "u4", "paid")),
            (100, END.to_string()),
            (110, comment("tiktok", "c7", "u5", "sold")),
            (120, paid("o3", "youtube", "u3", 2)),
        ]);
        let finish = |s: &mut Session, rest: &[(i64, String)]| {
            let mut lines = replay(s, rest);
            lines.extend(watermark(s, 3700));
            (lines, s.summary())
        };
        let whole = finish(&mut Session::new(), &events);
        for cut in 0..=events.len() {
            let mut s = Session::new();
            let mut lines = replay(&mut s, &events[..cut]);
            let bytes = bincode::serialize(&s).expect("a session serializes");
            let mut back: Session = bincode::deserialize(&bytes).expect("and reads back");
            assert_eq!(back.live_view("s", T0), s.live_view("s", T0), "cut {cut}");
            assert_eq!(back.next_timer(), s.next_timer(), "cut {cut}");
            let (rest, summary) = finish(&mut back, &events[cut..]);
            lines.extend(rest);
            assert_eq!((lines, summary), whole, "cut after {cut} events");
        }
        let corrupt = bincode::serialize(&Session::new()).expect("serializes");
        assert!(bincode::deserialize::<Session>(&corrupt[..corrupt.len() / 2]).is_err());
    }

    #[test]
    fn after_the_end_claims_are_rejected_and_everything_else_goes_on() {
        let mut s = Session::new();
        let mut events = owned(K1);
        events.extend([
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("tiktok", "c2", "u2", "sold x2")),
            (3, comment("tiktok", "c3", "u3", "sodl")),
            (4, END.to_string()),
        ]);
        let before = replay(&mut s, &events);
        assert!(before.contains(&"3 claim tiktok:c3 escalated - fuzzy_keyword".to_string()));
        assert_eq!(before.last().map(String::as_str), Some("4 session ended"));
        let reserve = r#""type":"reserve","request_id":"r1","platform":"web","user_id":"w1","sku":"K1","qty":1"#;
        let unknown = r#""type":"reserve","request_id":"r2","platform":"web","user_id":"w2","sku":"NOPE","qty":1"#;
        let accept = r#""type":"moderation","escalation_id":"esc:tiktok:c3","decision":"accept","sku":"K1","qty":1"#;
        let got = replay(
            &mut s,
            &[
                (5, comment("tiktok", "c4", "u4", "sold")),
                (6, comment("tiktok", "c5", "u5", "K1 x1")),
                (7, comment("tiktok", "c6", "u6", "is it sold?")),
                (8, comment("tiktok", "c7", "u7", "sodl")),
                (9, comment("tiktok", "c8", "u8", "sold x9")),
                (10, reserve.to_string()),
                (11, unknown.to_string()),
                (12, END.to_string()),
                (
                    13,
                    r#""type":"director","action":"activate","code":"K1""#.to_string(),
                ),
                (14, comment("tiktok", "c9", "u9", "mine")),
                (20, r#""type":"stock","sku":"K1","delta":2"#.to_string()),
                (21, accept.to_string()),
                (22, comment("tiktok", "c10", "u1", "cancel")),
            ],
        );
        assert_eq!(
            got,
            [
                "5 claim tiktok:c4 rejected - show_ended",
                "6 claim tiktok:c5 rejected - show_ended",
                "9 claim tiktok:c8 rejected - show_ended",
                "10 claim req:r1 rejected K1 show_ended",
                "11 claim req:r2 rejected NOPE show_ended",
                "14 claim tiktok:c9 rejected - show_ended",
                "20 claim tiktok:c2 promoted K1",
                "20 res res:tiktok:c2 created until 80",
                "21 claim tiktok:c3 reserved K1",
                "21 res res:tiktok:c3 created until 81",
                "22 res res:tiktok:c1 cancelled until 61",
                "22 claim tiktok:c10 cancelled K1",
            ]
        );
        let sum = s.summary();
        // c1, c2, c4, c5, c8, c9 and both reserves are claims; c3 (fuzzy) is not.
        assert_eq!(sum.claims, 8);
        assert_eq!(sum.rejected, 6);
        assert_eq!(sum.escalations, 1);
        // Expiries and their promotions still fire after the end.
        assert_eq!(
            watermark(&mut s, 80),
            ["80 res res:tiktok:c2 expired until 80"]
        );
    }

    #[test]
    fn a_quiet_session_closes_after_idle_close_s_and_its_timers_fire_first() {
        let idle =
            r#""type":"director","action":"config","idle_close_s":100,"reservation_window_s":50"#;
        let mut s = Session::new();
        let mut events = owned(K1);
        events.extend([
            (0, idle.to_string()),
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("tiktok", "c2", "u2", "sold")),
            (3, comment("tiktok", "c3", "u3", "sold")),
            (4, comment("tiktok", "c4", "u4", "sold x2")),
            (51, comment("tiktok", "c5", "u5", "nice")),
        ]);
        replay(&mut s, &events);
        // The last applied event (chatter) was at 51: the close is at 151.
        assert_eq!(s.close_at(), Some(T0 + 151_000_000));
        // c1's expiry at 51 fired before the chatter and promoted c3; c4 (two units) waits.
        assert_eq!(s.summary().skus["K1"].waitlist, 1);
        assert_eq!(
            watermark(&mut s, 200),
            [
                "52 res res:tiktok:c2 expired until 52",
                "101 res res:tiktok:c3 expired until 101",
                "101 claim tiktok:c4 promoted K1",
                "101 res res:tiktok:c4 created until 151",
                "151 res res:tiktok:c4 expired until 151",
                "151 session closed",
            ]
        );
    }

    #[test]
    fn the_close_expires_every_live_hold_and_empties_the_waitlists() {
        let cfg = r#""type":"director","action":"config","close_after_s":10"#;
        let mut s = Session::new();
        let mut events = owned(K1);
        events.extend([
            (0, cfg.to_string()),
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, comment("tiktok", "c2", "u2", "sold")),
            (3, comment("tiktok", "c3", "u3", "sold")),
            (5, END.to_string()),
            // Neither a later config nor a later end moves the close set by the first end.
            (
                6,
                r#""type":"director","action":"config","close_after_s":1000"#.to_string(),
            ),
            (7, END.to_string()),
        ]);
        let got = replay(&mut s, &events);
        assert_eq!(got.iter().filter(|l| l.contains("session")).count(), 1);
        assert_eq!(s.close_at(), Some(T0 + 15_000_000));
        let got = replay(&mut s, &[(15, comment("tiktok", "c4", "u4", "cancel"))]);
        assert_eq!(
            got,
            [
                "15 res res:tiktok:c1 expired until 61 session_closed",
                "15 res res:tiktok:c2 expired until 62 session_closed",
                "15 session closed",
                "15 reject session_closed",
            ]
        );
        let sum = s.summary();
        assert_eq!(sum.held_units, 0);
        assert_eq!(sum.reservations_expired, 2);
        assert_eq!(sum.skus["K1"].waitlist, 0);
        assert_eq!(sum.comments, 3, "the rejected comment counts nowhere");
    }

    #[test]
    fn the_closed_decision_carries_the_summary() {
        let mut s = Session::new();
        let mut out = Vec::new();
        for (sec, body) in owned(K1).iter().chain([(1, END.to_string())].iter()) {
            let ev = event(*sec, body);
            s.apply(&ev, ev.ts, false, &mut out);
        }
        out.clear();
        s.advance(T0 + 86_401_000_000, &mut out);
        let line = out.last().expect("closed").to_json("s");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["id"], "session/closed");
        assert_eq!(v["kind"], "session");
        assert_eq!(v["event"], "closed");
        assert_eq!(v["ts"], "2027-01-15T14:00:01.000000Z");
        assert_eq!(v["summary"]["skus"]["K1"]["pool"], 2);
        assert_eq!(v["summary"]["claims"], 0);
    }

    /// A stock delta or an order that would take a figure past 64 bits is refused by
    /// `overflow` (the engine turns it into a reject) instead of wrapping.
    #[test]
    fn sums_that_would_pass_64_bits_are_found_before_they_wrap() {
        use crate::domain::event::{Body, Event, StockChange};
        let mut s = Session::new();
        let mut out = Vec::new();
        let stock = |change| Event {
            session_id: "s".into(),
            ts: 1,
            body: Body::Stock {
                sku: "A1".into(),
                change,
            },
        };
        assert!(s.apply(&stock(StockChange::Set(i64::MAX - 1)), 1, false, &mut out));
        assert_eq!(s.overflow(&stock(StockChange::Delta(1))), None);
        let why = s.overflow(&stock(StockChange::Delta(2))).unwrap();
        assert!(why.contains("passes 64 bits"), "{why}");
        assert_eq!(s.overflow(&stock(StockChange::Delta(-5))), None);
    }
}
