//! Timely operators, one per file, each a small extension trait that wires a stream to an engine (`engine`) or a sink (`sinks`).

pub mod apply_claims;
pub mod maintain_metrics;
pub mod produce_outputs;
pub mod rank_claimants;
pub mod read_events;
pub mod read_kafka;
pub mod select_updates;
pub mod write_outputs;
