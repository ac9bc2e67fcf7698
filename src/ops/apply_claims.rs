//! The claim engine operator: per session, replays final events in SPEC 2 order through `Session`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rustc_hash::{FxHashMap, FxHashSet};
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Capability;
use timely::dataflow::operators::generic::Operator;

use crate::domain::decision::ResEvent;
use crate::domain::decision::{Body as DBody, ClaimOutcome, Decision, OrderOutcome};
use crate::domain::draft::draft_line;
use crate::domain::event::{Body, Director, Event, ProductDef, Text, VariantDef};
use crate::domain::order::{ReplayKey, SourceClock, final_below, order_ties, reject_time};
use crate::domain::session::Session;
use crate::domain::text::normalize_code;
use crate::domain::time::minute_of;
use crate::io::tables::{
    CommentRow, ProductRow, ReservationRow, TableRows, encode, products_batch, reservations_batch,
    stock_batch,
};
use crate::ops::rank_claimants::MAX_RANKED;
use crate::records::{Claimant, Input, Line, Metric, MetricKey, Out, Reject, RowGroups};
use bytes::Bytes;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

/// Where an input goes: its session's worker; rejects and counts to worker 0.
pub fn route(input: &Input) -> u64 {
    match input {
        Input::Event { event, .. } => session_hash(&event.session_id),
        Input::Reject { .. } => 0,
        Input::BlockDone { target, .. } => *target,
    }
}

/// Routing hash of a session. SipHash with fixed keys: the same in every process, and its low
/// bits (which pick the worker when the worker count is a power of two) are well mixed, which
/// FxHash's are not (measured: 14 shows split 11/3 over 2 workers).
pub fn session_hash(session_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    session_id.hash(&mut h);
    h.finish()
}

struct Pending {
    key: ReplayKey,
    late: bool,
    /// Index of the session's slot in `Sessions`.
    slot: u32,
    event: Box<Event>,
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

/// This worker's sessions: slots in order of first appearance, found by id once per event
/// (on arrival); the pending event carries its slot's index from there on.
#[derive(Default)]
struct Sessions {
    index: FxHashMap<String, u32>,
    slots: Vec<SessionSlot>,
}

impl Sessions {
    /// The index of a session's slot, made on first use (looked up before its id is copied);
    /// a new one is announced on `out`, so the writer can name the session its decisions are
    /// keyed by.
    fn slot_of(&mut self, session_id: &str, out: &mut Vec<Out>) -> u32 {
        if let Some(&i) = self.index.get(session_id) {
            return i;
        }
        let order = session_hash(session_id);
        out.push(Out::Session {
            hash: order,
            session_id: session_id.to_string(),
        });
        let i = self.slots.len() as u32;
        self.index.insert(session_id.to_string(), i);
        self.slots.push(SessionSlot {
            id: session_id.to_string(),
            order,
            ..Default::default()
        });
        i
    }

