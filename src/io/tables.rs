//! The session tables of `DIR/snapshots/` (schemas/snapshots.md): rows gathered per session as
//! Arrow columns in bounded chunks, each encoded as a Parquet row group where it was gathered,
//! and spliced by the writer into one sorted Parquet file per table.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use bytes::Bytes;

use crate::domain::cart::{Cart, cart_id};
use crate::domain::decision::{Body, Buyer, Decision};
use crate::domain::event::Text;
use crate::domain::time::Micros;
use crate::io::snapshot::encode_row_group;

/// The tables every run writes besides `gmv_minute` (which differential maintains).
pub const TABLES: [&str; 7] = [
    "comments",
    "claims",
    "reservations",
    "orders",
    "products",
    "stock",
    "carts",
];

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The Arrow schema of table `name` (one of `TABLES`).
pub fn schema(name: &str) -> SchemaRef {
    use DataType::{Boolean, Int64, Utf8};
    let f = match name {
        "comments" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("ts", ts_type(), false),
            Field::new("platform", Utf8, false),
            Field::new("comment_id", Utf8, false),
            Field::new("user_id", Utf8, false),
            Field::new("user_name", Utf8, true),
            Field::new("text", Utf8, false),
            Field::new("reading", Utf8, false),
            Field::new("late", Boolean, false),
        ],
        "claims" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("ts", ts_type(), false),
            Field::new("claim_id", Utf8, false),
            Field::new("platform", Utf8, false),
            Field::new("user_id", Utf8, false),
            Field::new("sku", Utf8, true),
            Field::new("qty", Int64, true),
            Field::new("outcome", Utf8, false),
            Field::new("reason", Utf8, true),
            Field::new("reservation_id", Utf8, true),
            Field::new("waitlist_position", Int64, true),
            Field::new("escalation_id", Utf8, true),
            Field::new(
                "candidates",
                DataType::List(Arc::new(Field::new_list_field(Utf8, true))),
                false,
            ),
            Field::new("late", Boolean, false),
        ],
        "reservations" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("reservation_id", Utf8, false),
            Field::new("claim_id", Utf8, false),
            Field::new("platform", Utf8, false),
            Field::new("user_id", Utf8, false),
            Field::new("sku", Utf8, false),
            Field::new("qty", Int64, false),
            Field::new("unit_price_cents", Int64, false),
            Field::new("created_at", ts_type(), false),
            Field::new("expires_at", ts_type(), false),
            Field::new("state", Utf8, false),
            Field::new("ended_at", ts_type(), true),
            Field::new("reason", Utf8, true),
        ],
        "orders" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("ts", ts_type(), false),
            Field::new("order_id", Utf8, false),
            Field::new("platform", Utf8, false),
            Field::new("user_id", Utf8, false),
            Field::new("sku", Utf8, false),
            Field::new("qty", Int64, false),
            Field::new("amount_cents", Int64, false),
            Field::new("outcome", Utf8, false),
            Field::new("reservation_id", Utf8, true),
            Field::new("gmv_cents", Int64, false),
        ],
        "products" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("code", Utf8, false),
            Field::new("title", Utf8, true),
            Field::new("price_cents", Int64, false),
            Field::new("currency", Utf8, true),
            Field::new("sku", Utf8, false),
            Field::new("options", Utf8, false),
            Field::new("initial_stock", Int64, false),
        ],
        "stock" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("sku", Utf8, false),
            Field::new("pool", Int64, false),
            Field::new("held", Int64, false),
            Field::new("sold", Int64, false),
            Field::new("available", Int64, false),
            Field::new("waitlist", Int64, false),
        ],
        "carts" => vec![
            Field::new("session_id", Utf8, false),
            Field::new("seq", Int64, false),
            Field::new("cart_id", Utf8, false),
            Field::new("platform", Utf8, false),
            Field::new("user_id", Utf8, false),
            Field::new("state", Utf8, false),
            Field::new("items", Int64, false),
            Field::new("units", Int64, false),
            Field::new("total_cents", Int64, false),
            Field::new("paid_cents", Int64, false),
            Field::new("unpaid_cents", Int64, false),
            Field::new("currency", Utf8, true),
            Field::new("pay_by", ts_type(), true),
            Field::new("updated_at", ts_type(), false),
            Field::new("version", Int64, false),
            Field::new("items_json", Utf8, false),
        ],
        other => unreachable!("no table {other}"),
    };
    Arc::new(Schema::new(f))
}

