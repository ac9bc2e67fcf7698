//! Synthetic live shows: realistic multi-platform comment, order, stock and director streams.
//!
//! The generator is a small discrete-event simulation. Every show (session) has a run sheet of
//! 8–20 products that a host activates one after another; viewers on TikTok, Facebook, Instagram,
//! YouTube (and a few on Twitch and the web store) chat and claim in many shapes, web shoppers tap
//! to reserve, the shop backend reports payments (most reservation holders pay, some only after
//! their hold expired, a few orders are refunded later), moderators answer some escalations and
//! the warehouse corrects and restocks pools. A simplified allocation model (pools, holds,
//! waitlists, expiries) decides who gets to pay, so orders look like the ones a real show
//! produces: scarce "hot" products sell out and get oversold now and then.
//!
//! Each platform stamps event time its own way (`ts`: integer epoch milliseconds on TikTok, whole
//! seconds on Facebook and Instagram, microseconds on YouTube, milliseconds elsewhere) and
//! delivers with its own delay. Lines are written in **arrival** order, so the stream is out of
//! event-time order, but every line arrives less than 1800 ms after its stamped `ts`: any line's
//! `ts` is at least the largest `ts` written before it minus 1800 ms, within the default allowed
//! lateness of 2000 ms.
//!
//! Memory stays small whatever the size: only the simulation agenda (pending comments, payments,
//! expiries), the per-show model and a reorder buffer of the last ~2 s of lines are held.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Write};

use fastrand::Rng;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Seed of the random generator: the same config always gives the same bytes.
    pub seed: u64,
    /// Lines to write (at least; the last simulated instant is completed).
    pub events: u64,
    /// Shows running at the same time; each slot runs shows back to back.
    pub sessions: u32,
    /// Event time of the first show's start, epoch milliseconds.
    pub start_ms: i64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            events: 10_000,
            sessions: 1,
            // 2026-11-21T20:00:00Z
            start_ms: days_from_civil(2026, 11, 21) * 86_400_000 + 20 * 3_600_000,
        }
    }
}

