//! Output state machines without timely: the one release queue every sink shares (`release`), the writer (record files, snapshots, checkpoints' manifests, group commits) and each worker's Kafka producer (with its GMV ticker), and the live hub the writer keeps current for `livesell serve`.

pub mod closed;
pub mod commits;
pub mod cuts;
pub mod files;
pub mod hub;
pub mod producer;
pub mod release;
pub mod snapshots;
pub mod ticker;
pub mod writer;