    /// The slots in session id order.
    fn by_id(&mut self) -> Vec<&mut SessionSlot> {
        let mut v: Vec<&mut SessionSlot> = self.slots.iter_mut().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

#[derive(Default)]
struct SessionSlot {
    id: String,
    /// Where the session's decisions stand among other sessions' at the same time.
    order: u64,
    session: Session,
    seq: u64,
    /// Hashes of the redelivery keys seen so far (SPEC 2): a second copy is dropped on arrival.
    seen: FxHashSet<u64>,
    /// Claims placed per sku so far, and the time of the last one sent to the ranking.
    placed: FxHashMap<Text, (usize, i64)>,
    /// Comments applied so far (their `seq` in the comments table).
    comments: i64,
    /// The session's rows of the append-only snapshot tables, in processing order.
    rows: TableRows,
    /// Every reservation made, as it stands now (the reservations table).
    reservations: FxHashMap<Text, ReservationRow>,
    /// The run sheet's products by normalised code, with the `seq` of their last definition.
    catalog: BTreeMap<String, (i64, ProductDef)>,
    /// Effective time of the last event applied, and whether the live view is out of date.
    last_t: i64,
    live_dirty: bool,
}

/// This worker's sessions and the events not yet final.
struct Engine {
    sessions: Sessions,
    pending: BinaryHeap<Reverse<Pending>>,
    multi_source: bool,
    decisions: Vec<Decision>,
    /// Every source's watermark, folded from the block reports all workers receive.
    clocks: Vec<SourceClock>,
    /// Events and rejects waiting for the blocks before theirs to be folded.
    stash: BTreeMap<(u32, u64), Vec<Stashed>>,
    /// Non-blank lines read, counted on the worker that receives the reports meant for worker 0.
    lines: u64,
    first_worker: bool,
    metric_sums: MetricSums,
    /// The highest bound released so far. An idle source that speaks again may bring events
    /// below it; they are applied at this bound instead, as late events (schemas/README.md).
    released: Option<i64>,
    /// Emit an order-out record for every reservation change (winners to orders).
    drafts: bool,
    /// Gather the snapshot tables' rows (only when there is a directory to write them to).
    tables: bool,
    /// Send the snapshot tables this often during the run (`--snapshot-interval`).
    snapshot_every: Option<std::time::Duration>,
    last_snapshot: std::time::Instant,
    /// Something was applied since the last snapshot.
    changed: bool,
    /// Send changed sessions' live views this often (`livesell serve`).
    live_every: Option<std::time::Duration>,
    last_live: std::time::Instant,
    live_changed: bool,
    /// Per source, the offset an earlier run's group committed: what an event before it
    /// caused already reached the Kafka sink (empty for files).
    resume: Vec<u64>,
}

impl Engine {
    fn already_sent(&self, source: u32, position: u64) -> bool {
        self.resume
            .get(source as usize)
            .is_some_and(|&c| position < c)
    }
}

impl Stashed {
    fn line(&self) -> u64 {
        match self {
            Stashed::Event { line, .. } => *line,
            Stashed::Reject { reject, .. } => reject.line,
        }
    }
}

enum Stashed {
    Event {
        line: u64,
        local: Option<i64>,
        event: Box<Event>,
    },
    Reject {
        local: Option<i64>,
        reject: Box<Reject>,
    },
}

impl Engine {
    /// Folds every block below `frontier` (every block when `None`), in block order per source,
    /// giving each of its events its effective time (SPEC 2) and dropping redeliveries.
    fn admit(&mut self, frontier: Option<u64>, out: &mut Vec<Out>) {
        // Block-major, then source order: the same arrival order however far the frontier jumps.
        loop {
            let next = (0..self.clocks.len())
                .filter_map(|s| self.clocks[s].next_block().map(|b| (b, s)))
                .filter(|(b, _)| frontier.is_none_or(|f| *b < f))
                .min();
            let Some((b, s)) = next else { break };
            {
                let mut items = self.stash.remove(&(s as u32, b)).unwrap_or_default();
                // The exchange may hand a block's events over in several interleaved runs: put
                // them back in line order, or a redelivery in the same block could arrive
                // before its original and be kept in its place (mostly sorted: near linear).
                items.sort_by_key(Stashed::line);
                for item in items {
                    match item {
                        Stashed::Event { line, local, event } => {
                            let index = self.sessions.slot_of(&event.session_id, out);
                            let slot = &mut self.sessions.slots[index as usize];
                            if let Some(k) = event.dedupe_key() {
                                let mut h = std::hash::DefaultHasher::new();
                                std::hash::Hash::hash(&k, &mut h);
                                if !slot.seen.insert(std::hash::Hasher::finish(&h)) {
                                    slot.session.count_redelivery();
                                    continue;
                                }
                            }
                            let (mut eff, mut late) = self.clocks[s].admit(event.ts, local);
                            if let Some(r) = self.released.filter(|r| eff < *r) {
                                (eff, late) = (r, true);
                            }
                            let key = ReplayKey {
                                eff,
                                rank: event.type_rank(),
                                source: s as u32,
                                position: line,
                            };
                            self.pending.push(Reverse(Pending {
                                key,
                                late,
                                slot: index,
                                event,
                            }));
                        }
                        Stashed::Reject { local, reject } => {
                            let at = reject_time(self.clocks[s].watermark_before(local));
                            let sent = self.already_sent(reject.source_index, reject.line);
                            reject_outputs(reject, at, sent, out);
                        }
                    }
                }
                self.clocks[s].fold();
            }
        }
    }

    /// Applies every pending event whose effective time is below `bound` (all when `None`).
    fn release(&mut self, bound: Option<i64>, out: &mut Vec<Out>) {
        if let Some(b) = bound {
            self.released = self.released.max(Some(b));
        }
        let bound = bound.map(|b| b.max(self.released.unwrap_or(b)));
        let mut group: Vec<Pending> = Vec::new();
        loop {
            let Some(Reverse(head)) = self.pending.peek() else {
                break;
            };
            if bound.is_some_and(|f| head.key.eff >= f) {
                break;
            }
            let (eff, rank) = (head.key.eff, head.key.rank);
            group.clear();
            while let Some(Reverse(p)) = self.pending.peek() {
                if (p.key.eff, p.key.rank) != (eff, rank) {
                    break;
                }
                group.push(self.pending.pop().expect("peeked").0);
            }
            if group.len() > 1 && self.multi_source {
                // Ties between sessions do not matter; within one, SPEC 2's tie-break does.
                group.sort_by(|a, b| {
                    a.event
                        .session_id
                        .cmp(&b.event.session_id)
                        .then(a.key.cmp(&b.key))
                });
                let mut start = 0;
                while start < group.len() {
                    let sid = &group[start].event.session_id;
                    let end = start
                        + group[start..]
                            .iter()
                            .take_while(|p| &p.event.session_id == sid)
                            .count();
                    let mut run: Vec<Pending> = group.drain(start..end).collect();
                    order_ties(&mut run, |p| {
                        let (pl, id) = p.event.platform_and_id();
                        (&p.key, pl, id)
                    });
                    let n = run.len();
                    group.splice(start..start, run);
                    start += n;
                }
            }
            // Whatever comes later (a source back from idle) is ordered after what went out.
            self.released = self.released.max(Some(eff));
            for p in group.drain(..) {
                self.apply(p, out);
            }
        }
    }

    fn apply(&mut self, p: Pending, out: &mut Vec<Out>) {
        self.changed = true;
        self.live_changed = true;
        let sent = self.already_sent(p.key.source, p.key.position);
        let slot = &mut self.sessions.slots[p.slot as usize];
        slot.last_t = p.key.eff;
        slot.live_dirty = true;
        self.decisions.clear();
        slot.session
            .apply(&p.event, p.key.eff, p.late, &mut self.decisions);
        let sid = &p.event.session_id;
        match &p.event.body {
            Body::Comment {
                platform,
                comment_id,
                user_id,
                user_name,
                text,
            } if self.tables => {
                slot.comments += 1;
                let row = CommentRow {
                    seq: slot.comments,
                    ts: p.event.ts,
                    platform,
                    comment_id,
                    user_id,
                    user_name: user_name.as_deref(),
                    text,
                    reading: slot.session.last_reading(),
                    late: p.late,
                };
                slot.rows.comment(sid, &row);
            }
            Body::Director(Director::Product(def)) => {
                let seq = slot.seq as i64 + 1;
                slot.catalog
                    .insert(normalize_code(&def.code), (seq, def.clone()));
            }
            Body::Director(Director::Price { code, price_cents }) => {
                if let Some((_, def)) = slot.catalog.get_mut(&normalize_code(code)) {
                    def.price_cents = *price_cents;
                }
            }
            _ => {}
        }
        let opens_claim = matches!(p.event.body, Body::Comment { .. } | Body::Reserve { .. });
        let mut counted_claim = false;
        for d in &self.decisions {
            slot.seq += 1;
            let key = (p.key.eff, slot.order, slot.seq, 0);
            if self.drafts {
                if let DBody::Reservation(r) = &d.body {
                    let currency = slot.session.currency_of(&r.sku);
                    if let Some(line) = draft_line(sid, d, currency) {
                        out.push(Out::Draft(Line { key, line, sent }));
                    }
                }
            }
            out.push(Out::Decision(Line {
                key,
                line: d.to_json(sid),
                sent,
            }));
            if self.tables {
                slot.rows.decision(sid, slot.seq as i64, d);
                track_reservation(d, slot.seq as i64, &mut slot.reservations);
            }
            metrics(sid, d, opens_claim && !counted_claim, &mut self.metric_sums);
            claimant(sid, d, &mut slot.placed, out);
            counted_claim |= matches!(d.body, DBody::Claim(_));
        }
    }

    /// The live view of every session changed since the last call.
    fn live_views(&mut self, out: &mut Vec<Out>) {
        self.live_changed = false;
        for slot in self.sessions.slots.iter_mut().filter(|s| s.live_dirty) {
            slot.live_dirty = false;
            out.push(Out::Live(Box::new(
                slot.session.live_view(&slot.id, slot.last_t),
            )));
        }
    }

    /// Every snapshot table's rows of this worker's sessions, as Arrow batches for the writer:
    /// one part per session and table, already in the table's order.
    fn snapshot(&mut self, out: &mut Vec<Out>) {
        for slot in self.sessions.by_id() {
            let id = slot.id.clone();
            let mut parts = slot.rows.finish().unwrap_or_else(|e| {
                eprintln!("livesell: cannot build snapshot tables: {e}");
                Vec::new()
            });
            for (name, batch) in [
                ("reservations", slot.reservations_batch(&id)),
                ("products", slot.products_batch(&id)),
                ("stock", slot.stock_batch(&id)),
            ] {
                match encode(batch) {
                    Ok(b) => parts.push((name, b)),
                    Err(e) => eprintln!("livesell: cannot build the {name} table: {e}"),
                }
            }
            // One record per table, its row groups in order. The append-only tables go as the
            // rows since the last snapshot.
            let mut by_table: Vec<(&'static str, Vec<Bytes>)> = Vec::new();
            for (name, part) in parts {
                match by_table.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, v)) => v.push(part),
                    None => by_table.push((name, vec![part])),
                }
            }
            for (name, parts) in by_table {
                let delta = matches!(name, "comments" | "claims" | "orders");
                out.push(Out::Snapshot {
                    table: name.to_string(),
                    session_id: id.clone(),
                    parts: RowGroups(parts),
                    delta,
                });
            }
        }
    }
}

impl SessionSlot {
    fn reservations_batch(&self, id: &str) -> Result<RecordBatch, ArrowError> {
        let mut rows: Vec<(&str, &str, &ReservationRow)> = self
            .reservations
            .iter()
            .map(|(rid, r)| (id, &**rid, r))
            .collect();
        rows.sort_by_key(|r| r.2.seq);
        reservations_batch(&rows)
    }

