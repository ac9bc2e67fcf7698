//! The HTTP surface of `livesell serve`: the dashboard page, the ticker stream, the overlay, the run sheet, the moderator queue, claims and metrics.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::auth::{AuthConfig, Refusal, Role};
use super::ingest::{Seen, WebhookConfig, ingest, verify_subscription};
use super::input::{LiveInput, Refused};
use super::limits::Limits;
use crate::domain::event::parse::parse_line;
use crate::domain::text::normalize_code;
use crate::domain::time::format_micros;
use crate::sinks::hub::{Frame, LiveHub};

const DASHBOARD: &str = include_str!("dashboard.html");

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
type Params = Query<HashMap<String, String>>;

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

/// An error answer: `{"error": code, "detail": …}`.
pub(super) fn fail(status: StatusCode, error: &str, detail: impl Into<String>) -> Response {
    let mut r = (
        status,
        axum::Json(json!({"error": error, "detail": detail.into()})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

fn refused(app: &App, r: Refusal, needed: &str) -> Response {
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Public reads (ticker, overlay, metrics) unless the config says otherwise.
fn may_read(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    app.auth
        .check_read(bearer(headers))
        .map_err(|r| refused(app, r, "viewer"))
}

/// The run sheet, the moderator queue and claims name buyers: any issued token.
fn may_see(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    app.auth
        .check(bearer(headers), Role::Viewer)
        .map(|_| ())
        .map_err(|r| refused(app, r, "viewer"))
}

fn session_of(app: &App, q: &HashMap<String, String>) -> Result<String, Response> {
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
    public: bool,
    read: impl FnOnce(&LiveHub, &str) -> Option<Value>,
) -> Response {
    let allowed = if public {
        may_read(app, headers)
    } else {
        may_see(app, headers)
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

async fn runsheet(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    session_read(&app, &q, &headers, false, LiveHub::runsheet)
}

/// The moderator queue; `reason=` keeps one reason's escalations (an empty one: all).
async fn escalations(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    let reason = q
        .get("reason")
        .map(String::as_str)
        .filter(|r| !r.is_empty());
    session_read(&app, &q, &headers, false, |hub, id| {
        hub.escalations(id, reason)
    })
}

async fn claims(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    if let Err(r) = may_see(&app, &headers) {
        return r;
    }
    let id = match session_of(&app, &q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let sku = q.get("sku").map(String::as_str).filter(|s| !s.is_empty());
    app.hub
        .claims(&id, sku)
        .map(|v| axum::Json(v).into_response())
        .unwrap_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                "unknown_sku",
                format!("session {id} has no sku {:?}", sku.unwrap_or("")),
            )
        })
}

/// A show's carts (`?session=`), or one buyer's (`&buyer=PLATFORM/USER_ID`): for moderators.
async fn carts(State(app): Shared, Query(q): Params, headers: HeaderMap) -> Response {
    if let Err(r) = may_see(&app, &headers) {
        return r;
    }
    let id = match session_of(&app, &q) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let buyer = q.get("buyer").map(String::as_str).filter(|s| !s.is_empty());
    app.hub
        .carts_of(&id, buyer)
        .map(|v| axum::Json(v).into_response())
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
        return session_read(&app, &q, &headers, true, |hub, id| {
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

/// A JSON object body, or the 400 that says why not.
fn object(body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(fail(
            StatusCode::BAD_REQUEST,
            "not_an_object",
            "the body must be a JSON object",
        )),
        Err(e) => Err(fail(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            e.to_string(),
        )),
    }
}

fn text_field<'a>(o: &'a serde_json::Map<String, Value>, k: &str) -> Result<&'a str, Response> {
    o.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            fail(
                StatusCode::BAD_REQUEST,
                "missing_field",
                format!("{k} (a non-empty string) is required"),
            )
        })
}

/// Stamps each event with the show clock and checks it as the pipeline would read it: the
/// lines to send, or the 400 that says why not.
fn stamped(
    app: &App,
    events: Vec<serde_json::Map<String, Value>>,
) -> Result<Vec<String>, Response> {
    let ts = json!(format_micros(app.input.clock.now()));
    events
        .into_iter()
        .map(|mut event| {
            event.insert("ts".into(), ts.clone());
            let line = Value::Object(event).to_string();
            match parse_line(line.as_bytes()) {
                Ok(_) => Ok(line),
                Err(e) => Err(fail(StatusCode::BAD_REQUEST, e.reason, e.detail)),
            }
        })
        .collect()
}

/// A 503 that says when to try again.
pub(super) fn retry_later(error: &str, detail: impl Into<String>, secs: u64) -> Response {
    let mut r = fail(StatusCode::SERVICE_UNAVAILABLE, error, detail);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// Why the input did not take lines, as an answer.
pub(super) fn refusal(r: Refused) -> Response {
    match r {
        Refused::Busy => retry_later("busy", "the show's input is full: retry after a second", 1),
        Refused::Closed => fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "input_closed",
            "the show's input has ended",
        ),
        Refused::Unavailable(e) => retry_later("input_unavailable", e, 5),
    }
}

/// Sends one session's events together, stamped with the show clock; the events as sent.
async fn submit_all(
    app: &App,
    session: &str,
    events: Vec<serde_json::Map<String, Value>>,
) -> Result<Vec<String>, Response> {
    let lines = stamped(app, events)?;
    app.input.submit(session, &lines).await.map_err(refusal)?;
    Ok(lines)
}

/// Sends one event of `session`; 202 with the event as sent.
async fn submit(app: &App, session: &str, event: serde_json::Map<String, Value>) -> Response {
    match submit_all(app, session, vec![event]).await {
        Ok(lines) => {
            let event: Value = serde_json::from_str(&lines[0]).unwrap_or_default();
            (StatusCode::ACCEPTED, axum::Json(json!({"event": event}))).into_response()
        }
        Err(r) => r,
    }
}

/// The Live Director: `product` (queue a product), `activate`, `next`, `skip`, `deactivate`,
/// `price` (flash price), `config`, and `reorder` (the run sheet's order, kept by the server).
async fn director(State(app): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = app.auth.check(bearer(&headers), Role::Director) {
        return refused(&app, r, "director");
    }
    let mut o = match object(&body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let session = match text_field(&o, "session_id") {
        Ok(s) => s.to_string(),
        Err(r) => return r,
    };
    let action = match text_field(&o, "action") {
        Ok(a) => a.to_string(),
        Err(r) => return r,
    };
    let view = app.hub.session_view(&session);
    let known = |code: &str| {
        view.as_ref()
            .is_some_and(|v| v.product(&normalize_code(code)).is_some())
    };
    match action.as_str() {
        "activate" | "price" => {
            let code = match text_field(&o, "code") {
                Ok(c) => c,
                Err(r) => return r,
            };
            if !known(code) {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "unknown_code",
                    format!("the run sheet of {session} has no product {code:?}"),
                );
            }
        }
        "next" | "skip" => {
            let Some(v) = &view else {
                return fail(StatusCode::NOT_FOUND, "unknown_session", session);
            };
            let order = app.hub.queue(&session);
            let skip = usize::from(action == "skip");
            let Some(key) = v.next_code(&order, skip) else {
                return fail(
                    StatusCode::CONFLICT,
                    "end_of_run_sheet",
                    "no product left in the queue",
                );
            };
            let code = v.product(key).map(|p| p.code.clone()).unwrap_or_default();
            o.insert("action".into(), json!("activate"));
            o.insert("code".into(), json!(code));
        }
        "reorder" => {
            let Some(v) = &view else {
                return fail(StatusCode::NOT_FOUND, "unknown_session", session);
            };
            let Some(codes) = o.get("order").and_then(Value::as_array) else {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "missing_field",
                    "order (a list of product codes) is required",
                );
            };
            let mut keys = Vec::new();
            for c in codes {
                let Some(c) = c.as_str() else {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        "invalid_field",
                        "order holds codes",
                    );
                };
                let k = normalize_code(c);
                if v.product(&k).is_none() {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        "unknown_code",
                        format!("the run sheet of {session} has no product {c:?}"),
                    );
                }
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            app.hub.set_queue(&session, keys);
            app.hub
                .counters
                .director_actions
                .fetch_add(1, Ordering::Relaxed);
            return axum::Json(app.hub.runsheet(&session).unwrap_or_default()).into_response();
        }
        "product" | "deactivate" | "config" | "end" => {}
        other => {
            return fail(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                format!(
                    "unknown action {other:?} (product, activate, next, skip, deactivate, price, config, reorder, end)"
                ),
            );
        }
    }
    // SPEC 3.5: a closed show takes nothing more (its events would only be rejected).
    if view.as_ref().is_some_and(|v| v.closed_at.is_some()) {
        return fail(
            StatusCode::CONFLICT,
            "session_closed",
            format!("{session} has closed"),
        );
    }
    o.insert("type".into(), json!("director"));
    let r = submit(&app, &session, o).await;
    if r.status() == StatusCode::ACCEPTED {
        app.hub
            .counters
            .director_actions
            .fetch_add(1, Ordering::Relaxed);
    }
    r
}

