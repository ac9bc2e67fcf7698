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
