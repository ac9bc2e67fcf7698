//! What each token of a comment is: a quantity, a code, an option value (SPEC 3.1.3–3.1.6).

use smallvec::SmallVec;

use crate::domain::runsheet::{Config, Product, RunSheet};
use crate::domain::text::{code_form, digits_value, is_ascii_digits, is_code_shaped};

/// One flag per token of a comment.
pub(super) type Mask = SmallVec<[bool; 16]>;

/// What the tokens say about quantities: the values named and which tokens they used.
pub(super) struct Quantities {
    pub values: SmallVec<[u64; 2]>,
    pub used: Mask,
}

/// SPEC 3.1.6's forms (`pcs` and the other units of `cfg.qty_units` alike), and packs' number
/// words (`dos`, `due`).
pub(super) fn quantities(toks: &[&str], sheet: &RunSheet, cfg: &Config) -> Quantities {
    let mut values = SmallVec::new();
    let mut used: Mask = SmallVec::from_elem(false, toks.len());
    let push = |v: u64, values: &mut SmallVec<[u64; 2]>| {
        if !values.contains(&v) {
            values.push(v);
        }
    };
    for (i, t) in toks.iter().enumerate() {
        let next = toks.get(i + 1).copied();
        let single = if let Some(d) = t.strip_prefix('x').filter(|d| is_ascii_digits(d)) {
            Some(d)
        } else if let Some(d) = t.strip_suffix('x').filter(|d| is_ascii_digits(d)) {
            Some(d)
        } else if let Some(d) = t.strip_prefix("qty").filter(|d| is_ascii_digits(d)) {
            Some(d)
        } else if let Some(d) = t.strip_prefix('+').filter(|d| is_ascii_digits(d)) {
            // Only the plus form's tokenizer makes `+N` tokens.
            Some(d)
        } else {
            cfg.qty_units
                .iter()
                .find_map(|u| t.strip_suffix(u.as_str()).filter(|d| is_ascii_digits(d)))
        };
        let is_unit = |t: Option<&str>| t.is_some_and(|t| cfg.qty_units.iter().any(|u| u == t));
        if let Some(d) = single {
            push(digits_value(d), &mut values);
            used[i] = true;
        } else if let Some((_, n)) = cfg.qty_words.iter().find(|(w, _)| w == t) {
            push(*n, &mut values);
            used[i] = true;
            if is_unit(next) {
                used[i + 1] = true;
            }
        } else if (*t == "qty" || *t == "x")
            && next.is_some_and(is_ascii_digits)
            && (*t == "qty" || !x_pair_is_a_code(next.unwrap_or_default(), sheet))
        {
            // `x 2` stands for `x2` (as `A 12` for `A12`): a quantity, which is never
            // code-shaped (SPEC 3.1.6), unless the run sheet has the code `X2`.
            push(digits_value(next.unwrap_or_default()), &mut values);
            used[i] = true;
            used[i + 1] = true;
        } else if is_ascii_digits(t) && is_unit(next) {
            push(digits_value(t), &mut values);
            used[i] = true;
            used[i + 1] = true;
        }
    }
    Quantities { values, used }
}

/// Whether `x` + `digits` is a run-sheet code (`X2`), which the pair `x 2` then names.
fn x_pair_is_a_code(digits: &str, sheet: &RunSheet) -> bool {
    sheet.by_code(&format!("x{digits}")).is_some()
}

/// Products named in the comment: exact codes (deduplicated, in order), which tokens form them,
/// and the other code-shaped words (which keep the active product from applying).
pub(super) struct Named<'r> {
    pub products: SmallVec<[&'r Product; 2]>,
    pub code_used: Mask,
    pub code_shaped: Vec<String>,
}

