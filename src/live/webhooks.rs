//! The webhook doors of `livesell serve`: `POST /ingest/{platform}` verifies the platform's signature over the raw body, drops redeliveries, converts and feeds the pipeline; `GET` answers Meta's subscription check.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::{App, Shared};
use super::reply::{fail, refusal};
use crate::adapters::signature::{SignatureError, verify_meta, verify_tiktok, verify_twitch};
use crate::adapters::{Format, convert};
use crate::domain::time::parse_rfc3339;

/// Twitch's limit for a message's age.
const TWITCH_MAX_AGE_S: i64 = 600;

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn body_digest(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

/// Meta's subscription check: `hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`.
pub async fn verify_subscription(
    State(app): Shared,
    Path(platform): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let expected = app.webhooks.meta_verify_token.as_deref();
    let meta = matches!(platform.as_str(), "facebook" | "instagram");
    let ok = meta
        && q.get("hub.mode").map(String::as_str) == Some("subscribe")
        && expected.is_some()
        && q.get("hub.verify_token").map(String::as_str) == expected;
    match (ok, q.get("hub.challenge")) {
        (true, Some(challenge)) => challenge.clone().into_response(),
        _ => fail(
            StatusCode::FORBIDDEN,
            "verification_failed",
            "hub.mode, hub.verify_token or hub.challenge do not match",
        ),
    }
}

/// `POST /ingest/{facebook|instagram|tiktok|twitch}`.
pub async fn ingest(
    State(app): Shared,
    Path(platform): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delivery = match verified(&app, &platform, &headers, &body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let counters = &app.hub.counters;
    if platform == "twitch" {
        match header(&headers, "twitch-eventsub-message-type") {
            Some("webhook_callback_verification") => {
                let challenge = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["challenge"].as_str().map(str::to_string));
                return match challenge {
                    Some(c) => ([(header::CONTENT_TYPE, "text/plain")], c).into_response(),
                    None => fail(StatusCode::BAD_REQUEST, "missing_field", "challenge"),
                };
            }
            Some("revocation") => return StatusCode::NO_CONTENT.into_response(),
            _ => {}
        }
    }
    let seen_key = format!("{platform}:{}", delivery.id);
    if !app.seen.first(seen_key.clone()) {
        counters.webhook_duplicates.fetch_add(1, Ordering::Relaxed);
        return axum::Json(json!({"duplicate": true})).into_response();
    }
    let converted = match convert(
        delivery.format,
        &body,
        &app.webhooks.shows,
        delivery.header_ts.as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, e.reason(), e.to_string()),
    };
    // One submission per session (its lines stay in order on one partition); an end of a live
    // stream ends its show (SPEC 3.5).
    let mut by_session: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in &converted.comments {
        let line = serde_json::to_string(c).unwrap_or_default();
        by_session.entry(&c.session_id).or_default().push(line);
    }
    for e in &converted.ends {
        let line = serde_json::to_string(e).unwrap_or_default();
        by_session.entry(&e.session_id).or_default().push(line);
    }
    for (session, lines) in &by_session {
        if let Err(r) = app.input.submit(session, lines).await {
            // Not fed (the queue is full, the broker away): the platform's redelivery must be
            // taken, and what went already is dropped again by its comment ids.
            app.seen.forget(&seen_key);
            return refusal(r);
        }
    }
    counters.webhook_accepted.fetch_add(1, Ordering::Relaxed);
    let (sent, ends) = (converted.comments.len(), converted.ends.len());
    axum::Json(json!({"comments": sent, "ends": ends, "skipped": converted.skipped}))
        .into_response()
}

/// A delivery whose signature holds: its format, its id (for dropping a redelivery) and, from
/// Twitch, the time its header gives.
struct Delivery {
    format: Format,
    id: String,
    header_ts: Option<String>,
}

/// The platform's delivery with its signature checked, or the 404, 401 or 503 that says why not.
fn verified(
    app: &App,
    platform: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Delivery, Response> {
    let w = &app.webhooks;
    let (format, checked, id, header_ts) = match platform {
        "facebook" | "instagram" => {
            let format = if platform == "facebook" {
                Format::FacebookWebhook
            } else {
                Format::InstagramWebhook
            };
            let checked = verify_meta(
                w.meta_app_secret.as_deref(),
                header(headers, "x-hub-signature-256"),
                body,
            );
            (format, checked, body_digest(body), None)
        }
        "tiktok" => {
            let checked = verify_tiktok(
                w.tiktok_secret.as_deref(),
                header(headers, "tiktok-signature"),
                body,
                now_s(),
                w.tiktok_max_age_s.unwrap_or(300),
            );
            (
                Format::TiktokLiveConnector,
                checked,
                body_digest(body),
                None,
            )
        }
        "twitch" => {
            let id = header(headers, "twitch-eventsub-message-id");
            let ts = header(headers, "twitch-eventsub-message-timestamp");
            let at = ts
                .and_then(|t| parse_rfc3339(t).ok())
                .map(|us| us / 1_000_000);
            let checked = verify_twitch(
                w.twitch_secret.as_deref(),
                (id, ts, header(headers, "twitch-eventsub-message-signature")),
                at,
                body,
                now_s(),
                TWITCH_MAX_AGE_S,
            );
            let delivery = id.map(str::to_string).unwrap_or_else(|| body_digest(body));
            (
                Format::TwitchEventsub,
                checked,
                delivery,
                ts.map(str::to_string),
            )
        }
        other => {
            return Err(fail(
                StatusCode::NOT_FOUND,
                "unknown_platform",
                format!("no webhook ingest for {other:?} (facebook, instagram, tiktok, twitch)"),
            ));
        }
    };
    if let Err(e) = checked {
        app.hub
            .counters
            .webhook_refused
            .fetch_add(1, Ordering::Relaxed);
        let status = if e == SignatureError::NoSecret {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        };
        return Err(fail(status, "bad_signature", e.to_string()));
    }
    Ok(Delivery {
        format,
        id,
        header_ts,
    })
}