/// A reservation as it stands: its last event decides the state.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(into = "ReservationState")]
pub struct ReservationRow {
    pub seq: i64,
    pub claim_id: Text,
    pub platform: Text,
    pub user_id: Text,
    pub sku: Text,
    pub qty: u64,
    pub unit_price_cents: i64,
    pub created_at: Micros,
    pub expires_at: Micros,
    pub state: &'static str,
    pub ended_at: Option<Micros>,
    pub reason: Option<&'static str>,
}

/// `ReservationRow` in a checkpoint: its labels as strings (a `&'static str` cannot be read
/// back from bytes as it is).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct ReservationState {
    seq: i64,
    claim_id: Text,
    platform: Text,
    user_id: Text,
    sku: Text,
    qty: u64,
    unit_price_cents: i64,
    created_at: Micros,
    expires_at: Micros,
    state: String,
    ended_at: Option<Micros>,
    reason: Option<String>,
}

impl From<ReservationRow> for ReservationState {
    fn from(r: ReservationRow) -> Self {
        ReservationState {
            seq: r.seq,
            claim_id: r.claim_id,
            platform: r.platform,
            user_id: r.user_id,
            sku: r.sku,
            qty: r.qty,
            unit_price_cents: r.unit_price_cents,
            created_at: r.created_at,
            expires_at: r.expires_at,
            state: r.state.to_string(),
            ended_at: r.ended_at,
            reason: r.reason.map(str::to_string),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ReservationRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ReservationState::deserialize(d).map(ReservationRow::from)
    }
}

impl From<ReservationState> for ReservationRow {
    fn from(r: ReservationState) -> Self {
        use crate::io::checkpoint::intern;
        ReservationRow {
            seq: r.seq,
            claim_id: r.claim_id,
            platform: r.platform,
            user_id: r.user_id,
            sku: r.sku,
            qty: r.qty,
            unit_price_cents: r.unit_price_cents,
            created_at: r.created_at,
            expires_at: r.expires_at,
            state: intern(&r.state),
            ended_at: r.ended_at,
            reason: r.reason.as_deref().map(intern),
        }
    }
}

/// A product as the run sheet last defined it, one row per variant.
#[derive(Debug, Clone)]
pub struct ProductRow<'a> {
    pub code: &'a str,
    pub title: Option<&'a str>,
    pub price_cents: i64,
    pub currency: Option<&'a str>,
    pub sku: &'a str,
    /// `name=value` pairs in the order given, `; `-separated.
    pub options: &'a str,
    pub initial_stock: i64,
}

/// One comment as read.
pub struct CommentRow<'a> {
    pub seq: i64,
    pub ts: Micros,
    pub platform: &'a str,
    pub comment_id: &'a str,
    pub user_id: &'a str,
    pub user_name: Option<&'a str>,
    pub text: &'a str,
    pub reading: &'static str,
    pub late: bool,
}

/// Rows per sealed chunk (a row group) of an append-only table. Sealing bounds every builder,
/// so a big show never regrows (and copies) one huge buffer, and encoding each chunk at once
/// spreads the Parquet work over the run and the workers, holding a third of the bytes;
/// `comments`, the biggest, sizes each chunk's builders from the last chunk.
const CHUNK_ROWS: usize = 16 * 1024;

