//! Platform adapters: native comment payloads (Facebook, Instagram, YouTube, TikTok, Twitch) to canonical `comment` events (SPEC section 1).
//!
//! Format only: bytes of one payload in, canonical events out, no transport. Which show a
//! payload belongs to comes from a `Shows` mapping of the platform's own ids (live video, media,
//! live chat, broadcaster) to `session_id`.

pub mod signature;
pub mod youtube_poll;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    FacebookGraph,
    FacebookWebhook,
    InstagramWebhook,
    YoutubeLivechat,
    TiktokLiveConnector,
    TwitchEventsub,
}

impl Format {
    pub const ALL: [(&'static str, Format); 6] = [
        ("facebook-graph", Format::FacebookGraph),
        ("facebook-webhook", Format::FacebookWebhook),
        ("instagram-webhook", Format::InstagramWebhook),
        ("youtube-livechat", Format::YoutubeLivechat),
        ("tiktok-live-connector", Format::TiktokLiveConnector),
        ("twitch-eventsub", Format::TwitchEventsub),
    ];

    pub fn parse(name: &str) -> Option<Format> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    pub fn platform(self) -> &'static str {
        match self {
            Format::FacebookGraph | Format::FacebookWebhook => "facebook",
            Format::InstagramWebhook => "instagram",
            Format::YoutubeLivechat => "youtube",
            Format::TiktokLiveConnector => "tiktok",
            Format::TwitchEventsub => "twitch",
        }
    }
}

/// Which show a payload belongs to: `"platform:id"` (a Facebook live video or post, an
/// Instagram media, a YouTube liveChatId, a TikTok broadcaster's uniqueId, a Twitch broadcaster
/// id) to `session_id`, and the show for payloads that name none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shows {
    #[serde(default)]
    pub sessions: BTreeMap<String, String>,
    /// The show of payloads whose ids are not mapped (or that carry none, like a Graph API
    /// comments page fetched for one live video).
    #[serde(default)]
    pub default: Option<String>,
}

impl Shows {
    pub(crate) fn session(
        &self,
        platform: &str,
        ids: &[Option<&str>],
    ) -> Result<String, AdapterError> {
        for id in ids.iter().flatten() {
            if let Some(s) = self.sessions.get(&format!("{platform}:{id}")) {
                return Ok(s.clone());
            }
        }
        self.default
            .clone()
            .ok_or_else(|| AdapterError::UnmappedShow {
                platform: platform.to_string(),
                ids: ids.iter().flatten().map(|s| s.to_string()).collect(),
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    #[error("not JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    Shape(String),
    #[error("no show is mapped for {platform} ids {ids:?} and there is no default show")]
    UnmappedShow { platform: String, ids: Vec<String> },
    /// The payload's comment would not be a valid canonical event (a timestamp that is not
    /// RFC 3339, say): refused here rather than dead-lettered later, far from its source.
    #[error("comment {comment_id}: {detail}")]
    Event {
        reason: &'static str,
        comment_id: String,
        detail: String,
    },
}

impl AdapterError {
    /// The dead-letter reason.
    pub fn reason(&self) -> &'static str {
        match self {
            AdapterError::MalformedJson(_) => "malformed_json",
            AdapterError::Shape(_) => "invalid_payload",
            AdapterError::UnmappedShow { .. } => "unmapped_show",
            AdapterError::Event { reason, .. } => reason,
        }
    }
}

/// A canonical `comment` event, fields in SPEC order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub session_id: String,
    /// As the platform stamped it: an RFC 3339 string, or epoch milliseconds.
    pub ts: Ts,
    pub platform: &'static str,
    pub comment_id: String,
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    pub text: String,
}

/// A canonical director `end` (SPEC 3.5): the platform reported that the live stream ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct End {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub session_id: String,
    pub ts: Ts,
    pub action: &'static str,
}

