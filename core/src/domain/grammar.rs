//! The claim grammar of SPEC 3.1: what a comment asks for, before any stock is looked at.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::event::Text;
use super::runsheet::{Config, Product, RunSheet};
use super::text::{
    code_form, digits_value, is_ascii_digits, is_cjk, is_code_shaped, normalize_into,
    plus_tokens_into, tokens_into, within_one_edit,
};

/// A comment's tokens: most comments have few, so they stay on the stack.
type Tokens<'a> = SmallVec<[&'a str; 16]>;

thread_local! {
    /// The normalised text of the comment being read, reused from one comment to the next.
    static NORMALIZED: RefCell<String> = const { RefCell::new(String::new()) };
}

const NEGATIONS: &[&str] = &["not", "dont", "don't", "no", "never"];
const SIZE_SYNONYMS: &[(&str, &str)] = &[("small", "s"), ("medium", "m"), ("large", "l")];

/// Why a comment was escalated or rejected; the strings are the SPEC's `reason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    MultipleProducts,
    NoProduct,
    FuzzyCode,
    UnknownProduct,
    UnknownVariant,
    AmbiguousVariant,
    AmbiguousQty,
    QtyOverLimit,
    FuzzyKeyword,
    DuplicateClaim,
    Moderator,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MultipleProducts => "multiple_products",
            Reason::NoProduct => "no_product",
            Reason::FuzzyCode => "fuzzy_code",
            Reason::UnknownProduct => "unknown_product",
            Reason::UnknownVariant => "unknown_variant",
            Reason::AmbiguousVariant => "ambiguous_variant",
            Reason::AmbiguousQty => "ambiguous_qty",
            Reason::QtyOverLimit => "qty_over_limit",
            Reason::FuzzyKeyword => "fuzzy_keyword",
            Reason::DuplicateClaim => "duplicate_claim",
            Reason::Moderator => "moderator",
        }
    }
}

/// Why a comment is not acted on; it still counts as engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignore {
    Question,
    Negation,
    NoKeyword,
    CancelUnclear,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Ignored(Ignore),
    // Skus as `Text`: a remembered reading is handed out again as a copy (`Memo`), and a
    // sku fits inline, so the copy allocates nothing.
    Claim {
        sku: Text,
        qty: u64,
    },
    Escalated {
        reason: Reason,
        sku: Option<Text>,
        qty: Option<u64>,
        candidates: Vec<String>,
    },
    Rejected {
        reason: Reason,
    },
    /// Skus whose holds and waitlist places the buyer gives up (may be empty: nothing named).
    Cancel {
        skus: Vec<String>,
    },
}

impl Reading {
    /// What kind of reading this is, as the comments table names it.
    pub fn label(&self) -> &'static str {
        match self {
            Reading::Ignored(_) => "ignored",
            Reading::Claim { .. } => "claim",
            Reading::Escalated { .. } => "escalated",
            Reading::Rejected { .. } => "rejected",
            Reading::Cancel { .. } => "cancel",
        }
    }

    /// SPEC 4: `claims` counts comments read as claims (a claim keyword, no cancel, not a question).
    pub fn is_claim(&self) -> bool {
        match self {
            Reading::Claim { .. } | Reading::Rejected { .. } => true,
            Reading::Escalated { reason, .. } => *reason != Reason::FuzzyKeyword,
            Reading::Ignored(_) | Reading::Cancel { .. } => false,
        }
    }
}

/// What the tokens say about quantities: the values named and which tokens they used.
struct Quantities {
    values: SmallVec<[u64; 2]>,
    used: SmallVec<[bool; 16]>,
}

