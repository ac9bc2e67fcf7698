//! The routes of `livesell serve` and its reads: the dashboard page, sessions, run sheet, moderator queue, claims, carts, and the ticker and overlay as Server-Sent Events.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::actions::{director, import_runsheet, moderation};
use super::app::{App, Params, Shared, may_read, may_see, may_see_buyers, session_of};
use super::metrics::metrics;
use super::reply::{fail, json_text, retry_later};
use super::webhooks::{ingest, verify_subscription};
use crate::sinks::hub::{Frame, LiveHub};

const DASHBOARD: &str = include_str!("dashboard.html");

/// Every route of the server, behind the limits' layers.
pub fn router(app: Arc<App>) -> Router {
    let limits = app.limits.clone();
    let import = post(import_runsheet).layer(DefaultBodyLimit::max(
        limits.import_limit_kib.saturating_mul(1024),
    ));
    let routes = Router::new()
        .route("/", get(dashboard))
        .route("/api/sessions", get(sessions))
        .route("/api/ticker", get(ticker))
        .route("/api/overlay", get(overlay))
        .route("/api/runsheet", get(runsheet))
        .route("/api/director", post(director))
        .route("/api/runsheet/import", import)
        .route("/api/escalations", get(escalations))
        .route("/api/moderation", post(moderation))
        .route("/api/claims", get(claims))
        .route("/api/carts", get(carts))
        .route("/metrics", get(metrics))
        .route("/ingest/{platform}", get(verify_subscription).post(ingest))
        .with_state(app);
    limits.apply(routes)
}

async fn dashboard() -> Html<&'static str> {
    Html(DASHBOARD)
}

async fn sessions(State(app): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = may_read(&app, &headers) {
        return r;
    }
    axum::Json(json!({"sessions": app.hub.session_ids()})).into_response()
}

/// A read of one session's state: the access check, the session asked for (or the first),
/// then `read`'s JSON, or 404.
fn session_read(
    app: &App,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    who: Readers,
    read: impl FnOnce(&LiveHub, &str) -> Option<Value>,
) -> Response {
    let allowed = match who {
        Readers::Public => may_read(app, headers),
        Readers::Tokens => may_see(app, headers),
        Readers::Staff => may_see_buyers(app, headers),
    };
    if let Err(r) = allowed {
        return r;
    }
    let id = match session_of(app, q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    read(&app.hub, &id)
        .map(|v| axum::Json(v).into_response())
        .unwrap_or_else(|| fail(StatusCode::NOT_FOUND, "unknown_session", id))
}

/// Who may read a session's state.
#[derive(Clone, Copy)]
enum Readers {
    /// The ticker and overlay (public unless the config says otherwise).
    Public,
    /// Any issued token.
    Tokens,
    /// The show's staff: what names buyers or quotes them.
    Staff,
}

async fn runsheet(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    session_read(&app, &q, &headers, Readers::Tokens, LiveHub::runsheet)
}

/// The moderator queue; `reason=` keeps one reason's escalations (an empty one: all).
async fn escalations(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    let reason = q
        .get("reason")
        .map(String::as_str)
        .filter(|r| !r.is_empty());
    session_read(&app, &q, &headers, Readers::Staff, |hub, id| {
        hub.escalations(id, reason)
    })
}

async fn claims(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    if let Err(r) = may_see_buyers(&app, &headers) {
        return r;
    }
    let id = match session_of(&app, &q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let sku = q.get("sku").map(String::as_str).filter(|s| !s.is_empty());
    app.hub.claims(&id, sku).map(json_text).unwrap_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            "unknown_sku",
            format!("session {id} has no sku {:?}", sku.unwrap_or("")),
        )
    })
}

/// A show's carts (`?session=`), or one buyer's (`&buyer=PLATFORM/USER_ID`): for moderators.
async fn carts(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    if let Err(r) = may_see_buyers(&app, &headers) {
        return r;
    }
    let id = match session_of(&app, &q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let buyer = q.get("buyer").map(String::as_str).filter(|s| !s.is_empty());
    app.hub
        .carts_of(&id, buyer)
        .map(json_text)
        .unwrap_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                "unknown_buyer",
                format!("session {id} has no cart of {:?}", buyer.unwrap_or("")),
            )
        })
}

/// Server-Sent Events: a `ticker` frame at once, then on every change, at most one per
/// `ticker_every`; frames that would repeat the last one are not sent.
async fn ticker(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    if let Err(r) = may_read(&app, &headers) {
        return r;
    }
    stream(app, &q, "ticker", LiveHub::ticker)
}

/// What a viewer sees on the stream: one answer, or (`Accept: text/event-stream`) `overlay`
/// frames as it changes, paced as the ticker's.
async fn overlay(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    let streamed = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if !streamed {
        return session_read(&app, &q, &headers, Readers::Public, |hub, id| {
            hub.overlay(id).map(|f| f.json.clone())
        });
    }
    if let Err(r) = may_read(&app, &headers) {
        return r;
    }
    stream(app, &q, "overlay", LiveHub::overlay)
}

/// A stream of `name` frames of `?session=` (or the first session, once one starts) rendered
/// by `render`: one at once, then on every change, at most one per `ticker_every`, none that
/// repeats the last. Beyond `max_streams` open streams, 503.
fn stream(
    app: Arc<App>,
    q: &HashMap<String, String>,
    name: &'static str,
    render: fn(&LiveHub, &str) -> Option<Arc<Frame>>,
) -> Response {
    let open = app.sse_clients.fetch_add(1, Ordering::Relaxed);
    // Counted from here: the guard gives it back whether the stream starts or not.
    let guard = StreamGuard(app.clone());
    if open >= app.limits.max_streams as u64 {
        return retry_later(
            "too_many_streams",
            format!("{open} streams are open: retry later"),
            5,
        );
    }
    let asked = q.get("session").cloned().filter(|s| !s.is_empty());
    struct Stream {
        guard: StreamGuard,
        asked: Option<String>,
        rx: tokio::sync::watch::Receiver<u64>,
        last: Option<Instant>,
        last_frame: Option<Arc<Frame>>,
    }
    let rx = app.hub.subscribe();
    let st = Stream {
        guard,
        asked,
        rx,
        last: None,
        last_frame: None,
    };
    let frames = futures::stream::unfold(st, move |mut st| async move {
        loop {
            let app = &st.guard.0;
            if let Some(last) = st.last {
                st.rx.changed().await.ok()?;
                let since = last.elapsed();
                if since < app.ticker_every {
                    tokio::time::sleep(app.ticker_every - since).await;
                }
            }
            st.rx.borrow_and_update();
            st.last = Some(Instant::now());
            // A session that has not started yet is waited for.
            let frame = app
                .hub
                .resolve(st.asked.as_deref())
                .and_then(|id| render(&app.hub, &id));
            let Some(frame) = frame else { continue };
            // The same frame (one change seen twice), or one that says the same.
            if st
                .last_frame
                .as_ref()
                .is_some_and(|l| Arc::ptr_eq(l, &frame) || l.text == frame.text)
            {
                continue;
            }
            let event = Event::default().event(name).data(&frame.text);
            st.last_frame = Some(frame);
            return Some((Ok::<_, Infallible>(event), st));
        }
    });
    Sse::new(frames)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// One open stream, counted in `sse_clients` while it lives.
struct StreamGuard(Arc<App>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }
}
