//! The pure core of Live Selling OS: the claim grammar, allocation, sessions and platform adapters, with no dataflow, async or network code (so fuzzing and unit tests build in seconds).

pub mod adapters;
pub mod domain;