impl End {
    pub fn new(session_id: String, ts: Ts) -> End {
        End {
            kind: "director",
            session_id,
            ts,
            action: "end",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Ts {
    Text(String),
    Millis(i64),
}

/// What a payload held: its comments, and how many items it skipped on purpose (other kinds of
/// chat events, edits, replies of the page itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Converted {
    pub comments: Vec<Comment>,
    /// The live streams the payload said ended (Twitch `stream.offline`, TikTok-Live-Connector's
    /// `streamEnd`; YouTube's `offlineAt` is the poller's, which knows the chat it polls).
    pub ends: Vec<End>,
    pub skipped: usize,
    /// YouTube: how long the poller should wait before the next page.
    pub poll_after_ms: Option<u64>,
    /// YouTube: the token of the next page, and when the chat went offline (its last page).
    pub next_page_token: Option<String>,
    pub offline_at: Option<String>,
}

fn shape(what: impl Into<String>) -> AdapterError {
    AdapterError::Shape(what.into())
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for k in path {
        at = at.get(k)?;
    }
    at.as_str()
}

/// An id as a string (platforms send ids as strings, some as numbers).
fn id(v: &Value, path: &[&str]) -> Option<String> {
    let mut at = v;
    for k in path {
        at = at.get(k)?;
    }
    match at {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn need(v: Option<String>, what: &str) -> Result<String, AdapterError> {
    v.ok_or_else(|| shape(format!("{what} is missing")))
}

/// Seconds since the epoch (integer) as milliseconds.
fn seconds(v: &Value, what: &str) -> Result<Ts, AdapterError> {
    v.as_i64()
        .filter(|s| (0..=253_402_300_799).contains(s))
        .map(|s| Ts::Millis(s * 1000))
        .ok_or_else(|| shape(format!("{what} is not a number of seconds")))
}

/// Converts one payload (one JSON document; for `facebook-graph` also Server-Sent Events text
/// of the `live_comments` stream). `header_ts` is a transport's timestamp (Twitch's
/// `Twitch-Eventsub-Message-Timestamp` header) for payloads that carry none.
pub fn convert(
    format: Format,
    payload: &[u8],
    shows: &Shows,
    header_ts: Option<&str>,
) -> Result<Converted, AdapterError> {
    if format == Format::FacebookGraph && looks_like_sse(payload) {
        let mut all = Converted::default();
        for data in sse_data(payload) {
            let one = convert(format, data.as_bytes(), shows, None)?;
            all.comments.extend(one.comments);
            all.skipped += one.skipped;
        }
        return Ok(all);
    }
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| AdapterError::MalformedJson(e.to_string()))?;
    let out = match format {
        Format::FacebookGraph => facebook_graph(&v, shows),
        Format::FacebookWebhook => facebook_webhook(&v, shows),
        Format::InstagramWebhook => instagram_webhook(&v, shows),
        Format::YoutubeLivechat => youtube(&v, shows),
        Format::TiktokLiveConnector => tiktok(&v, shows),
        Format::TwitchEventsub => twitch(&v, shows, header_ts),
    }?;
    for c in &out.comments {
        check(c)?;
    }
    for e in &out.ends {
        check_end(e)?;
    }
    Ok(out)
}

/// An end is passed on only if the pipeline's reader accepts it (its time above all).
pub fn check_end(e: &End) -> Result<(), AdapterError> {
    let line = serde_json::to_vec(e).map_err(|e| shape(e.to_string()))?;
    crate::domain::event::parse::parse_line(&line)
        .map(|_| ())
        .map_err(|err| AdapterError::Event {
            reason: err.reason,
            comment_id: "(end)".to_string(),
            detail: err.to_string(),
        })
}

/// A comment is passed on only if the pipeline's own reader accepts it (found by fuzzing:
/// platforms' timestamps were passed on unchecked).
fn check(c: &Comment) -> Result<(), AdapterError> {
    let line = serde_json::to_vec(c).map_err(|e| shape(e.to_string()))?;
    crate::domain::event::parse::parse_line(&line)
        .map(|_| ())
        .map_err(|e| AdapterError::Event {
            reason: e.reason,
            comment_id: c.comment_id.clone(),
            detail: e.to_string(),
        })
}

fn looks_like_sse(payload: &[u8]) -> bool {
    let start = payload.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|i| payload[i..].starts_with(b"data:") || payload[i..].starts_with(b"event:"))
}

/// The `data:` fields of Server-Sent Events text, one string per event.
fn sse_data(payload: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(payload);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.is_empty() {
            out.extend(current.take());
        } else if let Some(d) = line.strip_prefix("data:") {
            let d = d.strip_prefix(' ').unwrap_or(d);
            match &mut current {
                Some(c) => {
                    c.push('\n');
                    c.push_str(d);
                }
                None => current = Some(d.to_string()),
            }
        }
    }
    out.extend(current);
    out
}

/// Graph API `/{live-video-id}/comments` pages (`data[]`) or one `live_comments` stream object:
/// `{id, message, from{id,name}, created_time: "2018-08-30T18:47:02+0000"}`. The payload names no
/// video, so the show is the default one (or `facebook:VIDEO` via a `video_id` field the poller adds).
fn facebook_graph(v: &Value, shows: &Shows) -> Result<Converted, AdapterError> {
    let items: Vec<&Value> = match v.get("data") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(_) => return Err(shape("data is not a list")),
        None if v.get("id").is_some() => vec![v],
        None => {
            return Err(shape(
                "neither a comments page (data[]) nor a comment object",
            ));
        }
    };
    let video = text(v, &["video_id"]);
    let mut out = Converted::default();
    for c in items {
        let Some(message) = text(c, &["message"]) else {
            out.skipped += 1; // a sticker or photo comment
            continue;
        };
        let created = need(
            text(c, &["created_time"]).map(str::to_string),
            "created_time",
        )?;
        out.comments.push(Comment {
            kind: "comment",
            session_id: shows.session("facebook", &[video])?,
            ts: Ts::Text(created),
            platform: "facebook",
            comment_id: need(id(c, &["id"]), "id")?,
            user_id: need(id(c, &["from", "id"]), "from.id")?,
            user_name: text(c, &["from", "name"]).map(str::to_string),
            text: message.to_string(),
        });
    }
    Ok(out)
}

