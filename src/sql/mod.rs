//! SQL over a run's snapshot tables, read-only: the DataFusion context and one-shot queries (`livesell sql`) here; the Postgres wire protocol (`serve-sql`) and the post-session report beside it.

pub mod charts;
pub mod pgwire;
pub mod report;

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;

use crate::tables::layout;
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::prelude::ParquetReadOptions;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A boxed text table.
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The data directory cannot be used (missing, no snapshots): nothing was asked yet.
    #[error("{0}")]
    Data(String),
    /// DataFusion refused or failed the query; its own message.
    #[error("{0}")]
    Query(#[from] DataFusionError),
    #[error("cannot format the result: {0}")]
    Format(#[from] datafusion::arrow::error::ArrowError),
}

/// The snapshot tables of a run directory (`DIR/snapshots/<table>/date=…/*.parquet`, see
/// schemas/snapshots.md), by table name: every known table whose directory exists.
pub fn tables(data: &Path) -> Result<Vec<(String, PathBuf)>, SqlError> {
    let dir = data.join("snapshots");
    if !dir.is_dir() {
        return Err(SqlError::Data(format!(
            "{} has no snapshots ({} is not a directory); write them with `livesell run --out {}`",
            data.display(),
            dir.display(),
            data.display()
        )));
    }
    let found: Vec<(String, PathBuf)> = layout::ALL_TABLES
        .iter()
        .map(|t| (t.to_string(), dir.join(t)))
        .filter(|(_, p)| p.is_dir())
        .collect();
    if found.is_empty() {
        return Err(SqlError::Data(format!(
            "{} holds no snapshot tables yet (no session has been written)",
            dir.display()
        )));
    }
    Ok(found)
}

/// A session over the run's tables that can only read: DDL (`CREATE EXTERNAL TABLE`, which
/// could reach files outside DIR), DML (`INSERT`, `COPY`) and statements (`SET`) are refused.
/// Each table is a listing table over its directory, with the `date` partition column.
pub async fn context(data: &Path) -> Result<SessionContext, SqlError> {
    context_limited(data, None).await
}

/// `context`, with the memory its queries may hold together bounded (DataFusion's memory
/// pool): a query past it fails with "Resources exhausted" instead of taking the machine.
pub async fn context_limited(
    data: &Path,
    memory: Option<usize>,
) -> Result<SessionContext, SqlError> {
    let ctx = match memory {
        None => SessionContext::new(),
        Some(bytes) => {
            let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
                .with_memory_limit(bytes, 1.0)
                .build_arc()?;
            let config = datafusion::execution::context::SessionConfig::new();
            SessionContext::new_with_config_rt(config, runtime)
        }
    };
    let found = tables(data)?;
    // A table no session has rows of yet (no directory) is there, empty: the report and
    // saved queries name every table.
    for name in layout::ALL_TABLES {
        if !found.iter().any(|(n, _)| n == name) {
            let schema = crate::tables::table_schema(name);
            let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
            fields.push(std::sync::Arc::new(
                datafusion::arrow::datatypes::Field::new(layout::PARTITION, DataType::Utf8, false),
            ));
            let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
            let empty = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?;
            ctx.register_table(name, std::sync::Arc::new(empty))?;
        }
    }
    for (name, path) in found {
        let schema = crate::tables::table_schema(&name);
        // A trailing slash: the path is a directory of partitions, not a file.
        let path = format!("{}/", path.to_string_lossy());
        let options = ParquetReadOptions::default()
            .schema(&schema)
            .table_partition_cols(vec![(layout::PARTITION.to_string(), DataType::Utf8)]);
        ctx.register_parquet(&name, &path, options).await?;
    }
    Ok(ctx)
}

pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Runs one query over `data`'s tables.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
    let df = ctx.sql_with_options(sql, read_only()).await?;
    Ok(df.collect().await?)
}

/// The batches printed in `format`.
pub fn render(batches: &[RecordBatch], format: Format) -> Result<String, SqlError> {
    use datafusion::arrow::{csv, json};
    let mut out: Vec<u8> = Vec::new();
    match format {
        Format::Table => {
            let text = datafusion::arrow::util::pretty::pretty_format_batches(batches)?;
            return Ok(format!("{text}\n"));
        }
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().with_header(true).build(&mut out);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = json::ArrayWriter::new(&mut out);
            w.write_batches(&batches.iter().collect::<Vec<_>>())?;
            w.finish()?;
            out.push(b'\n');
            if batches.iter().all(|b| b.num_rows() == 0) {
                out = b"[]\n".to_vec();
            }
        }
        Format::Ndjson => {
            let mut w = json::LineDelimitedWriter::new(&mut out);
            w.write_batches(&batches.iter().collect::<Vec<_>>())?;
            w.finish()?;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The runtime every SQL command blocks on: a thread per core, on which DataFusion runs its
/// partitions in parallel.
pub fn runtime() -> Result<tokio::runtime::Runtime, SqlError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| SqlError::Data(format!("cannot start the query runtime: {e}")))
}

/// `livesell sql`: one query, printed.
pub fn run(data: &Path, sql: &str, format: Format) -> Result<String, SqlError> {
    runtime()?.block_on(async {
        let ctx = context(data).await?;
        let batches = query(&ctx, sql).await?;
        render(&batches, format)
    })
}
