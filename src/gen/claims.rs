//! Claims, cancels and their near misses, each with the Intent SPEC 3.1 reads in it.

use fastrand::Rng;

use super::phrases::*;
use super::shape::{Shape, bare_shape};
use super::show::{Product, Show};
use super::texts::*;
use super::words::*;
use crate::domain::text::within_one_edit;

/// "SOLD A12 red M", "A 12 sold blue s", "mine x2", "#B7 mine", "claim K3 2pcs", "cf" …
pub(super) fn proper_claim(
    rng: &mut Rng,
    show: &Show,
    kw_override: Option<&str>,
) -> (String, Intent) {
    let kw = kw_override.unwrap_or_else(|| pick_kw(rng));
    let extra_kw = show.extra_kw.map(|k| k.0);
    if show.active.is_none() && rng.u32(0..10) == 0 {
        // nothing is live yet: escalated as no_product (or unclear_claim), nothing to accept
        let words = decorate_words(rng, kw.to_string());
        let intent = match bare_shape(&words, None, extra_kw) {
            Some(Shape::Claim | Shape::Unclear) => Intent::Vague,
            _ => Intent::Other,
        };
        return (fullwidth_sometimes(rng, words), intent);
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
    if named {
        // a code names the product: extra words do not matter (SPEC 3.1.3a is for bare claims)
        let text = decorate(rng, join_pieces(&pieces));
        return (text, claim_or_escalate(clean, p, v, q));
    }
    let words = decorate_words(rng, join_pieces(&pieces));
    let shape = bare_shape(&words, Some(prod), extra_kw);
    (
        fullwidth_sometimes(rng, words),
        read_bare(shape, clean, p, v, q),
    )
}

fn claim_or_escalate(clean: bool, p: usize, v: usize, q: u32) -> Intent {
    if clean {
        Intent::Claim { p, v, q }
    } else {
        Intent::Escalate { p, v, q }
    }
}

/// The Intent of a bare claim of variant `v` of the active product `p`, as SPEC 3.1.3a shapes
/// it: `clean` when its options and quantity read as that variant and quantity.
fn read_bare(shape: Option<Shape>, clean: bool, p: usize, v: usize, q: u32) -> Intent {
    match shape {
        Some(Shape::Claim) => claim_or_escalate(clean, p, v, q),
        // unclear_claim: the viewer did mean this variant, a moderator may accept it
        Some(Shape::Unclear) => Intent::Escalate { p, v, q },
        Some(Shape::Chatter) | None => Intent::Other,
    }
}

/// How many run-sheet codes are one edit or less from `code` (SPEC 3.1.4: exactly one is a
/// `fuzzy_code` escalation, none or several an `unknown_product` rejection).
fn near_codes(show: &Show, code: &str) -> usize {
    let code = code.to_lowercase();
    show.products
        .iter()
        .filter(|p| within_one_edit(&p.code.to_lowercase(), &code))
        .count()
}

/// A claim of the active product in a sentence of filler words, `me` or a template.
fn template_claim(rng: &mut Rng, show: &Show, p: usize, template: &str) -> (String, Intent) {
    let prod = &show.products[p];
    let v = rng.usize(0..prod.variants.len());
    let mut template = template;
    let size = prod.variants[v].size;
    if template.contains("{S}") && size.is_none() {
        template = "me pls {O}";
    }
    let q = if template.contains("{Q}") {
        pick_qty(rng, show.max_qty)
    } else {
        1
    };
    let qty = qty_form(rng, q);
    let (opts, full) = clean_opts(rng, prod, v);
    let clean = if template.contains("{O}") {
        full
    } else if template.contains("{S}") {
        !prod.has_color
    } else {
        prod.variants.len() == 1
    };
    let kw = if template.contains("{K}") {
        pick_kw(rng).to_string()
    } else {
        String::new()
    };
    let words = fill_words(template, &|w| match w {
        "{O}" => Some(opts.clone()),
        "{Q}" => Some(qty.clone()),
        "{S}" => Some(size.unwrap_or_default().to_string()),
        "{K}" => Some(kw.clone()),
        _ => None,
    });
    let shape = bare_shape(&words, Some(prod), show.extra_kw.map(|k| k.0));
    (
        fullwidth_sometimes(rng, words),
        read_bare(shape, clean, p, v, q),
    )
}

/// "I’ll take it", "yes mine please", "sold pls": filler words around a keyword (SPEC 3.1.3a).
pub(super) fn filler_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    on_screen_claim(rng, show, &FILLER_CLAIMS)
}