/// The append-only tables of one session, column by column, in chunks of `CHUNK_ROWS` rows.
#[derive(Default)]
pub struct TableRows {
    comments: Comments,
    claims: Claims,
    orders: Orders,
    /// Full chunks, encoded, in order, not yet handed over.
    sealed: Vec<(&'static str, Bytes)>,
    /// A chunk that could not be built or encoded (a bug, not bad input): reported by `finish`.
    error: Option<TableError>,
    restored: Restored,
}

#[derive(Default)]
struct Comments {
    session_id: StringBuilder,
    seq: Int64Builder,
    ts: TimestampMicrosecondBuilder,
    platform: StringBuilder,
    comment_id: StringBuilder,
    user_id: StringBuilder,
    user_name: StringBuilder,
    text: StringBuilder,
    reading: StringBuilder,
    late: BooleanBuilder,
}

#[derive(Default)]
struct Claims {
    session_id: StringBuilder,
    seq: Int64Builder,
    ts: TimestampMicrosecondBuilder,
    claim_id: StringBuilder,
    platform: StringBuilder,
    user_id: StringBuilder,
    sku: StringBuilder,
    qty: Int64Builder,
    outcome: StringBuilder,
    reason: StringBuilder,
    reservation_id: StringBuilder,
    waitlist_position: Int64Builder,
    escalation_id: StringBuilder,
    candidates: ListBuilder<StringBuilder>,
    late: BooleanBuilder,
}

#[derive(Default)]
struct Orders {
    session_id: StringBuilder,
    seq: Int64Builder,
    ts: TimestampMicrosecondBuilder,
    order_id: StringBuilder,
    platform: StringBuilder,
    user_id: StringBuilder,
    sku: StringBuilder,
    qty: Int64Builder,
    amount_cents: Int64Builder,
    outcome: StringBuilder,
    reservation_id: StringBuilder,
    gmv_cents: Int64Builder,
}

/// A string builder for a full chunk with room for the values the last chunk's held: grown by
/// doubling, builders would copy every chunk's values several times.
fn str_like(last: &StringBuilder) -> StringBuilder {
    StringBuilder::with_capacity(CHUNK_ROWS, last.values_slice().len())
}

impl Comments {
    /// Builders for a full chunk, each string column with room for what the last chunk held.
    fn sized_like(last: &Comments) -> Comments {
        let n = CHUNK_ROWS;
        Comments {
            session_id: str_like(&last.session_id),
            seq: Int64Builder::with_capacity(n),
            ts: TimestampMicrosecondBuilder::with_capacity(n),
            platform: str_like(&last.platform),
            comment_id: str_like(&last.comment_id),
            user_id: str_like(&last.user_id),
            user_name: str_like(&last.user_name),
            text: StringBuilder::with_capacity(
                n,
                last.text.values_slice().len() + last.text.values_slice().len() / 4,
            ),
            reading: str_like(&last.reading),
            late: BooleanBuilder::with_capacity(n),
        }
    }

    fn batch(c: &mut Comments, cloned: bool) -> Result<RecordBatch, ArrowError> {
        RecordBatch::try_new(
            schema("comments"),
            vec![
                c.session_id.take(cloned),
                c.seq.take(cloned),
                c.ts.take(cloned),
                c.platform.take(cloned),
                c.comment_id.take(cloned),
                c.user_id.take(cloned),
                c.user_name.take(cloned),
                c.text.take(cloned),
                c.reading.take(cloned),
                c.late.take(cloned),
            ],
        )
    }
}

impl Claims {
    /// Builders for a full chunk, each string column with room for what the last chunk held.
    fn sized_like(last: &Claims) -> Claims {
        let n = CHUNK_ROWS;
        Claims {
            session_id: str_like(&last.session_id),
            seq: Int64Builder::with_capacity(n),
            ts: TimestampMicrosecondBuilder::with_capacity(n),
            claim_id: str_like(&last.claim_id),
            platform: str_like(&last.platform),
            user_id: str_like(&last.user_id),
            sku: str_like(&last.sku),
            qty: Int64Builder::with_capacity(n),
            outcome: str_like(&last.outcome),
            reason: str_like(&last.reason),
            reservation_id: str_like(&last.reservation_id),
            waitlist_position: Int64Builder::with_capacity(n),
            escalation_id: str_like(&last.escalation_id),
            candidates: ListBuilder::with_capacity(
                StringBuilder::with_capacity(
                    last.candidates.values_ref().len(),
                    last.candidates.values_ref().values_slice().len(),
                ),
                n,
            ),
            late: BooleanBuilder::with_capacity(n),
        }
    }

