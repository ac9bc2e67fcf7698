//! Transports: they move bytes in and out without interpreting them (lines, Kafka, checkpoint storage, Parquet files, the YouTube API); formats live in `domain::event` and `tables`.

pub mod arranged;
pub mod checkpoint;
pub mod journal;
pub mod kafka;
pub mod lines;
pub mod parquet;
pub mod youtube;

/// The blocking HTTPS client of the pollers and pushers: 30 s for a whole request, and every
/// status handed back (the callers decide what a 4xx or 5xx means).
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false)
        .user_agent(concat!("livesell/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}
