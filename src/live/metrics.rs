//! `/metrics` of `livesell serve`: its counters and gauges as Prometheus text.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::app::{App, Shared, may_read};

/// One Prometheus figure: name, kind, help and value.
type Figure = (&'static str, &'static str, &'static str, String);

/// `GET /metrics`: public like the ticker, unless the config says otherwise.
pub(super) async fn metrics(State(app): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = may_read(&app, &headers) {
        return r;
    }
    let figures = pipeline_figures(&app).into_iter().chain(door_figures(&app));
    let mut out = String::new();
    for (name, kind, help, value) in figures {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

fn count(a: &AtomicU64) -> String {
    a.load(Ordering::Relaxed).to_string()
}

/// The pipeline's figures: sessions, lines in and out, how far behind the show clock, streams.
fn pipeline_figures(app: &App) -> [Figure; 11] {
    let c = &app.hub.counters;
    let now = app.input.clock.now();
    let secs = |t: i64| {
        if t == i64::MIN || t == i64::MAX {
            0.0
        } else {
            ((now - t) as f64 / 1e6).max(0.0)
        }
    };
    let released = c.released.load(Ordering::Relaxed);
    let lag = app.hub.latest_applied().map(secs).unwrap_or(0.0);
    [
        (
            "livesell_open_sessions",
            "gauge",
            "Sessions open (SPEC 3.5: not closed yet).",
            app.hub.open_sessions().to_string(),
        ),
        (
            "livesell_closed_sessions_total",
            "counter",
            "Sessions closed so far; their state has left memory.",
            count(&c.closed_sessions),
        ),
        (
            "livesell_events_in_total",
            "counter",
            "Lines that entered the live pipeline (replay and actions).",
            count(&app.input.lines_in),
        ),
        (
            "livesell_decisions_out_total",
            "counter",
            "Decisions released by the pipeline.",
            count(&c.decisions_out),
        ),
        (
            "livesell_dead_letters_total",
            "counter",
            "Lines that could not be read.",
            count(&c.dead_letters),
        ),
        (
            "livesell_lag_seconds",
            "gauge",
            "Show clock minus the event time of the last event applied.",
            format!("{lag:.3}"),
        ),
        (
            "livesell_watermark_delay_seconds",
            "gauge",
            "Show clock minus the bound below which every decision is out.",
            format!("{:.3}", secs(released)),
        ),
        (
            "livesell_sse_clients",
            "gauge",
            "Ticker streams open.",
            count(&app.sse_clients),
        ),
        (
            "livesell_writer_closed_shows_kept",
            "gauge",
            "Closed shows the writer still remembers (their summaries and names); bounded.",
            count(&c.writer_closed_kept),
        ),
        (
            "livesell_writer_session_names",
            "gauge",
            "Session names the writer holds: open shows and the closed ones it remembers.",
            count(&c.writer_names_held),
        ),
        (
            "livesell_hub_closed_shows_kept",
            "gauge",
            "Closed shows the live surfaces still remember; bounded.",
            app.hub.closed_kept().to_string(),
        ),
    ]
}

/// The doors' figures: refused tokens, accepted actions, webhook deliveries, the replay.
fn door_figures(app: &App) -> [Figure; 7] {
    let c = &app.hub.counters;
    [
        (
            "livesell_auth_refused_total",
            "counter",
            "Requests refused for a missing, unknown or wrong-role token.",
            count(&c.refused_auth),
        ),
        (
            "livesell_director_actions_total",
            "counter",
            "Director actions accepted.",
            count(&c.director_actions),
        ),
        (
            "livesell_moderation_actions_total",
            "counter",
            "Moderator answers accepted.",
            count(&c.moderation_actions),
        ),
        (
            "livesell_webhooks_accepted_total",
            "counter",
            "Signed webhook deliveries accepted.",
            count(&c.webhook_accepted),
        ),
        (
            "livesell_webhooks_refused_total",
            "counter",
            "Webhook deliveries refused for a missing, forged or stale signature.",
            count(&c.webhook_refused),
        ),
        (
            "livesell_webhooks_duplicates_total",
            "counter",
            "Webhook redeliveries dropped by their message id.",
            count(&c.webhook_duplicates),
        ),
        (
            "livesell_replayed_lines_total",
            "counter",
            "Lines of the recorded show replayed so far.",
            count(&app.input.replayed),
        ),
    ]
}
