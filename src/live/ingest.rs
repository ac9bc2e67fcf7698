//! Webhook ingest of `livesell serve`: `POST /ingest/{platform}` verifies the platform's signature over the raw body, drops redeliveries, converts and feeds the pipeline.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{Shared, fail, refusal};
use crate::adapters::signature::{SignatureError, verify_meta, verify_tiktok, verify_twitch};
use crate::adapters::{Format, Shows, convert};
use crate::domain::time::parse_rfc3339;

/// The `[webhooks]` table of the serve config file; secrets may come from the environment too.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub meta_app_secret: Option<String>,
    /// What Meta's subscription check (`hub.verify_token`) must say.
    pub meta_verify_token: Option<String>,
    pub tiktok_secret: Option<String>,
    /// How old a TikTok signature's timestamp may be (default 300 s).
    pub tiktok_max_age_s: Option<i64>,
    pub twitch_secret: Option<String>,
    /// Which show a payload belongs to (see pipelines/shows.toml).
    #[serde(default)]
    pub shows: Shows,
}

impl WebhookConfig {
    /// Fills unset secrets from `LIVESELL_META_APP_SECRET`, `LIVESELL_META_VERIFY_TOKEN`,
    /// `LIVESELL_TIKTOK_SECRET` and `LIVESELL_TWITCH_SECRET`.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> WebhookConfig {
        for (slot, name) in [
            (&mut self.meta_app_secret, "LIVESELL_META_APP_SECRET"),
            (&mut self.meta_verify_token, "LIVESELL_META_VERIFY_TOKEN"),
            (&mut self.tiktok_secret, "LIVESELL_TIKTOK_SECRET"),
            (&mut self.twitch_secret, "LIVESELL_TWITCH_SECRET"),
        ] {
            if slot.is_none() {
                *slot = var(name).filter(|v| !v.is_empty());
            }
        }
        self
    }
}

/// Twitch's limit for a message's age.
const TWITCH_MAX_AGE_S: i64 = 600;
/// Delivery ids remembered for dropping redeliveries.
const REMEMBERED: usize = 100_000;

/// Recently seen deliveries (platform message ids, or a digest of the body where the platform
/// gives none), oldest forgotten first.
#[derive(Default)]
pub struct Seen(Mutex<(HashSet<String>, VecDeque<String>)>);

impl Seen {
    /// True the first time `key` is seen.
    fn first(&self, key: String) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        if !set.insert(key.clone()) {
            return false;
        }
        order.push_back(key);
        if order.len() > REMEMBERED {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }

    /// Forgets `key`: a delivery that could not be fed must be taken when it comes again.
    fn forget(&self, key: &str) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        if set.remove(key) {
            order.retain(|k| k != key);
        }
    }
}

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
    let w = &app.webhooks;
    let counters = &app.hub.counters;
    let (format, checked, delivery, header_ts) = match platform.as_str() {
        "facebook" | "instagram" => {
            let format = if platform == "facebook" {
                Format::FacebookWebhook
            } else {
                Format::InstagramWebhook
            };
            let checked = verify_meta(
                w.meta_app_secret.as_deref(),
                header(&headers, "x-hub-signature-256"),
                &body,
            );
            (format, checked, body_digest(&body), None)
        }
        "tiktok" => {
            let checked = verify_tiktok(
                w.tiktok_secret.as_deref(),
                header(&headers, "tiktok-signature"),
                &body,
                now_s(),
                w.tiktok_max_age_s.unwrap_or(300),
            );
            (
                Format::TiktokLiveConnector,
                checked,
                body_digest(&body),
                None,
            )
        }
        "twitch" => {
            let id = header(&headers, "twitch-eventsub-message-id");
            let ts = header(&headers, "twitch-eventsub-message-timestamp");
            let at = ts
                .and_then(|t| parse_rfc3339(t).ok())
                .map(|us| us / 1_000_000);
            let checked = verify_twitch(
                w.twitch_secret.as_deref(),
                (
                    id,
                    ts,
                    header(&headers, "twitch-eventsub-message-signature"),
                ),
                at,
                &body,
                now_s(),
                TWITCH_MAX_AGE_S,
            );
            let delivery = id.map(str::to_string).unwrap_or_else(|| body_digest(&body));
            (
                Format::TwitchEventsub,
                checked,
                delivery,
                ts.map(str::to_string),
            )
        }
        other => {
            return fail(
                StatusCode::NOT_FOUND,
                "unknown_platform",
                format!("no webhook ingest for {other:?} (facebook, instagram, tiktok, twitch)"),
            );
        }
    };
    if let Err(e) = checked {
        counters.webhook_refused.fetch_add(1, Ordering::Relaxed);
        let status = if e == SignatureError::NoSecret {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        };
        return fail(status, "bad_signature", e.to_string());
    }
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
    let seen_key = format!("{platform}:{delivery}");
    if !app.seen.first(seen_key.clone()) {
        counters.webhook_duplicates.fetch_add(1, Ordering::Relaxed);
        return axum::Json(json!({"duplicate": true})).into_response();
    }
    let converted = match convert(format, &body, &w.shows, header_ts.as_deref()) {
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
