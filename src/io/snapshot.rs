//! Arrow snapshots written as Parquet, atomically: a reader never sees half a file.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions;
use datafusion::parquet::arrow::{
    ArrowSchemaConverter, ArrowWriter, add_encoded_arrow_schema_to_metadata,
};
use datafusion::parquet::basic::{Compression, Encoding};
use datafusion::parquet::column::writer::ColumnCloseResult;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::file::writer::SerializedFileWriter;
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

/// `gmv_minute` rows from metric totals: one row per session, minute, sku and platform, in that
/// order (a metric with no total is 0 in its row).
pub fn gmv_minute_rows<'a>(
    totals: impl IntoIterator<Item = (&'a crate::records::MetricKey, i64)>,
) -> Vec<GmvMinuteRow> {
    use crate::records::Metric;
    let mut cells: std::collections::BTreeMap<(&str, i64, &str, &str), GmvMinuteRow> =
        Default::default();
    for (key, total) in totals {
        let row = cells
            .entry((&key.session_id, key.minute, &key.sku, &key.platform))
            .or_insert_with(|| GmvMinuteRow {
                session_id: key.session_id.clone(),
                minute: key.minute,
                sku: key.sku.clone(),
                platform: key.platform.clone(),
                ..Default::default()
            });
        match key.metric {
            Metric::GmvCents => row.gmv_cents = total,
            Metric::Units => row.units = total,
            Metric::Claims => row.claims = total,
        }
    }
    cells.into_values().collect()
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
            rows.iter().map(|r| &*r.2.sku),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.1 as i64),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.2.ts))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &*r.2.claim_id),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &*r.2.platform),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &*r.2.user_id),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.2.qty as i64),
        )),
    ];
    RecordBatch::try_new(claimants_schema(), cols)
}

/// Writes `batch` to `dir/name.parquet` through a temporary file and a rename: one row group,
/// by the same path as the session tables.
pub fn write_parquet(dir: &Path, name: &str, batch: &RecordBatch) -> anyhow::Result<()> {
    write_row_groups(dir, name, batch.schema(), [&encode_row_group(batch)?])
}

/// `batch` as one Parquet row group: a small Parquet file of its own, without the embedded
/// Arrow schema (the table's file carries it once). Encoded where the rows are gathered, so
/// the writer only splices bytes ([`write_row_groups`]).
pub fn encode_row_group(batch: &RecordBatch) -> Result<Bytes, ParquetError> {
    let options = ArrowWriterOptions::new()
        .with_properties(writer_properties())
        .with_skip_arrow_metadata(true);
    let mut w = ArrowWriter::try_new_with_options(Vec::new(), batch.schema(), options)?;
    w.write(batch)?;
    Ok(Bytes::from(w.into_inner()?))
}

/// Writes the row groups of `parts` (each made by [`encode_row_group`] from batches of
/// `schema`), in order, to `dir/name.parquet` through a temporary file and a rename: their
/// column chunks, statistics and page indexes are copied, not decoded and encoded again.
pub fn write_row_groups<'a>(
    dir: &Path,
    name: &str,
    schema: SchemaRef,
    parts: impl IntoIterator<Item = &'a Bytes>,
) -> anyhow::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.parquet.tmp"));
    let mut props = writer_properties();
    add_encoded_arrow_schema_to_metadata(&schema, &mut props);
    let descr = ArrowSchemaConverter::new().convert(&schema)?;
    let file = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
    let mut w = SerializedFileWriter::new(file, descr.root_schema_ptr(), Arc::new(props))?;
    for part in parts {
        let meta = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(part)?;
        for (g, group) in meta.row_groups().iter().enumerate() {
            let mut out = w.next_row_group()?;
            for (c, column) in group.columns().iter().enumerate() {
                let close = ColumnCloseResult {
                    bytes_written: column.compressed_size() as u64,
                    rows_written: group.num_rows() as u64,
                    metadata: column.clone(),
                    bloom_filter: None,
                    column_index: meta.column_index().map(|ix| ix[g][c].clone()),
                    offset_index: meta.offset_index().map(|ix| ix[g][c].clone()),
                };
                out.append_column(part, close)?;
            }
            out.close()?;
        }
    }
    w.into_inner()?.flush()?;
    fs::rename(&tmp, dir.join(format!("{name}.parquet")))?;
    Ok(())
}