/// A shop's product export (the body: Shopify's product CSV) into the run sheet of
/// `?session=`: one `product` action per product (`&codes=auto|sku|handle`, `&currency=`);
/// the answer lists what was sent and every row left out, by line.
async fn import_runsheet(
    State(app): Shared,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::domain::catalog::{Codes, import_shopify_csv_beside};
    if let Err(r) = app.auth.check(bearer(&headers), Role::Director) {
        return refused(&app, r, "director");
    }
    let Some(session) = q.get("session").filter(|s| !s.is_empty()).cloned() else {
        return fail(
            StatusCode::BAD_REQUEST,
            "missing_field",
            "?session= is required",
        );
    };
    let codes = match Codes::parse(q.get("codes").map(String::as_str).unwrap_or("auto")) {
        Ok(c) => c,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "invalid_field", e),
    };
    let view = app.hub.session_view(&session);
    if view.as_ref().is_some_and(|v| v.closed_at.is_some()) {
        return fail(
            StatusCode::CONFLICT,
            "session_closed",
            format!("{session} has closed"),
        );
    }
    // New codes keep clear of the run sheet's own (one edit apart, a typo of one would be
    // read as the other).
    let existing: Vec<String> = view
        .iter()
        .flat_map(|v| &v.products)
        .map(|p| p.code.clone())
        .collect();
    let Ok(text) = std::str::from_utf8(&body) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the export is not UTF-8 text",
        );
    };
    let catalog = match import_shopify_csv_beside(text, codes, &existing) {
        Ok(c) => c,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "not_a_product_export", e),
    };
    let currency = q
        .get("currency")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    // One submission: the whole catalog goes, or (the queue full) none of it.
    let events: Vec<serde_json::Map<String, Value>> = catalog
        .products
        .iter()
        .filter_map(|p| {
            let line = p.event(&session, "1970-01-01T00:00:00Z", currency);
            match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(event)) => Some(event),
                _ => None,
            }
        })
        .collect();
    if let Err(r) = submit_all(&app, &session, events).await {
        return r;
    }
    app.hub
        .counters
        .director_actions
        .fetch_add(catalog.products.len() as u64, Ordering::Relaxed);
    let sent: Vec<Value> = catalog
        .products
        .iter()
        .map(|p| json!({"code": p.code, "title": p.title, "variants": p.variants.len()}))
        .collect();
    let problems: Vec<Value> = catalog
        .problems
        .iter()
        .map(|p| json!({"line": p.line, "reason": p.reason, "detail": p.detail, "skipped": p.skipped}))
        .collect();
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"session_id": session, "products": sent, "problems": problems})),
    )
        .into_response()
}

