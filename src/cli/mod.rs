//! The command line of `livesell`: the clap types here, and one file per command family that turns flags into calls of the library and outcomes into messages and exit codes.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use livesell::adapters::Shows;

pub mod convert;
pub mod generate;
pub mod push;
pub mod run;
pub mod serve;
pub mod sql;
mod summary;

#[derive(Parser)]
#[command(
    name = "livesell",
    version,
    about = "Live Selling OS: claims, reservations and GMV from live-show streams"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Each command's flags live beside its handling; the help of a command is its variant's doc.
#[derive(Subcommand)]
pub enum Command {
    /// Process JSONL inputs or Kafka topics into decisions, dead letters, a summary and snapshots.
    Run(run::RunArgs),
    /// Write a synthetic live show as JSONL (`.gz` when the file name says so).
    Gen(generate::GenArgs),
    /// SQL over a run's snapshot tables (DataFusion, read-only): comments, claims,
    /// reservations, orders, gmv_minute, products, stock, claimants.
    Sql(sql::SqlArgs),
    /// The post-session report: one self-contained HTML page with SVG charts, and a Markdown
    /// twin beside it.
    Report(sql::ReportArgs),
    /// The snapshot tables over the Postgres wire protocol (psql, BI tools), read-only.
    ServeSql(sql::ServeSqlArgs),
    /// Read and parse inputs only, deciding nothing: the baseline for benchmarks.
    Parse(run::ParseArgs),
    /// Generate a show, process it, print a readable summary, then replay it live in the browser.
    Demo(generate::DemoArgs),
    /// Convert native platform payloads (files of JSON documents, or SSE text) to canonical JSONL on standard output.
    Convert(convert::ConvertArgs),
    /// Order drafts to a shop or a webhook, through a durable outbox: each draft sent once,
    /// retried on 5xx and network errors, with the shop's cost throttle honoured.
    Push(push::PushArgs),
    /// A shop's product catalog as the show's run sheet: director `product` events (JSONL) with
    /// run-sheet codes, from a Shopify product export; bad rows are reported by line.
    Runsheet(convert::RunsheetArgs),
    /// Poll a YouTube live chat (liveChatMessages.list) and print its comments as canonical JSONL, waiting between pages as long as the API's pollingIntervalMillis asks.
    PollYoutube(convert::PollYoutubeArgs),
    /// Run the pipeline behind a live dashboard: GMV ticker (SSE), overlay, Live Director, moderator console, metrics.
    Serve(serve::ServeArgs),
}

/// A `--NAME SECS` argument as a duration.
fn secs(s: f64, what: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("--{what} must be a number of seconds ≥ 0"))
}

/// The shows mapping of `--shows FILE`, with `--session` as the show of unmapped payloads.
fn shows_file(file: Option<&PathBuf>, session: Option<String>) -> anyhow::Result<Shows> {
    let mut map = match file {
        Some(f) => Shows::from_toml(
            &std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?,
        None => Shows::default(),
    };
    if session.is_some() {
        map.default = session;
    }
    Ok(map)
}
