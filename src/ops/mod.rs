//! Timely operators, one per file, each a small extension trait whose body calls the domain.

pub mod apply_claims;
pub mod halt;
pub mod maintain_metrics;
pub mod produce_outputs;
pub mod rank_claimants;
pub mod read_events;
pub mod read_kafka;
pub mod select_updates;
pub mod write_outputs;