    /// One row per variant, products in the order they were (last) defined.
    fn products_batch(&self, id: &str) -> Result<RecordBatch, ArrowError> {
        let mut defs: Vec<&(i64, ProductDef)> = self.catalog.values().collect();
        defs.sort_by_key(|(seq, _)| *seq);
        let options: Vec<(&ProductDef, &VariantDef, String)> = defs
            .iter()
            .flat_map(|(_, def)| def.variants.iter().map(move |v| (def, v)))
            .map(|(def, v)| {
                let text: Vec<String> = v.options.iter().map(|(k, x)| format!("{k}={x}")).collect();
                (def, v, text.join("; "))
            })
            .collect();
        let rows: Vec<(&str, i64, ProductRow)> = options
            .iter()
            .enumerate()
            .map(|(i, (def, v, opts))| {
                let row = ProductRow {
                    code: &def.code,
                    title: def.title.as_deref(),
                    price_cents: def.price_cents,
                    currency: def.currency.as_deref(),
                    sku: &v.sku,
                    options: opts,
                    initial_stock: v.stock,
                };
                (id, i as i64 + 1, row)
            })
            .collect();
        products_batch(&rows)
    }

    fn stock_batch(&self, id: &str) -> Result<RecordBatch, ArrowError> {
        let summary = self.session.summary();
        let rows: Vec<(&str, i64, &str, [i64; 5])> = summary
            .skus
            .iter()
            .enumerate()
            .map(|(i, (sku, s))| {
                let v = [s.pool, s.held, s.sold, s.available, s.waitlist as i64];
                (id, i as i64 + 1, sku.as_str(), v)
            })
            .collect();
        stock_batch(&rows)
    }
}

/// Keeps the reservations table's row of a reservation as its events come.
fn track_reservation(d: &Decision, seq: i64, rows: &mut FxHashMap<Text, ReservationRow>) {
    let DBody::Reservation(r) = &d.body else {
        return;
    };
    match r.event {
        ResEvent::Created => {
            rows.insert(
                r.reservation_id.clone(),
                ReservationRow {
                    seq,
                    claim_id: r.claim_id.clone(),
                    platform: r.buyer.platform.clone(),
                    user_id: r.buyer.user_id.clone(),
                    sku: r.sku.clone(),
                    qty: r.qty,
                    unit_price_cents: r.unit_price_cents,
                    created_at: d.ts,
                    expires_at: r.expires_at,
                    state: "held",
                    ended_at: None,
                    reason: None,
                },
            );
        }
        ended => {
            if let Some(row) = rows.get_mut(&r.reservation_id) {
                row.state = ended.as_str();
                row.ended_at = Some(d.ts);
                row.reason = r.reason;
            }
        }
    }
}

/// Metric additions summed within one activation, so differential sees one update per cell
/// and batch instead of one per decision. Keyed by a hash, with the cells that share it.
#[derive(Default)]
struct MetricSums {
    cells: FxHashMap<u64, Vec<(MetricKey, i64)>>,
}

impl MetricSums {
    fn add(
        &mut self,
        session_id: &str,
        minute: i64,
        sku: &str,
        platform: &str,
        metric: Metric,
        amount: i64,
    ) {
        use std::hash::{Hash, Hasher};
        if amount == 0 {
            return;
        }
        let mut h = rustc_hash::FxHasher::default();
        (session_id, minute, sku, platform, metric).hash(&mut h);
        let cell = self.cells.entry(h.finish()).or_default();
        let same = |k: &MetricKey| {
            k.minute == minute
                && k.metric == metric
                && k.sku == sku
                && k.platform == platform
                && k.session_id == session_id
        };
        match cell.iter_mut().find(|(k, _)| same(k)) {
            Some((_, sum)) => *sum += amount,
            None => cell.push((
                MetricKey {
                    session_id: session_id.to_string(),
                    minute,
                    sku: sku.to_string(),
                    platform: platform.to_string(),
                    metric,
                },
                amount,
            )),
        }
    }