fn quantities(toks: &[&str], sheet: &RunSheet) -> Quantities {
    let mut values = SmallVec::new();
    let mut used: SmallVec<[bool; 16]> = SmallVec::from_elem(false, toks.len());
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

/// Products named in the comment: exact codes (deduplicated, in order), and whether any other
/// token is code-shaped (which keeps the active product from applying).
struct Named<'r> {
    products: SmallVec<[&'r Product; 2]>,
    code_shaped: Vec<String>,
}

fn named<'r>(toks: &[&str], qty_used: &[bool], sheet: &'r RunSheet) -> Named<'r> {
    let mut products: SmallVec<[&Product; 2]> = SmallVec::new();
    let mut code_shaped = Vec::new();
    let add = |p: &'r Product, products: &mut SmallVec<[&'r Product; 2]>| {
        if !products.iter().any(|q| std::ptr::eq(*q, p)) {
            products.push(p);
        }
    };
    for (i, t) in toks.iter().enumerate() {
        if qty_used[i] {
            continue;
        }
        // Most tokens carry no `#` or `-`: compare them as they are, without a new string.
        let form: std::borrow::Cow<str> = if t.contains(['#', '-']) {
            code_form(t).into()
        } else {
            (*t).into()
        };
        if let Some(p) = sheet.by_code(&form) {
            add(p, &mut products);
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
                        Some(p) => add(p, &mut products),
                        None => code_shaped.push(joined),
                    }
                }
            }
        }
    }
    Named {
        products,
        code_shaped,
    }
}

fn contains_seq(toks: &[&str], seq: &[String]) -> bool {
    !seq.is_empty()
        && toks.len() >= seq.len()
        && toks
            .windows(seq.len())
            .any(|w| w.iter().zip(seq).all(|(a, b)| *a == b.as_str()))
}

/// In the plus form, a CJK word counts inside a CJK token: Chinese is written without spaces, so
/// `我要粉色` mentions `粉色` and `我要下標` says `下標`. (The plus form's tokens never mix scripts.)
fn cjk_inside(token: &str, word: &str) -> bool {
    token.starts_with(is_cjk) && word.starts_with(is_cjk) && token.contains(word)
}

/// The product's option values the comment mentions (sizes also as small/medium/large).
fn mentioned<'p>(toks: &[&str], product: &'p Product, plus: bool) -> SmallVec<[&'p [String]; 4]> {
    let mut values: SmallVec<[&'p [String]; 4]> = product
        .option_values()
        .iter()
        .map(Vec::as_slice)
        .filter(|val| {
            contains_seq(toks, val)
                || (val.len() == 1
                    && SIZE_SYNONYMS
                        .iter()
                        .any(|(word, size)| val[0] == *size && toks.contains(word)))
                || (plus && val.len() == 1 && toks.iter().any(|t| cjk_inside(t, &val[0])))
        })
        .collect();
    if plus && values.len() > 1 {
        // `粉紅` also contains `粉`: the longer value is the one meant.
        let all = values.clone();
        values.retain(|v| {
            !(v.len() == 1
                && all
                    .iter()
                    .any(|w| w.len() == 1 && w[0].len() > v[0].len() && cjk_inside(&w[0], &v[0])))
        });
    }
    values
}

/// Variants whose options include every mentioned value.
fn candidates<'p>(toks: &[&str], product: &'p Product, plus: bool) -> SmallVec<[&'p str; 8]> {
    let values = mentioned(toks, product, plus);
    product
        .variants
        .iter()
        .filter(|v| values.iter().all(|val| v.has_value(val)))
        .map(|v| v.sku.as_str())
        .collect()
}

/// Reads one comment against the run sheet, the active product (normalised code) and the config.
pub fn read(text: &str, sheet: &RunSheet, active: Option<&str>, cfg: &Config) -> Reading {
    NORMALIZED.with_borrow_mut(|norm| {
        normalize_into(text, norm);
        read_normalized(norm, sheet, active, cfg)
    })
}

/// The readings of a session's recent comment texts. A reading depends only on the text, the
/// run sheet, the active product and the config, and live chat repeats itself ("sold", "🔥🔥🔥",
/// "how much?"): a text seen since the last director event is read once. The owner calls
/// `forget` whenever the sheet, the active product or the config may have changed.
#[derive(Debug, Default)]
pub struct Memo {
    readings: FxHashMap<Text, Reading>,
}

impl Memo {
    /// Entries kept before the memo starts over; bounds its memory per session.
    const MAX_ENTRIES: usize = 4096;
    /// Longer texts are rarely repeated word for word and are read every time.
    const MAX_TEXT_BYTES: usize = 64;

