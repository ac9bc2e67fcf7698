//! The two views differential maintains, as snapshot tables: `gmv_minute` (per session, minute, sku and platform) and `claimants` (each sku's ranked claims).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

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

#[cfg(test)]
mod tests {
    //! The views' batches spliced as row groups into one file, and read back.
    use super::*;
    use crate::io::parquet::{encode_row_group, write_row_groups};
    use crate::records::RowGroups;
    use bytes::Bytes;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
    use std::fs::{self, File};

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