    fn drain_into(&mut self, out: &mut Vec<Out>) {
        for (_, cell) in self.cells.drain() {
            for (key, amount) in cell {
                if amount != 0 {
                    out.push(Out::Metric {
                        key: Box::new(key),
                        amount,
                    });
                }
            }
        }
    }
}

/// The additions a decision makes to `gmv_minute`.
fn metrics(session_id: &str, d: &Decision, opens_claim: bool, sums: &mut MetricSums) {
    let minute = minute_of(d.ts);
    let mut add = |sku: &str, platform: &str, metric: Metric, amount: i64| {
        sums.add(session_id, minute, sku, platform, metric, amount)
    };
    match &d.body {
        DBody::Order(o) => {
            let sign = if o.outcome == OrderOutcome::Refunded {
                -1
            } else {
                1
            };
            add(
                &o.sku,
                &o.buyer.platform,
                Metric::GmvCents,
                sign * o.amount_cents,
            );
            add(
                &o.sku,
                &o.buyer.platform,
                Metric::Units,
                sign * o.qty as i64,
            );
        }
        DBody::Claim(c) if opens_claim && c.outcome != ClaimOutcome::Cancelled => {
            add(
                c.sku.as_deref().unwrap_or(""),
                &c.buyer.platform,
                Metric::Claims,
                1,
            );
        }
        _ => {}
    }
}

/// A claim placed on a sku, for the ranked claimants view. Placements are decided in time order,
/// so once a sku has `MAX_RANKED` of them a later one cannot rank inside the view (unless it ties
/// on time with the last one sent) and is not sent at all.
fn claimant(
    session_id: &str,
    d: &Decision,
    placed: &mut FxHashMap<Text, (usize, i64)>,
    out: &mut Vec<Out>,
) {
    if let DBody::Claim(c) = &d.body {
        if let (ClaimOutcome::Reserved | ClaimOutcome::Waitlisted, Some(sku)) = (c.outcome, &c.sku)
        {
            if !placed.contains_key(sku) {
                placed.insert(sku.clone(), (0, i64::MIN));
            }
            let seen = placed.get_mut(sku).expect("inserted above");
            if seen.0 >= MAX_RANKED && d.ts != seen.1 {
                return;
            }
            *seen = (seen.0 + 1, d.ts);
            out.push(Out::Claimant {
                session_id: session_id.to_string(),
                claimant: Box::new(Claimant {
                    ts: d.ts,
                    claim_id: c.claim_id.clone(),
                    sku: sku.clone(),
                    platform: c.buyer.platform.clone(),
                    user_id: c.buyer.user_id.clone(),
                    qty: c.qty.unwrap_or(1),
                }),
            });
        }
    }
}

fn reject_outputs(r: Box<Reject>, at: i64, sent: bool, out: &mut Vec<Out>) {
    let key = (at, 0, r.source_index as u64, r.line);
    let mut d = crate::domain::decision::JsonObject::new();
    d.str("id", &format!("reject/{}/{}", r.source, r.line));
    match &r.session_id {
        Some(s) => d.str("session_id", s),
        None => d.raw("session_id", "null"),
    }
    // A line read no further than its bytes has no time of its own: it stands where it was
    // placed, at its source's watermark (SPEC 4 gives every decision a `ts`).
    d.ts("ts", r.ts.unwrap_or(at));
    d.str("kind", "reject");
    d.str("reason", &r.reason);
    d.str("detail", &r.detail);
    d.str("source", &r.source);
    d.num("line", r.line as i128);
    d.num("offset", r.offset as i128);
    out.push(Out::Decision(Line {
        key,
        line: d.finish(),
        sent,
    }));

    let mut l = crate::domain::decision::JsonObject::new();
    l.str("source", &r.source);
    l.num("line", r.line as i128);
    l.num("offset", r.offset as i128);
    l.str("reason", &r.reason);
    l.str("detail", &r.detail);
    l.str("raw", &String::from_utf8_lossy(&r.raw));
    if std::str::from_utf8(&r.raw).is_err() {
        use base64_lite::encode;
        l.str("raw_base64", &encode(&r.raw));
    }
    out.push(Out::DeadLetter(Line {
        key,
        line: l.finish(),
        sent,
    }));
}

/// Standard base64 for dead-letter bytes that are not UTF-8 (no crate needed for 20 lines).
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    #[test]
    fn encodes_like_rfc4648() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(b"\xff\xfe\x00"), "//4A");
    }
}

