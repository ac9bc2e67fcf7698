//! Signed webhook ingest on `livesell serve`: Meta, TikTok and Twitch deliveries accepted when signed, refused when forged, stale or unsigned; handshakes; redeliveries dropped.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

mod common;
use common::{http, http_with, metric, wait_for};

const META_SECRET: &str = "meta-app-secret";
const TIKTOK_SECRET: &str = "tiktok-secret";
const TWITCH_SECRET: &str = "twitch-secret";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/adapters/");

fn sign(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rfc3339(secs: i64) -> String {
    // Days to a civil date (proleptic Gregorian), enough for a header.
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.123456789Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[test]
fn signed_deliveries_are_accepted_and_forged_stale_or_unsigned_ones_refused() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livesell"));
    let out = tempfile::tempdir().unwrap();
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--idle-ms",
        "100",
        "--out",
    ])
    .arg(out.path())
    .args([
        "--shows",
        concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/shows.toml"),
    ])
    .env("LIVESELL_META_APP_SECRET", META_SECRET)
    .env("LIVESELL_META_VERIFY_TOKEN", "verify-me")
    .env("LIVESELL_TIKTOK_SECRET", TIKTOK_SECRET)
    .env("LIVESELL_TWITCH_SECRET", TWITCH_SECRET);
    let s = common::serve(cmd);
    let a = s.addr.as_str();

    // Meta's subscription check.
    let (st, body) = http(
        a,
        "GET",
        "/ingest/instagram?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
        None,
        None,
    );
    assert_eq!((st, body.as_str()), (200, "1158201444"));
    let (st, _) = http(
        a,
        "GET",
        "/ingest/instagram?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
        None,
        None,
    );
    assert_eq!(st, 403);

    // Instagram: signed, redelivered, forged, unsigned.
    let ig = std::fs::read_to_string(format!("{FIXTURES}instagram-webhook.json")).unwrap();
    let good = format!("sha256={}", sign(META_SECRET, &[ig.as_bytes()]));
    let (st, body) = http_with(
        a,
        "POST",
        "/ingest/instagram",
        &[("X-Hub-Signature-256", &good)],
        &ig,
    );
    assert_eq!(st, 200, "{body}");
    assert!(body.contains(r#""comments":1"#), "{body}");
    let (st, body) = http_with(
        a,
        "POST",
        "/ingest/instagram",
        &[("X-Hub-Signature-256", &good)],
        &ig,
    );
    assert_eq!(st, 200);
    assert!(
        body.contains("duplicate"),
        "a redelivery is dropped: {body}"
    );
    let forged = format!("sha256={}", sign("not-the-secret", &[ig.as_bytes()]));
    assert_eq!(
        http_with(
            a,
            "POST",
            "/ingest/instagram",
            &[("X-Hub-Signature-256", &forged)],
            &ig
        )
        .0,
        401
    );
    let tampered = ig.replace("sold A12 red M", "sold A12 red XL");
    assert_eq!(
        http_with(
            a,
            "POST",
            "/ingest/instagram",
            &[("X-Hub-Signature-256", &good)],
            &tampered
        )
        .0,
        401
    );
    assert_eq!(http_with(a, "POST", "/ingest/instagram", &[], &ig).0, 401);

    // TikTok: t.body with a maximum age.
    let tt = std::fs::read_to_string(format!("{FIXTURES}tiktok-live-connector.json")).unwrap();
    let t = now().to_string();
    let header = format!(
        "t={t},s={}",
        sign(TIKTOK_SECRET, &[t.as_bytes(), b".", tt.as_bytes()])
    );
    let (st, body) = http_with(
        a,
        "POST",
        "/ingest/tiktok",
        &[("TikTok-Signature", &header)],
        &tt,
    );
    assert_eq!(st, 200, "{body}");
    let old = (now() - 3600).to_string();
    let stale = format!(
        "t={old},s={}",
        sign(TIKTOK_SECRET, &[old.as_bytes(), b".", tt.as_bytes()])
    );
    assert_eq!(
        http_with(
            a,
            "POST",
            "/ingest/tiktok",
            &[("TikTok-Signature", &stale)],
            &tt
        )
        .0,
        401
    );

    // Twitch: the challenge handshake, a notification, its redelivery, a stale one.
    let twitch = |id: &str, ts: &str, kind: &str, body: &str| {
        let sig = format!(
            "sha256={}",
            sign(
                TWITCH_SECRET,
                &[id.as_bytes(), ts.as_bytes(), body.as_bytes()]
            )
        );
        http_with(
            a,
            "POST",
            "/ingest/twitch",
            &[
                ("Twitch-Eventsub-Message-Id", id),
                ("Twitch-Eventsub-Message-Timestamp", ts),
                ("Twitch-Eventsub-Message-Signature", &sig),
                ("Twitch-Eventsub-Message-Type", kind),
            ],
            body,
        )
    };
    let ts = rfc3339(now());
    let challenge = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.chat.message"}}"#;
    assert_eq!(
        twitch("m-1", &ts, "webhook_callback_verification", challenge),
        (200, "pogchamp-kappa-360noscope-vohiyo".to_string())
    );
    let note = std::fs::read_to_string(format!("{FIXTURES}twitch-eventsub.json")).unwrap();
    let (st, body) = twitch("m-2", &ts, "notification", &note);
    assert_eq!(st, 200, "{body}");
    assert!(body.contains(r#""comments":1"#), "{body}");
    assert!(
        twitch("m-2", &ts, "notification", &note)
            .1
            .contains("duplicate")
    );
    assert_eq!(
        twitch("m-3", &rfc3339(now() - 700), "notification", &note).0,
        401
    );

    // Three deliveries reached the pipeline, one comment each; the refusals are counted.
    assert_eq!(metric(a, "livesell_webhooks_accepted_total"), 3.0);
    assert_eq!(metric(a, "livesell_webhooks_duplicates_total"), 2.0);
    assert_eq!(metric(a, "livesell_webhooks_refused_total"), 5.0);
    assert_eq!(metric(a, "livesell_events_in_total"), 3.0);
    // They are applied: the show exists for the live surfaces.
    wait_for("the comments to be applied", || {
        http(a, "GET", "/api/overlay?session=show-0001", None, None).0 == 200
    });
}

/// `livesell serve` on `out` with a director token and the TikTok secret.
fn durable_serve(out: &std::path::Path) -> common::Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livesell"));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--idle-ms",
        "100",
        "--allowed-lateness-ms",
        "50",
        "--out",
    ])
    .arg(out)
    .args([
        "--shows",
        concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/shows.toml"),
        // A checkpoint every half second or sooner: the restarts go on from them.
        "--checkpoint-blocks",
        "5",
    ])
    .env("LIVESELL_DIRECTOR_TOKENS", "director-token-31-long")
    .env("LIVESELL_TIKTOK_SECRET", TIKTOK_SECRET);
    common::serve(cmd)
}