/// Snappy, the usual compression of Parquet: cheap to write and read, a third of the size here.
/// Dictionaries where values repeat: sessions, platforms, outcomes, skus, and comment texts
/// (live chat repeats itself: `comments.parquet` 42.5 -> 37.0 MB on the 1M-event show, for
/// about the instructions plain texts cost). None for ids, buyers and their names, sequence
/// numbers and times: a dictionary of buyers saved another 10% of the file for 2% more
/// instructions of the whole run. Sequence numbers and times as deltas (DELTA_BINARY_PACKED:
/// a few bits a row). No min/max statistics of ids and free text, which no query prunes by and
/// which cost a comparison per value to keep.
fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for unique in ["seq", "ts"] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(unique), false)
            .set_column_encoding(ColumnPath::from(unique), Encoding::DELTA_BINARY_PACKED);
    }
    // Free text, and labels every row group holds all of (no row group is skipped by them).
    for label in ["text", "platform", "reading", "outcome", "reason"] {
        b = b.set_column_statistics_enabled(ColumnPath::from(label), EnabledStatistics::None);
    }
    for unique in [
        "user_id",
        "user_name",
        "comment_id",
        "claim_id",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RowGroups;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn rows(from: i64, n: usize) -> RecordBatch {
        let rows: Vec<GmvMinuteRow> = (0..n as i64)
            .map(|i| GmvMinuteRow {
                session_id: format!("s{}", (from + i) % 3),
                minute: (from + i) * 60_000_000,
                sku: if i % 4 == 0 {
                    String::new()
                } else {
                    format!("A{i}-M")
                },
                platform: "tiktok".into(),
                gmv_cents: from + i,
                units: i,
                claims: 1,
            })
            .collect();
        gmv_minute_batch(&rows).unwrap()
    }

    #[test]
    fn spliced_row_groups_read_back_as_the_batches_in_order() {
        let dir = std::env::temp_dir().join(format!("livesell-splice-{}", std::process::id()));
        let batches = [rows(0, 5), rows(5, 20_000), rows(20_005, 1)];
        let parts: Vec<Bytes> = batches
            .iter()
            .map(|b| encode_row_group(b).unwrap())
            .collect();
        // What crosses between processes comes back as the same bytes.
        let json = serde_json::to_string(&RowGroups(parts.clone())).unwrap();
        let back: RowGroups = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, parts);

        write_row_groups(&dir, "t", gmv_minute_schema(), &back.0).unwrap();
        let file = File::open(dir.join("t.parquet")).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let meta = reader.metadata().clone();
        assert_eq!(meta.num_row_groups(), 3);
        // The Arrow schema (UTC timestamps, nullable sku) is the table's, and the page index
        // came along with the column chunks.
        assert_eq!(reader.schema().as_ref(), gmv_minute_schema().as_ref());
        let read: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let all = datafusion::arrow::compute::concat_batches(&gmv_minute_schema(), &read).unwrap();
        let want =
            datafusion::arrow::compute::concat_batches(&gmv_minute_schema(), &batches).unwrap();
        assert_eq!(all, want);

        let file = File::open(dir.join("t.parquet")).unwrap();
        let with_index = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Required)
            .parse_and_finish(&file)
            .unwrap();
        let offsets = with_index.offset_index().expect("an offset index");
        assert_eq!(offsets.len(), 3);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_table_without_rows_is_an_empty_file_with_its_schema() {
        let dir = std::env::temp_dir().join(format!("livesell-empty-{}", std::process::id()));
        write_row_groups(&dir, "t", gmv_minute_schema(), []).unwrap();
        let file = File::open(dir.join("t.parquet")).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.schema().as_ref(), gmv_minute_schema().as_ref());
        assert_eq!(reader.metadata().num_row_groups(), 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
