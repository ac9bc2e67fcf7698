//! The platforms: their share of the chat, user pools, delivery delays and timestamp styles.

use fastrand::Rng;

pub(super) const TIKTOK: u8 = 0;
pub(super) const FACEBOOK: u8 = 1;
pub(super) const INSTAGRAM: u8 = 2;
pub(super) const YOUTUBE: u8 = 3;
pub(super) const TWITCH: u8 = 4;
pub(super) const WEB: u8 = 5;
pub(super) const PLATFORMS: [&str; 6] = [
    "tiktok",
    "facebook",
    "instagram",
    "youtube",
    "twitch",
    "web",
];
/// Share of comments per platform, in percent.
pub(super) const PLATFORM_WEIGHTS: [u32; 6] = [36, 24, 18, 16, 3, 3];
pub(super) const USER_POOL: [u32; 6] = [60_000, 40_000, 30_000, 25_000, 3_000, 8_000];
/// Percent of users per platform whose events carry a `user_name`.
pub(super) const NAME_PRESENCE: [u64; 6] = [96, 90, 85, 92, 97, 40];
/// Delivery delay after the stamped time, ms (inclusive range).
pub(super) const COMMENT_DELAY: [(i64, i64); 6] = [
    (50, 400),
    (1000, 1500),
    (500, 1000),
    (200, 800),
    (100, 700),
    (20, 300),
];
pub(super) const DIRECTOR_DELAY: (i64, i64) = (0, 60);
pub(super) const STOCK_DELAY: (i64, i64) = (0, 250);
pub(super) const ORDER_DELAY: (i64, i64) = (150, 1500);
pub(super) const MODERATION_DELAY: (i64, i64) = (40, 400);
pub(super) const RESERVE_DELAY: (i64, i64) = (20, 300);

/// How a platform writes its timestamps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Style {
    /// Integer epoch milliseconds (TikTok).
    EpochMillis,
    /// `2026-11-21T20:15:03+0000` (Facebook).
    SecondsOffset,
    /// `2026-11-21T20:15:03Z` (Instagram).
    SecondsZ,
    /// `2026-11-21T20:15:03.123456Z` (YouTube).
    Micros,
    /// `2026-11-21T20:15:03.123+00:00` (Twitch).
    MillisOffset,
    /// `2026-11-21T20:15:03.123Z` (web, director, stock, orders, moderation, reserve).
    Millis,
}
pub(super) const STYLE_OF: [Style; 6] = [
    Style::EpochMillis,
    Style::SecondsOffset,
    Style::SecondsZ,
    Style::Micros,
    Style::MillisOffset,
    Style::Millis,
];

pub(super) fn pick_platform(rng: &mut Rng) -> u8 {
    let mut r = rng.u32(0..100);
    for (i, w) in PLATFORM_WEIGHTS.iter().enumerate() {
        if r < *w {
            return i as u8;
        }
        r -= w;
    }
    TIKTOK
}

/// A user of the platform's pool; a quarter of the comments come from a small core of superfans.
pub(super) fn pick_user(rng: &mut Rng, pl: u8) -> u32 {
    let n = USER_POOL[pl as usize];
    let fans = (n / 200).max(20);
    if rng.u32(0..100) < 25 {
        rng.u32(0..fans)
    } else {
        rng.u32(0..n)
    }
}
