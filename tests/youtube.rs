//! `livesell poll-youtube` against a stand-in Data API on loopback: pages followed by their tokens, the API's pollingIntervalMillis waited out, a failure retried, repeats dropped, the end of the chat obeyed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn message(id: &str, kind: &str, text: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "youtube#liveChatMessage",
        "id": id,
        "snippet": {
            "type": kind,
            "liveChatId": "KicKGFVDUVlSRENKUGxtaUpmUUhCZnhRdTFYZxILNFhQbkpqR2VHaFU",
            "authorChannelId": "UC_ana",
            "publishedAt": format!("2026-11-21T20:15:0{}.123456+00:00", id.len()),
            "hasDisplayContent": true,
            "displayMessage": text
        },
        "authorDetails": {"channelId": "UC_ana", "displayName": "Ana"}
    })
}

/// What the stand-in answers for each request, in order: status and body.
fn script() -> Vec<(u16, serde_json::Value)> {
    vec![
        (
            200,
            serde_json::json!({
                "kind": "youtube#liveChatMessageListResponse",
                "pollingIntervalMillis": 400,
                "nextPageToken": "P2",
                "items": [
                    message("m1", "textMessageEvent", "sold A12 red M"),
                    message("m2", "superChatEvent", "")
                ]
            }),
        ),
        (
            503,
            serde_json::json!({"error": {"code": 503, "errors": [{"reason": "backendError"}]}}),
        ),
        (
            200,
            serde_json::json!({
                "pollingIntervalMillis": 300,
                "nextPageToken": "P3",
                "items": [
                    message("m1", "textMessageEvent", "sold A12 red M"),
                    message("m3x", "textMessageEvent", "mine B7 x2")
                ]
            }),
        ),
        (
            200,
            serde_json::json!({
                "pollingIntervalMillis": 300,
                "nextPageToken": "P4",
                "offlineAt": "2026-11-21T21:00:00Z",
                "items": [message("m4xx", "textMessageEvent", "thanks!")]
            }),
        ),
    ]
}

#[test]
fn polls_a_live_chat_as_the_api_paces_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for (status, body) in script() {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            log.lock().unwrap().push((Instant::now(), request_line));
            let body = body.to_string();
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });

    let out = Command::new(env!("CARGO_BIN_EXE_livesell"))
        .args(["poll-youtube", "--live-chat-id"])
        .arg("KicKGFVDUVlSRENKUGxtaUpmUUhCZnhRdTFYZxILNFhQbkpqR2VHaFU")
        .arg("--api")
        .arg(format!("http://{addr}/youtube/v3"))
        .arg("--shows")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/shows.toml"))
        .env("LIVESELL_YOUTUBE_API_KEY", "test-key")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("went offline"), "{stderr}");

    // Each message once, in order, canonical, with the platform's microseconds kept.
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The chat's offlineAt ends the show: a director `end` after the last comments.
    let (ends, lines): (Vec<_>, Vec<_>) = lines.into_iter().partition(|l| l["type"] == "director");
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert_eq!(ends[0]["action"], "end");
    assert_eq!(ends[0]["session_id"], "show-0001");
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["comment_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m1", "m3x", "m4xx"]);
    assert_eq!(lines[0]["session_id"], "show-0001");
    assert_eq!(lines[0]["ts"], "2026-11-21T20:15:02.123456+00:00");
    assert_eq!(lines[1]["text"], "mine B7 x2");
    for l in &lines {
        let line = serde_json::to_string(l).unwrap();
        livesell::domain::event::parse::parse_line(line.as_bytes()).expect("a canonical event");
    }

    // The requests: the key and the page tokens, and the waits the API asked for (at least).
    let seen = seen.lock().unwrap();
    let paths: Vec<&str> = seen.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(paths[0].starts_with("GET /youtube/v3/liveChat/messages?liveChatId=KicK"));
    assert!(
        paths.iter().all(|p| p.contains("&key=test-key")),
        "{paths:?}"
    );
    assert!(!paths[0].contains("pageToken"), "{paths:?}");
    assert!(paths[1].contains("pageToken=P2") && paths[2].contains("pageToken=P2"));
    assert!(paths[3].contains("pageToken=P3"), "{paths:?}");
    let gap = |i: usize| seen[i].0 - seen[i - 1].0;
    assert!(gap(1) >= Duration::from_millis(400), "{:?}", gap(1));
    assert!(
        gap(2) >= Duration::from_millis(1000),
        "the backoff: {:?}",
        gap(2)
    );
    assert!(gap(3) >= Duration::from_millis(300), "{:?}", gap(3));
}

#[test]
fn refuses_to_start_without_credentials() {
    let out = Command::new(env!("CARGO_BIN_EXE_livesell"))
        .args(["poll-youtube", "--live-chat-id", "X", "--session", "s"])
        .env_remove("LIVESELL_YOUTUBE_API_KEY")
        .env_remove("LIVESELL_YOUTUBE_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no credentials"));
}
