//! The whole-table batches built at a snapshot from a session's current state: `reservations`, `carts`, `products`, `stock`.

use datafusion::arrow::array::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use crate::domain::cart::{Cart, cart_id};
use crate::domain::decision::Buyer;
use crate::tables::rows::{ProductRow, ReservationRow};
use crate::tables::schema::{i64_array, schema, str_array, ts_array};

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
