//! Pipelines: each one's dataflow graph readable in one file.

pub mod claims;