/// "me!!", "me pls size S", "M black for me": `me` first or last (SPEC 3.1.2).
pub(super) fn me_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    on_screen_claim(rng, show, &ME_CLAIMS)
}

/// One of `templates` about the product on screen; a plain claim when nothing is.
fn on_screen_claim(rng: &mut Rng, show: &Show, templates: &[&str]) -> (String, Intent) {
    match show.active {
        Some(p) => {
            let t = pick(rng, templates);
            template_claim(rng, show, p, t)
        }
        None => proper_claim(rng, show, None),
    }
}

/// "soldddd", "SOOOLD A12", "mineee mocha L": a keyword with a letter repeated (SPEC 3.1.2).
pub(super) fn stretched_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let kw = pick_kw(rng);
    let kw = stretch(rng, kw);
    proper_claim(rng, show, Some(&kw))
}

/// "K3 champagne S", "p15 x2": a code with options or a quantity and no keyword (SPEC 3.1.2a).
pub(super) fn code_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let (p, _) = pick_target(rng, show);
    let prod = &show.products[p];
    let v = rng.usize(0..prod.variants.len());
    let mut template = pick(rng, &CODE_CLAIMS);
    if prod.variants.len() == 1 && !template.contains("{Q}") {
        // a code alone is no claim: a single-variant product needs a quantity
        template = if rng.bool() { "{C} {Q}" } else { "{C} {Q} pls" };
    }
    let q = if template.contains("{Q}") {
        pick_qty(rng, show.max_qty)
    } else {
        1
    };
    let mut qty = qty_form(rng, q);
    if qty.is_empty() {
        qty = "x1".to_string();
    }
    let (opts, full) = clean_opts(rng, prod, v);
    let clean = if template.contains("{O}") {
        full
    } else {
        prod.variants.len() == 1
    };
    let code = code_form(rng, prod);
    let words = fill_words(template, &|w| match w {
        "{C}" => Some(code.clone()),
        "{O}" => Some(opts.clone()),
        "{Q}" => Some(qty.clone()),
        _ => None,
    });
    (
        fullwidth_sometimes(rng, words),
        claim_or_escalate(clean, p, v, q),
    )
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

/// A variant of the product and the options that name it (none for a single variant).
fn some_variant(rng: &mut Rng, prod: &Product) -> (usize, String) {
    let v = rng.usize(0..prod.variants.len());
    let opts = if prod.variants.len() > 1 {
        opts_form(rng, prod, v).0
    } else {
        String::new()
    };
    (v, opts)
}

/// "sodl A12", "sold A21": the processor escalates these as fuzzy.
pub(super) fn typo_claim(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let (p, _) = pick_target(rng, show);
    let prod = &show.products[p];
    let (v, opts) = some_variant(rng, prod);
    if rng.bool() {
        let typo = pick(rng, &KEYWORD_TYPOS);
        let code = code_form(rng, prod);
        (
            join_pieces(&[typo, &code, &opts]),
            Intent::Escalate { p, v, q: 1 },
        )
    } else {
        match typo_code(rng, show, prod) {
            // one near code is a fuzzy_code escalation; near several, an unknown_product
            Some(tc) if near_codes(show, &tc) == 1 => {
                let kw = pick_kw(rng);
                (
                    join_pieces(&[kw, &tc, &opts]),
                    Intent::Escalate { p, v, q: 1 },
                )
            }
            _ => proper_claim(rng, show, None),
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
    let (v, opts) = some_variant(rng, prod);
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

/// "sold Z77": a product the run sheet does not have; one edit from a code it has, a
/// `fuzzy_code` escalation nobody accepts, else an `unknown_product` rejection.
pub(super) fn unknown_product(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let fake = format!(
        "{}{}",
        ["Z", "Y", "W", "V"][rng.usize(0..4)],
        rng.u32(50..=99)
    );
    let intent = if near_codes(show, &fake) == 1 {
        Intent::Vague
    } else {
        Intent::Other
    };
    (pick(rng, &UNKNOWN).replace("{F}", &fake), intent)
}