/// The record file's whole lines as they stand (a line cut by a kill is left out).
fn whole_lines(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    match text.rfind('\n') {
        Some(i) => text[..=i].to_string(),
        None => String::new(),
    }
}

/// Issue 31: `serve` killed with -9 at random moments, five times, while a client posts
/// webhook comments and director actions as fast as they are answered. Every request that got
/// a 2xx is decided exactly once after the last restart, and what each run wrote is still the
/// start of the files. (Before the journal, a restart truncated the files and every accepted
/// comment since the start was lost.)
#[test]
fn kill_9_five_times_loses_no_accepted_request_and_no_output() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    const COMMENTS: u64 = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("show");
    let mut served = durable_serve(&out);
    let addr = Arc::new(Mutex::new(served.addr.clone()));
    let director = |a: &str, body: &str| {
        common::try_http_with(
            a,
            "POST",
            "/api/director",
            &[("Authorization", "Bearer director-token-31-long")],
            body,
        )
        .map(|(status, _)| status)
    };
    let a = served.addr.clone();
    let product = r#"{"session_id":"show-0001","action":"product","code":"K1","price_cents":100,"variants":[{"sku":"K1","stock":1000000}]}"#;
    assert_eq!(director(&a, product), Some(202));
    // Once the product is on the run sheet, it can be activated.
    wait_for("the product on the run sheet", || {
        director(
            &a,
            r#"{"session_id":"show-0001","action":"activate","code":"K1"}"#,
        ) == Some(202)
    });

    let done = Arc::new(AtomicBool::new(false));
    let client = {
        let (addr, done) = (addr.clone(), done.clone());
        std::thread::spawn(move || {
            let mut accepted = Vec::new();
            let mut prices = 0;
            for i in 0..COMMENTS {
                let id = 7_000_000_000 + i;
                let body = format!(
                    r#"[{{"comment":"sold","userId":"u{i}","uniqueId":"buyer{i}","nickname":"B{i}","msgId":"{id}","createTime":"{}"}}]"#,
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_millis()
                );
                // Asked again until answered, as a platform redelivers a webhook that failed.
                loop {
                    let a = addr.lock().unwrap().clone();
                    let t = now().to_string();
                    let sig = format!(
                        "t={t},s={}",
                        sign(TIKTOK_SECRET, &[t.as_bytes(), b".", body.as_bytes()])
                    );
                    let headers = [("TikTok-Signature", sig.as_str())];
                    match common::try_http_with(&a, "POST", "/ingest/tiktok", &headers, &body) {
                        Some((s, answer)) if (200..300).contains(&s) => {
                            // Fed (or a copy of a delivery this server fed already).
                            assert!(
                                answer.contains(r#""comments":1"#) || answer.contains("duplicate"),
                                "{answer}"
                            );
                            accepted.push(id);
                            break;
                        }
                        _ => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
                if i % 50 == 0 {
                    let a = addr.lock().unwrap().clone();
                    let price = format!(
                        r#"{{"session_id":"show-0001","action":"price","code":"K1","price_cents":{}}}"#,
                        100 + i
                    );
                    if director(&a, &price).is_some_and(|s| s == 202) {
                        prices += 1;
                    }
                }
            }
            done.store(true, Ordering::SeqCst);
            (accepted, prices)
        })
    };

    let mut rng = fastrand::Rng::with_seed(31);
    let mut before_kill = Vec::new();
    for kill in 0..5 {
        std::thread::sleep(Duration::from_millis(rng.u64(100..350)));
        assert!(
            !done.load(Ordering::SeqCst),
            "the client finished before kill {kill}"
        );
        let _ = served.child.kill();
        let _ = served.child.wait();
        before_kill.push(whole_lines(&out.join("decisions.jsonl")));
        served = durable_serve(&out);
        *addr.lock().unwrap() = served.addr.clone();
    }
    let (accepted, prices) = client.join().unwrap();
    assert_eq!(accepted.len() as u64, COMMENTS);
    assert!(prices > 0);

    // Every accepted comment's claim, once.
    let claims = |text: &str| -> std::collections::HashMap<String, usize> {
        let mut n = std::collections::HashMap::new();
        for l in text.lines().filter(|l| l.contains(r#""kind":"claim""#)) {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            *n.entry(v["claim_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        n
    };
    let started = Instant::now();
    let mut text = String::new();
    while started.elapsed() < Duration::from_secs(60) {
        text = whole_lines(&out.join("decisions.jsonl"));
        if claims(&text).len() as u64 >= COMMENTS {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = claims(&text);
    let missing: Vec<&u64> = accepted
        .iter()
        .filter(|id| !got.contains_key(&format!("tiktok:{id}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} accepted comments undecided: {:?}…",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "decided more than once: {twice:?}");
    eprintln!(
        "decisions.jsonl at each kill: {:?} bytes; at the end: {}",
        before_kill.iter().map(String::len).collect::<Vec<_>>(),
        text.len()
    );
    // What each run had written is still the start of the file.
    for (k, earlier) in before_kill.iter().enumerate() {
        assert!(
            text.starts_with(earlier.as_str()),
            "run {k}'s decisions were rewritten"
        );
    }
    assert!(before_kill.last().unwrap().len() < text.len());
    // The restarts went on from checkpoints, and the journal holds what came after them.
    let complete = std::fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("MANIFEST.json").is_file())
        .count();
    assert!(complete > 0, "no checkpoint was completed");
}
