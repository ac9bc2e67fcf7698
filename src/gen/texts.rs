//! Building blocks of comments: keywords, codes, options, quantities, decorations, `Intent`.

use fastrand::Rng;

use super::show::{Product, Show};
use super::words::*;

pub(super) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// ASCII to fullwidth forms (what some phone keyboards produce); NFKC maps it back.
pub(super) fn to_fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

pub(super) fn pick<'s>(rng: &mut Rng, xs: &[&'s str]) -> &'s str {
    xs[rng.usize(0..xs.len())]
}

pub(super) fn pick_kw(rng: &mut Rng) -> &'static str {
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

pub(super) fn pick_qty(rng: &mut Rng, max_qty: u32) -> u32 {
    let q = match rng.u32(0..1000) {
        0..850 => 1,
        850..950 => 2,
        950..985 => 3,
        _ => rng.u32(4..=5),
    };
    q.min(max_qty.max(1))
}

/// What the viewer meant, as far as the simulation's model is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Intent {
    /// Chatter, questions, negations, unknown products: nothing for the model.
    Other,
    /// Escalated though nobody meant to buy (`unclear_claim` chatter, a claim while nothing is
    /// live, a fuzzy code of a made-up product): a moderator who answers rejects.
    Vague,
    /// A claim that reads unambiguously as this sku and quantity.
    Claim { p: usize, v: usize, q: u32 },
    /// A claim the processor escalates; a moderator may answer it with this sku.
    Escalate { p: usize, v: usize, q: u32 },
    /// A cancel of the buyer's holds on a product (None: nothing to cancel).
    Cancel { p: Option<usize> },
}

/// The product a claim is about, and whether the text names its code.
pub(super) fn pick_target(rng: &mut Rng, show: &Show) -> (usize, bool) {
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

pub(super) fn code_form(rng: &mut Rng, prod: &Product) -> String {
    let single = prod.letters.len() == 1;
    match rng.u32(0..100) {
        0..40 => prod.code.clone(),
        40..60 => prod.code.to_lowercase(),
        60..68 => format!("#{}", prod.code),
        68..72 => format!("#{}", prod.code.to_lowercase()),
        72..82 => format!("{}-{}", prod.letters, prod.digits),
        82..86 => format!("{}-{}", prod.letters.to_lowercase(), prod.digits),
        // `s 5` would also be the size S: the `A 12` form only for letters that are no size
        _ if single && !matches!(prod.letters.as_str(), "S" | "M" | "L") => {
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
pub(super) fn size_form(rng: &mut Rng, s: &str) -> (String, bool) {
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
pub(super) fn opts_form(rng: &mut Rng, prod: &Product, v: usize) -> (String, bool) {
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
pub(super) fn partial_opts(rng: &mut Rng, prod: &Product, v: usize) -> String {
    let var = &prod.variants[v];
    if rng.bool() {
        var.color.unwrap_or("").to_string()
    } else {
        size_form(rng, var.size.unwrap_or("M")).0
    }
}

pub(super) fn qty_form(rng: &mut Rng, q: u32) -> String {
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
pub(super) fn join_pieces(pieces: &[&str]) -> String {
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

/// A prefix or a suffix now and then, and sometimes fullwidth letters.
pub(super) fn decorate(rng: &mut Rng, text: String) -> String {
    let text = decorate_words(rng, text);
    fullwidth_sometimes(rng, text)
}

/// A prefix ("omg ", "@host ") or a suffix (" pls", " thank you") now and then.
pub(super) fn decorate_words(rng: &mut Rng, text: String) -> String {
    let mut text = text;
    if rng.u32(0..100) < 10 {
        text = format!("{}{text}", pick(rng, &PREFIXES));
    }
    if rng.u32(0..100) < 25 {
        text.push_str(pick(rng, &SUFFIXES));
    }
    text
}

/// Fullwidth letters from some phone keyboards; NFKC reads them as ASCII, so the reading stays.
pub(super) fn fullwidth_sometimes(rng: &mut Rng, text: String) -> String {
    if rng.u32(0..100) < 4 {
        to_fullwidth(&text)
    } else {
        text
    }
}

/// The options of variant `v` in spellings the grammar knows (SPEC 3.1.5), and whether they
/// pick that variant: a colour × size product is now and then named by one of the two only.
pub(super) fn clean_opts(rng: &mut Rng, prod: &Product, v: usize) -> (String, bool) {
    if prod.variants.len() == 1 {
        return (String::new(), true);
    }
    let var = &prod.variants[v];
    let color = var.color.map(|c| match rng.u32(0..10) {
        0..7 => c.to_string(),
        7..9 => capitalize(c),
        _ => c.to_uppercase(),
    });
    let size = var.size.map(|s| {
        let word = match s {
            "S" => "small",
            "M" => "medium",
            _ => "large",
        };
        match rng.u32(0..10) {
            0..4 => s.to_string(),
            4..7 => s.to_lowercase(),
            7..9 => word.to_string(),
            _ => capitalize(word),
        }
    });
    match (color, size) {
        (Some(c), Some(s)) if rng.u32(0..100) < 10 => (if rng.bool() { c } else { s }, false),
        (Some(c), Some(s)) if rng.u32(0..4) == 0 => (format!("{s} {c}"), true),
        (Some(c), Some(s)) => (format!("{c} {s}"), true),
        (Some(w), None) | (None, Some(w)) => (w, true),
        (None, None) => (String::new(), true),
    }
}

/// A keyword with one of its letters typed again and again: `soldddd`, `SOOOLD`, `mineee`.
pub(super) fn stretch(rng: &mut Rng, kw: &str) -> String {
    let letters: Vec<usize> = kw
        .char_indices()
        .filter(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i)
        .collect();
    let Some(&last) = letters.last() else {
        return kw.to_string();
    };
    let at = if rng.bool() {
        last
    } else {
        letters[rng.usize(0..letters.len())]
    };
    let c = &kw[at..at + 1];
    let mut s = String::with_capacity(kw.len() + 4);
    s.push_str(&kw[..at]);
    s.push_str(&c.repeat(1 + rng.usize(1..=4)));
    s.push_str(&kw[at + 1..]);
    s
}

/// Fills a template's `{K}`, `{O}`, `{Q}`, `{S}` and `{C}` words; empty ones drop out, and
/// `join_pieces` keeps a quantity after a one-letter size from reading as a code.
pub(super) fn fill_words(template: &str, fill: &dyn Fn(&str) -> Option<String>) -> String {
    let words: Vec<String> = template
        .split(' ')
        .map(|w| fill(w).unwrap_or_else(|| w.to_string()))
        .collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    join_pieces(&refs)
}
