//! This worker's sessions: an open one's whole state and gathered table rows; a closed one's
//! few bytes (its id, its place in the output order, its redelivery keys for a while).

use std::collections::BTreeMap;

use bytes::Bytes;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::domain::cart::{Cart, Carts};
use crate::domain::decision::{Body as DBody, Buyer, Decision, ResEvent};
use crate::domain::event::{ProductDef, Text, VariantDef};
use crate::domain::session::Session;
use crate::records::{Claimant, MetricKey, Out, RowGroups, Rows, Show, session_hash};
use crate::tables::batches::{carts_batch, products_batch, reservations_batch, stock_batch};
use crate::tables::rows::{ProductRow, ReservationRow, TableError, TableRows, encode};
use crate::tables::views::{claimants_batch, gmv_minute_batch, gmv_minute_rows};

use super::emit::ranked;

/// This worker's sessions: slots in order of first appearance, found by id once per event
/// (on arrival); the pending event carries its slot's index from there on. A closed session
/// keeps its slot (a few bytes), so that its later events are rejected, not reopened.
#[derive(Default)]
pub struct Sessions {
    index: FxHashMap<String, u32>,
    pub slots: Vec<SessionSlot>,
}

impl Sessions {
    /// The index of a session's slot, made on first use (looked up before its id is copied);
    /// a new one is announced on `out`, so the writer can name the session its decisions are
    /// keyed by.
    pub fn slot_of(&mut self, session_id: &str, out: &mut Vec<Out>) -> u32 {
        if let Some(&i) = self.index.get(session_id) {
            return i;
        }
        let order = session_hash(session_id);
        out.push(Out::Show(Show::Seen {
            forgotten: false,
            hash: order,
            session_id: session_id.to_string(),
        }));
        let i = self.slots.len() as u32;
        self.index.insert(session_id.to_string(), i);
        self.slots.push(SessionSlot {
            id: session_id.to_string(),
            order,
            seen: FxHashSet::default(),
            open: Some(Box::default()),
            timer: None,
        });
        i
    }

