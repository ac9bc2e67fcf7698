//! SPEC 3.1.3a's shapes of a claim that names no product, so a bare claim gets the right Intent.
//!
//! The generator reads only its own bare claims here (no codes, ASCII words, emoji and `’`), so
//! this is no grammar: it counts extra words the way SPEC 3.1.3a does. A prefix such as
//! "yesss", a suffix such as "thank you" or a spelling such as "size M" adds extra words, and
//! with enough of them a claim becomes an `unclear_claim` escalation or plain chatter.

use super::show::Product;
use super::words::{CLAIM_KEYWORDS, FILLERS};
use crate::domain::text::{normalize, strip_mentions, tokens as text_tokens};

/// What SPEC 3.1.3a makes of a comment with a claim keyword that names no product.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Shape {
    /// Shaped like a claim: it goes on to the active product's variant and quantity.
    Claim,
    /// Escalated, reason `unclear_claim`.
    Unclear,
    /// `ignored`: chatter that happens to contain a claim keyword.
    Chatter,
}

/// SPEC 3.1.3a: a keyword first allows two extra words; otherwise none.
pub(super) fn shape_of(keyword_first: bool, extras: usize) -> Shape {
    match (keyword_first, extras) {
        (true, 0..=2) | (false, 0) => Shape::Claim,
        (true, _) | (false, 1..=2) => Shape::Unclear,
        (false, _) => Shape::Chatter,
    }
}

/// `tok` is `kw` with some of its letters repeated (`soldddd`, `sooold`; SPEC 3.1.2).
pub(super) fn is_stretch(tok: &str, kw: &str) -> bool {
    let (a, b) = (runs(tok), runs(kw));
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && x.1 >= y.1)
}

fn runs(s: &str) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = Vec::new();
    for c in s.chars() {
        match out.last_mut() {
            Some((l, n)) if *l == c => *n += 1,
            _ => out.push((c, 1)),
        }
    }
    out
}

/// Tokens of one of the generator's texts, as the claim grammar makes them (SPEC 3.1: NFKC,
/// lowercase, `’` as `'`, mentions removed, apostrophes at either end dropped).
pub(super) fn tokens(text: &str) -> Vec<String> {
    let mut norm = normalize(text);
    strip_mentions(&mut norm);
    text_tokens(&norm).into_iter().map(str::to_string).collect()
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Which tokens are quantities (SPEC 3.1.6): `x2`, `2x`, `qty2`, `2pcs` and the two-token forms.
pub(super) fn quantity_tokens(toks: &[String]) -> Vec<bool> {
    let mut q = vec![false; toks.len()];
    for (i, t) in toks.iter().enumerate() {
        let one = t.strip_prefix('x').is_some_and(digits)
            || t.strip_suffix('x').is_some_and(digits)
            || t.strip_prefix("qty").is_some_and(digits)
            || t.strip_suffix("pcs").is_some_and(digits);
        if one {
            q[i] = true;
        }
        if let Some(n) = toks.get(i + 1) {
            let pair = ((t == "x" || t == "qty") && digits(n)) || (digits(t) && n == "pcs");
            if pair {
                q[i] = true;
                q[i + 1] = true;
            }
        }
    }
    q
}

/// The product's option values as tokens, sizes also as small/medium/large.
pub(super) fn option_words(prod: &Product) -> Vec<String> {
    let mut out = Vec::new();
    for var in &prod.variants {
        if let Some(c) = var.color {
            out.push(c.to_string());
        }
        if let Some(s) = var.size {
            out.push(s.to_lowercase());
            out.push(
                match s {
                    "S" => "small",
                    "M" => "medium",
                    _ => "large",
                }
                .to_string(),
            );
        }
    }
    out
}

/// How SPEC 3.1.3a reads `text`, which names no code, with `prod` the active product (if any);
/// `None` when it holds no claim keyword at all. `extra_kw` is the show's configured keyword.
pub(super) fn bare_shape(
    text: &str,
    prod: Option<&Product>,
    extra_kw: Option<&str>,
) -> Option<Shape> {
    let toks = tokens(text);
    let qty = quantity_tokens(&toks);
    let opts = prod.map(option_words).unwrap_or_default();
    let filler = |t: &str| FILLERS.contains(&t);
    let first_word = toks.iter().position(|t| !filler(t));
    let last_word = toks.iter().rposition(|t| !filler(t));
    let keyword = |i: usize| {
        let t = toks[i].as_str();
        if is_stretch(t, "me") {
            return Some(i) == first_word || Some(i) == last_word;
        }
        CLAIM_KEYWORDS
            .iter()
            .any(|k| *k != "me" && is_stretch(t, k))
            || extra_kw.is_some_and(|k| is_stretch(t, k))
    };
    let mut any = false;
    let mut extras = 0;
    for (i, t) in toks.iter().enumerate() {
        if keyword(i) {
            any = true;
        } else if !(qty[i] || filler(t) || opts.contains(t)) {
            extras += 1;
        }
    }
    any.then(|| shape_of(!toks.is_empty() && keyword(0), extras))
}