    /// `read(text, sheet, active, cfg)`, remembered for the next comment with the same text.
    pub fn read(
        &mut self,
        text: &str,
        sheet: &RunSheet,
        active: Option<&str>,
        cfg: &Config,
    ) -> Reading {
        if text.len() > Self::MAX_TEXT_BYTES {
            return read(text, sheet, active, cfg);
        }
        if let Some(r) = self.readings.get(text) {
            return r.clone();
        }
        let r = read(text, sheet, active, cfg);
        if self.readings.len() >= Self::MAX_ENTRIES {
            self.readings.clear();
        }
        self.readings.insert(Text::from(text), r.clone());
        r
    }

    pub fn forget(&mut self) {
        self.readings.clear();
    }
}

fn read_normalized(norm: &str, sheet: &RunSheet, active: Option<&str>, cfg: &Config) -> Reading {
    if norm.contains('?') {
        return Reading::Ignored(Ignore::Question);
    }
    let plus = cfg.plus_form;
    let mut toks = Tokens::new();
    if plus {
        plus_tokens_into(norm, &mut toks);
    } else {
        tokens_into(norm, &mut toks);
    }
    if toks.iter().any(|t| NEGATIONS.contains(t)) {
        return Reading::Ignored(Ignore::Negation);
    }
    let has = |list: &[String]| {
        toks.iter()
            .any(|t| list.iter().any(|k| k == t || (plus && cjk_inside(t, k))))
    };
    let cancel = has(&cfg.cancel_keywords);
    // In the plus form `+N` is a claim keyword as well as the quantity.
    let claim = has(&cfg.claim_keywords) || (plus && toks.iter().any(|t| t.starts_with('+')));
    let qty = quantities(&toks, sheet);
    let named = named(&toks, &qty.used, sheet);
    let active_product = || active.and_then(|c| sheet.by_code(c));

    if cancel {
        let products: SmallVec<[&Product; 2]> = if !named.products.is_empty() {
            named.products.clone()
        } else if named.code_shaped.is_empty() {
            match active_product() {
                Some(p) => smallvec::smallvec![p],
                None => return Reading::Ignored(Ignore::CancelUnclear),
            }
        } else {
            return Reading::Ignored(Ignore::CancelUnclear);
        };
        let skus = products
            .iter()
            .flat_map(|p| candidates(&toks, p, plus))
            .map(str::to_string)
            .collect();
        return Reading::Cancel { skus };
    }

    if !claim {
        return fuzzy_keyword(&toks, &named, cfg).unwrap_or(Reading::Ignored(Ignore::NoKeyword));
    }

    let product = match named.products.as_slice() {
        [one] => *one,
        [] if named.code_shaped.is_empty() => match active_product() {
            Some(p) => p,
            None => return escalate(Reason::NoProduct, None, None, vec![]),
        },
        [] => {
            let mut near: Vec<&String> = Vec::new();
            for code in sheet.codes() {
                if named.code_shaped.iter().any(|t| within_one_edit(t, code)) {
                    near.push(code);
                }
            }
            return match near.as_slice() {
                [code] => {
                    let shown = sheet
                        .by_code(code)
                        .map(|p| p.code.clone())
                        .unwrap_or_default();
                    escalate(Reason::FuzzyCode, None, None, vec![shown])
                }
                _ => Reading::Rejected {
                    reason: Reason::UnknownProduct,
                },
            };
        }
        many => {
            let codes = many.iter().map(|p| p.code.clone()).collect();
            return escalate(Reason::MultipleProducts, None, None, codes);
        }
    };

    let single_qty = match qty.values.as_slice() {
        [] => Some(1),
        [v] => Some(*v),
        _ => None,
    };
    let cands = candidates(&toks, product, plus);
    let sku = match cands.as_slice() {
        [one] => Text::from(&one[..]),
        [] => return escalate(Reason::UnknownVariant, None, single_qty, vec![]),
        many => {
            let skus = many.iter().map(|s| s.to_string()).collect();
            return escalate(Reason::AmbiguousVariant, None, single_qty, skus);
        }
    };
    let Some(q) = single_qty else {
        return escalate(Reason::AmbiguousQty, Some(sku), None, vec![]);
    };
    if !(1..=99).contains(&q) || q > cfg.max_qty {
        return escalate(Reason::QtyOverLimit, Some(sku), Some(q), vec![]);
    }
    Reading::Claim { sku, qty: q }
}

