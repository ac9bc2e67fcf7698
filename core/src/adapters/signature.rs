//! Webhook signatures: Meta's `X-Hub-Signature-256`, TikTok's `TikTok-Signature`, Twitch's EventSub signature — HMAC-SHA256 over the raw body, compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature")]
    Missing,
    #[error("the signature header is not in the platform's format")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
    #[error("the message is older than allowed (or from the future)")]
    Stale,
    #[error("no secret is configured for this platform")]
    NoSecret,
}

/// Checks `hex_sig` (lowercase or uppercase hex) against HMAC-SHA256(secret, parts…), in
/// constant time.
fn check(secret: &str, parts: &[&[u8]], hex_sig: &str) -> Result<(), SignatureError> {
    let expected = hex::decode(hex_sig.trim()).map_err(|_| SignatureError::Malformed)?;
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::NoSecret)?;
    for p in parts {
        mac.update(p);
    }
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// `sha256=<hex>` of HMAC-SHA256(secret, body): how our own webhooks are signed (the same
/// form as Meta's `X-Hub-Signature-256`, so `verify_meta` checks it).
pub fn sign_sha256(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn present(secret: Option<&str>) -> Result<&str, SignatureError> {
    secret
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::NoSecret)
}

/// Meta (Facebook, Instagram): `X-Hub-Signature-256: sha256=<hex>` of the body with the app secret.
pub fn verify_meta(
    app_secret: Option<&str>,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let secret = present(app_secret)?;
    let header = header.ok_or(SignatureError::Missing)?;
    let sig = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    check(secret, &[body], sig)
}

/// TikTok: `TikTok-Signature: t=<unix seconds>,s=<hex>` where s = HMAC-SHA256 of `t.body`; a
/// timestamp further than `max_age_s` from `now_s` is stale.
pub fn verify_tiktok(
    secret: Option<&str>,
    header: Option<&str>,
    body: &[u8],
    now_s: i64,
    max_age_s: i64,
) -> Result<(), SignatureError> {
    let secret = present(secret)?;
    let header = header.ok_or(SignatureError::Missing)?;
    let (mut t, mut s) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("s", v)) => s = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(s)) = (t, s) else {
        return Err(SignatureError::Malformed);
    };
    let ts: i64 = t.parse().map_err(|_| SignatureError::Malformed)?;
    check(secret, &[t.as_bytes(), b".", body], s)?;
    // Checked after the signature, so a forged timestamp is a mismatch, not "stale".
    if (now_s - ts).abs() > max_age_s {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` of message id + timestamp
/// + body; a message timestamp further than `max_age_s` from `now_s` is stale (Twitch says 10
/// minutes). `timestamp_s` is the header's RFC 3339 time in seconds.
pub fn verify_twitch(
    secret: Option<&str>,
    (message_id, timestamp, signature): (Option<&str>, Option<&str>, Option<&str>),
    timestamp_s: Option<i64>,
    body: &[u8],
    now_s: i64,
    max_age_s: i64,
) -> Result<(), SignatureError> {
    let secret = present(secret)?;
    let (Some(id), Some(ts), Some(sig)) = (message_id, timestamp, signature) else {
        return Err(SignatureError::Missing);
    };
    let sig = sig
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    check(secret, &[id.as_bytes(), ts.as_bytes(), body], sig)?;
    let at = timestamp_s.ok_or(SignatureError::Malformed)?;
    if (now_s - at).abs() > max_age_s {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python's hmac module (an implementation independent of ours):
    // hmac.new(secret, msg, hashlib.sha256).hexdigest()
    const BODY: &[u8] = br#"{"object":"page","entry":[]}"#;

    #[test]
    fn meta_signatures() {
        let good = format!("sha256={}", python_vectors().0);
        assert_eq!(verify_meta(Some("app-secret"), Some(&good), BODY), Ok(()));
        assert_eq!(
            verify_meta(
                Some("app-secret"),
                Some(&good.to_uppercase().replace("SHA256=", "sha256=")),
                BODY
            ),
            Ok(())
        );
        assert_eq!(
            verify_meta(Some("other"), Some(&good), BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_meta(Some("app-secret"), Some(&good), b"{}"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_meta(Some("app-secret"), None, BODY),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_meta(Some("app-secret"), Some("sha1=abc"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_meta(Some("app-secret"), Some("sha256=zz"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_meta(None, Some(&good), BODY),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn tiktok_signatures_and_age() {
        let header = format!("t=1700000000,s={}", python_vectors().1);
        let ok = verify_tiktok(Some("tt-secret"), Some(&header), BODY, 1_700_000_100, 300);
        assert_eq!(ok, Ok(()));
        let stale = verify_tiktok(Some("tt-secret"), Some(&header), BODY, 1_700_000_301, 300);
        assert_eq!(stale, Err(SignatureError::Stale));
        // Moving the timestamp breaks the signature.
        let moved = header.replace("t=1700000000", "t=1700000200");
        assert_eq!(
            verify_tiktok(Some("tt-secret"), Some(&moved), BODY, 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_tiktok(Some("tt-secret"), Some("s=abcd"), BODY, 0, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn twitch_signatures_and_age() {
        let id = "e76c6bd4-55c9-4987-8304-da1588d8988b";
        let ts = "2019-11-16T10:11:12.634234626Z";
        let sig = format!("sha256={}", python_vectors().2);
        let at = Some(1_573_899_072);
        let ok = verify_twitch(
            Some("tw-secret"),
            (Some(id), Some(ts), Some(&sig)),
            at,
            BODY,
            1_573_899_100,
            600,
        );
        assert_eq!(ok, Ok(()));
        let stale = verify_twitch(
            Some("tw-secret"),
            (Some(id), Some(ts), Some(&sig)),
            at,
            BODY,
            1_573_899_072 + 601,
            600,
        );
        assert_eq!(stale, Err(SignatureError::Stale));
        let other_id = verify_twitch(
            Some("tw-secret"),
            (Some("x"), Some(ts), Some(&sig)),
            at,
            BODY,
            1_573_899_100,
            600,
        );
        assert_eq!(other_id, Err(SignatureError::Mismatch));
        let unsigned = verify_twitch(
            Some("tw-secret"),
            (Some(id), Some(ts), None),
            at,
            BODY,
            1_573_899_100,
            600,
        );
        assert_eq!(unsigned, Err(SignatureError::Missing));
    }

    /// (meta, tiktok, twitch) expected hex digests for BODY.
    fn python_vectors() -> (&'static str, &'static str, &'static str) {
        (META_HEX, TIKTOK_HEX, TWITCH_HEX)
    }

    const META_HEX: &str = "e6e9d7a842a48e17f43a34d6125d0d933e2aab92ee37f0993a4d493b50e3d438";
    const TIKTOK_HEX: &str = "275859c2bb9755a69658578da5d5fb3d536a47f13807c7aaf7fb7386e6e875d8";
    const TWITCH_HEX: &str = "50a0f2c719ca2ad04a867bf97c0c5b7f8b32c264b0b2d110484190cb5c41765d";
}
