//! The report's queries in DataFusion over a run's snapshot tables: per-query wall time, best of N.
//!
//! `cargo run --release --example sql -- --data DIR --session S [--runs 5]` prints one JSON line
//! per query: `{"query": NAME, "ms": BEST, "rows": N, "sql": …}`; `bench/sql.sh` runs the same SQL
//! in DuckDB beside it (`bench/sql_duckdb.py`).

use std::time::Instant;

use clap::Parser;
use livesell::sql::report::{QUERIES, literal};
use livesell::sql::{context, query};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    data: std::path::PathBuf,
    /// The session the report is for, or `*` for all of them.
    #[arg(long)]
    session: String,
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    livesell::sql::runtime()?.block_on(async {
        let ctx = context(&args.data).await?;
        for (name, sql) in QUERIES {
            // `*`: every session at once, so the queries scan the whole show.
            let sql = if args.session == "*" {
                sql.replace("session_id = {s}", "session_id IS NOT NULL")
            } else {
                sql.replace("{s}", &literal(&args.session))
            };
            let mut best = f64::MAX;
            let mut rows = 0;
            for _ in 0..args.runs.max(1) {
                let t = Instant::now();
                let batches = query(&ctx, &sql).await?;
                best = best.min(t.elapsed().as_secs_f64() * 1000.0);
                rows = batches.iter().map(|b| b.num_rows()).sum::<usize>();
            }
            let line = serde_json::json!({"query": name, "ms": (best * 100.0).round() / 100.0, "rows": rows, "sql": sql});
            println!("{line}");
        }
        anyhow::Ok(())
    })
}
