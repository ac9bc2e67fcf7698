//! Connectors: transports that move bytes in and out; formats live in `domain::event`.

pub mod arranged;
pub mod checkpoint;
pub mod kafka;
pub mod layout;
pub mod lines;
pub mod snapshot;
pub mod tables;
pub mod youtube;
