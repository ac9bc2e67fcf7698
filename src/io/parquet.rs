//! Arrow snapshots written as Parquet, atomically: a reader never sees half a file; row groups encoded where rows are gathered and spliced by the writer without decoding.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use datafusion::arrow::datatypes::SchemaRef;
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