/// A moderator's one-tap answer: `accept` (with `sku` and `qty`) or `reject`.
async fn moderation(State(app): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = app.auth.check(bearer(&headers), Role::Moderator) {
        return refused(&app, r, "moderator");
    }
    let mut o = match object(&body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let (session, escalation) = match (
        text_field(&o, "session_id"),
        text_field(&o, "escalation_id"),
    ) {
        (Ok(s), Ok(e)) => (s.to_string(), e.to_string()),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let Some(view) = app.hub.session_view(&session) else {
        return fail(StatusCode::NOT_FOUND, "unknown_session", session);
    };
    let listed = view.escalations.len() as u64 == view.escalations_open;
    if listed
        && !view
            .escalations
            .iter()
            .any(|e| e.escalation_id == escalation)
    {
        return fail(
            StatusCode::CONFLICT,
            "not_open",
            format!("{escalation} is unknown or already answered"),
        );
    }
    if o.get("decision").and_then(Value::as_str) == Some("accept") {
        let sku = o.get("sku").and_then(Value::as_str).unwrap_or_default();
        let exists = view
            .products
            .iter()
            .flat_map(|p| &p.variants)
            .any(|v| v.sku == sku);
        if !sku.is_empty() && !exists {
            return fail(
                StatusCode::BAD_REQUEST,
                "unknown_sku",
                format!("the run sheet of {session} has no sku {sku:?}"),
            );
        }
    }
    o.insert("type".into(), json!("moderation"));
    let r = submit(&app, &session, o).await;
    if r.status() == StatusCode::ACCEPTED {
        app.hub
            .counters
            .moderation_actions
            .fetch_add(1, Ordering::Relaxed);
    }
    r
}

async fn metrics(State(app): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = may_read(&app, &headers) {
        return r;
    }
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
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
    let metrics: [(&str, &str, &str, String); 15] = [
        (
            "livesell_open_sessions",
            "gauge",
            "Sessions open (SPEC 3.5: not closed yet).",
            app.hub.open_sessions().to_string(),
        ),
        (
            "livesell_closed_sessions",
            "counter",
            "Sessions closed so far; their state has left memory.",
            n(&c.closed_sessions),
        ),
        (
            "livesell_events_in_total",
            "counter",
            "Lines that entered the live pipeline (replay and actions).",
            n(&app.input.lines_in),
        ),
        (
            "livesell_decisions_out_total",
            "counter",
            "Decisions released by the pipeline.",
            n(&c.decisions_out),
        ),
        (
            "livesell_dead_letters_total",
            "counter",
            "Lines that could not be read.",
            n(&c.dead_letters),
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
            n(&app.sse_clients),
        ),
        (
            "livesell_auth_refused_total",
            "counter",
            "Requests refused for a missing, unknown or wrong-role token.",
            n(&c.refused_auth),
        ),
        (
            "livesell_director_actions_total",
            "counter",
            "Director actions accepted.",
            n(&c.director_actions),
        ),
        (
            "livesell_moderation_actions_total",
            "counter",
            "Moderator answers accepted.",
            n(&c.moderation_actions),
        ),
        (
            "livesell_webhooks_accepted_total",
            "counter",
            "Signed webhook deliveries accepted.",
            n(&c.webhook_accepted),
        ),
        (
            "livesell_webhooks_refused_total",
            "counter",
            "Webhook deliveries refused for a missing, forged or stale signature.",
            n(&c.webhook_refused),
        ),
        (
            "livesell_webhooks_duplicates_total",
            "counter",
            "Webhook redeliveries dropped by their message id.",
            n(&c.webhook_duplicates),
        ),
        (
            "livesell_replayed_lines_total",
            "counter",
            "Lines of the recorded show replayed so far.",
            n(&app.input.replayed),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in metrics {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
