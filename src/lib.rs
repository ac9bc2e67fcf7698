//! Live Selling OS: claim grammar, allocation and the timely pipeline that applies them.

pub use livesell_core::{adapters, domain};
pub mod config;
pub mod engine;
#[path = "gen/mod.rs"]
pub mod generator;
pub mod io;
pub mod live;
pub mod ops;
#[path = "../pipelines/mod.rs"]
pub mod pipelines;
pub mod push;
// Low (it imports nothing of the crate): live's made-up tokens and sql's SCRAM share it.
pub mod random;
pub mod records;
pub mod sinks;
pub mod sql;
pub mod tables;
