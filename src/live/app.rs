//! The state every handler of `livesell serve` shares, and the bearer-token guards in front of them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::auth::{AuthConfig, Refusal, Role};
use super::input::LiveInput;
use super::limits::Limits;
use super::reply::fail;
use super::webhook_state::{Seen, WebhookConfig};
use crate::sinks::hub::LiveHub;

/// What every handler reads: the hub, the input, the tokens, the webhooks' secrets, the limits.
pub struct App {
    pub hub: Arc<LiveHub>,
    pub input: Arc<LiveInput>,
    pub auth: AuthConfig,
    /// The ticker's shortest gap between two frames.
    pub ticker_every: Duration,
    pub sse_clients: AtomicU64,
    pub webhooks: WebhookConfig,
    pub seen: Seen,
    pub limits: Limits,
}

pub(super) type Shared = State<Arc<App>>;
pub(super) type Params = Query<HashMap<String, String>>;

/// A refused token as an answer (401 or 403), counted.
pub(super) fn refused(app: &App, r: Refusal, needed: &str) -> Response {
    app.hub
        .counters
        .refused_auth
        .fetch_add(1, Ordering::Relaxed);
    match r {
        Refusal::Unauthenticated => fail(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "send Authorization: Bearer <token>",
        ),
        Refusal::Forbidden => fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs a {needed} token"),
        ),
    }
}

/// The `Authorization` header's value.
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Public reads (ticker, overlay, metrics) unless the config says otherwise.
pub(super) fn may_read(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    app.auth
        .check_read(bearer(headers))
        .map_err(|r| refused(app, r, "viewer"))
}

/// The run sheet: any issued token.
pub(super) fn may_see(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    app.auth
        .check(bearer(headers), Role::Viewer)
        .map(|_| ())
        .map_err(|r| refused(app, r, "viewer"))
}

/// What names buyers and quotes their comments (claims, carts, the moderator queue): the
/// show's staff (director, moderator or admin tokens), never a viewer's.
pub(super) fn may_see_buyers(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    app.auth
        .check_staff(bearer(headers))
        .map(|_| ())
        .map_err(|r| refused(app, r, "staff"))
}

/// The session `?session=` asks for (or the first one), or the 404 that says why not.
pub(super) fn session_of(app: &App, q: &HashMap<String, String>) -> Result<String, Response> {
    let asked = q
        .get("session")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    app.hub.resolve(asked).ok_or_else(|| match asked {
        Some(s) => fail(
            StatusCode::NOT_FOUND,
            "unknown_session",
            format!("no session {s:?} (yet)"),
        ),
        None => fail(
            StatusCode::NOT_FOUND,
            "no_session",
            "no session has started yet",
        ),
    })
}
