//! `livesell serve` end to end: roles and validation on every mutating endpoint, the pipeline following director and moderator actions, the ticker stream, and the dashboard in headless Chromium.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

mod common;
use common::{http, metric, wait_for};

const DIRECTOR: &str = "director-token-0123456789";
const MODERATOR: &str = "moderator-token-0123456789";
const VIEWER: &str = "viewer-token-0123456789";

/// A show that runs `secs` seconds from now-ish in event time: two products, claims every
/// 400 ms (explicit, bare, ambiguous, chatter), a paid order every 1.5 s, one unreadable line.
fn show(path: &Path, secs: i64) {
    let t0: i64 = 1_795_000_000_000; // epoch ms
    let mut lines = vec![
        json!({"type":"director","session_id":"show-1","ts":t0,"action":"product","code":"A1",
               "title":"Red bag","price_cents":2500,"currency":"EUR",
               "variants":[{"sku":"A1-RED","options":{"color":"red"},"stock":40},
                           {"sku":"A1-BLUE","options":{"color":"blue"},"stock":30}]}),
        json!({"type":"director","session_id":"show-1","ts":t0,"action":"product","code":"A2",
               "title":"Scarf","price_cents":1500,"variants":[{"sku":"A2","stock":500}]}),
    ];
    let texts = [
        "sold red",
        "want A2",
        "love this!",
        "sold A1",
        "sold A1 blue x2",
    ];
    let mut i = 0;
    let mut t = 500;
    while t < secs * 1000 {
        lines.push(json!({"type":"comment","session_id":"show-1","ts":t0 + t,"platform":"tiktok",
                          "comment_id":format!("c{i}"),"user_id":format!("u{i}"),"text":texts[i % texts.len()]}));
        if t % 1500 < 400 {
            lines.push(
                json!({"type":"order","session_id":"show-1","ts":t0 + t,"order_id":format!("o{i}"),
                              "platform":"web","user_id":format!("b{i}"),"sku":"A2","qty":1,
                              "amount_cents":1500,"status":"paid"}),
            );
        }
        if i == 2 {
            lines.push(json!("not an event"));
        }
        i += 1;
        t += 400;
    }
    let text: String = lines
        .iter()
        .map(|l| match l {
            Value::String(s) => format!("{s}\n"),
            v => format!("{v}\n"),
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

/// A show for the moderator: nothing on screen, and in its first seconds escalations of six
/// reasons (`fuzzy_code` ×3, `ambiguous_variant` ×2, `fuzzy_keyword` ×2, `multiple_products`,
/// `no_product`, then with B22 on screen `unclear_claim`), then `secs` seconds of chatter and
/// paid orders that keep the show clock going.
fn moderation_show(path: &Path, secs: i64) {
    let t0: i64 = 1_795_000_000_000;
    let mut lines = vec![
        json!({"type":"director","session_id":"show-1","ts":t0,"action":"product","code":"A1",
               "title":"Red bag","price_cents":2500,"currency":"EUR",
               "variants":[{"sku":"A1-RED","options":{"color":"red"},"stock":40},
                           {"sku":"A1-BLUE","options":{"color":"blue"},"stock":30}]}),
        // Its one sku is not its code: a fuzzy code's candidate resolves through the run sheet.
        json!({"type":"director","session_id":"show-1","ts":t0,"action":"product","code":"B22",
               "title":"Cap","price_cents":900,"variants":[{"sku":"B22-ONE","stock":50}]}),
    ];
    let texts = [
        "sold B23",      // fuzzy_code: candidates [B22]
        "sold A1",       // ambiguous_variant: candidates [A1-RED, A1-BLUE]
        "sould A1 blue", // fuzzy_keyword: candidates [A1] (the codes present)
        "sold B23 pls",
        "sold A1 B22", // multiple_products: candidates [A1, B22]
        "sold",        // no_product
        "sould A1 blue",
        "sold A1",
        "sold B23",
    ];
    for (i, text) in texts.iter().enumerate() {
        let t = 300 + 200 * i as i64;
        lines.push(
            json!({"type":"comment","session_id":"show-1","ts":t0 + t,"platform":"tiktok",
                          "comment_id":format!("m{i}"),"user_id":format!("u{i}"),"text":text}),
        );
    }
    // The cap goes on screen; "I want everything" is a claim in doubt about it (SPEC 3.1.3a).
    lines.push(json!({"type":"director","session_id":"show-1","ts":t0 + 2100,"action":"activate","code":"B22"}));
    lines.push(
        json!({"type":"comment","session_id":"show-1","ts":t0 + 2300,"platform":"tiktok",
                      "comment_id":"m9","user_id":"u9","text":"omg I want everything"}),
    );
    let mut t = 2500;
    let mut i = 0;
    while t < secs * 1000 {
        lines.push(json!({"type":"comment","session_id":"show-1","ts":t0 + t,"platform":"tiktok",
                          "comment_id":format!("c{i}"),"user_id":format!("v{i}"),"text":"love this!"}));
        if i % 3 == 0 {
            lines.push(
                json!({"type":"order","session_id":"show-1","ts":t0 + t,"order_id":format!("o{i}"),
                       "platform":"web","user_id":format!("b{i}"),"sku":"A1-RED","qty":1,
                       "amount_cents":2500,"status":"paid"}),
            );
        }
        i += 1;
        t += 400;
    }
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

struct Server {
    served: common::Served,
    addr: String,
    _dir: tempfile::TempDir,
}

fn start(secs: i64, extra: &[&str]) -> Server {
    start_show(show, secs, extra)
}

fn start_show(write: fn(&Path, i64), secs: i64, extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("show.jsonl");
    write(&input, secs);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livesell"));
    cmd.args(["serve", "--input"])
        .arg(&input)
        .args([
            "--replay-speed",
            "1",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "2",
        ])
        .args(["--allowed-lateness-ms", "100", "--idle-ms", "100", "--out"])
        .arg(dir.path().join("out"))
        .args(extra)
        .env("LIVESELL_DIRECTOR_TOKENS", DIRECTOR)
        .env("LIVESELL_MODERATOR_TOKENS", MODERATOR)
        .env("LIVESELL_VIEWER_TOKENS", VIEWER);
    let served = common::serve(cmd);
    Server {
        addr: served.addr.clone(),
        served,
        _dir: dir,
    }
}

/// A read with the moderator's token (what names buyers is the staff's).
fn get_json(addr: &str, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, Some(MODERATOR), None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn mutating_endpoints_refuse_missing_and_wrong_role_tokens_and_bad_bodies() {
    let s = start(3, &[]);
    let a = s.addr.as_str();
    wait_for("the session", || {
        http(a, "GET", "/api/overlay", None, None).0 == 200
    });
    let activate = r#"{"session_id":"show-1","action":"activate","code":"A1"}"#;
    let accept = r#"{"session_id":"show-1","escalation_id":"esc:tiktok:c3","decision":"reject"}"#;
    for (path, body, right, wrong) in [
        ("/api/director", activate, DIRECTOR, MODERATOR),
        ("/api/moderation", accept, MODERATOR, DIRECTOR),
    ] {
        assert_eq!(
            http(a, "POST", path, None, Some(body)).0,
            401,
            "{path} without a token"
        );
        assert_eq!(
            http(a, "POST", path, Some("not-a-token"), Some(body)).0,
            401,
            "{path} unknown token"
        );
        assert_eq!(
            http(a, "POST", path, Some(VIEWER), Some(body)).0,
            403,
            "{path} viewer"
        );
        assert_eq!(
            http(a, "POST", path, Some(wrong), Some(body)).0,
            403,
            "{path} wrong role"
        );
        let (status, answer) = http(a, "POST", path, Some(right), Some("{not json"));
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("malformed_json"), "{answer}");
    }
    // Reads that name buyers need a token; the ticker's and overlay's do not (public default).
    for path in ["/api/runsheet", "/api/escalations", "/api/claims"] {
        assert_eq!(http(a, "GET", path, None, None).0, 401, "{path}");
    }
    // Buyers' names and comments are the staff's: a viewer's token reads the run sheet only.
    assert_eq!(http(a, "GET", "/api/runsheet", Some(VIEWER), None).0, 200);
    for path in ["/api/escalations", "/api/claims", "/api/carts"] {
        assert_eq!(http(a, "GET", path, Some(VIEWER), None).0, 403, "{path}");
        assert_ne!(http(a, "GET", path, Some(MODERATOR), None).0, 403, "{path}");
        assert_ne!(http(a, "GET", path, Some(DIRECTOR), None).0, 403, "{path}");
    }
    assert_eq!(http(a, "GET", "/api/overlay", None, None).0, 200);
    // Bad bodies get 400 with a reason, and nothing reaches the pipeline.
    wait_for("the end of the replay", || {
        metric(a, "livesell_replayed_lines_total") >= 10.0
            && metric(a, "livesell_events_in_total") == metric(a, "livesell_replayed_lines_total")
    });
    wait_for("an escalation", || {
        get_json(a, "/api/escalations?session=show-1")["escalations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["escalation_id"] == "esc:tiktok:c3")
    });
    let before = metric(a, "livesell_events_in_total");
    for (path, token, body, reason) in [
        ("/api/director", DIRECTOR, r#"[1,2]"#, "not_an_object"),
        (
            "/api/director",
            DIRECTOR,
            r#"{"session_id":"show-1"}"#,
            "missing_field",
        ),
        (
            "/api/director",
            DIRECTOR,
            r#"{"session_id":"show-1","action":"explode"}"#,
            "invalid_field",
        ),
        (
            "/api/director",
            DIRECTOR,
            r#"{"session_id":"show-1","action":"activate"}"#,
            "missing_field",
        ),
        (
            "/api/director",
            DIRECTOR,
            r#"{"session_id":"show-1","action":"activate","code":"Z9"}"#,
            "unknown_code",
        ),
        (
            "/api/director",
            DIRECTOR,
            r#"{"session_id":"show-1","action":"price","code":"A1","price_cents":"cheap"}"#,
            "",
        ),
        (
            "/api/director",
            DIRECTOR,
            r#"{"session_id":"show-1","action":"product","code":"B1","price_cents":100,"variants":[]}"#,
            "",
        ),
        (
            "/api/moderation",
            MODERATOR,
            r#"{"session_id":"show-1","escalation_id":"esc:tiktok:c3","decision":"accept","sku":"NOPE","qty":1}"#,
            "unknown_sku",
        ),
        (
            "/api/moderation",
            MODERATOR,
            r#"{"session_id":"show-1","escalation_id":"esc:nobody","decision":"reject"}"#,
            "not_open",
        ),
        (
            "/api/moderation",
            MODERATOR,
            r#"{"session_id":"show-1","escalation_id":"esc:tiktok:c3","decision":"maybe"}"#,
            "",
        ),
    ] {
        let (status, answer) = http(a, "POST", path, Some(token), Some(body));
        assert!(status == 400 || status == 409, "{body}: {status} {answer}");
        assert!(answer.contains(reason), "{body}: {answer}");
        let v: Value = serde_json::from_str(&answer).unwrap();
        assert!(
            v["error"].is_string() && v["detail"].is_string(),
            "{answer}"
        );
    }
    assert_eq!(
        metric(a, "livesell_events_in_total"),
        before,
        "a refused action was sent"
    );
    assert!(metric(a, "livesell_auth_refused_total") >= 11.0);
}

#[test]
fn the_pipeline_follows_director_and_moderator_actions() {
    let s = start(30, &[]);
    let a = s.addr.as_str();
    wait_for("the run sheet", || {
        http(a, "GET", "/api/runsheet?session=show-1", Some(VIEWER), None).0 == 200
    });
    let sheet = get_json(a, "/api/runsheet?session=show-1");
    let codes: Vec<&str> = sheet["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["A1", "A2"]);
    assert!(sheet["active"].is_null());
    // Reorder (kept by the server), then `next` activates the first of the new order.
    let (st, body) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"show-1","action":"reorder","order":["A2","A1"]}"#),
    );
    assert_eq!(st, 200, "{body}");
    let (st, body) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"show-1","action":"next"}"#),
    );
    assert_eq!(st, 202, "{body}");
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["event"]["action"], "activate");
    assert_eq!(sent["event"]["code"], "A2");
    wait_for("A2 on the overlay", || {
        get_json(a, "/api/overlay?session=show-1")["active"]["code"] == "A2"
    });
    let (st, _) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"show-1","action":"next"}"#),
    );
    assert_eq!(st, 202);
    wait_for("A1 on the overlay", || {
        get_json(a, "/api/overlay?session=show-1")["active"]["code"] == "A1"
    });
    let (st, body) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"show-1","action":"next"}"#),
    );
    assert_eq!(st, 409, "the end of the queue: {body}");
    // A flash price reaches the overlay.
    let (st, _) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"show-1","action":"price","code":"A1","price_cents":1999}"#),
    );
    assert_eq!(st, 202);
    wait_for("the flash price", || {
        get_json(a, "/api/overlay?session=show-1")["active"]["price_cents"] == 1999
    });
    // Bare "sold red" now reserves A1-RED; the overlay's stock left is the allocator's.
    wait_for("a bare claim reserved on A1", || {
        get_json(a, "/api/claims?session=show-1&sku=A1-RED")["skus"][0]["holders_total"].as_u64()
            > Some(1)
    });
    let claims = get_json(a, "/api/claims?session=show-1&sku=A1-RED");
    let sku = &claims["skus"][0];
    assert_eq!(sku["sku"], "A1-RED");
    assert!(!sku["ranked"].as_array().unwrap().is_empty(), "{claims}");
    assert!(
        claims["feed"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["sku"] == "A1-RED")
    );
    let overlay = get_json(a, "/api/overlay?session=show-1");
    let sheet = get_json(a, "/api/runsheet?session=show-1");
    let a1 = sheet["queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "A1")
        .unwrap()
        .clone();
    let available: i64 = a1["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["available"].as_i64().unwrap().max(0))
        .sum();
    assert_eq!(a1["stock_left"].as_i64(), Some(available));
    assert!(
        overlay["active"]["stock_left"].as_i64().unwrap() <= 70,
        "{overlay}"
    );
    // A moderator accepts an ambiguous claim: it is decided at once, and leaves the queue.
    wait_for("an escalation", || {
        get_json(a, "/api/escalations?session=show-1")["open"].as_u64() > Some(0)
    });
    let queue = get_json(a, "/api/escalations?session=show-1");
    let e = queue["escalations"][0].clone();
    assert!(
        ["no_product", "ambiguous_variant", "unknown_variant"]
            .contains(&e["reason"].as_str().unwrap()),
        "{e}"
    );
    let id = e["escalation_id"].as_str().unwrap();
    let body = json!({"session_id":"show-1","escalation_id":id,"decision":"accept","sku":"A1-BLUE","qty":1}).to_string();
    let (st, answer) = http(a, "POST", "/api/moderation", Some(MODERATOR), Some(&body));
    assert_eq!(st, 202, "{answer}");
    wait_for("the accepted claim to leave the queue", || {
        !get_json(a, "/api/escalations?session=show-1")["escalations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["escalation_id"] == id)
    });
    let (st, _) = http(a, "POST", "/api/moderation", Some(MODERATOR), Some(&body));
    assert_eq!(st, 409, "a second answer is refused");
    // The ticker streams frames; GMV grows with the paid orders.
    let frames = ticker_frames(a, 2);
    assert_eq!(frames[0]["session_id"], "show-1");
    assert_ne!(
        frames[0], frames[1],
        "a frame is sent only when something changed"
    );
    assert!(
        frames[1]["platforms"]["web"]["gmv_cents"].as_i64() > Some(0),
        "{}",
        frames[1]
    );
    assert_eq!(frames[0]["units_by_minute"].as_array().unwrap().len(), 30);
    assert!(metric(a, "livesell_decisions_out_total") > 0.0);
    wait_for("the unreadable line's dead letter", || {
        metric(a, "livesell_dead_letters_total") >= 1.0
    });
    assert_eq!(metric(a, "livesell_director_actions_total"), 4.0);
    assert_eq!(metric(a, "livesell_moderation_actions_total"), 1.0);
    let _ = &s.served;
}

/// Reads `n` frames of the ticker stream.
fn ticker_frames(addr: &str, n: usize) -> Vec<Value> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /api/ticker?session=show-1 HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
    let mut frames = Vec::new();
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    while frames.len() < n {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended");
        if let Some(data) = line.trim_end().strip_prefix("data: ") {
            frames.push(serde_json::from_str(data).unwrap());
        }
    }
    frames
}

#[test]
fn the_moderator_queue_counts_every_reason_and_filters_before_it_cuts() {
    let s = start_show(moderation_show, 10, &[]);
    let a = s.addr.as_str();
    wait_for("the ten escalations", || {
        http(
            a,
            "GET",
            "/api/escalations?session=show-1",
            Some(MODERATOR),
            None,
        )
        .0 == 200
            && get_json(a, "/api/escalations?session=show-1")["open"] == 10
    });
    let q = get_json(a, "/api/escalations?session=show-1");
    assert_eq!(
        q["reasons"],
        json!({"ambiguous_variant": 2, "fuzzy_code": 3, "fuzzy_keyword": 2,
               "multiple_products": 1, "no_product": 1, "unclear_claim": 1}),
        "{q}"
    );
    assert!(q["reason"].is_null());
    let list = q["escalations"].as_array().unwrap();
    assert_eq!(list.len(), 10);
    // Oldest first, each with its age in show time.
    let ts: Vec<&str> = list.iter().map(|e| e["ts"].as_str().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
    let ages: Vec<u64> = list.iter().map(|e| e["age_s"].as_u64().unwrap()).collect();
    assert!(ages.windows(2).all(|w| w[0] >= w[1]), "{ages:?}");
    let fuzzy = get_json(a, "/api/escalations?session=show-1&reason=fuzzy_code");
    assert_eq!(fuzzy["reason"], "fuzzy_code");
    assert_eq!(fuzzy["matching"], 3);
    assert_eq!(fuzzy["open"], 10, "open counts every reason");
    let listed = fuzzy["escalations"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .all(|e| e["reason"] == "fuzzy_code" && e["candidates"] == json!(["B22"])),
        "{fuzzy}"
    );
    let none = get_json(a, "/api/escalations?session=show-1&reason=no_such_reason");
    assert_eq!(
        (
            none["matching"].as_u64(),
            none["escalations"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    // Answered: the reason's count goes down, and a reason with nothing open leaves the counts.
    let id = list.iter().find(|e| e["reason"] == "no_product").unwrap()["escalation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"session_id":"show-1","escalation_id":id,"decision":"reject"}).to_string();
    let (st, answer) = http(a, "POST", "/api/moderation", Some(MODERATOR), Some(&body));
    assert_eq!(st, 202, "{answer}");
    wait_for("no_product to leave the counts", || {
        get_json(a, "/api/escalations?session=show-1")["reasons"]
            .get("no_product")
            .is_none()
    });
    assert_eq!(get_json(a, "/api/escalations?session=show-1")["open"], 9);
}

/// Runs `script` of tests/browser against a fresh `serve` of `show` (node, Playwright-core and
/// Debian's Chromium; skipped outside CI when they are missing) and checks its screenshot.
fn browser_run(script: &str, write: fn(&Path, i64), secs: i64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let ready = dir.join("node_modules/playwright-core").exists()
        && Path::new("/usr/bin/chromium").exists()
        && Command::new("node").arg("--version").output().is_ok();
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have node, tests/browser/node_modules and chromium (.ci/run installs them)"
        );
        eprintln!("skipped: needs node, `npm ci --prefix tests/browser` and Debian's chromium");
        return;
    }
    let s = start_show(write, secs, &[]);
    let url = format!(
        "http://{}/#director={DIRECTOR}&moderator={MODERATOR}",
        s.addr
    );
    let name = script.trim_end_matches(".mjs");
    let shot = std::env::temp_dir().join(format!("livesell-{name}-{}.png", std::process::id()));
    let out = Command::new("node")
        .arg(dir.join(script))
        .arg(&url)
        .arg(&shot)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{log}");
    assert!(out.status.success(), "the browser run failed:\n{log}");
    assert!(log.contains("ok"));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn the_dashboard_works_in_chromium() {
    browser_run("dashboard.mjs", show, 40);
}

#[test]
fn the_moderator_queue_works_with_the_keyboard_in_chromium() {
    browser_run("moderator.mjs", moderation_show, 60);
}

/// A show that claims its one unit twice in its first second and then goes quiet: nothing
/// follows but the show clock.
fn quiet_show(path: &Path, _secs: i64) {
    let t0: i64 = 1_795_000_000_000;
    let lines = [
        json!({"type":"director","session_id":"quiet","ts":t0,"action":"config",
               "reservation_window_s":2,"idle_close_s":3600}),
        json!({"type":"director","session_id":"quiet","ts":t0,"action":"product","code":"K1",
               "title":"Beanie","price_cents":2500,"variants":[{"sku":"K1","stock":1}]}),
        json!({"type":"director","session_id":"quiet","ts":t0,"action":"activate","code":"K1"}),
        json!({"type":"comment","session_id":"quiet","ts":t0 + 300,"platform":"tiktok",
               "comment_id":"c1","user_id":"u1","text":"sold"}),
        json!({"type":"comment","session_id":"quiet","ts":t0 + 400,"platform":"tiktok",
               "comment_id":"c2","user_id":"u2","text":"sold"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// The holders of K1 as the moderator's claims endpoint shows them.
fn holders(addr: &str) -> Vec<String> {
    let v = get_json(addr, "/api/claims?session=quiet&sku=K1");
    v["skus"][0]["holders"]
        .as_array()
        .map(|hs| {
            hs.iter()
                .map(|h| h["user_id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_quiet_shows_hold_expires_on_time_and_the_show_ends_from_the_dashboard_api() {
    let s = start_show(quiet_show, 1, &[]);
    let a = s.addr.as_str();
    wait_for("u1 holds K1", || {
        http(
            a,
            "GET",
            "/api/claims?session=quiet&sku=K1",
            Some(MODERATOR),
            None,
        )
        .0 == 200
            && holders(a) == ["u1"]
    });
    // No event follows: the show clock alone expires u1's hold (2 s) and promotes u2.
    wait_for("the expiry and the promotion", || holders(a) == ["u2"]);
    let overlay = get_json(a, "/api/overlay?session=quiet");
    assert_eq!(overlay["state"], "live");
    // The producer ends the show; the overlay says so and claims are refused from then on.
    let (st, body) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"quiet","action":"end"}"#),
    );
    assert_eq!(st, 202, "{body}");
    wait_for("the overlay says the show ended", || {
        get_json(a, "/api/overlay?session=quiet")["state"] == "ended"
    });
    let file = s._dir.path().join("out/decisions.jsonl");
    for id in [
        "res:tiktok:c1/expired",
        "tiktok:c2/promoted/K1",
        "session/ended",
    ] {
        wait_for(id, || {
            std::fs::read_to_string(&file)
                .unwrap_or_default()
                .contains(&format!(r#""id":"{id}""#))
        });
    }
}

/// A shop's product export loaded into a running show's run sheet through the API (as the
/// dashboard's "Load catalog" does), with codes clear of the sheet's own; and the buyers'
/// carts for the moderator.
#[test]
fn a_catalog_loads_into_the_run_sheet_and_buyers_carts_are_served() {
    let s = start(30, &[]);
    let a = s.addr.as_str();
    wait_for("the run sheet", || {
        http(a, "GET", "/api/runsheet?session=show-1", Some(VIEWER), None).0 == 200
    });
    let csv = "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,Variant Price\n\
               tote,Canvas Tote,Color,Sand,TOTE-SAND,5,19.00\n\
               tote,,,Olive,TOTE-OLIVE,4,19.00\n\
               cap,Cap,Title,Default Title,CAP-1,9,12.50\n\
               cap,,,,,,\n\
               broken,Broken,,,,1,x\n";
    let path = "/api/runsheet/import?session=show-1&currency=EUR";
    assert_eq!(http(a, "POST", path, Some(MODERATOR), Some(csv)).0, 403);
    let (st, body) = http(a, "POST", path, Some(DIRECTOR), Some(csv));
    assert_eq!(st, 202, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let codes: Vec<&str> = answer["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    // A10, A21 and A32 are one edit from the sheet's A1 or A2.
    assert_eq!(codes, ["A43", "A54"]);
    assert_eq!(answer["problems"][0]["reason"], "no_variants", "{answer}");
    let (st, _) = http(a, "POST", path, Some(DIRECTOR), Some("name,price\nx,1\n"));
    assert_eq!(st, 400);
    wait_for("the imported products on the run sheet", || {
        let sheet = get_json(a, "/api/runsheet?session=show-1");
        let n = sheet["queue"].as_array().map_or(0, |q| q.len());
        n == 4
    });

    // Buyers who reserved have carts; one buyer's is served alone.
    wait_for("a cart", || {
        get_json(a, "/api/carts?session=show-1")["carts"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    });
    let all = get_json(a, "/api/carts?session=show-1");
    let cart = &all["carts"][0];
    assert!(
        cart["cart_id"]
            .as_str()
            .unwrap()
            .starts_with("cart/tiktok/"),
        "{cart}"
    );
    assert!(["open", "partly_paid", "paid", "expired"].contains(&cart["state"].as_str().unwrap()));
    let buyer = format!(
        "{}/{}",
        cart["platform"].as_str().unwrap(),
        cart["user_id"].as_str().unwrap()
    );
    let one = get_json(a, &format!("/api/carts?session=show-1&buyer={buyer}"));
    assert_eq!(one["cart"]["cart_id"], cart["cart_id"]);
    assert_eq!(
        http(
            a,
            "GET",
            "/api/carts?session=show-1&buyer=tiktok/nobody",
            Some(MODERATOR),
            None
        )
        .0,
        404
    );
}

/// `/metrics` passes Prometheus' own linter (`promtool check metrics`: names, `_total` on
/// counters, HELP and TYPE), and the OpenAPI document names every figure it exposes.
#[test]
fn metrics_pass_promtool_and_the_openapi_document_names_them_all() {
    let s = start(3, &[]);
    let a = s.addr.as_str();
    wait_for("the session", || {
        http(a, "GET", "/api/overlay", None, None).0 == 200
    });
    let (status, text) = http(a, "GET", "/metrics", None, None);
    assert_eq!(status, 200);
    let openapi =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/openapi.yaml"))
            .unwrap();
    let summary = openapi
        .split("  /metrics:")
        .nth(1)
        .and_then(|r| r.lines().find(|l| l.contains("summary:")))
        .unwrap()
        .to_string();
    for name in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let name = name.split(' ').next().unwrap();
        assert!(
            summary.contains(&format!(" {name},")) || summary.contains(&format!(" {name}\"")),
            "{name} is not in the OpenAPI /metrics summary"
        );
    }
    let promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = promtool else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have promtool (Debian's prometheus; .ci/run installs it)"
        );
        eprintln!("promtool is not installed: skipped (CI installs it)");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Issue 32: a director action for a show nobody started (a typo) is refused, unless it
/// defines the show (a product or a config); and the overlay without `?session=` follows the
/// show the director put a product on air in, not the first by id.
#[test]
fn a_typo_makes_no_show_and_the_overlay_follows_the_directors_show() {
    let s = start(3, &[]);
    let a = s.addr.as_str();
    wait_for("the session", || {
        http(a, "GET", "/api/overlay?session=show-1", None, None).0 == 200
    });
    for action in [
        r#"{"session_id":"Show-1","action":"end"}"#,
        r#"{"session_id":"Show-1","action":"deactivate"}"#,
        r#"{"session_id":"Show-1","action":"activate","code":"A1"}"#,
        r#"{"session_id":"Show-1","action":"next"}"#,
    ] {
        let (status, body) = http(a, "POST", "/api/director", Some(DIRECTOR), Some(action));
        assert_eq!(status, 404, "{action}: {body}");
        assert!(body.contains("unknown_session"), "{body}");
    }
    // A config defines a show: "Show-0" sorts before "show-1" by id.
    let (status, body) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"Show-0","action":"config","max_qty":3}"#),
    );
    assert_eq!(status, 202, "{body}");
    wait_for("Show-0", || {
        http(a, "GET", "/api/overlay?session=Show-0", None, None).0 == 200
    });
    let (status, body) = http(
        a,
        "POST",
        "/api/director",
        Some(DIRECTOR),
        Some(r#"{"session_id":"show-1","action":"activate","code":"A1"}"#),
    );
    assert_eq!(status, 202, "{body}");
    let overlay: Value =
        serde_json::from_str(&http(a, "GET", "/api/overlay", None, None).1).unwrap();
    assert_eq!(overlay["session_id"], "show-1", "{overlay}");
}
