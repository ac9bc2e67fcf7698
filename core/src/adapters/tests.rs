//! Each format's fixtures (written from the platform's public documentation) to the canonical events expected, precision included.

use super::*;
use crate::domain::event::Body;
use crate::domain::event::parse::parse_line;
use crate::domain::time::parse_rfc3339;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/adapters/");

fn shows() -> Shows {
    Shows {
        sessions: [
            ("facebook:1067280970047460_2207432439282463", "fb-live"),
            ("instagram:17887498072083520", "ig-live"),
            (
                "youtube:KicKGFVDUVlSRENKUGxtaUpmUUhCZnhRdTFYZxILNFhQbkpqR2VHaFU",
                "yt-live",
            ),
            ("twitch:1971641", "tw-live"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        default: Some("default-show".into()),
    }
}

fn run(format: &str, file: &str, header_ts: Option<&str>) -> (Vec<String>, Converted) {
    let bytes = std::fs::read(format!("{FIXTURES}{file}")).unwrap();
    let got = convert(Format::parse(format).unwrap(), &bytes, &shows(), header_ts).unwrap();
    let lines = got
        .comments
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    (lines, got)
}

/// The canonical line parses as the pipeline would read it, at `micros`.
fn reads_at(line: &str, micros: i64) {
    let ev = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e:?}"));
    assert_eq!(ev.ts, micros, "{line}");
    assert!(matches!(ev.body, Body::Comment { .. }));
}

#[test]
fn facebook_graph_pages_and_the_live_comments_stream() {
    let (lines, got) = run("facebook-graph", "facebook-graph.json", None);
    assert_eq!(
        lines,
        [
            r#"{"type":"comment","session_id":"default-show","ts":"2018-08-30T18:47:02+0000","platform":"facebook","comment_id":"2207432439282463_2207433019282405","user_id":"1837453529654281","user_name":"Jane Doe","text":"SOLD A12 red"}"#,
            r#"{"type":"comment","session_id":"default-show","ts":"2018-08-30T18:47:05+0000","platform":"facebook","comment_id":"2207432439282463_2207433109282396","user_id":"10215812370234112","user_name":"Max Mustermann","text":"how much is shipping?"}"#,
        ]
    );
    assert_eq!(got.skipped, 1, "the sticker");
    reads_at(&lines[0], parse_rfc3339("2018-08-30T18:47:02Z").unwrap());
    let (lines, _) = run("facebook-graph", "facebook-graph.sse", None);
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains(r#""text":"cancel A12""#), "{}", lines[1]);
    reads_at(&lines[0], parse_rfc3339("2018-08-30T18:48:01Z").unwrap());
}

#[test]
fn facebook_page_feed_webhook_seconds_become_milliseconds() {
    let (lines, got) = run("facebook-webhook", "facebook-webhook.json", None);
    assert_eq!(
        lines,
        [
            r#"{"type":"comment","session_id":"fb-live","ts":1535654822000,"platform":"facebook","comment_id":"2207432439282463_2207433019282405","user_id":"1837453529654281","user_name":"Jane Doe","text":"sold A12 blue"}"#
        ]
    );
    assert_eq!(got.skipped, 1, "the reaction");
    reads_at(&lines[0], 1_535_654_822_000_000);
}

#[test]
fn instagram_live_comments_take_the_entry_time() {
    let (lines, _) = run("instagram-webhook", "instagram-webhook.json", None);
    assert_eq!(
        lines,
        [
            r#"{"type":"comment","session_id":"ig-live","ts":1571337313000,"platform":"instagram","comment_id":"17865799348089039","user_id":"1237312293","user_name":"test_user","text":"sold A12 red M"}"#
        ]
    );
    reads_at(&lines[0], 1_571_337_313_000_000);
}

#[test]
fn youtube_keeps_microseconds_and_only_text_messages() {
    let (lines, got) = run("youtube-livechat", "youtube-livechat.json", None);
    assert_eq!(lines.len(), 1);
    assert_eq!(got.skipped, 1, "the super chat");
    assert_eq!(got.poll_after_ms, Some(2137));
    assert_eq!(
        got.next_page_token.as_deref(),
        Some("GOW1m7DwjYkDINOmtt3wjYkD")
    );
    assert_eq!(got.offline_at, None);
    assert!(lines[0].contains(r#""session_id":"yt-live""#));
    assert!(lines[0].contains(
        r#""user_id":"UCYkRWfbMgPBT1BsAr95bQIQ","user_name":"Kim Lee","text":"SOLD A12 red M""#
    ));
    reads_at(
        &lines[0],
        parse_rfc3339("2026-11-21T20:15:03Z").unwrap() + 123_456,
    );
}

#[test]
fn tiktok_connector_chat_events_in_epoch_milliseconds() {
    let (lines, got) = run("tiktok-live-connector", "tiktok-live-connector.json", None);
    assert_eq!(
        lines,
        [
            r#"{"type":"comment","session_id":"default-show","ts":1700000000123,"platform":"tiktok","comment_id":"7302140123868794630","user_id":"6813181309701243910","user_name":"Shopper 01","text":"sold A12 红色"}"#
        ]
    );
    assert_eq!(got.skipped, 1, "the gift");
    reads_at(&lines[0], 1_700_000_000_123_000);
}

#[test]
fn twitch_eventsub_from_the_header_or_the_websocket_metadata() {
    let ts = "2023-11-06T18:11:47.492253549Z";
    let (lines, _) = run("twitch-eventsub", "twitch-eventsub.json", Some(ts));
    assert_eq!(
        lines,
        [
            r#"{"type":"comment","session_id":"tw-live","ts":"2023-11-06T18:11:47.492253549Z","platform":"twitch","comment_id":"cc106a89-1814-919d-454c-f4f2f970aae7","user_id":"4145994","user_name":"viewer32","text":"sold A12 x2"}"#
        ]
    );
    // Nanoseconds are truncated to microseconds (SPEC 1).
    reads_at(
        &lines[0],
        parse_rfc3339("2023-11-06T18:11:47Z").unwrap() + 492_253,
    );
    let body: Value =
        serde_json::from_slice(&std::fs::read(format!("{FIXTURES}twitch-eventsub.json")).unwrap())
            .unwrap();
    let ws = serde_json::json!({
        "metadata": {"message_id": "befa7b53-d79d-478f-86b9-120f112b044e", "message_type": "notification",
                     "message_timestamp": ts, "subscription_type": "channel.chat.message", "subscription_version": "1"},
        "payload": body,
    });
    let got = convert(
        Format::TwitchEventsub,
        ws.to_string().as_bytes(),
        &shows(),
        None,
    )
    .unwrap();
    assert_eq!(serde_json::to_string(&got.comments[0]).unwrap(), lines[0]);
    let no_time = convert(
        Format::TwitchEventsub,
        body.to_string().as_bytes(),
        &shows(),
        None,
    );
    assert!(matches!(no_time, Err(AdapterError::Shape(_))));
}

#[test]
fn bad_payloads_are_errors_with_a_reason_never_panics() {
    let s = Shows::default();
    for (name, format) in Format::ALL {
        for bad in [
            &b"{"[..],
            b"[]",
            b"42",
            b"null",
            b"{\"entry\":7}",
            b"\xff\xfe",
        ] {
            if let Err(e) = convert(format, bad, &s, None) {
                assert!(!e.reason().is_empty(), "{name}");
            }
        }
    }
    let unmapped = convert(
        Format::InstagramWebhook,
        &std::fs::read(format!("{FIXTURES}instagram-webhook.json")).unwrap(),
        &Shows::default(),
        None,
    );
    assert_eq!(unmapped.unwrap_err().reason(), "unmapped_show");
}

#[test]
fn a_comment_the_pipeline_would_refuse_is_refused_here() {
    // Found by fuzzing: a mangled timestamp used to pass through to the pipeline's dead letters.
    let yt = std::fs::read_to_string(format!("{FIXTURES}youtube-livechat.json")).unwrap();
    let bad = yt.replacen(
        "2026-11-21T20:15:03.123456Z",
        "2026-11-r1T20:15:03.123456Z",
        1,
    );
    let e = convert(Format::YoutubeLivechat, bad.as_bytes(), &shows(), None).unwrap_err();
    assert_eq!(e.reason(), "invalid_timestamp", "{e}");
    assert!(e.to_string().starts_with("comment LCC."), "{e}");
}

#[test]
fn a_stream_that_goes_offline_ends_its_show() {
    // Twitch's `stream.offline` EventSub: the show of the broadcaster ends at the message time.
    let (comments, got) = run(
        "twitch-eventsub",
        "twitch-stream-offline.json",
        Some("2026-11-21T21:00:00.123456789Z"),
    );
    assert!(comments.is_empty());
    let ends: Vec<String> = got
        .ends
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(
        ends,
        [
            r#"{"type":"director","session_id":"tw-live","ts":"2026-11-21T21:00:00.123456789Z","action":"end"}"#
        ]
    );
    let ev = parse_line(ends[0].as_bytes()).unwrap();
    assert!(matches!(
        ev.body,
        Body::Director(crate::domain::event::Director::End)
    ));
    // TikTok-Live-Connector's `streamEnd` (as the forwarder passes it), after a last comment.
    let (comments, got) = run("tiktok-live-connector", "tiktok-stream-end.json", None);
    assert_eq!(comments.len(), 1);
    let end = serde_json::to_string(&got.ends[0]).unwrap();
    assert_eq!(
        end,
        r#"{"type":"director","session_id":"default-show","ts":1700000601000,"action":"end"}"#
    );
    // An end without its time is refused, not passed on undated.
    let undated = br#"{"event":"streamEnd","broadcaster":"x"}"#;
    let e = convert(Format::TiktokLiveConnector, undated, &shows(), None).unwrap_err();
    assert_eq!(e.reason(), "invalid_payload");
}