/// Writes `cfg.events` (approximately, at least) JSONL lines to `out`, in arrival order, calling progress(n_written) every 65536 lines.
///
/// Returns the number of lines written. `progress` is also called once at the end with the
/// final count when that is not a multiple of 65536. Output is buffered internally; `out` is
/// flushed before returning.
pub fn generate(
    cfg: &GenConfig,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> io::Result<u64> {
    Gen::new(cfg, out, progress).run()
}

// ---------------------------------------------------------------------------------------------
// Constants: platforms, delays, vocabularies
// ---------------------------------------------------------------------------------------------

const PROGRESS_EVERY: u64 = 65_536;
/// Every line arrives strictly less than this many ms after its stamped `ts`.
const MAX_DELAY_MS: i64 = 1_799;
const WAITLIST_CAP: usize = 1_000;
const KNUTH: u64 = 2_654_435_761;

const TIKTOK: u8 = 0;
const FACEBOOK: u8 = 1;
const INSTAGRAM: u8 = 2;
const YOUTUBE: u8 = 3;
const TWITCH: u8 = 4;
const WEB: u8 = 5;
const PLATFORMS: [&str; 6] = [
    "tiktok",
    "facebook",
    "instagram",
    "youtube",
    "twitch",
    "web",
];
/// Share of comments per platform, in percent.
const PLATFORM_WEIGHTS: [u32; 6] = [36, 24, 18, 16, 3, 3];
const USER_POOL: [u32; 6] = [60_000, 40_000, 30_000, 25_000, 3_000, 8_000];
/// Percent of users per platform whose events carry a `user_name`.
const NAME_PRESENCE: [u64; 6] = [96, 90, 85, 92, 97, 40];
/// Delivery delay after the stamped time, ms (inclusive range).
const COMMENT_DELAY: [(i64, i64); 6] = [
    (50, 400),
    (1000, 1500),
    (500, 1000),
    (200, 800),
    (100, 700),
    (20, 300),
];
const DIRECTOR_DELAY: (i64, i64) = (0, 60);
const STOCK_DELAY: (i64, i64) = (0, 250);
const ORDER_DELAY: (i64, i64) = (150, 1500);
const MODERATION_DELAY: (i64, i64) = (40, 400);
const RESERVE_DELAY: (i64, i64) = (20, 300);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
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
const STYLE_OF: [Style; 6] = [
    Style::EpochMillis,
    Style::SecondsOffset,
    Style::SecondsZ,
    Style::Micros,
    Style::MillisOffset,
    Style::Millis,
];

/// Run-sheet code letters: no I/O (read as digits), no Q, no X (`x2` is a quantity).
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWYZ";
const COLORS: [&str; 10] = [
    "red", "blue", "black", "white", "pink", "green", "beige", "navy", "cream", "olive",
];
const TITLES: [&str; 24] = [
    "Ribbed knit cardigan",
    "Satin slip dress",
    "Oversized denim jacket",
    "Cloud-soft hoodie",
    "Pearl drop earrings",
    "Chunky platform sneakers",
    "Leather crossbody bag",
    "Silk scrunchie set (3)",
    "Cashmere beanie",
    "High-rise mom jeans",
    "Linen button-down",
    "Puffer vest",
    "\"Sunday\" lounge set",
    "Gold hoop earrings",
    "Vintage band tee",
    "Quilted mini bag",
    "Wool blend coat",
    "Cat-eye sunglasses",
    "Pleated midi skirt",
    "Cozy fleece joggers",
    "Crochet tote",
    "Ballet flats",
    "Waffle robe",
    "Mini claw clips 6-pack",
];
/// (claim keyword, cancel keyword) a show may add through its `config`.
const EXTRA_KEYWORDS: [(&str, &str); 3] = [
    ("quiero", "cancelar"),
    ("nehme", "storno"),
    ("compro", "annulla"),
];
const KEYWORDS: [(&str, u32); 15] = [
    ("sold", 30),
    ("SOLD", 14),
    ("Sold", 6),
    ("mine", 12),
    ("MINE", 4),
    ("Mine", 3),
    ("cf", 5),
    ("CF", 2),
    ("claim", 5),
    ("want", 5),
    ("take", 3),
    ("buy", 3),
    ("dibs", 3),
    ("sold!!", 3),
    ("SOLD!!!", 2),
];
/// One edit away from a claim keyword, four letters or more.
const KEYWORD_TYPOS: [&str; 10] = [
    "sodl", "slod", "solld", "sould", "dold", "mnie", "mien", "cliam", "wnat", "dibbs",
];
const PREFIXES: [&str; 7] = ["omg ", "yes ", "ok ", "😍 ", "@host ", "pls ", "yesss "];
const SUFFIXES: [&str; 12] = [
    " please",
    " pls",
    " 🙏",
    "!!",
    "!!!",
    " 🔥🔥",
    " ❤️",
    " thank you",
    " ty",
    " for my daughter",
    " 💕",
    " 😍",
];
const CHATTER: [&str; 58] = [
    "love this!!",
    "hi from {P}",
    "hello from {P} 👋",
    "how much?",
    "😍😍😍",
    "so pretty",
    "is this true to size?",
    "what's the fabric?",
    "can you show the back?",
    "gorgeous!!",
    "omg",
    "lol",
    "first time here!",
    "you look amazing",
    "need this in my life",
    "❤️❤️❤️",
    "shipping to Canada?",
    "hi everyone",
    "the color is so nice",
    "LOVE IT",
    "💕💕",
    "where is the link",
    "what size are you wearing?",
    "can you zoom in",
    "so cute 🥰",
    "hahaha",
    "Hola desde México 🇲🇽",
    "bonjour de Paris",
    "こんにちは！",
    "late again lol",
    "did I miss the bags?",
    "price?",
    "{C} looks so good",
    "{C} is my favorite",
    "my sister said \"get it\"",
    "¯\\_(ツ)_/¯",
    "love it\nso much",
    "ok ok ok",
    "🔥🔥🔥",
    "waiting for the shoes",
    "hi hi hi",
    "good evening from {P}!",
    "is there free shipping?",
    "wow",
    "beautiful",
    "that color though",
    "can you try it on?",
    "thank you!!",
    "brb",
    "love your energy",
    "ＨＥＬＬＯ ＥＶＥＲＹＯＮＥ",
    "yay",
    "😂😂",
    "how long does shipping take",
    "ready!!",
    "I got my package from last week, love it",
    "hi from {P}, love the show",
    "{C} gold looks nice",
];
const PLACES: [&str; 12] = [
    "Ohio",
    "Texas",
    "Manila",
    "Toronto",
    "London",
    "São Paulo",
    "München",
    "Lagos",
    "Sydney",
    "Kraków",
    "Dublin",
    "Nairobi",
];
const QUESTIONS: [&str; 11] = [
    "is {C} still available?",
    "{C} sold out?",
    "how much is {C}??",
    "does {C} come in other colors?",
    "is it sold?",
    "sold?",
    "any {S} left?",
    "{C} in {S}?",
    "is {C} true to size?",
    "what's the price on {C}?",
    "can I still get {C}?",
];
const NEGATIONS: [&str; 8] = [
    "don't want {C}",
    "dont want it anymore",
    "no {C} for me",
    "not {C} sorry",
    "never mind {C}",
    "I don't need {C}",
    "no thanks",
    "not sold on {C} tbh",
];
const MULTI: [&str; 5] = [
    "sold {C1} and {C2}",
    "{K} {C1} {C2}",
    "{C1} + {C2} sold",
    "want {C1} & {C2}",
    "mine {C1}, {C2} pls",
];
const CANCEL_NAMED: [&str; 6] = [
    "cancel {C}",
    "CANCEL {C}",
    "unclaim {C}",
    "pass on {C}",
    "cancel {C} pls",
    "cancel {C} sorry 😢",
];
const CANCEL_BARE: [&str; 7] = [
    "cancel",
    "pass",
    "cancel mine",
    "pass 🙏",
    "Cancel please",
    "CANCEL",
    "unclaim",
];
const UNKNOWN: [&str; 4] = ["sold {F}", "{F} mine", "SOLD {F} x2", "claim #{F}"];
const FIRST_NAMES: [&str; 30] = [
    "Emma", "Olivia", "Ava", "Sophia", "Mia", "Zoë", "Chloé", "José", "Mónica", "Ayşe", "李娜",
    "Priya", "Fatima", "Grace", "Hannah", "Jasmine", "Kayla", "Lena", "María", "Nicole", "Tiffany",
    "Jess", "Danielle", "Ashley", "Brittany", "Maya", "Aaliyah", "Camila", "Sofia", "Yuki",
];
const LAST_NAMES: [&str; 15] = [
    "Smith", "Nguyễn", "O'Brien", "Müller", "Garcia", "Johnson", "Kim", "Patel", "Rossi", "Silva",
    "\"Bee\"", "Lee", "Brown", "Martinez", "Dubois",
];
const NAME_EMOJI: [&str; 6] = ["✨", "💖", "🌸", "🛍️", "👑", "🦋"];

// ---------------------------------------------------------------------------------------------
// Small helpers: time, JSON, ids
// ---------------------------------------------------------------------------------------------

use crate::domain::time::{civil_from_days, days_from_civil};

fn push_rfc3339(b: &mut String, us: i64, frac_digits: u8, suffix: &str) {
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

fn push_ts(b: &mut String, us: i64, style: Style) {
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
fn json_str(b: &mut String, s: &str) {
    crate::domain::decision::write_json_str(b, s);
}

fn key(b: &mut String, k: &str) {
    b.push_str(",\"");
    b.push_str(k);
    b.push_str("\":");
}
fn kv_str(b: &mut String, k: &str, v: &str) {
    key(b, k);
    json_str(b, v);
}
fn kv_int(b: &mut String, k: &str, v: i64) {
    key(b, k);
    let _ = write!(b, "{v}");
}
fn kv_id(b: &mut String, k: &str, v: &Id) {
    key(b, k);
    v.push_json(b);
}

/// splitmix64 finaliser: a bijection on u64.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// 11 characters encode all 64 bits, so distinct inputs give distinct strings.
fn push_b64(s: &mut String, mut x: u64, n: usize) {
    for _ in 0..n {
        s.push(B64[(x & 63) as usize] as char);
        x >>= 6;
    }
}

/// An id as a platform sends it: some are JSON integers, some strings.
#[derive(Clone, Debug)]
enum Id {
    Int(u64),
    Str(String),
}

impl Id {
    fn push_json(&self, b: &mut String) {
        match self {
            Id::Int(n) => {
                let _ = write!(b, "{n}");
            }
            Id::Str(s) => json_str(b, s),
        }
    }
    fn text(&self) -> String {
        match self {
            Id::Int(n) => n.to_string(),
            Id::Str(s) => s.clone(),
        }
    }
}

/// User `idx` of a platform's pool, in the platform's own id format (injective per platform).
fn user_id(pl: u8, idx: u32) -> Id {
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

fn user_name(pl: u8, idx: u32) -> Option<String> {
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
fn comment_id(pl: u8, n: u64, fb_post: &str) -> Id {
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

fn claim_key(pl: u8, cid: &Id) -> String {
    format!("{}:{}", PLATFORMS[pl as usize], cid.text())
}

/// (platform, user, product, variant) packed: one buyer's interest in one sku.
fn buyer_key(pl: u8, user: u32, p: usize, v: usize) -> u64 {
    ((pl as u64) << 56) | ((user as u64) << 16) | ((p as u64 & 0xff) << 8) | (v as u64 & 0xff)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// ASCII to fullwidth forms (what some phone keyboards produce); NFKC maps it back.
fn to_fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

fn pick<'s>(rng: &mut Rng, xs: &[&'s str]) -> &'s str {
    xs[rng.usize(0..xs.len())]
}

fn pick_platform(rng: &mut Rng) -> u8 {
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
fn pick_user(rng: &mut Rng, pl: u8) -> u32 {
    let n = USER_POOL[pl as usize];
    let fans = (n / 200).max(20);
    if rng.u32(0..100) < 25 {
        rng.u32(0..fans)
    } else {
        rng.u32(0..n)
    }
}

fn pick_kw(rng: &mut Rng) -> &'static str {
    let total: u32 = KEYWORDS.iter().map(|k| k.1).sum();
    let mut r = rng.u32(0..total);
    for (k, w) in KEYWORDS {
        if r < w {
            return k;
        }
        r -= w;
    }
    "sold"
}

fn pick_qty(rng: &mut Rng, max_qty: u32) -> u32 {
    let q = match rng.u32(0..1000) {
        0..850 => 1,
        850..950 => 2,
        950..985 => 3,
        _ => rng.u32(4..=5),
    };
    q.min(max_qty.max(1))
}

// ---------------------------------------------------------------------------------------------
// The show model
// ---------------------------------------------------------------------------------------------

struct Variant {
    sku: String,
    color: Option<&'static str>,
    size: Option<&'static str>,
    stock0: i64,
    pool: i64,
    held: i64,
    sold: i64,
    /// Reservations of this sku, in creation order.
    res: Vec<u32>,
    waitlist: VecDeque<Wait>,
    restock_planned: bool,
}

impl Variant {
    fn available(&self) -> i64 {
        self.pool - self.held - self.sold
    }
}

struct Product {
    code: String,
    letters: String,
    digits: String,
    title: &'static str,
    price: i64,
    hot: bool,
    has_color: bool,
    has_size: bool,
    variants: Vec<Variant>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ResState {
    Live,
    Converted,
    Expired,
    Cancelled,
    Revoked,
}

struct Res {
    claim_key: String,
    platform: u8,
    user: u32,
    p: u16,
    v: u16,
    qty: u32,
    unit: i64,
    state: ResState,
}

struct Wait {
    id: u64,
    key: u64,
    platform: u8,
    user: u32,
    qty: u32,
    claim_key: String,
}

struct Show {
    num: u32,
    slot: u32,
    id: String,
    fb_post: String,
    window_ms: i64,
    max_qty: u32,
    extra_kw: Option<(&'static str, &'static str)>,
    products: Vec<Product>,
    active: Option<usize>,
    /// Products activated so far.
    shown: usize,
    last_activate: i64,
    base_rate: f64,
    tap_rate: f64,
    comment_clock: f64,
    tap_clock: f64,
    ended: bool,
    /// Agenda entries that still refer to this show.
    pending: u32,
    res: Vec<Res>,
    holding: HashMap<u64, u32>,
    waiting: HashMap<u64, u64>,
    bought: HashSet<u64>,
    wait_seq: u64,
}

impl Show {
    /// Comment-rate multiplier: a burst right after each `activate`, quieter between products.
    fn rate_mult(&self, t: i64) -> f64 {
        match self.active {
            Some(a) => {
                let amp = if self.products[a].hot { 2.0 } else { 1.2 };
                1.0 + amp * (-((t - self.last_activate).max(0) as f64) / 8_000.0).exp()
            }
            None if self.shown == 0 => 0.35,
            None => 0.5,
        }
    }
}

fn build_show(rng: &mut Rng, num: u32, slot: u32) -> Show {
    let n = rng.usize(8..=20);
    let mut used = HashSet::new();
    let mut titles = TITLES.to_vec();
    rng.shuffle(&mut titles);
    let mut products: Vec<Product> = Vec::with_capacity(n);
    while products.len() < n {
        let l1 = CODE_LETTERS[rng.usize(0..CODE_LETTERS.len())] as char;
        let letters = if rng.u32(0..10) == 0 {
            format!(
                "{l1}{}",
                CODE_LETTERS[rng.usize(0..CODE_LETTERS.len())] as char
            )
        } else {
            l1.to_string()
        };
        let digits = rng.u32(1..50).to_string();
        let code = format!("{letters}{digits}");
        if !used.insert(code.clone()) {
            continue;
        }
        let hot = rng.u32(0..100) < 30;
        let price = rng.i64(9..=89) * 100 + [99, 0, 50][rng.usize(0..3)];
        let mut colors = COLORS.to_vec();
        rng.shuffle(&mut colors);
        let some_sizes = |rng: &mut Rng| -> Vec<Option<&'static str>> {
            match rng.u32(0..4) {
                0 => vec![Some("S"), Some("M")],
                1 => vec![Some("M"), Some("L")],
                _ => vec![Some("S"), Some("M"), Some("L")],
            }
        };
        let (cols, sizes): (Vec<Option<&'static str>>, Vec<Option<&'static str>>) =
            match rng.u32(0..100) {
                0..25 => (vec![None], vec![None]),
                25..45 => (vec![None], some_sizes(rng)),
                45..60 => {
                    let k = rng.usize(2..=4);
                    (colors[..k].iter().map(|c| Some(*c)).collect(), vec![None])
                }
                _ => (
                    colors[..2].iter().map(|c| Some(*c)).collect(),
                    some_sizes(rng),
                ),
            };
        let mut variants = Vec::with_capacity(cols.len() * sizes.len());
        for c in &cols {
            for s in &sizes {
                let sku = match (c, s) {
                    (None, None) => code.clone(),
                    (Some(c), None) => format!("{code}-{}", c.to_uppercase()),
                    (None, Some(s)) => format!("{code}-{s}"),
                    (Some(c), Some(s)) => format!("{code}-{}-{s}", c.to_uppercase()),
                };
                let stock = if rng.u32(0..100) < 3 {
                    0
                } else if hot {
                    rng.i64(1..=5)
                } else {
                    rng.i64(4..=40)
                };
                variants.push(Variant {
                    sku,
                    color: *c,
                    size: *s,
                    stock0: stock,
                    pool: stock,
                    held: 0,
                    sold: 0,
                    res: Vec::new(),
                    waitlist: VecDeque::new(),
                    restock_planned: false,
                });
            }
        }
        products.push(Product {
            code,
            letters,
            digits,
            title: titles[products.len() % titles.len()],
            price,
            hot,
            has_color: cols[0].is_some(),
            has_size: sizes[0].is_some(),
            variants,
        });
    }
    let post = 1_000_000_000_000u64 + rng.u64(0..9_000_000_000_000);
    Show {
        num,
        slot,
        id: format!("show-{num:04}"),
        fb_post: post.to_string(),
        window_ms: [60, 75, 90, 105, 120][rng.usize(0..5)] * 1000,
        max_qty: 5,
        extra_kw: if rng.u32(0..100) < 20 {
            Some(EXTRA_KEYWORDS[rng.usize(0..EXTRA_KEYWORDS.len())])
        } else {
            None
        },
        products,
        active: None,
        shown: 0,
        last_activate: 0,
        base_rate: 50.0 + rng.f64() * 70.0,
        tap_rate: 0.3 + rng.f64() * 1.7,
        comment_clock: 0.0,
        tap_clock: 0.0,
        ended: false,
        pending: 0,
        res: Vec::new(),
        holding: HashMap::new(),
        waiting: HashMap::new(),
        bought: HashSet::new(),
        wait_seq: 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Comment texts
// ---------------------------------------------------------------------------------------------

/// What the viewer meant, as far as the simulation's model is concerned.
enum Intent {
    /// Chatter, questions, negations, unknown products: nothing for the model.
    Other,
    /// A claim that reads unambiguously as this sku and quantity.
    Claim { p: usize, v: usize, q: u32 },
    /// A claim the processor escalates; a moderator may answer it with this sku.
    Escalate { p: usize, v: usize, q: u32 },
    /// A cancel of the buyer's holds on a product (None: nothing to cancel).
    Cancel { p: Option<usize> },
}

/// The product a claim is about, and whether the text names its code.
fn pick_target(rng: &mut Rng, show: &Show) -> (usize, bool) {
    if let Some(a) = show.active
        && rng.u32(0..100) < 85
    {
        return (a, rng.u32(0..100) < 45);
    }
    let n = show.products.len();
    let p = if show.shown > 0 && rng.u32(0..100) < 75 {
        rng.usize(0..show.shown)
    } else {
        rng.usize(0..n)
    };
    (p, true)
}

fn code_form(rng: &mut Rng, prod: &Product) -> String {
    let single = prod.letters.len() == 1;
    match rng.u32(0..100) {
        0..40 => prod.code.clone(),
        40..60 => prod.code.to_lowercase(),
        60..68 => format!("#{}", prod.code),
        68..72 => format!("#{}", prod.code.to_lowercase()),
        72..82 => format!("{}-{}", prod.letters, prod.digits),
        82..86 => format!("{}-{}", prod.letters.to_lowercase(), prod.digits),
        _ if single => {
            let l = if rng.bool() {
                prod.letters.clone()
            } else {
                prod.letters.to_lowercase()
            };
            format!("{l} {}", prod.digits)
        }
        _ => prod.code.clone(),
    }
}

/// A size as viewers type it; the bool is false for spellings the grammar does not know.
fn size_form(rng: &mut Rng, s: &str) -> (String, bool) {
    let word = match s {
        "S" => "small",
        "M" => "medium",
        _ => "large",
    };
    match rng.u32(0..100) {
        0..35 => (s.to_string(), true),
        35..60 => (s.to_lowercase(), true),
        60..78 => (word.to_string(), true),
        78..88 => (capitalize(word), true),
        88..95 => (format!("size {s}"), true),
        _ => (["med", "sml", "lrg"][rng.usize(0..3)].to_string(), false),
    }
}

/// Mentions every option of variant `v`; the bool is false when a spelling is not recognised.
fn opts_form(rng: &mut Rng, prod: &Product, v: usize) -> (String, bool) {
    let var = &prod.variants[v];
    let mut parts = Vec::with_capacity(2);
    let mut ok = true;
    if let Some(c) = var.color {
        parts.push(match rng.u32(0..10) {
            0..7 => c.to_string(),
            7..9 => capitalize(c),
            _ => c.to_uppercase(),
        });
    }
    if let Some(s) = var.size {
        let (w, good) = size_form(rng, s);
        ok &= good;
        parts.push(w);
    }
    if parts.len() == 2 && rng.u32(0..4) == 0 {
        parts.swap(0, 1);
    }
    (parts.join(" "), ok)
}

/// Mentions only one option dimension of a colour × size product (ambiguous on purpose).
fn partial_opts(rng: &mut Rng, prod: &Product, v: usize) -> String {
    let var = &prod.variants[v];
    if rng.bool() {
        var.color.unwrap_or("").to_string()
    } else {
        size_form(rng, var.size.unwrap_or("M")).0
    }
}

fn qty_form(rng: &mut Rng, q: u32) -> String {
    if q == 1 {
        return if rng.u32(0..100) < 6 {
            "x1".into()
        } else {
            String::new()
        };
    }
    match rng.u32(0..100) {
        0..35 => format!("x{q}"),
        35..40 => format!("X{q}"),
        40..50 => format!("{q}x"),
        50..58 => format!("qty {q}"),
        58..63 => format!("qty{q}"),
        63..80 => format!("{q}pcs"),
        80..95 => format!("{q} pcs"),
        _ => format!("{q} PCS"),
    }
}

/// Joins non-empty pieces with spaces. A bare digits token right after a one-letter token would
/// read as a product code (`m 2 pcs` is `M2`), so such a quantity is written without its space.
fn join_pieces(pieces: &[&str]) -> String {
    let mut s = String::with_capacity(48);
    for piece in pieces.iter().filter(|p| !p.is_empty()) {
        let last_single = s
            .rsplit(' ')
            .next()
            .is_some_and(|w| w.len() == 1 && w.as_bytes()[0].is_ascii_alphabetic());
        let starts_digit = piece.as_bytes()[0].is_ascii_digit();
        if !s.is_empty() {
            s.push(' ');
        }
        if last_single && starts_digit && piece.contains(' ') {
            s.push_str(&piece.replace(' ', ""));
        } else {
            s.push_str(piece);
        }
    }
    s
}

fn decorate(rng: &mut Rng, text: String) -> String {
    let mut text = text;
    if rng.u32(0..100) < 10 {
        text = format!("{}{text}", pick(rng, &PREFIXES));
    }
    if rng.u32(0..100) < 25 {
        text.push_str(pick(rng, &SUFFIXES));
    }
    if rng.u32(0..100) < 4 {
        text = to_fullwidth(&text);
    }
    text
}

/// "SOLD A12 red M", "A 12 sold blue s", "mine x2", "#B7 mine", "claim K3 2pcs", "cf" …
fn proper_claim(rng: &mut Rng, show: &Show, kw_override: Option<&'static str>) -> (String, Intent) {
    let kw = kw_override.unwrap_or_else(|| pick_kw(rng));
    if show.active.is_none() && rng.u32(0..10) == 0 {
        // nothing is live yet: escalated as no_product
        return (decorate(rng, kw.to_string()), Intent::Other);
    }
    let (p, named) = pick_target(rng, show);
    let prod = &show.products[p];
    let v = rng.usize(0..prod.variants.len());
    let q = pick_qty(rng, show.max_qty);
    let mut clean = true;
    let opts = if prod.variants.len() > 1 {
        match rng.u32(0..100) {
            0..85 => {
                let (s, ok) = opts_form(rng, prod, v);
                clean &= ok;
                s
            }
            85..95 if prod.has_color && prod.has_size => {
                clean = false;
                partial_opts(rng, prod, v)
            }
            85..95 => {
                let (s, ok) = opts_form(rng, prod, v);
                clean &= ok;
                s
            }
            _ => {
                clean = false;
                String::new()
            }
        }
    } else {
        String::new()
    };
    let code = if named {
        code_form(rng, prod)
    } else {
        String::new()
    };
    let qty = qty_form(rng, q);
    let all: [&str; 4] = [kw, &code, &opts, &qty];
    const NAMED_ORDERS: [[usize; 4]; 6] = [
        [0, 1, 2, 3],
        [0, 1, 3, 2],
        [1, 0, 2, 3],
        [1, 2, 0, 3],
        [2, 0, 1, 3],
        [0, 2, 3, 1],
    ];
    const BARE_ORDERS: [[usize; 4]; 3] = [[0, 2, 3, 1], [2, 0, 3, 1], [0, 3, 2, 1]];
    let order = if named {
        NAMED_ORDERS[rng.usize(0..6)]
    } else {
        BARE_ORDERS[rng.usize(0..3)]
    };
    let pieces: Vec<&str> = order.iter().map(|&i| all[i]).collect();
    let text = decorate(rng, join_pieces(&pieces));
    if clean {
        (text, Intent::Claim { p, v, q })
    } else {
        (text, Intent::Escalate { p, v, q })
    }
}

/// A code one edit away from `prod.code` that is not on the run sheet.
fn typo_code(rng: &mut Rng, show: &Show, prod: &Product) -> Option<String> {
    let d = prod.digits.as_bytes();
    let cand = match rng.u32(0..3) {
        0 if d.len() >= 2 && d[0] != d[1] => {
            let mut swapped = prod.digits.clone().into_bytes();
            swapped.swap(0, 1);
            format!(
                "{}{}",
                prod.letters,
                String::from_utf8(swapped).unwrap_or_default()
            )
        }
        1 => {
            let l = prod.letters.as_bytes()[0];
            let mut n = if l >= b'Z' { b'Y' } else { l + 1 };
            if n == b'X' || n == b'I' || n == b'O' {
                n += 1;
            }
            format!("{}{}{}", n as char, &prod.letters[1..], prod.digits)
        }
        _ => format!("{}{}{}", prod.letters, prod.digits, d[d.len() - 1] as char),
    };
    if show.products.iter().any(|q| q.code == cand) {
        None
    } else {
        Some(cand)
    }
}

/// "sodl A12", "sold A21": the processor escalates these as fuzzy.
fn typo_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let (p, _) = pick_target(rng, show);
    let prod = &show.products[p];
    let v = rng.usize(0..prod.variants.len());
    let opts = if prod.variants.len() > 1 {
        opts_form(rng, prod, v).0
    } else {
        String::new()
    };
    if rng.bool() {
        let typo = pick(rng, &KEYWORD_TYPOS);
        let code = code_form(rng, prod);
        (
            join_pieces(&[typo, &code, &opts]),
            Intent::Escalate { p, v, q: 1 },
        )
    } else {
        match typo_code(rng, show, prod) {
            Some(tc) => {
                let kw = pick_kw(rng);
                (
                    join_pieces(&[kw, &tc, &opts]),
                    Intent::Escalate { p, v, q: 1 },
                )
            }
            None => proper_claim(rng, show, None),
        }
    }
}

fn fill_code(rng: &mut Rng, show: &Show, template: &str) -> String {
    let (p, _) = pick_target(rng, show);
    let prod = &show.products[p];
    let code = if rng.bool() {
        prod.code.clone()
    } else {
        code_form(rng, prod)
    };
    let size = ["S", "M", "L", "small", "medium", "large"][rng.usize(0..6)];
    template.replace("{C}", &code).replace("{S}", size)
}

fn multi_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let (p1, _) = pick_target(rng, show);
    let n = show.products.len();
    let p2 = (p1 + 1 + rng.usize(0..n - 1)) % n;
    let c1 = code_form(rng, &show.products[p1]);
    let c2 = code_form(rng, &show.products[p2]);
    let text = pick(rng, &MULTI)
        .replace("{C1}", &c1)
        .replace("{C2}", &c2)
        .replace("{K}", pick_kw(rng));
    let v = rng.usize(0..show.products[p1].variants.len());
    (decorate(rng, text), Intent::Escalate { p: p1, v, q: 1 })
}

fn cancel_text(rng: &mut Rng, show: &Show, target: Option<usize>) -> (String, Intent) {
    let named = match target {
        Some(p) => show.active != Some(p) || rng.bool(),
        None => show.active.is_none() || rng.u32(0..100) < 30,
    };
    if named {
        let p = target.unwrap_or_else(|| pick_target(rng, show).0);
        let code = code_form(rng, &show.products[p]);
        (
            pick(rng, &CANCEL_NAMED).replace("{C}", &code),
            Intent::Cancel { p: Some(p) },
        )
    } else {
        (
            pick(rng, &CANCEL_BARE).to_string(),
            Intent::Cancel { p: show.active },
        )
    }
}

/// "sold x9", "sold x2 x3", "mine 10pcs": escalated for the quantity.
fn qty_problem(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let (p, named) = pick_target(rng, show);
    let prod = &show.products[p];
    let v = rng.usize(0..prod.variants.len());
    let opts = if prod.variants.len() > 1 {
        opts_form(rng, prod, v).0
    } else {
        String::new()
    };
    let code = if named {
        code_form(rng, prod)
    } else {
        String::new()
    };
    let over = show.max_qty + 1;
    let q = match rng.u32(0..4) {
        0 => format!("x{}", rng.u32(over..=over + 7)),
        1 => format!("{}pcs", rng.u32(over..=20)),
        2 => "x2 x3".to_string(),
        _ => format!("qty {}", rng.u32(10..=100)),
    };
    let kw = pick_kw(rng);
    (
        join_pieces(&[kw, &code, &opts, &q]),
        Intent::Escalate {
            p,
            v,
            q: rng.u32(1..=3),
        },
    )
}

fn unknown_product(rng: &mut Rng) -> String {
    let fake = format!(
        "{}{}",
        ["Z", "Y", "W", "V"][rng.usize(0..4)],
        rng.u32(50..=99)
    );
    pick(rng, &UNKNOWN).replace("{F}", &fake)
}

fn chatter(rng: &mut Rng, show: &Show) -> String {
    let t = pick(rng, &CHATTER);
    let mut s = t.to_string();
    if s.contains("{C}") {
        let p = show
            .active
            .unwrap_or_else(|| rng.usize(0..show.products.len()));
        s = s.replace("{C}", &show.products[p].code);
    }
    if s.contains("{P}") {
        s = s.replace("{P}", pick(rng, &PLACES));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------------

enum StockChange {
    Set(i64),
    Delta(i64),
}

struct OrderLine {
    order_id: Id,
    platform: u8,
    user: u32,
    p: usize,
    v: usize,
    qty: u32,
    amount: i64,
    reservation_id: Option<String>,
}

struct Moderation {
    escalation_id: String,
    platform: u8,
    user: u32,
    claim_key: String,
    p: usize,
    v: usize,
    q: u32,
    accept: bool,
    /// A second answer or an answer to something never escalated: no effect on the model.
    idle: bool,
}

enum Act {
    StartShow {
        slot: u32,
    },
    Activate {
        p: usize,
    },
    Flash {
        p: usize,
    },
    RestorePrice {
        p: usize,
        price: i64,
    },
    EndSegment {
        p: usize,
    },
    EndShow,
    Comment,
    Tap,
    Expire {
        res: u32,
    },
    Pay {
        res: u32,
    },
    Refund(Box<OrderLine>),
    Moderate(Box<Moderation>),
    Stock {
        p: usize,
        v: usize,
        change: StockChange,
    },
}

struct Sched {
    t: i64,
    seq: u64,
    show: u32,
    act: Act,
}
impl PartialEq for Sched {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Sched {}
impl PartialOrd for Sched {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Sched {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.t, self.seq).cmp(&(o.t, o.seq))
    }
}

struct Line {
    arrival: i64,
    seq: u64,
    text: String,
}
impl PartialEq for Line {
    fn eq(&self, o: &Self) -> bool {
        (self.arrival, self.seq) == (o.arrival, o.seq)
    }
}
impl Eq for Line {}
impl PartialOrd for Line {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Line {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.arrival, self.seq).cmp(&(o.arrival, o.seq))
    }
}

struct Gen<'a> {
    rng: Rng,
    target: u64,
    agenda: BinaryHeap<Reverse<Sched>>,
    sched_seq: u64,
    shows: HashMap<u32, Show>,
    shows_started: u32,
    comment_seq: [u64; 6],
    request_seq: u64,
    order_seq: u64,
    /// Reorder buffer: lines not yet written, by arrival time.
    reorder: BinaryHeap<Reverse<Line>>,
    line_seq: u64,
    pushed: u64,
    written: u64,
    buf: Vec<u8>,
    spare: Vec<String>,
    out: &'a mut dyn Write,
    progress: &'a mut dyn FnMut(u64),
}

impl<'a> Gen<'a> {
    fn new(cfg: &GenConfig, out: &'a mut dyn Write, progress: &'a mut dyn FnMut(u64)) -> Self {
        let mut g = Gen {
            rng: Rng::with_seed(cfg.seed),
            target: cfg.events,
            agenda: BinaryHeap::new(),
            sched_seq: 0,
            shows: HashMap::new(),
            shows_started: 0,
            comment_seq: [0; 6],
            request_seq: 0,
            order_seq: 0,
            reorder: BinaryHeap::new(),
            line_seq: 0,
            pushed: 0,
            written: 0,
            buf: Vec::with_capacity(1 << 17),
            spare: Vec::new(),
            out,
            progress,
        };
        for slot in 0..cfg.sessions.max(1) {
            let t = if slot == 0 {
                cfg.start_ms
            } else {
                cfg.start_ms + g.rng.i64(0..=20_000)
            };
            g.push_sched(t, 0, Act::StartShow { slot });
        }
        g
    }

    fn run(mut self) -> io::Result<u64> {
        while let Some(Reverse(s)) = self.agenda.pop() {
            if self.pushed >= self.target {
                break;
            }
            // Everything still to come happens at or after s.t, is stamped at most 999 ms
            // earlier (whole-second platforms) and arrives after its stamp.
            self.flush_before(s.t - 1000)?;
            self.handle(s);
        }
        self.flush_before(i64::MAX)?;
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.out.flush()?;
        if !self.written.is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(self.written);
        }
        Ok(self.written)
    }

    fn flush_before(&mut self, limit: i64) -> io::Result<()> {
        while self.reorder.peek().is_some_and(|l| l.0.arrival < limit) {
            let Some(Reverse(line)) = self.reorder.pop() else {
                break;
            };
            let mut text = line.text;
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.push(b'\n');
            self.written += 1;
            if self.buf.len() >= 1 << 16 {
                self.out.write_all(&self.buf)?;
                self.buf.clear();
            }
            if self.written.is_multiple_of(PROGRESS_EVERY) {
                (self.progress)(self.written);
            }
            if self.spare.len() < 4096 {
                text.clear();
                self.spare.push(text);
            }
        }
        Ok(())
    }

    fn push_sched(&mut self, t: i64, show: u32, act: Act) {
        self.sched_seq += 1;
        self.agenda.push(Reverse(Sched {
            t,
            seq: self.sched_seq,
            show,
            act,
        }));
    }

    fn schedule(&mut self, show: &mut Show, t: i64, act: Act) {
        show.pending += 1;
        self.push_sched(t, show.num, act);
    }

    fn handle(&mut self, s: Sched) {
        if let Act::StartShow { slot } = s.act {
            self.start_show(s.t, slot);
            return;
        }
        let Some(mut show) = self.shows.remove(&s.show) else {
            return;
        };
        show.pending -= 1;
        let t = s.t;
        match s.act {
            Act::StartShow { .. } => {}
            Act::Activate { p } => self.activate(&mut show, t, p),
            Act::Flash { p } => self.flash(&mut show, t, p),
            Act::RestorePrice { p, price } => {
                if show.active == Some(p) {
                    show.products[p].price = price;
                    self.emit_price(&show, t, p);
                }
            }
            Act::EndSegment { p } => self.end_segment(&mut show, t, p),
            Act::EndShow => {
                show.ended = true;
                let at = t + self.rng.i64(5_000..=60_000);
                self.push_sched(at, 0, Act::StartShow { slot: show.slot });
            }
            Act::Comment => self.comment(&mut show, t),
            Act::Tap => self.tap(&mut show, t),
            Act::Expire { res } => self.expire(&mut show, t, res),
            Act::Pay { res } => self.pay(&mut show, t, res),
            Act::Refund(order) => self.refund(&mut show, t, *order),
            Act::Moderate(m) => self.moderate(&mut show, t, *m),
            Act::Stock { p, v, change } => self.stock(&mut show, t, p, v, change),
        }
        if !(show.ended && show.pending == 0) {
            self.shows.insert(show.num, show);
        }
    }

    // --- line building ---------------------------------------------------------------------

    fn arrival(&mut self, t: i64, stamped_ms: i64, (lo, hi): (i64, i64)) -> i64 {
        (stamped_ms + self.rng.i64(lo..=hi))
            .max(t + 15)
            .min(stamped_ms + MAX_DELAY_MS)
    }

    fn begin(&mut self, ty: &str, session: &str, ts_us: i64, style: Style) -> String {
        let mut b = self
            .spare
            .pop()
            .unwrap_or_else(|| String::with_capacity(256));
        b.push_str("{\"type\":\"");
        b.push_str(ty);
        b.push_str("\",\"session_id\":");
        json_str(&mut b, session);
        b.push_str(",\"ts\":");
        push_ts(&mut b, ts_us, style);
        b
    }

    /// A backend event (director, stock, order, moderation, reserve) stamped in milliseconds.
    fn begin_backend(
        &mut self,
        ty: &str,
        session: &str,
        t: i64,
        delay: (i64, i64),
    ) -> (String, i64) {
        let arrival = self.arrival(t, t, delay);
        (self.begin(ty, session, t * 1000, Style::Millis), arrival)
    }

    fn finish(&mut self, mut b: String, arrival: i64) {
        b.push('}');
        self.line_seq += 1;
        self.pushed += 1;
        self.reorder.push(Reverse(Line {
            arrival,
            seq: self.line_seq,
            text: b,
        }));
    }

    fn emit_product(&mut self, show: &Show, t: i64, p: usize) {
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        let prod = &show.products[p];
        b.push_str(",\"action\":\"product\"");
        kv_str(&mut b, "code", &prod.code);
        kv_str(&mut b, "title", prod.title);
        kv_int(&mut b, "price_cents", prod.price);
        kv_str(&mut b, "currency", "USD");
        b.push_str(",\"variants\":[");
        for (i, var) in prod.variants.iter().enumerate() {
            if i > 0 {
                b.push(',');
            }
            b.push_str("{\"sku\":");
            json_str(&mut b, &var.sku);
            if var.color.is_some() || var.size.is_some() || self.rng.bool() {
                b.push_str(",\"options\":{");
                let mut first = true;
                if let Some(c) = var.color {
                    b.push_str("\"color\":");
                    json_str(&mut b, c);
                    first = false;
                }
                if let Some(s) = var.size {
                    if !first {
                        b.push(',');
                    }
                    b.push_str("\"size\":");
                    json_str(&mut b, s);
                }
                b.push('}');
            }
            kv_int(&mut b, "stock", var.stock0);
            b.push('}');
        }
        b.push(']');
        self.finish(b, arr);
    }

    fn emit_director(&mut self, show: &Show, t: i64, action: &str, code: Option<&str>) {
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        kv_str(&mut b, "action", action);
        if let Some(c) = code {
            kv_str(&mut b, "code", c);
        }
        self.finish(b, arr);
    }

    fn emit_price(&mut self, show: &Show, t: i64, p: usize) {
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        kv_str(&mut b, "action", "price");
        kv_str(&mut b, "code", &show.products[p].code);
        kv_int(&mut b, "price_cents", show.products[p].price);
        self.finish(b, arr);
    }

    fn emit_order(&mut self, show: &Show, t: i64, o: &OrderLine, status: &str) {
        let (mut b, arr) = self.begin_backend("order", &show.id, t, ORDER_DELAY);
        kv_id(&mut b, "order_id", &o.order_id);
        kv_str(&mut b, "platform", PLATFORMS[o.platform as usize]);
        kv_id(&mut b, "user_id", &user_id(o.platform, o.user));
        kv_str(&mut b, "sku", &show.products[o.p].variants[o.v].sku);
        kv_int(&mut b, "qty", o.qty as i64);
        kv_int(&mut b, "amount_cents", o.amount);
        kv_str(&mut b, "status", status);
        if let Some(r) = &o.reservation_id {
            kv_str(&mut b, "reservation_id", r);
        }
        self.finish(b, arr);
    }

    fn next_order_id(&mut self) -> Id {
        self.order_seq += 1;
        let n = self.order_seq;
        match self.rng.u32(0..3) {
            0 => Id::Int(5_100_000_000 + n),
            1 => Id::Str(format!("ord-{n:07}")),
            _ => Id::Str(format!("#{}", 100_000 + n)),
        }
    }

    // --- the run sheet ---------------------------------------------------------------------

    fn start_show(&mut self, t: i64, slot: u32) {
        self.shows_started += 1;
        let num = self.shows_started;
        let mut show = build_show(&mut self.rng, num, slot);
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        b.push_str(",\"action\":\"config\"");
        kv_int(&mut b, "reservation_window_s", show.window_ms / 1000);
        kv_int(&mut b, "max_qty", show.max_qty as i64);
        if let Some((claim, cancel)) = show.extra_kw {
            b.push_str(",\"claim_keywords\":[");
            json_str(&mut b, claim);
            b.push_str("],\"cancel_keywords\":[");
            json_str(&mut b, cancel);
            b.push(']');
        }
        self.finish(b, arr);
        for p in 0..show.products.len() {
            self.emit_product(&show, t + 1 + p as i64, p);
        }
        // the warehouse corrects a few counts before the show starts
        let mut k = 0;
        for p in 0..show.products.len() {
            for v in 0..show.products[p].variants.len() {
                if self.rng.u32(0..100) < 8 {
                    let n = show.products[p].variants[v].stock0 + self.rng.i64(0..=3);
                    k += 1;
                    self.schedule(
                        &mut show,
                        t + 200 + k,
                        Act::Stock {
                            p,
                            v,
                            change: StockChange::Set(n),
                        },
                    );
                }
            }
        }
        let first = t + self.rng.i64(3_000..=10_000);
        self.schedule(&mut show, first, Act::Activate { p: 0 });
        show.comment_clock = (t + 300) as f64;
        self.schedule(&mut show, t + 300, Act::Comment);
        show.tap_clock = (t + 1000) as f64;
        self.schedule(&mut show, t + 1000, Act::Tap);
        self.shows.insert(num, show);
    }

    fn activate(&mut self, show: &mut Show, t: i64, p: usize) {
        if show.ended {
            return;
        }
        if self.rng.u32(0..100) < 5 {
            // the producer re-sends the run-sheet entry with a corrected price
            let prod = &mut show.products[p];
            prod.price = (prod.price / 100 + self.rng.i64(-3..=3)).max(5) * 100 + 99;
            self.emit_product(show, t, p);
        }
        let code = show.products[p].code.clone();
        self.emit_director(show, t + 1, "activate", Some(&code));
        show.active = Some(p);
        show.shown = show.shown.max(p + 1);
        show.last_activate = t + 1;
        let hot = show.products[p].hot;
        let dur = if hot {
            self.rng.i64(20_000..=60_000)
        } else {
            self.rng.i64(30_000..=120_000)
        };
        self.schedule(show, t + 1 + dur, Act::EndSegment { p });
        if self.rng.u32(0..100) < 15 {
            let at = t + 1 + dur * self.rng.i64(30..=70) / 100;
            self.schedule(show, at, Act::Flash { p });
        }
        if self.rng.u32(0..100) < 12 {
            let v = self.rng.usize(0..show.products[p].variants.len());
            let pool = show.products[p].variants[v].pool;
            let change = match self.rng.u32(0..10) {
                0..4 if pool > 0 => StockChange::Delta(-1),
                0..7 => StockChange::Set((pool + self.rng.i64(0..=3)).max(0)),
                _ => StockChange::Delta(self.rng.i64(1..=10)),
            };
            let at = t + self.rng.i64(2_000..=dur.min(30_000));
            self.schedule(show, at, Act::Stock { p, v, change });
        }
    }

    fn flash(&mut self, show: &mut Show, t: i64, p: usize) {
        if show.active != Some(p) {
            return;
        }
        let old = show.products[p].price;
        let c = old * self.rng.i64(60..=85) / 100;
        let new = if c >= 199 {
            c / 100 * 100 - 1
        } else {
            c.max(99)
        };
        show.products[p].price = new;
        self.emit_price(show, t, p);
        if self.rng.bool() {
            let at = t + self.rng.i64(8_000..=20_000);
            self.schedule(show, at, Act::RestorePrice { p, price: old });
        }
    }

    fn end_segment(&mut self, show: &mut Show, t: i64, p: usize) {
        if show.active != Some(p) {
            return;
        }
        let next = p + 1;
        if next < show.products.len() {
            if self.rng.u32(0..100) < 30 {
                self.emit_director(show, t, "deactivate", None);
                show.active = None;
                let at = t + self.rng.i64(3_000..=12_000);
                self.schedule(show, at, Act::Activate { p: next });
            } else {
                let at = t + self.rng.i64(300..=1_500);
                self.schedule(show, at, Act::Activate { p: next });
            }
        } else {
            self.emit_director(show, t, "deactivate", None);
            show.active = None;
            let at = t + self.rng.i64(10_000..=40_000);
            self.schedule(show, at, Act::EndShow);
        }
    }

    // --- viewers ---------------------------------------------------------------------------

    fn comment(&mut self, show: &mut Show, t: i64) {
        if show.ended {
            return;
        }
        let rate = show.base_rate * show.rate_mult(t);
        show.comment_clock =
            show.comment_clock.max(t as f64) - (1.0 - self.rng.f64()).ln() / rate * 1000.0;
        let next = (show.comment_clock as i64).max(t);
        self.schedule(show, next, Act::Comment);

        let rng = &mut self.rng;
        let mut pl = pick_platform(rng);
        let mut user = pick_user(rng, pl);
        let p_claim = match show.active {
            Some(a) => {
                let base = if show.products[a].hot { 0.62 } else { 0.48 };
                base + if t - show.last_activate < 6_000 {
                    0.12
                } else {
                    0.0
                }
            }
            None => 0.18,
        };
        let (text, intent) = if rng.f64() < p_claim {
            match rng.u32(0..1000) {
                0..700 => proper_claim(rng, show, None),
                700..750 => typo_claim(rng, show),
                750..810 => {
                    let template = pick(rng, &QUESTIONS);
                    let q = fill_code(rng, show, template);
                    (decorate(rng, q), Intent::Other)
                }
                810..840 => {
                    let template = pick(rng, &NEGATIONS);
                    (fill_code(rng, show, template), Intent::Other)
                }
                840..870 => multi_claim(rng, show),
                870..930 => {
                    // usually someone who holds something changes their mind
                    let mut target = None;
                    if !show.res.is_empty() && rng.u32(0..100) < 60 {
                        let lo = show.res.len().saturating_sub(300);
                        let r = &show.res[rng.usize(lo..show.res.len())];
                        if r.state == ResState::Live && r.platform != WEB {
                            pl = r.platform;
                            user = r.user;
                            target = Some(r.p as usize);
                        }
                    }
                    cancel_text(rng, show, target)
                }
                930..950 => qty_problem(rng, show),
                950..970 => (unknown_product(rng), Intent::Other),
                _ => match show.extra_kw {
                    Some((kw, _)) => proper_claim(rng, show, Some(kw)),
                    None => proper_claim(rng, show, None),
                },
            }
        } else {
            (chatter(rng, show), Intent::Other)
        };

        self.comment_seq[pl as usize] += 1;
        let cid = comment_id(pl, self.comment_seq[pl as usize], &show.fb_post);
        let style = STYLE_OF[pl as usize];
        let ts_us = match style {
            Style::SecondsOffset | Style::SecondsZ => t.div_euclid(1000) * 1_000_000,
            Style::Micros => t * 1000 + self.rng.i64(0..1000),
            _ => t * 1000,
        };
        let arr = self.arrival(t, ts_us.div_euclid(1000), COMMENT_DELAY[pl as usize]);
        let mut b = self.begin("comment", &show.id, ts_us, style);
        kv_str(&mut b, "platform", PLATFORMS[pl as usize]);
        kv_id(&mut b, "comment_id", &cid);
        kv_id(&mut b, "user_id", &user_id(pl, user));
        if let Some(name) = user_name(pl, user) {
            kv_str(&mut b, "user_name", &name);
        }
        kv_str(&mut b, "text", &text);
        self.finish(b, arr);

        match intent {
            Intent::Claim { p, v, q } => {
                let key = claim_key(pl, &cid);
                self.try_claim(show, t, pl, user, key, p, v, q);
            }
            Intent::Escalate { p, v, q } => {
                if self.rng.u32(0..100) < 12 {
                    let key = claim_key(pl, &cid);
                    let m = Moderation {
                        escalation_id: format!("esc:{key}"),
                        platform: pl,
                        user,
                        claim_key: key,
                        p,
                        v,
                        q,
                        accept: self.rng.u32(0..100) < 70,
                        idle: false,
                    };
                    let at = t + self.rng.i64(4_000..=40_000);
                    self.schedule(show, at, Act::Moderate(Box::new(m)));
                }
            }
            Intent::Cancel { p } => self.cancel(show, t, pl, user, p),
            Intent::Other => {
                if self.rng.u32(0..1000) < 2 {
                    // a moderator taps "reject" on a comment that was never escalated
                    let key = claim_key(pl, &cid);
                    let m = Moderation {
                        escalation_id: format!("esc:{key}"),
                        platform: pl,
                        user,
                        claim_key: key,
                        p: 0,
                        v: 0,
                        q: 1,
                        accept: false,
                        idle: true,
                    };
                    let at = t + self.rng.i64(4_000..=30_000);
                    self.schedule(show, at, Act::Moderate(Box::new(m)));
                }
            }
        }
    }

    /// Web-store taps: `reserve` requests, and now and then an order with no reservation.
    fn tap(&mut self, show: &mut Show, t: i64) {
        if show.ended {
            return;
        }
        let Some(a) = show.active else {
            show.tap_clock = (t + 1000) as f64;
            self.schedule(show, t + 1000, Act::Tap);
            return;
        };
        let rate = show.tap_rate * show.rate_mult(t);
        show.tap_clock = show.tap_clock.max(t as f64) - (1.0 - self.rng.f64()).ln() / rate * 1000.0;
        let next = (show.tap_clock as i64).max(t);
        self.schedule(show, next, Act::Tap);

        let v = self.rng.usize(0..show.products[a].variants.len());
        let user = pick_user(&mut self.rng, WEB);
        let q = match self.rng.u32(0..100) {
            0..85 => 1,
            85..97 => 2,
            _ => 3,
        };
        if self.rng.u32(0..100) < 3 {
            let key = buyer_key(WEB, user, a, v);
            show.products[a].variants[v].sold += q as i64;
            show.bought.insert(key);
            let order = OrderLine {
                order_id: self.next_order_id(),
                platform: WEB,
                user,
                p: a,
                v,
                qty: q,
                amount: q as i64 * show.products[a].price,
                reservation_id: None,
            };
            self.emit_order(show, t, &order, "paid");
            return;
        }
        self.request_seq += 1;
        let n = self.request_seq;
        let rid = if self.rng.u32(0..100) < 70 {
            Id::Str(format!("tap_{:016x}", mix(n)))
        } else {
            Id::Int(900_000_000 + n)
        };
        let (mut b, arr) = self.begin_backend("reserve", &show.id, t, RESERVE_DELAY);
        kv_id(&mut b, "request_id", &rid);
        kv_str(&mut b, "platform", "web");
        kv_id(&mut b, "user_id", &user_id(WEB, user));
        kv_str(&mut b, "sku", &show.products[a].variants[v].sku);
        kv_int(&mut b, "qty", q as i64);
        self.finish(b, arr);
        let key = format!("req:{}", rid.text());
        self.try_claim(show, t, WEB, user, key, a, v, q);
    }

    // --- the allocation model --------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn try_claim(
        &mut self,
        show: &mut Show,
        t: i64,
        pl: u8,
        user: u32,
        claim_key: String,
        p: usize,
        v: usize,
        q: u32,
    ) {
        let key = buyer_key(pl, user, p, v);
        if show.holding.contains_key(&key)
            || show.waiting.contains_key(&key)
            || show.bought.contains(&key)
        {
            return; // duplicate_claim
        }
        if q as i64 <= show.products[p].variants[v].available() {
            self.create_res(show, t, pl, user, claim_key, p, v, q);
        } else {
            let var = &mut show.products[p].variants[v];
            if var.waitlist.len() < WAITLIST_CAP {
                show.wait_seq += 1;
                let id = show.wait_seq;
                var.waitlist.push_back(Wait {
                    id,
                    key,
                    platform: pl,
                    user,
                    qty: q,
                    claim_key,
                });
                show.waiting.insert(key, id);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn create_res(
        &mut self,
        show: &mut Show,
        t: i64,
        pl: u8,
        user: u32,
        claim_key: String,
        p: usize,
        v: usize,
        q: u32,
    ) {
        let idx = show.res.len() as u32;
        let unit = show.products[p].price;
        show.res.push(Res {
            claim_key,
            platform: pl,
            user,
            p: p as u16,
            v: v as u16,
            qty: q,
            unit,
            state: ResState::Live,
        });
        show.holding.insert(buyer_key(pl, user, p, v), idx);
        let hot = show.products[p].hot;
        let var = &mut show.products[p].variants[v];
        var.held += q as i64;
        var.res.push(idx);
        let restock =
            var.available() <= 0 && hot && !var.restock_planned && self.rng.u32(0..100) < 30;
        if restock {
            var.restock_planned = true;
        }
        let window = show.window_ms;
        self.schedule(show, t + window, Act::Expire { res: idx });
        let pay_at = match self.rng.u32(0..100) {
            0..72 => Some(t + self.rng.i64(4_000..=(window - 3_000).clamp(5_000, 50_000))),
            72..85 => Some(t + window + self.rng.i64(1_000..=45_000)),
            _ => None,
        };
        if let Some(at) = pay_at {
            self.schedule(show, at, Act::Pay { res: idx });
        }
        if restock {
            let d = self.rng.i64(1..=5);
            let at = t + self.rng.i64(5_000..=30_000);
            self.schedule(
                show,
                at,
                Act::Stock {
                    p,
                    v,
                    change: StockChange::Delta(d),
                },
            );
        }
    }

    /// Units came back: promote waitlisted buyers whose quantity fits, in order.
    fn release(&mut self, show: &mut Show, t: i64, p: usize, v: usize) {
        {
            let var = &show.products[p].variants[v];
            if var.available() <= 0 || var.waitlist.is_empty() {
                return;
            }
        }
        let mut wl = std::mem::take(&mut show.products[p].variants[v].waitlist);
        let mut skipped = Vec::new();
        while show.products[p].variants[v].available() > 0 {
            let Some(w) = wl.pop_front() else { break };
            if show.waiting.get(&w.key) != Some(&w.id) {
                continue; // cancelled while waiting
            }
            if w.qty as i64 <= show.products[p].variants[v].available() {
                show.waiting.remove(&w.key);
                self.create_res(show, t, w.platform, w.user, w.claim_key, p, v, w.qty);
            } else {
                skipped.push(w);
            }
        }
        for w in skipped.into_iter().rev() {
            wl.push_front(w);
        }
        show.products[p].variants[v].waitlist = wl;
    }

    fn expire(&mut self, show: &mut Show, t: i64, idx: u32) {
        let r = &mut show.res[idx as usize];
        if r.state != ResState::Live {
            return;
        }
        r.state = ResState::Expired;
        let (p, v, q) = (r.p as usize, r.v as usize, r.qty);
        show.holding.remove(&buyer_key(r.platform, r.user, p, v));
        show.products[p].variants[v].held -= q as i64;
        self.release(show, t, p, v);
    }

    fn cancel(&mut self, show: &mut Show, t: i64, pl: u8, user: u32, p: Option<usize>) {
        let Some(p) = p else { return };
        for v in 0..show.products[p].variants.len() {
            let key = buyer_key(pl, user, p, v);
            show.waiting.remove(&key);
            if let Some(idx) = show.holding.remove(&key) {
                let r = &mut show.res[idx as usize];
                r.state = ResState::Cancelled;
                show.products[p].variants[v].held -= r.qty as i64;
                self.release(show, t, p, v);
            }
        }
    }

    fn pay(&mut self, show: &mut Show, t: i64, idx: u32) {
        let r = &show.res[idx as usize];
        let (pl, user, p, v, q, unit, state) = (
            r.platform,
            r.user,
            r.p as usize,
            r.v as usize,
            r.qty,
            r.unit,
            r.state,
        );
        let key = buyer_key(pl, user, p, v);
        match state {
            ResState::Live => {
                show.holding.remove(&key);
                let var = &mut show.products[p].variants[v];
                var.held -= q as i64;
                var.sold += q as i64;
            }
            // paid after the hold ran out: a direct sale, or an oversell when it is gone
            ResState::Expired => show.products[p].variants[v].sold += q as i64,
            // most people whose hold was taken away do not pay; a few had already checked out
            ResState::Cancelled | ResState::Revoked => {
                if self.rng.u32(0..100) >= 10 {
                    return;
                }
                show.products[p].variants[v].sold += q as i64;
            }
            ResState::Converted => return,
        }
        show.res[idx as usize].state = ResState::Converted;
        show.bought.insert(key);
        let reservation_id = (self.rng.u32(0..100) < 85)
            .then(|| format!("res:{}", show.res[idx as usize].claim_key));
        let order = OrderLine {
            order_id: self.next_order_id(),
            platform: pl,
            user,
            p,
            v,
            qty: q,
            amount: q as i64 * unit,
            reservation_id,
        };
        self.emit_order(show, t, &order, "paid");
        if self.rng.u32(0..100) < 3 {
            let at = t + self.rng.i64(30_000..=300_000);
            self.schedule(show, at, Act::Refund(Box::new(order)));
        }
    }

    fn refund(&mut self, show: &mut Show, t: i64, order: OrderLine) {
        self.emit_order(show, t, &order, "refunded");
        let var = &mut show.products[order.p].variants[order.v];
        var.sold -= order.qty as i64;
        var.pool -= order.qty as i64;
    }

    fn moderate(&mut self, show: &mut Show, t: i64, m: Moderation) {
        let (mut b, arr) = self.begin_backend("moderation", &show.id, t, MODERATION_DELAY);
        kv_str(&mut b, "escalation_id", &m.escalation_id);
        if m.accept {
            kv_str(&mut b, "decision", "accept");
            kv_str(&mut b, "sku", &show.products[m.p].variants[m.v].sku);
            kv_int(&mut b, "qty", m.q as i64);
        } else {
            kv_str(&mut b, "decision", "reject");
        }
        self.finish(b, arr);
        if m.idle {
            return;
        }
        if self.rng.u32(0..100) < 5 {
            // a second moderator answers the other way a little later: too late, counted only
            let second = Moderation {
                escalation_id: m.escalation_id.clone(),
                platform: m.platform,
                user: m.user,
                claim_key: m.claim_key.clone(),
                p: m.p,
                v: m.v,
                q: m.q,
                accept: !m.accept,
                idle: true,
            };
            let at = t + self.rng.i64(2_000..=20_000);
            self.schedule(show, at, Act::Moderate(Box::new(second)));
        }
        if m.accept {
            self.try_claim(show, t, m.platform, m.user, m.claim_key, m.p, m.v, m.q);
        }
    }

    fn stock(&mut self, show: &mut Show, t: i64, p: usize, v: usize, change: StockChange) {
        let (mut b, arr) = self.begin_backend("stock", &show.id, t, STOCK_DELAY);
        kv_str(&mut b, "sku", &show.products[p].variants[v].sku);
        match change {
            StockChange::Set(n) => kv_int(&mut b, "set", n),
            StockChange::Delta(d) => kv_int(&mut b, "delta", d),
        }
        self.finish(b, arr);
        let var = &mut show.products[p].variants[v];
        let before = var.pool;
        match change {
            StockChange::Set(n) => var.pool = n,
            StockChange::Delta(d) => var.pool += d,
        }
        // a shortfall revokes the newest holds first
        let mut i = var.res.len();
        while i > 0 && var.pool < var.held + var.sold {
            i -= 1;
            let r = &mut show.res[var.res[i] as usize];
            if r.state == ResState::Live {
                r.state = ResState::Revoked;
                var.held -= r.qty as i64;
                show.holding.remove(&buyer_key(r.platform, r.user, p, v));
            }
        }
        if show.products[p].variants[v].pool > before {
            self.release(show, t, p, v);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{HashMap, HashSet};

    fn run(cfg: &GenConfig) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let n = generate(cfg, &mut out, &mut |_| {}).expect("generate");
        (out, n)
    }

    fn cfg(seed: u64, events: u64, sessions: u32) -> GenConfig {
        GenConfig {
            seed,
            events,
            sessions,
            ..GenConfig::default()
        }
    }

    fn lines(out: &[u8]) -> Vec<Value> {
        std::str::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Epoch ms of the `ts` formats the generator emits (sub-millisecond digits truncated).
    fn ts_ms(v: &Value) -> i64 {
        if let Some(n) = v.as_i64() {
            return n;
        }
        let s = v
            .as_str()
            .unwrap_or_else(|| panic!("ts is neither string nor integer: {v}"));
        let b = s.as_bytes();
        assert!(
            b.len() >= 20
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b'T'
                && b[13] == b':'
                && b[16] == b':',
            "{s}"
        );
        let num = |r: std::ops::Range<usize>| -> i64 {
            s[r].parse::<i64>().unwrap_or_else(|_| panic!("{s}"))
        };
        let days = days_from_civil(num(0..4), num(5..7) as u32, num(8..10) as u32);
        let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
        let mut i = 19;
        let mut ms = 0;
        if b[i] == b'.' {
            i += 1;
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            assert!(i - st == 3 || i - st == 6, "{s}");
            ms = num(st..st + 3);
        }
        assert!(matches!(&s[i..], "Z" | "+0000" | "+00:00"), "{s}");
        secs * 1000 + ms
    }

    fn id_text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_u64() => n.to_string(),
            _ => panic!("id must be a string or an integer: {v}"),
        }
    }

    #[test]
    fn default_config_is_the_show_night() {
        let c = GenConfig::default();
        assert_eq!(c.start_ms, 1_795_291_200_000);
        assert_eq!((c.seed, c.events, c.sessions), (42, 10_000, 1));
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 21)),
            (2026, 11, 21)
        );
        for d in [-800_000, -1, 0, 59, 60, 365, 11_016, 20_778, 100_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn timestamps_are_formatted_per_platform() {
        let us = 1_795_292_103_123_456; // 2026-11-21T20:15:03.123456Z
        let f = |style| {
            let mut b = String::new();
            push_ts(&mut b, us, style);
            b
        };
        assert_eq!(f(Style::EpochMillis), "1795292103123");
        assert_eq!(f(Style::SecondsOffset), "\"2026-11-21T20:15:03+0000\"");
        assert_eq!(f(Style::SecondsZ), "\"2026-11-21T20:15:03Z\"");
        assert_eq!(f(Style::Micros), "\"2026-11-21T20:15:03.123456Z\"");
        assert_eq!(f(Style::MillisOffset), "\"2026-11-21T20:15:03.123+00:00\"");
        assert_eq!(f(Style::Millis), "\"2026-11-21T20:15:03.123Z\"");
    }

    #[test]
    fn json_strings_are_escaped() {
        let nasty = "say \"hi\"\\ \n\t\r\u{1}¯\\_(ツ)_/¯ ＳＯＬＤ";
        let mut b = String::new();
        json_str(&mut b, nasty);
        assert_eq!(serde_json::from_str::<String>(&b).unwrap(), nasty);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (a, na) = run(&cfg(7, 20_000, 2));
        let (b, nb) = run(&cfg(7, 20_000, 2));
        assert_eq!(na, nb);
        assert!(a == b, "same seed must give the same bytes");
        let (c, _) = run(&cfg(8, 20_000, 2));
        assert!(a != c, "another seed gives another show");
    }

    #[test]
    fn writes_at_least_the_requested_events() {
        for n in [0u64, 1, 500, 12_345] {
            let (out, written) = run(&cfg(3, n, 1));
            let count = out.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count() as u64;
            assert_eq!(count, written);
            assert!(written >= n, "{written} < {n}");
            assert!(written <= n + 2_000, "{written} is far more than {n}");
            if n == 0 {
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn progress_every_65536_lines() {
        let mut calls = Vec::new();
        let mut out = std::io::sink();
        let n = generate(&cfg(5, 140_000, 2), &mut out, &mut |k| calls.push(k)).unwrap();
        assert!(n >= 140_000);
        assert_eq!(&calls[..2], &[65_536, 131_072]);
        assert_eq!(*calls.last().unwrap(), n);
    }

    #[test]
    fn every_line_is_a_canonical_event() {
        let (out, _) = run(&cfg(11, 40_000, 2));
        let mut by_type: HashMap<String, usize> = HashMap::new();
        let mut platforms = HashSet::new();
        for e in lines(&out) {
            let ty = e["type"].as_str().expect("type").to_string();
            assert!(
                [
                    "director",
                    "stock",
                    "comment",
                    "reserve",
                    "order",
                    "moderation"
                ]
                .contains(&ty.as_str()),
                "{e}"
            );
            assert!(
                e["session_id"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("show-")),
                "{e}"
            );
            ts_ms(&e["ts"]);
            match ty.as_str() {
                "director" => match e["action"].as_str().expect("action") {
                    "config" => {
                        assert!(
                            e["reservation_window_s"]
                                .as_i64()
                                .is_some_and(|w| (60..=120).contains(&w))
                        );
                        assert_eq!(e["max_qty"].as_i64(), Some(5));
                    }
                    "product" => {
                        assert!(e["code"].as_str().is_some());
                        assert!(e["price_cents"].as_i64().is_some_and(|p| p > 0));
                        assert_eq!(e["currency"], "USD");
                        let vs = e["variants"].as_array().expect("variants");
                        assert!((1..=6).contains(&vs.len()), "{e}");
                        for v in vs {
                            assert!(v["sku"].as_str().is_some());
                            assert!(v["stock"].as_i64().is_some_and(|s| s >= 0));
                            assert!(v.get("options").is_none_or(|o| o.is_object()));
                        }
                    }
                    "activate" => assert!(e["code"].as_str().is_some()),
                    "deactivate" => {}
                    "price" => {
                        assert!(e["code"].as_str().is_some());
                        assert!(e["price_cents"].as_i64().is_some_and(|p| p > 0));
                    }
                    a => panic!("unknown action {a}"),
                },
                "stock" => {
                    assert!(e["sku"].as_str().is_some());
                    assert!(e.get("set").is_some() != e.get("delta").is_some(), "{e}");
                    assert!(
                        e.get("set")
                            .is_none_or(|s| s.as_i64().is_some_and(|n| n >= 0))
                    );
                    assert!(e.get("delta").is_none_or(|s| s.as_i64().is_some()));
                }
                "comment" => {
                    let pl = e["platform"].as_str().expect("platform");
                    assert!(PLATFORMS.contains(&pl));
                    platforms.insert(pl.to_string());
                    id_text(&e["comment_id"]);
                    id_text(&e["user_id"]);
                    assert!(e["text"].as_str().is_some());
                    assert!(e.get("user_name").is_none_or(|n| n.is_string()));
                    match pl {
                        "tiktok" => assert!(e["ts"].is_i64()),
                        "facebook" => assert!(e["ts"].as_str().unwrap().ends_with("+0000")),
                        "instagram" => assert_eq!(e["ts"].as_str().unwrap().len(), 20),
                        "youtube" => assert_eq!(e["ts"].as_str().unwrap().len(), 27),
                        _ => {}
                    }
                }
                "reserve" => {
                    id_text(&e["request_id"]);
                    assert_eq!(e["platform"], "web");
                    id_text(&e["user_id"]);
                    assert!(e["sku"].as_str().is_some());
                    assert!(e["qty"].as_i64().is_some_and(|q| q >= 1));
                }
                "order" => {
                    id_text(&e["order_id"]);
                    id_text(&e["user_id"]);
                    assert!(e["platform"].as_str().is_some());
                    assert!(e["sku"].as_str().is_some());
                    assert!(e["qty"].as_i64().is_some_and(|q| q >= 1));
                    assert!(e["amount_cents"].as_i64().is_some_and(|a| a > 0));
                    assert!(["paid", "refunded"].contains(&e["status"].as_str().unwrap()));
                    assert!(
                        e.get("reservation_id")
                            .is_none_or(|r| r.as_str().unwrap().starts_with("res:"))
                    );
                }
                "moderation" => {
                    assert!(e["escalation_id"].as_str().unwrap().starts_with("esc:"));
                    match e["decision"].as_str().unwrap() {
                        "accept" => {
                            assert!(e["sku"].as_str().is_some());
                            assert!(e["qty"].as_i64().is_some_and(|q| q >= 1));
                        }
                        "reject" => {}
                        d => panic!("decision {d}"),
                    }
                }
                _ => unreachable!(),
            }
            *by_type.entry(ty).or_default() += 1;
        }
        for ty in [
            "director",
            "stock",
            "comment",
            "reserve",
            "order",
            "moderation",
        ] {
            assert!(
                by_type.get(ty).copied().unwrap_or(0) > 0,
                "no {ty} events: {by_type:?}"
            );
        }
        for pl in [
            "tiktok",
            "facebook",
            "instagram",
            "youtube",
            "twitch",
            "web",
        ] {
            assert!(platforms.contains(pl), "no {pl} comments");
        }
    }

    #[test]
    fn disorder_stays_within_allowed_lateness() {
        let (out, _) = run(&cfg(13, 60_000, 3));
        let mut max_seen = i64::MIN / 2;
        let mut max_lag = 0;
        let mut sessions = HashSet::new();
        for e in lines(&out) {
            let ts = ts_ms(&e["ts"]);
            assert!(
                ts >= max_seen - 2000,
                "ts {ts} is {} ms behind: {e}",
                max_seen - ts
            );
            max_lag = max_lag.max(max_seen - ts);
            max_seen = max_seen.max(ts);
            sessions.insert(e["session_id"].as_str().unwrap().to_string());
        }
        assert!(
            max_lag > 500,
            "the stream should be out of event-time order (lag {max_lag})"
        );
        assert!(sessions.len() >= 3, "sessions interleave: {sessions:?}");
    }

    #[test]
    fn ids_are_unique_and_references_resolve() {
        let (out, _) = run(&cfg(17, 60_000, 2));
        let mut comments = HashSet::new();
        let mut requests = HashSet::new();
        let mut orders = HashSet::new();
        let mut answers = HashSet::new();
        for e in lines(&out) {
            match e["type"].as_str().unwrap() {
                "comment" => {
                    let k = format!(
                        "{}:{}",
                        e["platform"].as_str().unwrap(),
                        id_text(&e["comment_id"])
                    );
                    assert!(comments.insert(k), "duplicate comment id: {e}");
                }
                "reserve" => assert!(
                    requests.insert(format!("req:{}", id_text(&e["request_id"]))),
                    "{e}"
                ),
                "order" => {
                    let id = id_text(&e["order_id"]);
                    let status = e["status"].as_str().unwrap();
                    if status == "refunded" {
                        assert!(
                            orders.contains(&(id.clone(), "paid".to_string())),
                            "refund before payment: {e}"
                        );
                    }
                    assert!(
                        orders.insert((id, status.to_string())),
                        "duplicate order: {e}"
                    );
                    if let Some(r) = e.get("reservation_id") {
                        let claim = &r.as_str().unwrap()["res:".len()..];
                        assert!(
                            comments.contains(claim) || requests.contains(claim),
                            "unknown claim: {e}"
                        );
                    }
                }
                "moderation" => {
                    let esc = e["escalation_id"].as_str().unwrap();
                    assert!(
                        comments.contains(&esc["esc:".len()..]),
                        "unknown comment: {e}"
                    );
                    assert!(
                        answers
                            .insert((esc.to_string(), e["decision"].as_str().unwrap().to_string())),
                        "{e}"
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn claims_come_in_many_shapes() {
        let (out, _) = run(&cfg(19, 60_000, 1));
        let texts: Vec<String> = lines(&out)
            .into_iter()
            .filter(|e| e["type"] == "comment")
            .map(|e| e["text"].as_str().unwrap().to_string())
            .collect();
        let has = |f: &dyn Fn(&str) -> bool| texts.iter().filter(|t| f(t)).count();
        assert!(has(&|t| t.to_lowercase().contains("sold")) > 1000);
        assert!(has(&|t| t.contains("mine")) > 100);
        assert!(
            has(&|t| t.chars().any(|c| ('\u{FF01}'..='\u{FF5E}').contains(&c))) > 10,
            "fullwidth"
        );
        assert!(has(&|t| t.contains("cancel") || t == "pass") > 10);
        assert!(has(&|t| t.contains('?')) > 100);
        assert!(has(&|t| t.contains("don't") || t.contains("dont")) > 10);
        assert!(has(&|t| KEYWORD_TYPOS.iter().any(|k| t.starts_with(k))) > 10);
        assert!(has(&|t| t.contains(" and ")) > 5);
        assert!(has(&|t| t.contains("x2") || t.contains("2pcs") || t.contains("2 pcs")) > 50);
        let chatter = has(&|t| CHATTER.iter().any(|c| !c.contains('{') && c == &t));
        assert!(
            chatter * 4 > texts.len(),
            "about half chatter: {chatter} of {}",
            texts.len()
        );
    }

    #[test]
    fn pieces_never_form_accidental_codes() {
        assert_eq!(
            join_pieces(&["sold", "A12", "red m", "2 pcs"]),
            "sold A12 red m 2pcs"
        );
        assert_eq!(join_pieces(&["sold", "", "red", "2 pcs"]), "sold red 2 pcs");
        assert_eq!(
            join_pieces(&["A 12", "sold", "blue s", ""]),
            "A 12 sold blue s"
        );
    }
}