/// Page `feed` webhooks: `entry[].changes[]` with `field: "feed"` and `value{item: "comment",
/// verb: "add", comment_id, post_id, message, from{id,name}, created_time: <unix seconds>}`.
fn facebook_webhook(v: &Value, shows: &Shows) -> Result<Converted, AdapterError> {
    let mut out = Converted::default();
    for (entry, change) in changes(v)? {
        let value = &change["value"];
        let is_comment = change["field"] == "feed"
            && value["item"] == "comment"
            && value["verb"] == "add"
            && value.get("message").is_some();
        if !is_comment {
            out.skipped += 1;
            continue;
        }
        let post = text(value, &["post_id"]);
        let page = id(entry, &["id"]);
        // A post id is `PAGE_POST`; a live video may be mapped by its post id or by the page.
        out.comments.push(Comment {
            kind: "comment",
            session_id: shows.session("facebook", &[post, page.as_deref()])?,
            ts: seconds(&value["created_time"], "value.created_time")?,
            platform: "facebook",
            comment_id: need(id(value, &["comment_id"]), "value.comment_id")?,
            user_id: need(id(value, &["from", "id"]), "value.from.id")?,
            user_name: text(value, &["from", "name"]).map(str::to_string),
            text: text(value, &["message"]).unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

/// `entry[].changes[]` pairs of a Meta webhook body.
fn changes(v: &Value) -> Result<Vec<(&Value, &Value)>, AdapterError> {
    let entries = v
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("entry (a list) is missing"))?;
    let mut out = Vec::new();
    for e in entries {
        let changes = e
            .get("changes")
            .and_then(Value::as_array)
            .ok_or_else(|| shape("entry[].changes (a list) is missing"))?;
        out.extend(changes.iter().map(|c| (e, c)));
    }
    Ok(out)
}

/// Instagram `live_comments` webhooks: `entry[].time` (seconds) is the only time;
/// `value{id, text, from{id, username}, media{id}}`.
fn instagram_webhook(v: &Value, shows: &Shows) -> Result<Converted, AdapterError> {
    let mut out = Converted::default();
    for (entry, change) in changes(v)? {
        if change["field"] != "live_comments" {
            out.skipped += 1;
            continue;
        }
        let value = &change["value"];
        let media = text(value, &["media", "id"]);
        out.comments.push(Comment {
            kind: "comment",
            session_id: shows.session("instagram", &[media])?,
            ts: seconds(&entry["time"], "entry.time")?,
            platform: "instagram",
            comment_id: need(id(value, &["id"]), "value.id")?,
            user_id: need(id(value, &["from", "id"]), "value.from.id")?,
            user_name: text(value, &["from", "username"]).map(str::to_string),
            text: need(text(value, &["text"]).map(str::to_string), "value.text")?,
        });
    }
    Ok(out)
}

/// `liveChatMessages.list` responses: `items[]` whose `snippet.type` is `textMessageEvent`;
/// `snippet.publishedAt` keeps its microseconds; `pollingIntervalMillis` is passed on.
fn youtube(v: &Value, shows: &Shows) -> Result<Converted, AdapterError> {
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("items (a list) is missing"))?;
    let mut out = Converted {
        poll_after_ms: v.get("pollingIntervalMillis").and_then(Value::as_u64),
        next_page_token: text(v, &["nextPageToken"]).map(str::to_string),
        offline_at: text(v, &["offlineAt"]).map(str::to_string),
        ..Default::default()
    };
    for item in items {
        if text(item, &["snippet", "type"]) != Some("textMessageEvent") {
            out.skipped += 1; // super chats, memberships, deletions, bans…
            continue;
        }
        let message = text(item, &["snippet", "displayMessage"])
            .or_else(|| text(item, &["snippet", "textMessageDetails", "messageText"]));
        out.comments.push(Comment {
            kind: "comment",
            session_id: shows.session("youtube", &[text(item, &["snippet", "liveChatId"])])?,
            ts: Ts::Text(need(
                text(item, &["snippet", "publishedAt"]).map(str::to_string),
                "snippet.publishedAt",
            )?),
            platform: "youtube",
            comment_id: need(id(item, &["id"]), "id")?,
            user_id: need(
                id(item, &["authorDetails", "channelId"])
                    .or_else(|| id(item, &["snippet", "authorChannelId"])),
                "authorDetails.channelId",
            )?,
            user_name: text(item, &["authorDetails", "displayName"]).map(str::to_string),
            text: need(message.map(str::to_string), "snippet.displayMessage")?,
        });
    }
    Ok(out)
}

/// TikTok-Live-Connector `chat` events (one object, or a list): `comment`, `userId`,
/// `uniqueId`, `nickname`, `msgId`, `createTime` (epoch milliseconds as a string). The
/// connector runs per broadcaster, who is named by `roomOwner`/`broadcaster` when the
/// forwarder adds it; otherwise the default show.
fn tiktok(v: &Value, shows: &Shows) -> Result<Converted, AdapterError> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        o => vec![o],
    };
    let mut out = Converted::default();
    for c in items {
        let millis = |c: &Value| {
            match c.get("createTime") {
                Some(Value::String(s)) => s.parse::<i64>().ok(),
                Some(Value::Number(n)) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| shape("createTime (epoch milliseconds) is missing"))
        };
        let owner = text(c, &["broadcaster"]).or_else(|| text(c, &["roomOwner"]));
        // The connector's `streamEnd` event (the host ended the live), as the forwarder names it.
        if text(c, &["event"]) == Some("streamEnd") {
            let session = shows.session("tiktok", &[owner])?;
            out.ends.push(End::new(session, Ts::Millis(millis(c)?)));
            continue;
        }
        let Some(comment) = text(c, &["comment"]) else {
            out.skipped += 1; // gifts, likes, joins
            continue;
        };
        let ms = millis(c)?;
        out.comments.push(Comment {
            kind: "comment",
            session_id: shows.session("tiktok", &[owner])?,
            ts: Ts::Millis(ms),
            platform: "tiktok",
            comment_id: need(id(c, &["msgId"]), "msgId")?,
            user_id: need(id(c, &["userId"]), "userId")?,
            user_name: text(c, &["nickname"])
                .or_else(|| text(c, &["uniqueId"]))
                .map(str::to_string),
            text: comment.to_string(),
        });
    }
    Ok(out)
}

