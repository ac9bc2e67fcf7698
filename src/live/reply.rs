//! The answers every handler of `livesell serve` gives alike: errors as `{"error", "detail"}`, 503s with Retry-After, and the JSON body checks.

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::input::Refused;

/// A 200 whose body is JSON text already written (the hub's records as the engine wrote them).
pub(super) fn json_text(body: String) -> Response {
    let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
    (json, body).into_response()
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

/// A JSON object body, or the 400 that says why not.
pub(super) fn object(body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
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

/// The non-empty string field `k`, or the 400 that says it is missing.
pub(super) fn text_field<'a>(
    o: &'a serde_json::Map<String, Value>,
    k: &str,
) -> Result<&'a str, Response> {
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
