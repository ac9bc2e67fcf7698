//! The actions of `livesell serve` that feed the show: the Live Director, the catalog import into the run sheet, and the moderators' answers, stamped with the show clock.

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::{App, Params, Shared, bearer, refused};
use super::auth::Role;
use super::reply::{fail, object, refusal, text_field};
use crate::domain::catalog::{Catalog, Codes, import_shopify_csv_beside};
use crate::domain::event::parse::parse_line;
use crate::domain::live::SessionView;
use crate::domain::text::normalize_code;
use crate::domain::time::format_micros;

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
pub(super) async fn director(State(app): Shared, headers: HeaderMap, body: Bytes) -> Response {
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
    // A show starts with what defines it (a product or a config): any other action for a show
    // nobody started is a typo, and must not make an empty show the overlay could follow.
    if view.is_none() && !matches!(action.as_str(), "product" | "config") {
        return fail(
            StatusCode::NOT_FOUND,
            "unknown_session",
            format!("no show {session:?}: a product or config action starts one"),
        );
    }
    let checked = match action.as_str() {
        "activate" | "price" => known_code(&o, view.as_deref(), &session),
        "next" | "skip" => next_in_queue(&app, &mut o, view.as_deref(), &session, &action),
        "reorder" => return reorder(&app, &o, view.as_deref(), &session),
        "product" | "deactivate" | "config" | "end" => Ok(()),
        other => Err(fail(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            format!(
                "unknown action {other:?} (product, activate, next, skip, deactivate, price, config, reorder, end)"
            ),
        )),
    };
    if let Err(r) = checked {
        return r;
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
    let on_air = o.get("action").and_then(Value::as_str) == Some("activate");
    let r = submit(&app, &session, o).await;
    if r.status() == StatusCode::ACCEPTED {
        app.hub
            .counters
            .director_actions
            .fetch_add(1, Ordering::Relaxed);
        if on_air {
            app.hub.mark_current(&session);
        }
    }
    r
}

/// `activate` and `price` name a product of the run sheet by its `code`.
fn known_code(
    o: &serde_json::Map<String, Value>,
    view: Option<&SessionView>,
    session: &str,
) -> Result<(), Response> {
    let code = text_field(o, "code")?;
    if !view.is_some_and(|v| v.product(&normalize_code(code)).is_some()) {
        return Err(fail(
            // The run sheet's state, not the request's shape: 409, as a closed show's.
            StatusCode::CONFLICT,
            "unknown_code",
            format!("the run sheet of {session} has no product {code:?}"),
        ));
    }
    Ok(())
}

/// `next` and `skip` become the `activate` of the queue's next product (`skip`: the one after).
fn next_in_queue(
    app: &App,
    o: &mut serde_json::Map<String, Value>,
    view: Option<&SessionView>,
    session: &str,
    action: &str,
) -> Result<(), Response> {
    let Some(v) = view else {
        return Err(fail(StatusCode::NOT_FOUND, "unknown_session", session));
    };
    let order = app.hub.queue(session);
    let skip = usize::from(action == "skip");
    let Some(key) = v.next_code(&order, skip) else {
        return Err(fail(
            StatusCode::CONFLICT,
            "end_of_run_sheet",
            "no product left in the queue",
        ));
    };
    let code = v.product(key).map(|p| p.code.clone()).unwrap_or_default();
    o.insert("action".into(), json!("activate"));
    o.insert("code".into(), json!(code));
    Ok(())
}

/// `reorder`: the run sheet's order as `order` lists it, kept by the server (nothing is sent
/// to the pipeline); the run sheet in its new order.
fn reorder(
    app: &App,
    o: &serde_json::Map<String, Value>,
    view: Option<&SessionView>,
    session: &str,
) -> Response {
    let Some(v) = view else {
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
                StatusCode::CONFLICT,
                "unknown_code",
                format!("the run sheet of {session} has no product {c:?}"),
            );
        }
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    app.hub.set_queue(session, keys);
    app.hub
        .counters
        .director_actions
        .fetch_add(1, Ordering::Relaxed);
    axum::Json(app.hub.runsheet(session).unwrap_or_default()).into_response()
}

/// A shop's product export (the body: Shopify's product CSV) into the run sheet of
/// `?session=`: one `product` action per product (`&codes=auto|sku|handle`, `&currency=`);
/// the answer lists what was sent and every row left out, by line.
pub(super) async fn import_runsheet(
    State(app): Shared,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
    imported(&session, &catalog)
}

/// The import's answer: what was sent, and every row left out, by line.
fn imported(session: &str, catalog: &Catalog) -> Response {
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
pub(super) async fn moderation(State(app): Shared, headers: HeaderMap, body: Bytes) -> Response {
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
                StatusCode::CONFLICT,
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