fn escalate(
    reason: Reason,
    sku: Option<Text>,
    qty: Option<u64>,
    candidates: Vec<String>,
) -> Reading {
    Reading::Escalated {
        reason,
        sku,
        qty,
        candidates,
    }
}

/// SPEC 3.1.7: no keyword, a code present, and a 4+ letter word one edit from a claim keyword.
fn fuzzy_keyword(toks: &[&str], named: &Named, cfg: &Config) -> Option<Reading> {
    if named.products.is_empty() {
        return None;
    }
    let values: Vec<&Vec<String>> = named
        .products
        .iter()
        .flat_map(|p| p.option_values())
        .collect();
    let hit = toks.iter().any(|t| {
        t.chars().count() >= 4
            && t.chars().all(char::is_alphabetic)
            && !values.iter().any(|v| v.len() == 1 && v[0] == *t)
            && cfg.claim_keywords.iter().any(|k| within_one_edit(t, k))
    });
    if !hit {
        return None;
    }
    // The moderator gets the most precise suggestion the comment allows: a sku, skus, or codes.
    let (sku, candidates) = match named.products.as_slice() {
        [p] => match candidates(toks, p, cfg.plus_form).as_slice() {
            [one] => (Some(Text::from(&one[..])), vec![]),
            many => (None, many.iter().map(|s| s.to_string()).collect()),
        },
        ps => (None, ps.iter().map(|p| p.code.clone()).collect()),
    };
    Some(escalate(Reason::FuzzyKeyword, sku, None, candidates))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::runsheet::Variant;
    use rustc_hash::FxHashSet;

    fn variant(sku: &str, values: &[&str]) -> Variant {
        Variant::new(
            sku.into(),
            &values.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            1,
        )
    }

    /// The run sheet of SPEC section 6.
    fn sheet() -> RunSheet {
        let mut s = RunSheet::default();
        let mut seen = FxHashSet::default();
        s.define(
            Product::new(
                "A12".into(),
                None,
                2500,
                None,
                vec![
                    variant("A12-RED-M", &["red", "M"]),
                    variant("A12-RED-S", &["red", "S"]),
                    variant("A12-BLUE-M", &["blue", "M"]),
                ],
            ),
            &mut seen,
        );
        s.define(
            Product::new("B7".into(), None, 900, None, vec![variant("B7", &[])]),
            &mut seen,
        );
        s.define(
            Product::new(
                "N5".into(),
                None,
                100,
                None,
                vec![
                    variant("N5-NAVY", &["Navy Blue"]),
                    variant("N5-SKY", &["Sky Blue"]),
                ],
            ),
            &mut seen,
        );
        s
    }

    fn claim(sku: &str, qty: u64) -> Reading {
        Reading::Claim {
            sku: sku.into(),
            qty,
        }
    }

    fn esc(reason: Reason, sku: Option<&str>, qty: Option<u64>, cands: &[&str]) -> Reading {
        Reading::Escalated {
            reason,
            sku: sku.map(Text::from),
            qty,
            candidates: cands.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_worked_example_table() {
        let s = sheet();
        let cfg = Config::default();
        let active = Some("b7");
        let cases: Vec<(&str, Reading)> = vec![
            ("SOLD A12 red M", claim("A12-RED-M", 1)),
            ("A 12 sold red s", claim("A12-RED-S", 1)),
            ("sold a-12 blue medium", claim("A12-BLUE-M", 1)),
            ("ＳＯＬＤ Ａ１２ ｒｅｄ Ｍ", claim("A12-RED-M", 1)),
            ("is A12 sold?", Reading::Ignored(Ignore::Question)),
            (
                "sodl A12",
                esc(
                    Reason::FuzzyKeyword,
                    None,
                    None,
                    &["A12-RED-M", "A12-RED-S", "A12-BLUE-M"],
                ),
            ),
            ("sold A21", esc(Reason::FuzzyCode, None, None, &["A12"])),
            (
                "sold Z99",
                Reading::Rejected {
                    reason: Reason::UnknownProduct,
                },
            ),
            ("sold", claim("B7", 1)),
            ("sold x2", claim("B7", 2)),
            ("mine 2 pcs", claim("B7", 2)),
            (
                "sold x2 x3",
                esc(Reason::AmbiguousQty, Some("B7"), None, &[]),
            ),
            (
                "sold x9",
                esc(Reason::QtyOverLimit, Some("B7"), Some(9), &[]),
            ),
            (
                "sold A12 and B7",
                esc(Reason::MultipleProducts, None, None, &["A12", "B7"]),
            ),
            (
                "sold A12",
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["A12-RED-M", "A12-RED-S", "A12-BLUE-M"],
                ),
            ),
            (
                "sold A12 purple",
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["A12-RED-M", "A12-RED-S", "A12-BLUE-M"],
                ),
            ),
            (
                "cancel B7",
                Reading::Cancel {
                    skus: vec!["B7".into()],
                },
            ),
            (
                "B7 gold looks nice",
                esc(Reason::FuzzyKeyword, Some("B7"), None, &[]),
            ),
            ("don't want B7", Reading::Ignored(Ignore::Negation)),
        ];
        for (text, want) in cases {
            assert_eq!(read(text, &s, active, &cfg), want, "{text}");
        }
    }

    /// A Taiwanese shop's run sheet: `T1` in pink, pink-red and black, size M or L.
    fn tw_sheet() -> RunSheet {
        let mut s = RunSheet::default();
        s.define(
            Product::new(
                "T1".into(),
                None,
                39000,
                Some("TWD".into()),
                vec![
                    variant("T1-PINK-M", &["粉", "M"]),
                    variant("T1-ROSE-M", &["粉紅", "M"]),
                    variant("T1-BLACK-L", &["黑", "L"]),
                ],
            ),
            &mut FxHashSet::default(),
        );
        s.define(
            Product::new("A1".into(), None, 19900, None, vec![variant("A1", &[])]),
            &mut FxHashSet::default(),
        );
        s
    }

    #[test]
    fn the_plus_form_reads_taiwan_and_hong_kong_comments() {
        let s = tw_sheet();
        let mut cfg = Config::default();
        Config::add_keywords(&mut cfg.claim_keywords, &["下標".into(), "喊單".into()]);
        Config::add_keywords(&mut cfg.cancel_keywords, &["取消".into(), "不要".into()]);
        cfg.plus_form = true;
        let active = Some("t1");
        let cases: Vec<(&str, Reading)> = vec![
            ("A1+1", claim("A1", 1)),
            ("a1 +2", claim("A1", 2)),
            ("A1＋１", claim("A1", 1)),
            ("粉M+1", claim("T1-PINK-M", 1)),
            ("粉紅m+1", claim("T1-ROSE-M", 1)),
            ("我要粉紅色 M +1 謝謝", claim("T1-ROSE-M", 1)),
            ("黑色L號+2", claim("T1-BLACK-L", 2)),
            ("T1黑L+1", claim("T1-BLACK-L", 1)),
            ("喊單 A1", claim("A1", 1)),
            ("我要下標A1", claim("A1", 1)),
            ("+1+1 A1", claim("A1", 1)),
            (
                "+1",
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["T1-PINK-M", "T1-ROSE-M", "T1-BLACK-L"],
                ),
            ),
            ("A1+1 x2", esc(Reason::AmbiguousQty, Some("A1"), None, &[])),
            ("A1+9", esc(Reason::QtyOverLimit, Some("A1"), Some(9), &[])),
            (
                "A1+1 T1",
                esc(Reason::MultipleProducts, None, None, &["A1", "T1"]),
            ),
            (
                "A1 不要了",
                Reading::Cancel {
                    skus: vec!["A1".into()],
                },
            ),
            (
                "取消 粉M",
                Reading::Cancel {
                    skus: vec!["T1-PINK-M".into()],
                },
            ),
            ("A1+1有貨嗎?", Reading::Ignored(Ignore::Question)),
            ("A1+1有貨嗎？", Reading::Ignored(Ignore::Question)),
            // A sum or a phone number is not the plus form.
            ("A1 1+100", Reading::Ignored(Ignore::NoKeyword)),
            ("好漂亮 A1", Reading::Ignored(Ignore::NoKeyword)),
        ];
        for (text, want) in cases {
            assert_eq!(read(text, &s, active, &cfg), want, "{text}");
        }
        // Without the pack the same comments are read by the SPEC's grammar alone.
        let spec = Config::default();
        assert_eq!(
            read("A1+1", &s, active, &spec),
            Reading::Ignored(Ignore::NoKeyword)
        );
        assert_eq!(
            read("粉M+1", &s, active, &spec),
            Reading::Ignored(Ignore::NoKeyword)
        );
    }

    #[test]
    fn x_and_digits_name_a_code_of_the_run_sheet_before_a_quantity() {
        let mut s = sheet();
        s.define(
            Product::new("X5".into(), None, 500, None, vec![variant("X5", &[])]),
            &mut FxHashSet::default(),
        );
        let cfg = Config::default();
        assert_eq!(read("x 5 sold", &s, Some("b7"), &cfg), claim("X5", 1));
        assert_eq!(read("sold x 4", &s, Some("b7"), &cfg), claim("B7", 4));
    }

    #[test]
    fn every_rule_has_cases() {
        let s = sheet();
        let cfg = Config::default();
        let cases: Vec<(&str, Option<&str>, Reading)> = vec![
            // 1. questions and negations
            ("sold B7 ？", None, Reading::Ignored(Ignore::Question)),
            ("never sold B7", None, Reading::Ignored(Ignore::Negation)),
            ("no", None, Reading::Ignored(Ignore::Negation)),
            ("dont take it", None, Reading::Ignored(Ignore::Negation)),
            // 2. keywords
            (
                "love this!!",
                Some("b7"),
                Reading::Ignored(Ignore::NoKeyword),
            ),
            ("B7", None, Reading::Ignored(Ignore::NoKeyword)),
            (
                "sold B7 cancel",
                None,
                Reading::Cancel {
                    skus: vec!["B7".into()],
                },
            ),
            ("DIBS #B7", None, claim("B7", 1)),
            ("cf b7", None, claim("B7", 1)),
            // 3. product codes
            ("sold", None, esc(Reason::NoProduct, None, None, &[])),
            ("sold b-7 b7 #B7", None, claim("B7", 1)),
            ("sold A12 red m Z99", None, claim("A12-RED-M", 1)),
            ("take a12 blue", Some("b7"), claim("A12-BLUE-M", 1)),
            // 4. fuzzy codes: one neighbour escalates, none or several reject
            (
                "sold B8",
                Some("b7"),
                esc(Reason::FuzzyCode, None, None, &["B7"]),
            ),
            (
                "sold A1",
                Some("b7"),
                esc(Reason::FuzzyCode, None, None, &["A12"]),
            ),
            ("sold N6", None, esc(Reason::FuzzyCode, None, None, &["N5"])),
            (
                "sold B5",
                None,
                Reading::Rejected {
                    reason: Reason::UnknownProduct,
                },
            ),
            (
                "sold Q1",
                Some("b7"),
                Reading::Rejected {
                    reason: Reason::UnknownProduct,
                },
            ),
            // 5. variants
            (
                "sold A12 green",
                None,
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["A12-RED-M", "A12-RED-S", "A12-BLUE-M"],
                ),
            ),
            (
                "sold A12 blue s",
                None,
                esc(Reason::UnknownVariant, None, Some(1), &[]),
            ),
            (
                "sold A12 red",
                None,
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["A12-RED-M", "A12-RED-S"],
                ),
            ),
            (
                "sold A12 m",
                None,
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["A12-RED-M", "A12-BLUE-M"],
                ),
            ),
            ("sold A12 small", None, claim("A12-RED-S", 1)),
            ("sold N5 navy blue", None, claim("N5-NAVY", 1)),
            (
                "sold N5 blue",
                None,
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    Some(1),
                    &["N5-NAVY", "N5-SKY"],
                ),
            ),
            // 6. quantities
            ("sold 3x", Some("b7"), claim("B7", 3)),
            ("sold qty3", Some("b7"), claim("B7", 3)),
            ("sold qty 3", Some("b7"), claim("B7", 3)),
            // `x 2` is `x2`: a quantity, so no code-shaped word keeps the active product away.
            ("sold x 2", Some("b7"), claim("B7", 2)),
            ("sold A12 red m x 3", None, claim("A12-RED-M", 3)),
            ("sold 3pcs", Some("b7"), claim("B7", 3)),
            ("sold x2 2x", Some("b7"), claim("B7", 2)),
            (
                "sold x0",
                Some("b7"),
                esc(Reason::QtyOverLimit, Some("B7"), Some(0), &[]),
            ),
            (
                "sold x100",
                Some("b7"),
                esc(Reason::QtyOverLimit, Some("B7"), Some(100), &[]),
            ),
            (
                "sold x6",
                Some("b7"),
                esc(Reason::QtyOverLimit, Some("B7"), Some(6), &[]),
            ),
            (
                "sold x99999999999999999999999",
                Some("b7"),
                esc(Reason::QtyOverLimit, Some("B7"), Some(u64::MAX), &[]),
            ),
            (
                "sold A12 x2 x3",
                None,
                esc(
                    Reason::AmbiguousVariant,
                    None,
                    None,
                    &["A12-RED-M", "A12-RED-S", "A12-BLUE-M"],
                ),
            ),
            // 7. fuzzy keywords
            (
                "soldd A12 red m",
                None,
                esc(Reason::FuzzyKeyword, Some("A12-RED-M"), None, &[]),
            ),
            (
                "B7 A12 gold",
                None,
                esc(Reason::FuzzyKeyword, None, None, &["B7", "A12"]),
            ),
            ("sodl", Some("b7"), Reading::Ignored(Ignore::NoKeyword)),
            (
                "A12 red beautiful",
                None,
                Reading::Ignored(Ignore::NoKeyword),
            ),
            // cancels
            (
                "cancel",
                Some("b7"),
                Reading::Cancel {
                    skus: vec!["B7".into()],
                },
            ),
            ("cancel", None, Reading::Ignored(Ignore::CancelUnclear)),
            (
                "cancel Z99",
                Some("b7"),
                Reading::Ignored(Ignore::CancelUnclear),
            ),
            (
                "pass A12 red",
                Some("b7"),
                Reading::Cancel {
                    skus: vec!["A12-RED-M".into(), "A12-RED-S".into()],
                },
            ),
            (
                "unclaim A12 B7",
                None,
                Reading::Cancel {
                    skus: vec![
                        "A12-RED-M".into(),
                        "A12-RED-S".into(),
                        "A12-BLUE-M".into(),
                        "B7".into(),
                    ],
                },
            ),
        ];
        for (text, active, want) in cases {
            assert_eq!(read(text, &s, active, &cfg), want, "{text}");
        }
    }

    #[test]
    fn configured_keywords_accumulate() {
        let s = sheet();
        let mut cfg = Config::default();
        Config::add_keywords(
            &mut cfg.claim_keywords,
            &["Chốt".to_string(), "PA-MINE".to_string()],
        );
        assert_eq!(read("chốt B7", &s, None, &cfg), claim("B7", 1));
        assert_eq!(read("pa-mine b7", &s, None, &cfg), claim("B7", 1));
        assert_eq!(read("sold b7", &s, None, &cfg), claim("B7", 1));
    }

    #[test]
    fn claims_count_only_keyworded_comments() {
        let s = sheet();
        let cfg = Config::default();
        assert!(read("sold Z99", &s, None, &cfg).is_claim());
        assert!(read("sold", &s, None, &cfg).is_claim());
        assert!(!read("sodl A12", &s, None, &cfg).is_claim());
        assert!(!read("cancel B7", &s, None, &cfg).is_claim());
    }
}
