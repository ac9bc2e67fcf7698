//! What each token of a comment is: a quantity, a code, an option value (SPEC 3.1.3–3.1.6).

use smallvec::SmallVec;

use crate::domain::runsheet::{Product, RunSheet};
use crate::domain::text::{code_form, digits_value, is_ascii_digits, is_code_shaped, is_unspaced};

/// One flag per token of a comment.
pub(super) type Mask = SmallVec<[bool; 16]>;

const SIZE_SYNONYMS: &[(&str, &str)] = &[("small", "s"), ("medium", "m"), ("large", "l")];

/// What the tokens say about quantities: the values named and which tokens they used.
pub(super) struct Quantities {
    pub values: SmallVec<[u64; 2]>,
    pub used: Mask,
}

pub(super) fn quantities(toks: &[&str], sheet: &RunSheet) -> Quantities {
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
            t.strip_suffix("pcs").filter(|d| is_ascii_digits(d))
        };
        if let Some(d) = single {
            push(digits_value(d), &mut values);
            used[i] = true;
        } else if (*t == "qty" || *t == "x")
            && next.is_some_and(is_ascii_digits)
            && (*t == "qty" || !x_pair_is_a_code(next.unwrap_or_default(), sheet))
        {
            // `x 2` stands for `x2` (as `A 12` for `A12`): a quantity, which is never
            // code-shaped (SPEC 3.1.6), unless the run sheet has the code `X2`.
            push(digits_value(next.unwrap_or_default()), &mut values);
            used[i] = true;
            used[i + 1] = true;
        } else if is_ascii_digits(t) && next == Some("pcs") {
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

/// In an unspaced pack, a CJK or Thai word counts inside a run of its script: those are written
/// without spaces, so `我要粉色` mentions `粉色` and `เอาค่ะ` says `เอา`. (The unspaced tokens
/// never mix scripts.)
pub(super) fn inside(token: &str, word: &str) -> bool {
    is_unspaced_token(token) && word.starts_with(is_unspaced) && token.contains(word)
}

pub(super) fn is_unspaced_token(token: &str) -> bool {
    token.starts_with(is_unspaced)
}

/// A lone size word standing for the size value `S`, `M` or `L` (SPEC 3.1.3a, 3.1.5).
fn size_synonym_of(token: &str, value: &[String]) -> bool {
    value.len() == 1
        && SIZE_SYNONYMS
            .iter()
            .any(|(word, size)| value[0] == *size && token == *word)
}

/// The product's option values the comment mentions (sizes also as small/medium/large).
fn mentioned<'p>(
    toks: &[&str],
    product: &'p Product,
    unspaced: bool,
) -> SmallVec<[&'p [String]; 4]> {
    let mut values: SmallVec<[&'p [String]; 4]> = product
        .option_values()
        .iter()
        .map(Vec::as_slice)
        .filter(|val| {
            occurrences(toks, val).next().is_some()
                || toks.iter().any(|t| size_synonym_of(t, val))
                || (unspaced && val.len() == 1 && toks.iter().any(|t| inside(t, &val[0])))
        })
        .collect();
    if unspaced && values.len() > 1 {
        // `粉紅` also contains `粉`: the longer value is the one meant.
        let all = values.clone();
        values.retain(|v| {
            !(v.len() == 1
                && all
                    .iter()
                    .any(|w| w.len() == 1 && w[0].len() > v[0].len() && inside(&w[0], &v[0])))
        });
    }
    values
}

/// The tokens that are option values of the product, or size words for its sizes.
pub(super) fn option_mask(toks: &[&str], product: &Product, unspaced: bool) -> Mask {
    let mut mask: Mask = SmallVec::from_elem(false, toks.len());
    for val in product.option_values() {
        for i in occurrences(toks, val) {
            mask[i..i + val.len()].fill(true);
        }
        for (i, t) in toks.iter().enumerate() {
            if size_synonym_of(t, val) || (unspaced && val.len() == 1 && inside(t, &val[0])) {
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
    unspaced: bool,
) -> SmallVec<[&'p str; 8]> {
    let values = mentioned(toks, product, unspaced);
    product
        .variants
        .iter()
        .filter(|v| values.iter().all(|val| v.has_value(val)))
        .map(|v| v.sku.as_str())
        .collect()
}