    fn batch(c: &mut Claims, cloned: bool) -> Result<RecordBatch, ArrowError> {
        RecordBatch::try_new(
            schema("claims"),
            vec![
                c.session_id.take(cloned),
                c.seq.take(cloned),
                c.ts.take(cloned),
                c.claim_id.take(cloned),
                c.platform.take(cloned),
                c.user_id.take(cloned),
                c.sku.take(cloned),
                c.qty.take(cloned),
                c.outcome.take(cloned),
                c.reason.take(cloned),
                c.reservation_id.take(cloned),
                c.waitlist_position.take(cloned),
                c.escalation_id.take(cloned),
                c.candidates.take(cloned),
                c.late.take(cloned),
            ],
        )
    }
}

impl Orders {
    fn batch(o: &mut Orders, cloned: bool) -> Result<RecordBatch, ArrowError> {
        RecordBatch::try_new(
            schema("orders"),
            vec![
                o.session_id.take(cloned),
                o.seq.take(cloned),
                o.ts.take(cloned),
                o.order_id.take(cloned),
                o.platform.take(cloned),
                o.user_id.take(cloned),
                o.sku.take(cloned),
                o.qty.take(cloned),
                o.amount_cents.take(cloned),
                o.outcome.take(cloned),
                o.reservation_id.take(cloned),
                o.gmv_cents.take(cloned),
            ],
        )
    }
}

fn ts_array(mut b: TimestampMicrosecondBuilder) -> ArrayRef {
    Arc::new(b.finish().with_timezone("UTC"))
}

/// A column's builder finished into an array: emptied (`cloned` false), or copied and left
/// as it is (a checkpoint of a chunk still filling).
trait Take {
    fn take(&mut self, cloned: bool) -> ArrayRef;
}

macro_rules! take_by_finishing {
    ($($builder:ty),*) => {$(
        impl Take for $builder {
            fn take(&mut self, cloned: bool) -> ArrayRef {
                Arc::new(if cloned { self.finish_cloned() } else { self.finish() })
            }
        }
    )*};
}

take_by_finishing!(
    StringBuilder,
    Int64Builder,
    BooleanBuilder,
    ListBuilder<StringBuilder>
);

impl Take for TimestampMicrosecondBuilder {
    fn take(&mut self, cloned: bool) -> ArrayRef {
        let a = if cloned {
            self.finish_cloned()
        } else {
            self.finish()
        };
        Arc::new(a.with_timezone("UTC"))
    }
}

impl TableRows {
    pub fn comment(&mut self, session_id: &str, r: &CommentRow) {
        let c = &mut self.comments;
        c.session_id.append_value(session_id);
        c.seq.append_value(r.seq);
        c.ts.append_value(r.ts);
        c.platform.append_value(r.platform);
        c.comment_id.append_value(r.comment_id);
        c.user_id.append_value(r.user_id);
        c.user_name.append_option(r.user_name);
        c.text.append_value(r.text);
        c.reading.append_value(r.reading);
        c.late.append_value(r.late);
        if c.seq.len() + self.restored.rows(0) >= CHUNK_ROWS {
            let next = Comments::sized_like(c);
            let mut full = std::mem::replace(c, next);
            self.seal(0, Comments::batch(&mut full, false));
        }
    }

    /// Makes the next `finish` fail (tests of what a failure does).
    #[cfg(test)]
    pub(crate) fn poison(&mut self, why: &str) {
        self.error = Some(TableError::Build(ArrowError::ComputeError(why.into())));
    }

