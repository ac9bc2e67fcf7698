//! The YouTube live chat poller's decisions, free of I/O: which page to ask for next, how long to wait (the API's `pollingIntervalMillis`), which messages were already seen, and when to retry or stop.

use std::collections::{HashSet, VecDeque};

use serde_json::Value;

use super::{AdapterError, Comment, End, Format, Shows, Ts, check_end, convert};

/// When a page carries no `pollingIntervalMillis` (YouTube always sends one; a proxy may not).
pub const DEFAULT_INTERVAL_MS: u64 = 5_000;
/// The first wait after a failed request; it doubles up to `MAX_BACKOFF_MS`.
pub const FIRST_BACKOFF_MS: u64 = 1_000;
pub const MAX_BACKOFF_MS: u64 = 60_000;
/// Failed requests in a row after which the poller gives up.
pub const MAX_FAILURES: u32 = 8;
/// Message ids remembered against repeats across pages.
const REMEMBERED: usize = 100_000;

/// What the poller does after a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Ask again after this many milliseconds.
    Wait(u64),
    /// The chat is over, or the request can never succeed: why.
    Stop(String),
}

/// One page's outcome: its new comments (repeats dropped), what it skipped, and what next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub comments: Vec<Comment>,
    /// The chat's `offlineAt`, as a director `end` of its show (SPEC 3.5).
    pub ends: Vec<End>,
    pub skipped: usize,
    pub repeats: usize,
    pub next: Next,
}

/// The poller of one live chat (`liveChatMessages.list`).
#[derive(Debug, Clone)]
pub struct YoutubePoll {
    live_chat_id: String,
    page_token: Option<String>,
    min_interval_ms: u64,
    failures: u32,
    seen: HashSet<String>,
    order: VecDeque<String>,
    pages: u64,
}

impl YoutubePoll {
    /// `min_interval_ms` is a floor under the API's own interval (0: exactly as the API asks).
    pub fn new(live_chat_id: impl Into<String>, min_interval_ms: u64) -> Self {
        YoutubePoll {
            live_chat_id: live_chat_id.into(),
            page_token: None,
            min_interval_ms,
            failures: 0,
            seen: HashSet::new(),
            order: VecDeque::new(),
            pages: 0,
        }
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The request for the next page: `api` is the Data API's base
    /// (`https://www.googleapis.com/youtube/v3`); `key` an API key, when one is used.
    pub fn url(&self, api: &str, key: Option<&str>) -> String {
        let mut url = format!(
            "{}/liveChat/messages?liveChatId={}&part=snippet,authorDetails&maxResults=2000",
            api.trim_end_matches('/'),
            query_escape(&self.live_chat_id)
        );
        if let Some(t) = &self.page_token {
            url.push_str("&pageToken=");
            url.push_str(&query_escape(t));
        }
        if let Some(k) = key {
            url.push_str("&key=");
            url.push_str(&query_escape(k));
        }
        url
    }

    /// A 200 response's body. A body that cannot be read counts as a failed request (the next
    /// attempt asks for the same page again), so nothing is skipped.
    pub fn on_page(&mut self, body: &[u8], shows: &Shows) -> Result<Page, (AdapterError, Next)> {
        let converted = match convert(Format::YoutubeLivechat, body, shows, None) {
            Ok(c) => c,
            Err(e) => return Err((e, self.failed())),
        };
        self.failures = 0;
        self.pages += 1;
        let stop = match (&converted.offline_at, &converted.next_page_token) {
            (Some(at), _) => Some(format!("the chat went offline at {at}")),
            (None, None) => Some("the response has no nextPageToken: nothing more to read".into()),
            (None, Some(_)) => None,
        };
        if converted.next_page_token.is_some() {
            self.page_token = converted.next_page_token;
        }
        let mut ends = Vec::new();
        if let Some(at) = &converted.offline_at {
            let end = shows
                .session("youtube", &[Some(&self.live_chat_id)])
                .map(|s| End::new(s, Ts::Text(at.clone())))
                .and_then(|e| check_end(&e).map(|()| e));
            match end {
                Ok(e) => ends.push(e),
                Err(e) => return Err((e, self.failed())),
            }
        }
        let mut page = Page {
            ends,
            comments: Vec::with_capacity(converted.comments.len()),
            skipped: converted.skipped,
            repeats: 0,
            next: Next::Wait(
                converted
                    .poll_after_ms
                    .unwrap_or(DEFAULT_INTERVAL_MS)
                    .max(self.min_interval_ms),
            ),
        };
        for c in converted.comments {
            if self.remember(&c.comment_id) {
                page.comments.push(c);
            } else {
                page.repeats += 1;
            }
        }
        if let Some(why) = stop {
            page.next = Next::Stop(why);
        }
        Ok(page)
    }

    /// A response other than 200 (`status`, and the body for the API's error reason), or no
    /// response at all (`status` None: the connection failed).
    pub fn on_failure(&mut self, status: Option<u16>, body: &[u8]) -> Next {
        let reason = error_reason(body);
        match (status, reason.as_deref()) {
            (_, Some(r @ ("liveChatEnded" | "liveChatDisabled" | "liveChatNotFound"))) => {
                Next::Stop(format!("YouTube says {r}"))
            }
            (Some(401), _) => Next::Stop("401: the API key or token was refused".into()),
            (Some(403), Some(r)) if r.contains("quota") || r.contains("Quota") => {
                Next::Stop(format!("YouTube says {r}: the project's quota is spent"))
            }
            (Some(403), Some("rateLimitExceeded")) => self.failed(),
            (Some(s @ (400 | 403 | 404)), r) => Next::Stop(format!(
                "{s}{}: the request can never succeed",
                r.map(|r| format!(" {r}")).unwrap_or_default()
            )),
            _ => self.failed(),
        }
    }

    fn failed(&mut self) -> Next {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            return Next::Stop(format!("{} failed requests in a row", self.failures));
        }
        let wait = FIRST_BACKOFF_MS.saturating_mul(1 << (self.failures - 1).min(16));
        Next::Wait(wait.min(MAX_BACKOFF_MS).max(self.min_interval_ms))
    }

