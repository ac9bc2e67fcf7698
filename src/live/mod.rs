//! `livesell serve`: the pipeline with live surfaces over HTTP (Live Director, GMV ticker, overlay, moderator console): the live input, the hub, tokens and limits, the shared state and its replies, and the handlers above them.

mod actions;
pub mod app;
pub mod auth;
pub mod durable;
pub mod input;
pub mod limits;
mod metrics;
mod reply;
pub mod routes;
pub mod serve;
pub mod webhook_state;
pub mod webhooks;

#[cfg(test)]
mod tests;
