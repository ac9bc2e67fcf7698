//! A session's rows of the engine-gathered tables (comments, claims, orders, and the row types of the others), as Arrow columns in bounded chunks, each encoded as a Parquet row group where it was gathered; and their checkpoint form.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use bytes::Bytes;

use crate::domain::decision::{Body, Decision};
use crate::domain::event::Text;
use crate::domain::time::Micros;
use crate::io::parquet::encode_row_group;
use crate::tables::schema::schema;

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