    /// Seals table `t`'s full chunk: the rows restored from a checkpoint, then the new ones.
    fn seal(&mut self, t: usize, batch: Result<RecordBatch, ArrowError>) {
        let batch = self.restored.before(t, batch);
        match encode(batch) {
            Ok(b) => self.sealed.push((APPENDED[t], b)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    /// A claim or order decision, the `seq`-th of its session (reservations are kept apart).
    pub fn decision(&mut self, session_id: &str, seq: i64, d: &Decision) {
        match &d.body {
            Body::Claim(x) => {
                let c = &mut self.claims;
                c.session_id.append_value(session_id);
                c.seq.append_value(seq);
                c.ts.append_value(d.ts);
                c.claim_id.append_value(&x.claim_id);
                c.platform.append_value(&x.buyer.platform);
                c.user_id.append_value(&x.buyer.user_id);
                c.sku.append_option(x.sku.as_deref());
                c.qty.append_option(x.qty.map(|q| q as i64));
                c.outcome.append_value(x.outcome.as_str());
                c.reason.append_option(x.reason.map(|r| r.as_str()));
                c.reservation_id.append_option(x.reservation_id.as_deref());
                c.waitlist_position
                    .append_option(x.waitlist_position.map(|p| p as i64));
                c.escalation_id.append_option(x.escalation_id.as_deref());
                for s in &x.candidates {
                    c.candidates.values().append_value(s);
                }
                c.candidates.append(true);
                c.late.append_value(d.late);
                if c.seq.len() + self.restored.rows(1) >= CHUNK_ROWS {
                    let next = Claims::sized_like(c);
                    let mut full = std::mem::replace(c, next);
                    self.seal(1, Claims::batch(&mut full, false));
                }
            }
            Body::Order(x) => {
                let o = &mut self.orders;
                o.session_id.append_value(session_id);
                o.seq.append_value(seq);
                o.ts.append_value(d.ts);
                o.order_id.append_value(&x.order_id);
                o.platform.append_value(&x.buyer.platform);
                o.user_id.append_value(&x.buyer.user_id);
                o.sku.append_value(&x.sku);
                o.qty.append_value(x.qty as i64);
                o.amount_cents.append_value(x.amount_cents);
                o.outcome.append_value(x.outcome.as_str());
                o.reservation_id.append_option(x.reservation_id.as_deref());
                let sign = if x.outcome == crate::domain::decision::OrderOutcome::Refunded {
                    -1
                } else {
                    1
                };
                o.gmv_cents.append_value(sign * x.amount_cents);
                if o.seq.len() + self.restored.rows(2) >= CHUNK_ROWS {
                    let mut full = std::mem::take(o);
                    self.seal(2, Orders::batch(&mut full, false));
                }
            }
            Body::Reservation(_) | Body::Session(_) => {}
        }
    }

    /// The comments, claims and orders gathered since the last call, in order, as encoded
    /// chunks (no empty ones; a table with nothing new has none).
    pub fn finish(&mut self) -> Result<Vec<(&'static str, Bytes)>, TableError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut c = std::mem::take(&mut self.comments);
        if !c.seq.is_empty() || self.restored.rows(0) > 0 {
            let b = self.restored.before(0, Comments::batch(&mut c, false));
            self.sealed.push(("comments", encode(b)?));
        }
        let mut c = std::mem::take(&mut self.claims);
        if !c.seq.is_empty() || self.restored.rows(1) > 0 {
            let b = self.restored.before(1, Claims::batch(&mut c, false));
            self.sealed.push(("claims", encode(b)?));
        }
        let mut o = std::mem::take(&mut self.orders);
        if !o.seq.is_empty() || self.restored.rows(2) > 0 {
            let b = self.restored.before(2, Orders::batch(&mut o, false));
            self.sealed.push(("orders", encode(b)?));
        }
        Ok(std::mem::take(&mut self.sealed))
    }

    /// The rows as they stand, for a checkpoint, leaving them as they are: the sealed chunks
    /// as they are, and each chunk still filling as Arrow IPC (its rows, restored or new).
    pub fn checkpoint(&mut self) -> Result<RowsState, TableError> {
        if let Some(e) = &self.error {
            return Err(TableError::Build(ArrowError::ComputeError(e.to_string())));
        }
        let mut open = Vec::new();
        let batches = [
            Comments::batch(&mut self.comments, true),
            Claims::batch(&mut self.claims, true),
            Orders::batch(&mut self.orders, true),
        ];
        for (t, batch) in batches.into_iter().enumerate() {
            let batch = self.restored.peek(t, batch?)?;
            if batch.num_rows() > 0 {
                open.push((t as u8, ipc(&batch)?));
            }
        }
        Ok(RowsState {
            sealed: self
                .sealed
                .iter()
                .map(|(n, b)| (n.to_string(), serde_bytes::ByteBuf::from(b.to_vec())))
                .collect(),
            open,
        })
    }

    /// Rows read back from a checkpoint: later rows are appended after them.
    pub fn restore(state: RowsState) -> Result<TableRows, TableError> {
        let mut rows = TableRows::default();
        for (name, b) in state.sealed {
            let name = APPENDED.into_iter().find(|n| *n == name).ok_or_else(|| {
                TableError::Build(ArrowError::ParseError(format!("no table {name}")))
            })?;
            rows.sealed.push((name, Bytes::from(b.into_vec())));
        }
        for (t, b) in state.open {
            let t = t as usize;
            if t >= APPENDED.len() {
                return Err(TableError::Build(ArrowError::ParseError(format!(
                    "no table {t}"
                ))));
            }
            rows.restored.0[t] = Some(from_ipc(&b)?);
        }
        Ok(rows)
    }
}

/// The append-only tables, in the order `Restored` indexes them.
const APPENDED: [&str; 3] = ["comments", "claims", "orders"];

/// A session's table rows as a checkpoint holds them (`TableRows::checkpoint`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RowsState {
    sealed: Vec<(String, serde_bytes::ByteBuf)>,
    /// Per table (an index of `APPENDED`), the rows of its chunk still filling.
    open: Vec<(u8, serde_bytes::ByteBuf)>,
}

/// Per append-only table, the rows of its unfinished chunk read back from a checkpoint: they
/// go first in that chunk, so a restored run seals the same chunks as one that never stopped.
#[derive(Default)]
struct Restored([Option<RecordBatch>; 3]);

impl Restored {
    fn rows(&self, t: usize) -> usize {
        self.0[t].as_ref().map_or(0, RecordBatch::num_rows)
    }

    /// `batch` with table `t`'s restored rows before it, which are then gone.
    fn before(
        &mut self,
        t: usize,
        batch: Result<RecordBatch, ArrowError>,
    ) -> Result<RecordBatch, ArrowError> {
        let batch = batch?;
        match self.0[t].take() {
            Some(first) => {
                datafusion::arrow::compute::concat_batches(&batch.schema(), [&first, &batch])
            }
            None => Ok(batch),
        }
    }

    /// `before`, keeping the restored rows.
    fn peek(&self, t: usize, batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
        match &self.0[t] {
            Some(first) => {
                datafusion::arrow::compute::concat_batches(&batch.schema(), [first, &batch])
            }
            None => Ok(batch),
        }
    }
}

fn ipc(batch: &RecordBatch) -> Result<serde_bytes::ByteBuf, ArrowError> {
    let mut w = datafusion::arrow::ipc::writer::StreamWriter::try_new(Vec::new(), &batch.schema())?;
    w.write(batch)?;
    Ok(serde_bytes::ByteBuf::from(w.into_inner()?))
}

fn from_ipc(bytes: &[u8]) -> Result<RecordBatch, ArrowError> {
    let r = datafusion::arrow::ipc::reader::StreamReader::try_new(bytes, None)?;
    let batches = r.collect::<Result<Vec<_>, _>>()?;
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| ArrowError::IpcError("no rows".into()))?;
    datafusion::arrow::compute::concat_batches(&schema, &batches)
}

/// Why a table's rows could not be handed over (a bug, not bad input).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot build the rows: {0}")]
    Build(#[from] ArrowError),
    #[error("cannot encode the rows: {0}")]
    Encode(#[from] datafusion::parquet::errors::ParquetError),
}

/// A built chunk as a Parquet row group.
pub fn encode(batch: Result<RecordBatch, ArrowError>) -> Result<Bytes, TableError> {
    Ok(encode_row_group(&batch?)?)
}

fn str_array(mut b: StringBuilder) -> ArrayRef {
    Arc::new(b.finish())
}
fn i64_array(mut b: Int64Builder) -> ArrayRef {
    Arc::new(b.finish())
}

/// The `reservations` rows of some sessions: `(session_id, reservation_id, row)`.
pub fn reservations_batch(
    rows: &[(&str, &str, &ReservationRow)],
) -> Result<RecordBatch, ArrowError> {
    let mut b: [StringBuilder; 8] = Default::default();
    let mut n: [Int64Builder; 3] = Default::default();
    let mut t: [TimestampMicrosecondBuilder; 3] = Default::default();
    for (sid, id, r) in rows {
        b[0].append_value(sid);
        n[0].append_value(r.seq);
        b[1].append_value(id);
        b[2].append_value(&r.claim_id);
        b[3].append_value(&r.platform);
        b[4].append_value(&r.user_id);
        b[5].append_value(&r.sku);
        n[1].append_value(r.qty as i64);
        n[2].append_value(r.unit_price_cents);
        t[0].append_value(r.created_at);
        t[1].append_value(r.expires_at);
        b[6].append_value(r.state);
        t[2].append_option(r.ended_at);
        b[7].append_option(r.reason);
    }
    let [s0, s1, s2, s3, s4, s5, s6, s7] = b;
    let [n0, n1, n2] = n;
    let [t0, t1, t2] = t;
    RecordBatch::try_new(
        schema("reservations"),
        vec![
            str_array(s0),
            i64_array(n0),
            str_array(s1),
            str_array(s2),
            str_array(s3),
            str_array(s4),
            str_array(s5),
            i64_array(n1),
            i64_array(n2),
            ts_array(t0),
            ts_array(t1),
            str_array(s6),
            ts_array(t2),
            str_array(s7),
        ],
    )
}

/// The `carts` rows of one session: every buyer's cart, with its currency (when its items
/// share one). A figure past `i64` is refused, never wrapped.
pub fn carts_batch(
    session_id: &str,
    carts: &[(&Buyer, &Cart, Option<&str>)],
) -> Result<RecordBatch, ArrowError> {
    let mut b: [StringBuilder; 7] = Default::default();
    let mut n: [Int64Builder; 7] = Default::default();
    let mut t: [TimestampMicrosecondBuilder; 2] = Default::default();
    let cents = |v: i128| {
        i64::try_from(v).map_err(|_| {
            ArrowError::InvalidArgumentError(format!(
                "a cart of session {session_id} holds {v} cents, past a 64-bit integer"
            ))
        })
    };
    for (i, (buyer, cart, currency)) in carts.iter().enumerate() {
        let f = cart.figures();
        b[0].append_value(session_id);
        n[0].append_value(i as i64 + 1);
        b[1].append_value(cart_id(buyer));
        b[2].append_value(&buyer.platform);
        b[3].append_value(&buyer.user_id);
        b[4].append_value(f.state.as_str());
        n[1].append_value(cart.items.len() as i64);
        n[2].append_value(i64::try_from(f.units).unwrap_or(i64::MAX));
        n[3].append_value(cents(f.total_cents)?);
        n[4].append_value(cents(f.paid_cents)?);
        n[5].append_value(cents(f.unpaid_cents)?);
        b[5].append_option(*currency);
        t[0].append_option(f.pay_by);
        t[1].append_value(cart.updated_at);
        n[6].append_value(cart.version as i64);
        b[6].append_value(cart.items_json());
    }
    let [s0, s1, s2, s3, s4, s5, s6] = b;
    let [n0, n1, n2, n3, n4, n5, n6] = n;
    let [t0, t1] = t;
    RecordBatch::try_new(
        schema("carts"),
        vec![
            str_array(s0),
            i64_array(n0),
            str_array(s1),
            str_array(s2),
            str_array(s3),
            str_array(s4),
            i64_array(n1),
            i64_array(n2),
            i64_array(n3),
            i64_array(n4),
            i64_array(n5),
            str_array(s5),
            ts_array(t0),
            ts_array(t1),
            i64_array(n6),
            str_array(s6),
        ],
    )
}

/// The `products` rows of some sessions: `(session_id, seq, row)`.
pub fn products_batch(rows: &[(&str, i64, ProductRow)]) -> Result<RecordBatch, ArrowError> {
    let mut b: [StringBuilder; 6] = Default::default();
    let mut n: [Int64Builder; 3] = Default::default();
    for (sid, seq, r) in rows {
        b[0].append_value(sid);
        n[0].append_value(*seq);
        b[1].append_value(r.code);
        b[2].append_option(r.title);
        n[1].append_value(r.price_cents);
        b[3].append_option(r.currency);
        b[4].append_value(r.sku);
        b[5].append_value(r.options);
        n[2].append_value(r.initial_stock);
    }
    let [s0, s1, s2, s3, s4, s5] = b;
    let [n0, n1, n2] = n;
    RecordBatch::try_new(
        schema("products"),
        vec![
            str_array(s0),
            i64_array(n0),
            str_array(s1),
            str_array(s2),
            i64_array(n1),
            str_array(s3),
            str_array(s4),
            str_array(s5),
            i64_array(n2),
        ],
    )
}

/// The `stock` rows of some sessions: `(session_id, seq, sku, [pool, held, sold, available,
/// waitlist])`.
pub fn stock_batch(rows: &[(&str, i64, &str, [i64; 5])]) -> Result<RecordBatch, ArrowError> {
    let (mut sid, mut sku) = (StringBuilder::new(), StringBuilder::new());
    let mut n: [Int64Builder; 6] = Default::default();
    for (s, seq, k, v) in rows {
        sid.append_value(s);
        n[0].append_value(*seq);
        sku.append_value(k);
        for (i, x) in v.iter().enumerate() {
            n[i + 1].append_value(*x);
        }
    }
    let [n0, n1, n2, n3, n4, n5] = n;
    RecordBatch::try_new(
        schema("stock"),
        vec![
            str_array(sid),
            i64_array(n0),
            str_array(sku),
            i64_array(n1),
            i64_array(n2),
            i64_array(n3),
            i64_array(n4),
            i64_array(n5),
        ],
    )
}
