//! Writing lines: timestamps in each platform's style, JSON fields, and the platforms' ids.

use std::fmt::Write as _;

use super::platforms::*;
use super::words::{FIRST_NAMES, LAST_NAMES, NAME_EMOJI};
use crate::domain::time::civil_from_days;

pub(super) const KNUTH: u64 = 2_654_435_761;

pub(super) fn push_rfc3339(b: &mut String, us: i64, frac_digits: u8, suffix: &str) {
    let secs = us.div_euclid(1_000_000);
    let sub = us.rem_euclid(1_000_000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let _ = write!(
        b,
        "\"{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    match frac_digits {
        3 => {
            let _ = write!(b, ".{:03}", sub / 1000);
        }
        6 => {
            let _ = write!(b, ".{sub:06}");
        }
        _ => {}
    }
    b.push_str(suffix);
    b.push('"');
}

pub(super) fn push_ts(b: &mut String, us: i64, style: Style) {
    match style {
        Style::EpochMillis => {
            let _ = write!(b, "{}", us.div_euclid(1000));
        }
        Style::SecondsOffset => push_rfc3339(b, us, 0, "+0000"),
        Style::SecondsZ => push_rfc3339(b, us, 0, "Z"),
        Style::Micros => push_rfc3339(b, us, 6, "Z"),
        Style::MillisOffset => push_rfc3339(b, us, 3, "+00:00"),
        Style::Millis => push_rfc3339(b, us, 3, "Z"),
    }
}

/// Appends `s` as a JSON string literal.
pub(super) fn json_str(b: &mut String, s: &str) {
    crate::domain::decision::write_json_str(b, s);
}

pub(super) fn key(b: &mut String, k: &str) {
    b.push_str(",\"");
    b.push_str(k);
    b.push_str("\":");
}
pub(super) fn kv_str(b: &mut String, k: &str, v: &str) {
    key(b, k);
    json_str(b, v);
}
pub(super) fn kv_int(b: &mut String, k: &str, v: i64) {
    key(b, k);
    let _ = write!(b, "{v}");
}
pub(super) fn kv_id(b: &mut String, k: &str, v: &Id) {
    key(b, k);
    v.push_json(b);
}

/// splitmix64 finaliser: a bijection on u64.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) const B64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// 11 characters encode all 64 bits, so distinct inputs give distinct strings.
pub(super) fn push_b64(s: &mut String, mut x: u64, n: usize) {
    for _ in 0..n {
        s.push(B64[(x & 63) as usize] as char);
        x >>= 6;
    }
}

/// An id as a platform sends it: some are JSON integers, some strings.
#[derive(Clone, Debug)]
pub(super) enum Id {
    Int(u64),
    Str(String),
}

impl Id {
    pub(super) fn push_json(&self, b: &mut String) {
        match self {
            Id::Int(n) => {
                let _ = write!(b, "{n}");
            }
            Id::Str(s) => json_str(b, s),
        }
    }
    pub(super) fn text(&self) -> String {
        match self {
            Id::Int(n) => n.to_string(),
            Id::Str(s) => s.clone(),
        }
    }
}

/// User `idx` of a platform's pool, in the platform's own id format (injective per platform).
pub(super) fn user_id(pl: u8, idx: u32) -> Id {
    let k = idx as u64 * KNUTH;
    match pl {
        TIKTOK => Id::Int(6_700_000_000_000_000_000 + k % 100_000_000_000_000_000),
        FACEBOOK => Id::Str((100_000_000_000_000 + k % 900_000_000_000_000).to_string()),
        INSTAGRAM => Id::Str((17_841_400_000_000_000 + k % 100_000_000_000).to_string()),
        YOUTUBE => {
            let mut s = String::with_capacity(24);
            s.push_str("UC");
            push_b64(&mut s, mix(idx as u64 ^ 0x7975), 11);
            push_b64(&mut s, mix(idx as u64 + 77), 11);
            Id::Str(s)
        }
        TWITCH => Id::Int(100_000_000 + k % 900_000_000),
        _ => Id::Str(format!("cust_{:07}", idx + 1)),
    }
}

pub(super) fn user_name(pl: u8, idx: u32) -> Option<String> {
    let h = mix(((idx as u64) << 3) | pl as u64);
    if h % 100 >= NAME_PRESENCE[pl as usize] {
        return None;
    }
    let first = FIRST_NAMES[(h >> 8) as usize % FIRST_NAMES.len()];
    let last = LAST_NAMES[(h >> 20) as usize % LAST_NAMES.len()];
    Some(match (h >> 32) % 6 {
        0 => format!("{first} {last}"),
        1 => format!("{first}{}", (h >> 40) % 1000),
        2 => format!("{}_{}", first.to_lowercase(), last.to_lowercase()),
        3 => format!(
            "{first} {}",
            NAME_EMOJI[(h >> 44) as usize % NAME_EMOJI.len()]
        ),
        4 => format!("the.real.{}", first.to_lowercase()),
        _ => first.to_string(),
    })
}

/// The `n`-th comment id of a platform (n counts over all shows, so ids are unique per platform).
pub(super) fn comment_id(pl: u8, n: u64, fb_post: &str) -> Id {
    match pl {
        TIKTOK => Id::Int(7_312_000_000_000_000_000 + n * 17),
        FACEBOOK => Id::Str(format!("{fb_post}_{}", 1_000_000_000_000_000u64 + n * 7)),
        INSTAGRAM => Id::Str((17_900_000_000_000_000u64 + n * 3).to_string()),
        YOUTUBE => {
            let mut s = String::with_capacity(24);
            s.push_str(["Ugx", "Ugz", "Ugw"][(n % 3) as usize]);
            push_b64(&mut s, mix(n ^ 0x5954), 11);
            s.push_str("4AaABAg");
            Id::Str(s)
        }
        TWITCH => {
            let a = mix(n ^ 0x7477);
            let b = mix(n.wrapping_add(0x1234_5678));
            Id::Str(format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                b & 0xfff,
                a & 0xffff,
                (b >> 16) & 0xffff_ffff_ffff
            ))
        }
        _ => Id::Str(format!("wc-{n}")),
    }
}

pub(super) fn claim_key(pl: u8, cid: &Id) -> String {
    format!("{}:{}", PLATFORMS[pl as usize], cid.text())
}