pub trait ApplyClaims<'scope> {
    /// Routes events to their session's worker and applies them once final; emits decisions,
    /// dead letters, metric additions, release marks, and each session's summary at the end.
    fn apply_claims(self, settings: EngineSettings) -> Stream<'scope, u64, Vec<Out>>;
}

/// How the claim engine runs.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    pub sources: usize,
    pub lateness_us: i64,
    /// Emit order-out records (a Kafka sink is attached).
    pub drafts: bool,
    /// Gather the session tables for `DIR/snapshots/` (a file run, or `--out` on Kafka).
    pub tables: bool,
    /// Also send them this often while the input goes on.
    pub snapshot_every: Option<std::time::Duration>,
    /// Per source, the offset below which an earlier run's outputs reached the sink.
    pub resume: Vec<u64>,
    /// Send each changed session's live view at most this often (`livesell serve`).
    pub live_every: Option<std::time::Duration>,
}

impl<'scope> ApplyClaims<'scope> for Stream<'scope, u64, Vec<Input>> {
    fn apply_claims(self, settings: EngineSettings) -> Stream<'scope, u64, Vec<Out>> {
        let EngineSettings {
            sources,
            lateness_us,
            drafts,
            tables,
            snapshot_every,
            resume,
            live_every,
        } = settings;
        let scope = self.scope();
        self.unary_frontier(Exchange::new(route), "ApplyClaims", move |_cap, info| {
            let activator = scope.activator_for(info.address);
            let mut engine = Engine {
                sessions: Sessions::default(),
                pending: BinaryHeap::new(),
                multi_source: sources > 1,
                decisions: Vec::new(),
                clocks: vec![SourceClock::new(lateness_us); sources],
                stash: BTreeMap::new(),
                lines: 0,
                first_worker: false,
                metric_sums: MetricSums::default(),
                released: None,
                drafts,
                tables,
                snapshot_every,
                last_snapshot: std::time::Instant::now(),
                changed: false,
                live_every,
                last_live: std::time::Instant::now(),
                live_changed: false,
                resume,
            };
            let mut held: Option<Capability<u64>> = None;
            let mut marked: Option<u64> = None;
            let mut finished = false;
            let mut buf: Vec<Out> = Vec::new();
            move |(input, frontier), output| {
                input.for_each_stamp(|cap, data| {
                    if let Some(t) = cap.least() {
                        if held.as_ref().is_none_or(|h| t < h.time()) {
                            held = cap.retain_least(0);
                        }
                    }
                    for batch in data {
                        // A batch is mostly one block's events: its stash starts with room for
                        // them instead of growing (and copying them) a dozen times.
                        let room = batch.len();
                        for item in batch.drain(..) {
                            match item {
                                Input::Event {
                                    source,
                                    block,
                                    line,
                                    local,
                                    event,
                                } => engine
                                    .stash
                                    .entry((source, block))
                                    .or_insert_with(|| Vec::with_capacity(room))
                                    .push(Stashed::Event { line, local, event }),
                                Input::Reject {
                                    block,
                                    local,
                                    reject,
                                } => engine
                                    .stash
                                    .entry((reject.source_index, block))
                                    .or_default()
                                    .push(Stashed::Reject { local, reject }),
                                Input::BlockDone {
                                    target,
                                    source,
                                    block,
                                    max,
                                    last,
                                    idle,
                                    lines,
                                } => {
                                    engine.first_worker |= target == 0;
                                    engine.lines += lines;
                                    engine.clocks[source as usize].report(block, max, last, idle);
                                }
                            }
                        }
                    }
                });
                let f = frontier.frontier().first().copied();
                engine.admit(f, &mut buf);
                let bound = if f.is_some() {
                    final_below(&engine.clocks)
                } else {
                    None
                };
                engine.release(bound, &mut buf);
                engine.metric_sums.drain_into(&mut buf);
                if let (Some(every), true, Some(_)) = (engine.snapshot_every, engine.tables, f) {
                    let waited = engine.last_snapshot.elapsed();
                    if waited >= every && engine.changed {
                        engine.last_snapshot = std::time::Instant::now();
                        engine.changed = false;
                        engine.snapshot(&mut buf);
                    } else if engine.changed {
                        // A quiet input activates nothing: come back when the snapshot is due.
                        activator.activate_after(every.saturating_sub(waited));
                    }
                }
                if let Some(every) = engine.live_every.filter(|_| engine.live_changed) {
                    // At once when the last views went out long enough ago, else when due.
                    let waited = engine.last_live.elapsed();
                    if waited >= every || f.is_none() {
                        engine.last_live = std::time::Instant::now();
                        engine.live_views(&mut buf);
                    } else {
                        activator.activate_after(every - waited);
                    }
                }
                if f.is_none() && !finished {
                    finished = true;
                    for slot in engine.sessions.by_id() {
                        let json = serde_json::to_string(&slot.session.summary())
                            .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
                        buf.push(Out::Summary {
                            session_id: slot.id.clone(),
                            json,
                        });
                    }
                    if engine.first_worker {
                        buf.push(Out::Lines(engine.lines));
                    }
                    if engine.tables {
                        engine.snapshot(&mut buf);
                    }
                    // The input is over: freeing millions of small allocations one by one only
                    // delays the exit (measured at ~8% of a run), so the state is left to the OS.
                    std::mem::forget(std::mem::take(&mut engine.sessions));
                }
                let Some(h) = held.as_mut() else { return };
                if !buf.is_empty() {
                    output.session(&*h).give_iterator(buf.drain(..));
                }
                match f {
                    Some(t) => {
                        // Once the writer's frontier passes t − 1, every worker has released
                        // everything below `bound`: the writer may write it.
                        if t > 0 && marked.is_none_or(|m| t > m) && t - 1 >= *h.time() {
                            marked = Some(t);
                            let at = h.delayed(&(t - 1));
                            output.session(&at).give(Out::Released {
                                bound: bound.or(Some(i64::MAX)),
                            });
                        }
                        if t > *h.time() {
                            h.downgrade(&t);
                        }
                    }
                    None => held = None,
                }
            }
        })
    }
}