/// EventSub `channel.chat.message`: a webhook body `{subscription, event}` (the time comes from
/// the `Twitch-Eventsub-Message-Timestamp` header) or a WebSocket message `{metadata, payload}`
/// (`metadata.message_timestamp`). RFC 3339 with nanoseconds; the SPEC keeps microseconds.
fn twitch(v: &Value, shows: &Shows, header_ts: Option<&str>) -> Result<Converted, AdapterError> {
    let (body, ts) = match v.get("payload") {
        Some(p) => (p, text(v, &["metadata", "message_timestamp"])),
        None => (v, header_ts),
    };
    let mut out = Converted::default();
    let kind = text(body, &["subscription", "type"]);
    if kind == Some("stream.offline") {
        // The broadcaster's stream went offline: the show ends at the message's time.
        let e = body.get("event").ok_or_else(|| shape("event is missing"))?;
        let ts = ts.ok_or_else(|| shape("no message timestamp (metadata or header)"))?;
        let session = shows.session("twitch", &[text(e, &["broadcaster_user_id"])])?;
        out.ends.push(End::new(session, Ts::Text(ts.to_string())));
        return Ok(out);
    }
    if kind != Some("channel.chat.message") {
        out.skipped += 1;
        return Ok(out);
    }
    let e = body.get("event").ok_or_else(|| shape("event is missing"))?;
    let ts = ts.ok_or_else(|| shape("no message timestamp (metadata or header)"))?;
    out.comments.push(Comment {
        kind: "comment",
        session_id: shows.session("twitch", &[text(e, &["broadcaster_user_id"])])?,
        ts: Ts::Text(ts.to_string()),
        platform: "twitch",
        comment_id: need(id(e, &["message_id"]), "event.message_id")?,
        user_id: need(id(e, &["chatter_user_id"]), "event.chatter_user_id")?,
        user_name: text(e, &["chatter_user_name"])
            .or_else(|| text(e, &["chatter_user_login"]))
            .map(str::to_string),
        text: need(
            text(e, &["message", "text"]).map(str::to_string),
            "event.message.text",
        )?,
    });
    Ok(out)
}

#[cfg(test)]
mod tests;

/// Splits an input of payloads: Server-Sent Events text is one payload; otherwise every JSON
/// document in turn (one document, JSON lines, or documents back to back). A document that is
/// not JSON ends the input with an error at its byte offset.
pub fn payloads(input: &[u8]) -> Vec<Result<Vec<u8>, (usize, AdapterError)>> {
    if looks_like_sse(input) {
        return vec![Ok(input.to_vec())];
    }
    let mut out = Vec::new();
    let mut docs = serde_json::Deserializer::from_slice(input).into_iter::<Value>();
    loop {
        let at = docs.byte_offset();
        match docs.next() {
            None => break,
            Some(Ok(doc)) => out.push(Ok(doc.to_string().into_bytes())),
            Some(Err(e)) => {
                out.push(Err((at, AdapterError::MalformedJson(e.to_string()))));
                break;
            }
        }
    }
    out
}

impl Shows {
    /// Reads a shows file (TOML): `default = "show"` and a `[sessions]` table of
    /// `"platform:id" = "session_id"`.
    pub fn from_toml(text: &str) -> Result<Shows, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
