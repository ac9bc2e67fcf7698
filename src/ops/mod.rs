//! Timely operators, one per file, each a small extension trait whose body calls the domain.

pub mod apply_claims;
pub mod maintain_metrics;
pub mod read_events;
pub mod write_outputs;
