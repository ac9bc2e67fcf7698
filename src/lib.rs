//! Live Selling OS: claim grammar, allocation and the timely pipeline that applies them.

pub use livesell_core::{adapters, domain};
pub mod engine;
#[path = "gen/mod.rs"]
pub mod generator;
pub mod io;
pub mod live;
pub mod ops;
#[path = "../pipelines/mod.rs"]
pub mod pipelines;
pub mod push;
pub mod records;
pub mod report;
pub mod runsheet;
pub mod serve_sql;
pub mod session_report;
pub mod sinks;
pub mod sql;
pub mod tables;