    /// True the first time an id is seen.
    fn remember(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }
}

/// `error.errors[0].reason` of a Data API error body.
fn error_reason(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.pointer("/error/errors/0/reason")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Percent-encoding for a query value (ids and tokens are URL-safe base64 in practice; this
/// keeps anything else from breaking the request).
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(token: Option<&str>, interval: Option<u64>, ids: &[&str], offline: bool) -> Vec<u8> {
        let items: Vec<Value> = ids
            .iter()
            .map(|id| {
                serde_json::json!({
                    "kind": "youtube#liveChatMessage",
                    "id": id,
                    "snippet": {
                        "type": "textMessageEvent",
                        "liveChatId": "CHAT",
                        "publishedAt": "2026-11-21T20:15:03.123456Z",
                        "displayMessage": format!("sold A12 ({id})")
                    },
                    "authorDetails": {"channelId": "UCx", "displayName": "Ana"}
                })
            })
            .collect();
        let mut v =
            serde_json::json!({"kind": "youtube#liveChatMessageListResponse", "items": items});
        if let Some(t) = token {
            v["nextPageToken"] = t.into();
        }
        if let Some(i) = interval {
            v["pollingIntervalMillis"] = i.into();
        }
        if offline {
            v["offlineAt"] = "2026-11-21T21:00:00Z".into();
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn shows() -> Shows {
        Shows {
            default: Some("show".into()),
            ..Default::default()
        }
    }

    #[test]
    fn follows_page_tokens_and_waits_as_the_api_asks() {
        let mut p = YoutubePoll::new("CHAT id/1", 0);
        let api = "https://www.googleapis.com/youtube/v3/";
        assert_eq!(
            p.url(api, Some("k")),
            "https://www.googleapis.com/youtube/v3/liveChat/messages?liveChatId=CHAT%20id%2F1&part=snippet,authorDetails&maxResults=2000&key=k"
        );
        let got = p
            .on_page(&page(Some("T1"), Some(2345), &["a", "b"], false), &shows())
            .unwrap();
        assert_eq!(got.comments.len(), 2);
        assert_eq!(got.next, Next::Wait(2345));
        assert!(p.url(api, None).ends_with("&pageToken=T1"));
        // A repeated message is dropped; the floor applies when the API asks for less.
        let mut floored = YoutubePoll::new("CHAT", 3000);
        floored
            .on_page(&page(Some("T1"), Some(1000), &["a"], false), &shows())
            .unwrap();
        let again = floored
            .on_page(&page(Some("T2"), Some(1000), &["a", "c"], false), &shows())
            .unwrap();
        assert_eq!((again.comments.len(), again.repeats), (1, 1));
        assert_eq!(again.next, Next::Wait(3000));
        // No interval: the default.
        let got = p
            .on_page(&page(Some("T2"), None, &[], false), &shows())
            .unwrap();
        assert_eq!(got.next, Next::Wait(DEFAULT_INTERVAL_MS));
    }

    #[test]
    fn stops_when_the_chat_ends() {
        let mut p = YoutubePoll::new("CHAT", 0);
        let last = p
            .on_page(&page(Some("T9"), Some(1000), &["z"], true), &shows())
            .unwrap();
        assert_eq!(
            last.comments.len(),
            1,
            "the last page's comments still count"
        );
        assert!(matches!(last.next, Next::Stop(ref why) if why.contains("offline")));
        // The chat's offlineAt ends its show (SPEC 3.5).
        let ends: Vec<String> = last
            .ends
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        assert_eq!(
            ends,
            [
                r#"{"type":"director","session_id":"show","ts":"2026-11-21T21:00:00Z","action":"end"}"#
            ]
        );
        let ended = br#"{"error":{"code":403,"errors":[{"reason":"liveChatEnded"}]}}"#;
        assert!(matches!(p.on_failure(Some(403), ended), Next::Stop(_)));
        assert!(matches!(p.on_failure(Some(401), b""), Next::Stop(_)));
        let quota = br#"{"error":{"code":403,"errors":[{"reason":"quotaExceeded"}]}}"#;
        assert!(matches!(p.on_failure(Some(403), quota), Next::Stop(_)));
    }

    #[test]
    fn backs_off_on_failures_and_gives_up() {
        let mut p = YoutubePoll::new("CHAT", 0);
        let waits: Vec<Next> = (0..4).map(|_| p.on_failure(Some(503), b"")).collect();
        assert_eq!(waits, [1000, 2000, 4000, 8000].map(Next::Wait).to_vec(),);
        // A page in between resets the count; a bad body is a failure and keeps the token.
        p.on_page(&page(Some("T1"), Some(10), &[], false), &shows())
            .unwrap();
        let (e, next) = p.on_page(b"<html>", &shows()).unwrap_err();
        assert_eq!(e.reason(), "malformed_json");
        assert_eq!(next, Next::Wait(1000));
        assert!(p.url("x", None).ends_with("pageToken=T1"));
        let rate = br#"{"error":{"code":403,"errors":[{"reason":"rateLimitExceeded"}]}}"#;
        assert_eq!(p.on_failure(Some(403), rate), Next::Wait(2000));
        for _ in 0..MAX_FAILURES {
            if let Next::Stop(why) = p.on_failure(None, b"") {
                assert!(why.contains("failed requests"));
                return;
            }
        }
        panic!("never gave up");
    }
}
