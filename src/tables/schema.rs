//! The Arrow schema of each table the engines gather, by name (schemas/snapshots.md), and the column helpers the batches share.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

pub(crate) fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The Arrow schema of table `name`, one the engines gather (`layout::ALL_TABLES` but the two
/// differential views).
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

pub(crate) fn ts_array(mut b: TimestampMicrosecondBuilder) -> ArrayRef {
    Arc::new(b.finish().with_timezone("UTC"))
}

pub(crate) fn str_array(mut b: StringBuilder) -> ArrayRef {
    Arc::new(b.finish())
}
pub(crate) fn i64_array(mut b: Int64Builder) -> ArrayRef {
    Arc::new(b.finish())
}
