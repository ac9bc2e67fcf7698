//! The show model: a run sheet of products and variants, holds, waitlists and buyers.

use std::collections::{HashMap, HashSet, VecDeque};

use fastrand::Rng;

use super::words::{CODE_LETTERS, COLORS, EXTRA_KEYWORDS, TITLES};

pub(super) struct Variant {
    pub(super) sku: String,
    pub(super) color: Option<&'static str>,
    pub(super) size: Option<&'static str>,
    pub(super) stock0: i64,
    pub(super) pool: i64,
    pub(super) held: i64,
    pub(super) sold: i64,
    /// Reservations of this sku, in creation order.
    pub(super) res: Vec<u32>,
    pub(super) waitlist: VecDeque<Wait>,
    pub(super) restock_planned: bool,
}

impl Variant {
    pub(super) fn available(&self) -> i64 {
        self.pool - self.held - self.sold
    }
}

pub(super) struct Product {
    pub(super) code: String,
    pub(super) letters: String,
    pub(super) digits: String,
    pub(super) title: &'static str,
    pub(super) price: i64,
    pub(super) hot: bool,
    pub(super) has_color: bool,
    pub(super) has_size: bool,
    pub(super) variants: Vec<Variant>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ResState {
    Live,
    Converted,
    Expired,
    Cancelled,
    Revoked,
}

pub(super) struct Res {
    pub(super) claim_key: String,
    pub(super) platform: u8,
    pub(super) user: u32,
    pub(super) p: u16,
    pub(super) v: u16,
    pub(super) qty: u32,
    pub(super) unit: i64,
    pub(super) state: ResState,
}

pub(super) struct Wait {
    pub(super) id: u64,
    pub(super) key: u64,
    pub(super) platform: u8,
    pub(super) user: u32,
    pub(super) qty: u32,
    pub(super) claim_key: String,
}

pub(super) struct Show {
    pub(super) num: u32,
    pub(super) slot: u32,
    pub(super) id: String,
    pub(super) fb_post: String,
    pub(super) window_ms: i64,
    pub(super) max_qty: u32,
    pub(super) extra_kw: Option<(&'static str, &'static str)>,
    pub(super) products: Vec<Product>,
    pub(super) active: Option<usize>,
    /// Products activated so far.
    pub(super) shown: usize,
    pub(super) last_activate: i64,
    pub(super) base_rate: f64,
    pub(super) tap_rate: f64,
    pub(super) comment_clock: f64,
    pub(super) tap_clock: f64,
    pub(super) ended: bool,
    /// The director `end` went out: what viewers still do is not allocated any more.
    pub(super) after_end: bool,
    /// Agenda entries that still refer to this show.
    pub(super) pending: u32,
    pub(super) res: Vec<Res>,
    pub(super) holding: HashMap<u64, u32>,
    pub(super) waiting: HashMap<u64, u64>,
    pub(super) bought: HashSet<u64>,
    pub(super) wait_seq: u64,
}

impl Show {
    /// Comment-rate multiplier: a burst right after each `activate`, quieter between products.
    pub(super) fn rate_mult(&self, t: i64) -> f64 {
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

pub(super) fn build_show(rng: &mut Rng, num: u32, slot: u32) -> Show {
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
        after_end: false,
        pending: 0,
        res: Vec::new(),
        holding: HashMap::new(),
        waiting: HashMap::new(),
        bought: HashSet::new(),
        wait_seq: 0,
    }
}

/// (platform, user, product, variant) packed: one buyer's interest in one sku.
pub(super) fn buyer_key(pl: u8, user: u32, p: usize, v: usize) -> u64 {
    ((pl as u64) << 56) | ((user as u64) << 16) | ((p as u64 & 0xff) << 8) | (v as u64 & 0xff)
}
