//! Arrow snapshots written as Parquet, atomically: a reader never sees half a file.

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

use crate::domain::time::Micros;
use crate::records::Claimant;

/// One row of `gmv_minute`: a session × minute × sku × platform cell.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct GmvMinuteRow {
    pub session_id: String,
    pub minute: Micros,
    pub sku: String,
    pub platform: String,
    pub gmv_cents: i64,
    pub units: i64,
    pub claims: i64,
}

pub fn gmv_minute_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("session_id", DataType::Utf8, false),
        Field::new(
            "minute",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("sku", DataType::Utf8, true),
        Field::new("platform", DataType::Utf8, false),
        Field::new("gmv_cents", DataType::Int64, false),
        Field::new("units", DataType::Int64, false),
        Field::new("claims", DataType::Int64, false),
    ]))
}

pub fn gmv_minute_batch(
    rows: &[GmvMinuteRow],
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.session_id.as_str()),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.minute))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter(
            rows.iter()
                .map(|r| (!r.sku.is_empty()).then_some(r.sku.as_str())),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.platform.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.gmv_cents),
        )),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.units))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.claims))),
    ];
    RecordBatch::try_new(gmv_minute_schema(), cols)
}

pub fn claimants_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("session_id", DataType::Utf8, false),
        Field::new("sku", DataType::Utf8, false),
        Field::new("rank", DataType::Int64, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("claim_id", DataType::Utf8, false),
        Field::new("platform", DataType::Utf8, false),
        Field::new("user_id", DataType::Utf8, false),
        Field::new("qty", DataType::Int64, false),
    ]))
}

/// `(session_id, rank, claimant)` rows of the ranked claimants view.
pub fn claimants_batch(
    rows: &[(String, u64, Claimant)],
) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.sku.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.1 as i64),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.2.ts))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.claim_id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.platform.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.user_id.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.2.qty as i64),
        )),
    ];
    RecordBatch::try_new(claimants_schema(), cols)
}

/// Writes `batch` to `dir/name.parquet` through a temporary file and a rename.
pub fn write_parquet(dir: &Path, name: &str, batch: &RecordBatch) -> anyhow::Result<()> {
    write_parquet_parts(dir, name, batch.schema(), std::iter::once(batch.clone()))
}

/// Writes `batches`, in order, to `dir/name.parquet` through a temporary file and a rename.
pub fn write_parquet_parts(
    dir: &Path,
    name: &str,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
) -> anyhow::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.parquet.tmp"));
    let file = File::create(&tmp)?;
    let mut w = ArrowWriter::try_new(file, schema, Some(writer_properties()))?;
    for b in batches {
        w.write(&b)?;
    }
    w.close()?;
    fs::rename(&tmp, dir.join(format!("{name}.parquet")))?;
    Ok(())
}

/// Snappy, the usual compression of Parquet: cheap to write and read, a third of the size here.
/// Dictionaries only where values repeat (sessions, platforms, outcomes, skus): for ids,
/// sequence numbers, times and free text they cost time and save nothing. Neither do min/max statistics of ids and free
/// text, which no query prunes by and which cost a comparison per value to keep.
fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for unique in ["seq", "ts"] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(unique), false);
    }
    for unique in [
        "text",
        "comment_id",
        "claim_id",
        "user_id",
        "user_name",
        "reservation_id",
        "escalation_id",
        "order_id",
    ] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(unique), false)
            .set_column_statistics_enabled(ColumnPath::from(unique), EnabledStatistics::None);
    }
    b.build()
}