pub(super) fn named<'r>(toks: &[&str], qty_used: &[bool], sheet: &'r RunSheet) -> Named<'r> {
    let mut products: SmallVec<[&Product; 2]> = SmallVec::new();
    let mut code_used: Mask = SmallVec::from_elem(false, toks.len());
    let mut code_shaped = Vec::new();
    let add = |p: &'r Product, products: &mut SmallVec<[&'r Product; 2]>| {
        if !products.iter().any(|q| std::ptr::eq(*q, p)) {
            products.push(p);
        }
    };
    for (i, t) in toks.iter().enumerate() {
        // Most tokens carry no `#` or `-`: compare them as they are, without a new string.
        let form: std::borrow::Cow<str> = if t.contains(['#', '-']) {
            code_form(t).into()
        } else {
            (*t).into()
        };
        if qty_used[i] {
            // A quantity is never code-shaped, but a single token `x2` also names the code
            // `X2` when the run sheet has it (SPEC 3.1.6).
            if let Some(p) = sheet.by_code(&form) {
                add(p, &mut products);
                code_used[i] = true;
            }
            continue;
        }
        if let Some(p) = sheet.by_code(&form) {
            add(p, &mut products);
            code_used[i] = true;
        } else if is_code_shaped(&form) {
            code_shaped.push(form.into_owned());
        }
        // `A 12`: a lone letter directly followed by a digits token.
        if let Some(next) = toks.get(i + 1) {
            let mut chars = t.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                if c.is_alphabetic() && is_ascii_digits(next) && !qty_used[i + 1] {
                    // The pair stands for one token: a code, or else a code-shaped word that
                    // keeps the active product from applying (`sold A 99` names no product).
                    let joined = format!("{t}{next}");
                    match sheet.by_code(&joined) {
                        Some(p) => {
                            add(p, &mut products);
                            code_used[i] = true;
                            code_used[i + 1] = true;
                        }
                        None => code_shaped.push(joined),
                    }
                }
            }
        }
    }
    Named {
        products,
        code_used,
        code_shaped,
    }
}

/// Where the token sequence `seq` stands in `toks`, as a start index per occurrence.
fn occurrences<'a>(toks: &'a [&str], seq: &'a [String]) -> impl Iterator<Item = usize> + 'a {
    let n = seq.len();
    (0..(toks.len() + 1).saturating_sub(n))
        .filter(move |&i| n > 0 && toks[i..i + n].iter().zip(seq).all(|(a, b)| *a == b))
}

/// A lone size word standing for the size value `S`, `M` or `L` (SPEC 3.1.3a, 3.1.5; packs
/// add their language's words, `cfg.size_words`).
fn size_synonym_of(token: &str, value: &[String], cfg: &Config) -> bool {
    value.len() == 1
        && cfg
            .size_words
            .iter()
            .any(|(word, size)| value[0] == *size && token == word)
}

/// The product's option values the comment mentions (sizes also as small/medium/large).
fn mentioned<'p>(toks: &[&str], product: &'p Product, cfg: &Config) -> SmallVec<[&'p [String]; 4]> {
    product
        .option_values()
        .iter()
        .map(Vec::as_slice)
        .filter(|val| {
            occurrences(toks, val).next().is_some()
                || toks.iter().any(|t| size_synonym_of(t, val, cfg))
        })
        .collect()
}

/// The tokens that are option values of the product, or size words for its sizes.
pub(super) fn option_mask(toks: &[&str], product: &Product, cfg: &Config) -> Mask {
    let mut mask: Mask = SmallVec::from_elem(false, toks.len());
    for val in product.option_values() {
        for i in occurrences(toks, val) {
            mask[i..i + val.len()].fill(true);
        }
        for (i, t) in toks.iter().enumerate() {
            if size_synonym_of(t, val, cfg) {
                mask[i] = true;
            }
        }
    }
    mask
}

/// Variants whose options include every mentioned value.
pub(super) fn candidates<'p>(
    toks: &[&str],
    product: &'p Product,
    cfg: &Config,
) -> SmallVec<[&'p str; 8]> {
    let values = mentioned(toks, product, cfg);
    product
        .variants
        .iter()
        .filter(|v| values.iter().all(|val| v.has_value(val)))
        .map(|v| v.sku.as_str())
        .collect()
}