    /// Sessions read back from a checkpoint, in their order there.
    pub fn from_slots(slots: Vec<SessionSlot>) -> Sessions {
        let index = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i as u32))
            .collect();
        Sessions { index, slots }
    }

    /// The open slots in session id order.
    pub fn open_by_id(&mut self) -> Vec<(&str, &mut OpenSlot)> {
        let mut v: Vec<(&str, &mut OpenSlot)> = self
            .slots
            .iter_mut()
            .filter_map(|s| s.open.as_deref_mut().map(|o| (s.id.as_str(), o)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    pub fn index_of(&self, session_id: &str) -> Option<u32> {
        self.index.get(session_id).copied()
    }

    /// The open state of a session by id.
    pub fn open_mut(&mut self, session_id: &str) -> Option<&mut OpenSlot> {
        let i = *self.index.get(session_id)?;
        self.slots[i as usize].open.as_deref_mut()
    }

    pub fn open_count(&self) -> u64 {
        self.slots.iter().filter(|s| s.open.is_some()).count() as u64
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct SessionSlot {
    pub id: String,
    /// Where the session's decisions stand among other sessions' at the same time.
    pub order: u64,
    /// Hashes of the redelivery keys seen so far (SPEC 2): a second copy is dropped on arrival.
    /// Kept for a while after the close (`REDELIVERIES_KEPT_US`), then forgotten.
    pub seen: FxHashSet<u64>,
    /// The session's state while it is open; `None` once closed.
    pub open: Option<Box<OpenSlot>>,
    /// The due time this slot is registered under in the engine's timers.
    pub timer: Option<i64>,
}

/// An open session: the domain state and what the outputs need of it. It serializes whole
/// into a checkpoint but for its table rows, which go beside it (`TableRows::checkpoint`).
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct OpenSlot {
    pub session: Session,
    pub seq: u64,
    /// Claims placed per sku so far, and the time of the last one sent to the ranking.
    pub placed: FxHashMap<Text, (usize, i64)>,
    /// The claimants sent to the ranking, taken back out at the close.
    pub sent: Vec<Claimant>,
    /// The session's metric totals as sent to `gmv_minute`, taken back out at the close.
    pub cells: FxHashMap<MetricKey, i64>,
    /// Comments applied so far (their `seq` in the comments table).
    pub comments: i64,
    /// The session's rows of the append-only snapshot tables, in processing order.
    #[serde(skip)]
    pub rows: TableRows,
    /// Every reservation made, as it stands now (the reservations table).
    pub reservations: FxHashMap<Text, ReservationRow>,
    /// Every buyer's cart (the carts table, `livesell.carts`).
    pub carts: Carts,
    /// The run sheet's products by normalised code, with the `seq` of their last definition.
    pub catalog: BTreeMap<String, (i64, ProductDef)>,
    /// Effective time of the first event applied (the snapshots' date partition) and of the
    /// last, and whether the live view is out of date.
    pub first_t: Option<i64>,
    pub last_t: i64,
    pub live_dirty: bool,
}

impl OpenSlot {
    /// Every snapshot table's rows of this session, as encoded row groups for the writer: the
    /// append-only tables as the rows since the last call, the others whole. With `closing`,
    /// also `gmv_minute` and `claimants`, which differential keeps for open sessions.
    pub fn snapshot(&mut self, id: &str, closing: bool, out: &mut Vec<Out>) -> Result<(), String> {
        let Some(date) = self.first_t else {
            return Ok(());
        };
        let mut parts = self.rows.finish().map_err(|e: TableError| e.to_string())?;
        let mut whole = vec![
            ("reservations", self.reservations_batch(id)),
            ("products", self.products_batch(id)),
            ("stock", self.stock_batch(id)),
            ("carts", self.carts_batch(id)),
        ];
        if closing {
            whole.push(("gmv_minute", self.gmv_minute_batch()));
            whole.push(("claimants", claimants_batch(&ranked(id, &self.sent))));
        }
        for (name, batch) in whole {
            let part = encode(batch).map_err(|e| format!("the {name} table: {e}"))?;
            parts.push((name, part));
        }
        // One record per table, its row groups in order.
        let mut by_table: Vec<(&'static str, Vec<Bytes>)> = Vec::new();
        for (name, part) in parts {
            match by_table.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(part),
                None => by_table.push((name, vec![part])),
            }
        }
        for (name, parts) in by_table {
            let delta = matches!(name, "comments" | "claims" | "orders");
            out.push(Out::Rows(Box::new(Rows {
                table: name.to_string(),
                session_id: id.to_string(),
                date,
                parts: RowGroups(parts),
                delta,
            })));
        }
        Ok(())
    }

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

    /// One row per buyer, in buyer order; a cart's currency when all its items share one.
    fn carts_batch(&self, id: &str) -> Result<RecordBatch, ArrowError> {
        let rows: Vec<(&Buyer, &Cart, Option<&str>)> = self
            .carts
            .by_buyer
            .iter()
            .map(|(buyer, cart)| {
                let mut currencies = cart.items.iter().map(|i| self.session.currency_of(&i.sku));
                let first = currencies.next().flatten();
                let one = currencies.all(|c| c == first);
                (buyer, cart, first.filter(|_| one))
            })
            .collect();
        carts_batch(id, &rows)
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

    /// `gmv_minute` of this session, from the totals it sent: the rows differential has.
    fn gmv_minute_batch(&self) -> Result<RecordBatch, ArrowError> {
        let totals = self.cells.iter().filter(|(_, t)| **t != 0);
        gmv_minute_batch(&gmv_minute_rows(totals.map(|(k, t)| (k, *t))))
    }
}

/// Keeps the reservations table's row of a reservation as its events come.
pub fn track_reservation(d: &Decision, seq: i64, rows: &mut FxHashMap<Text, ReservationRow>) {
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
