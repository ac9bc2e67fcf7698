//! `livesell serve`: the pipeline with live surfaces over HTTP (Live Director, GMV ticker, overlay, moderator console).

pub mod auth;
pub mod http;
pub mod ingest;
pub mod input;
pub mod limits;
pub mod serve;

#[cfg(test)]
mod tests;
