//! Comment texts and what each one means to the simulation's model (`Intent`).

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
pub(super) enum Intent {
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

pub(super) fn decorate(rng: &mut Rng, text: String) -> String {
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
pub(super) fn proper_claim(
    rng: &mut Rng,
    show: &Show,
    kw_override: Option<&'static str>,
) -> (String, Intent) {
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
pub(super) fn typo_code(rng: &mut Rng, show: &Show, prod: &Product) -> Option<String> {
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
pub(super) fn typo_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
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

pub(super) fn fill_code(rng: &mut Rng, show: &Show, template: &str) -> String {
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

pub(super) fn multi_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
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

pub(super) fn cancel_text(rng: &mut Rng, show: &Show, target: Option<usize>) -> (String, Intent) {
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
pub(super) fn qty_problem(rng: &mut Rng, show: &Show) -> (String, Intent) {
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

pub(super) fn unknown_product(rng: &mut Rng) -> String {
    let fake = format!(
        "{}{}",
        ["Z", "Y", "W", "V"][rng.usize(0..4)],
        rng.u32(50..=99)
    );
    pick(rng, &UNKNOWN).replace("{F}", &fake)
}

pub(super) fn chatter(rng: &mut Rng, show: &Show) -> String {
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
