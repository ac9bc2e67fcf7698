//! The claim grammar of SPEC 3.1: what a comment asks for, before any stock is looked at.

mod parts;
mod segment;
#[cfg(test)]
mod tests;

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::event::Text;
use super::runsheet::{Config, Product, RunSheet};
use super::text::is_unspaced;
use super::text::{
    normalize_into, strip_mentions, tokens_into, unspaced_tokens_into, within_one_edit,
};
use parts::{Mask, Named, Quantities, candidates, named, option_mask, quantities};

/// A comment's tokens: most comments have few, so they stay on the stack.
type Tokens<'a> = SmallVec<[&'a str; 16]>;

thread_local! {
    /// The normalised text of the comment being read, reused from one comment to the next.
    static NORMALIZED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// SPEC 3.1.1: a comment whose first token is one of these asks something.
const QUESTION_WORDS: &[&str] = &[
    "where", "how", "what", "what's", "where's", "how's", "when", "which", "who", "why", "can",
    "could", "do", "does", "is", "are",
];
/// SPEC 3.1.1: a comment with one of these anywhere refuses.
const NEGATIONS: &[&str] = &[
    "not", "dont", "don't", "no", "never", "can't", "cant", "won't", "wont", "didn't", "didnt",
    "doesn't", "doesnt",
];
/// SPEC 3.1.2: the claim keyword that counts only at either end of the comment.
const ME: &str = "me";

/// Why a comment was escalated or rejected; the strings are the SPEC's `reason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    UnclearClaim,
    DuplicateClaim,
    Moderator,
    /// SPEC 3.5: a claim after the show's `end`.
    ShowEnded,
}

impl Reason {
    pub const ALL: [Reason; 13] = [
        Reason::MultipleProducts,
        Reason::NoProduct,
        Reason::FuzzyCode,
        Reason::UnknownProduct,
        Reason::UnknownVariant,
        Reason::AmbiguousVariant,
        Reason::AmbiguousQty,
        Reason::QtyOverLimit,
        Reason::FuzzyKeyword,
        Reason::UnclearClaim,
        Reason::DuplicateClaim,
        Reason::Moderator,
        Reason::ShowEnded,
    ];

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
            Reason::UnclearClaim => "unclear_claim",
            Reason::DuplicateClaim => "duplicate_claim",
            Reason::Moderator => "moderator",
            Reason::ShowEnded => "show_ended",
        }
    }
}

/// Why a comment is not acted on; it still counts as engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignore {
    Question,
    Negation,
    NoKeyword,
    /// SPEC 3.1.3a: a keyword inside a sentence of three or more other words.
    Chatter,
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

/// Every value of `Reading::label`, and the two a session sets itself.
pub const READING_LABELS: [&str; 5] = ["ignored", "claim", "escalated", "rejected", "cancel"];

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

    /// SPEC 4: `claims` counts comments read as claims (a claim keyword and no cancel, or a code
    /// claim; not a question, negation or chatter). A fuzzy keyword is no keyword.
    pub fn is_claim(&self) -> bool {
        match self {
            Reading::Claim { .. } | Reading::Rejected { .. } => true,
            Reading::Escalated { reason, .. } => *reason != Reason::FuzzyKeyword,
            Reading::Ignored(_) | Reading::Cancel { .. } => false,
        }
    }
}

/// Reads one comment against the run sheet, the active product (normalised code) and the config.
pub fn read(text: &str, sheet: &RunSheet, active: Option<&str>, cfg: &Config) -> Reading {
    NORMALIZED.with_borrow_mut(|norm| {
        normalize_into(text, norm);
        strip_mentions(norm);
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

/// SPEC 3.1.2: `token` is `keyword` with some of its letters repeated (`soldddd`, `sooold` are
/// `sold`; `passss` is `pass`, `pas` is not). Anything but a letter must stand as often as in
/// the keyword.
pub fn stretches(token: &str, keyword: &str) -> bool {
    if token == keyword {
        return true;
    }
    if token.len() <= keyword.len() {
        return false;
    }
    let (mut t, mut k) = (token.chars().peekable(), keyword.chars().peekable());
    while let Some(c) = k.next() {
        let mut want = 1;
        while k.next_if_eq(&c).is_some() {
            want += 1;
        }
        let mut got = 0;
        while t.next_if_eq(&c).is_some() {
            got += 1;
        }
        if got < want || (got != want && !c.is_alphabetic()) {
            return false;
        }
    }
    t.next().is_none()
}

/// Whether a token is one of these words, stretched.
fn matches_any(token: &str, words: &[String]) -> bool {
    words.iter().any(|w| stretches(token, w))
}

/// Which tokens are claim keywords (SPEC 3.1.2): `me` only as the first or last token that is
/// not a filler word; in the plus form every `+N` too.
fn claim_keywords(toks: &[&str], filler: &Mask, cfg: &Config) -> Mask {
    let me = cfg.claim_keywords.iter().any(|k| k == ME);
    let first = filler.iter().position(|f| !f);
    let last = filler.iter().rposition(|f| !f);
    toks.iter()
        .enumerate()
        .map(|(i, t)| {
            let at_an_end = Some(i) == first || Some(i) == last;
            cfg.claim_keywords
                .iter()
                .filter(|k| *k != ME)
                .any(|k| stretches(t, k))
                || (cfg.plus_form && t.starts_with('+'))
                || (me && at_an_end && stretches(t, ME))
        })
        .collect()
}

fn read_normalized(norm: &str, sheet: &RunSheet, active: Option<&str>, cfg: &Config) -> Reading {
    if norm.contains('?') {
        return Reading::Ignored(Ignore::Question);
    }
    // The plus form is Chinese: it reads its runs as an unspaced script too.
    let unspaced = cfg.unspaced || cfg.plus_form;
    let mut toks = Tokens::new();
    if unspaced {
        let mut runs = Tokens::new();
        unspaced_tokens_into(norm, cfg.plus_form, &mut runs);
        toks = segment::split_runs(&runs, cfg, sheet);
    } else {
        tokens_into(norm, &mut toks);
    }
    // A pack's question or negation word in an unspaced script counts anywhere inside a run,
    // known words around it or not (`ราคาเท่าไหร่คะ`).
    let in_run = |t: &str, words: &[String]| {
        unspaced
            && t.starts_with(is_unspaced)
            && words
                .iter()
                .any(|w| w.starts_with(is_unspaced) && t.contains(w.as_str()))
    };
    if toks
        .first()
        .is_some_and(|t| QUESTION_WORDS.contains(t) || cfg.question_words.iter().any(|q| q == t))
        || toks.iter().any(|t| in_run(t, &cfg.question_words))
    {
        return Reading::Ignored(Ignore::Question);
    }
    if toks.iter().any(|t| {
        NEGATIONS.contains(t) || cfg.negations.iter().any(|n| n == t) || in_run(t, &cfg.negations)
    }) {
        return Reading::Ignored(Ignore::Negation);
    }
    let mut filler: Mask = toks
        .iter()
        .map(|t| cfg.filler_words.iter().any(|f| f == t))
        .collect();
    let qty = quantities(&toks, sheet, cfg);
    let named = named(&toks, &qty.used, sheet);
    let active_product = active.and_then(|c| sheet.by_code(c));
    // A pack's solo words (`yo`, `mía`) claim beside nothing but filler words, codes, options
    // and quantities; anywhere else they are filler words (`mia sorella l'ha preso …`).
    let solo: Mask = toks
        .iter()
        .map(|t| matches_any(t, &cfg.solo_words))
        .collect();
    let alone = solo.contains(&true) && {
        let product = match named.products.as_slice() {
            [p] => Some(*p),
            [] => active_product,
            _ => None,
        };
        let opts = product.map(|p| option_mask(&toks, p, cfg));
        (0..toks.len()).all(|i| {
            solo[i]
                || filler[i]
                || qty.used[i]
                || named.code_used[i]
                || opts.as_ref().is_some_and(|o| o[i])
        })
    };
    if !alone {
        for i in 0..toks.len() {
            filler[i] |= solo[i];
        }
    }
    let cancel = toks.iter().any(|t| matches_any(t, &cfg.cancel_keywords));
    let mut claim_kw = claim_keywords(&toks, &filler, cfg);
    if alone {
        for i in 0..toks.len() {
            claim_kw[i] |= solo[i];
        }
    }
    let c = Comment {
        toks: &toks,
        filler,
        qty,
        named,
        active: active_product,
        cfg,
    };

    if cancel {
        return c.cancel();
    }
    if !claim_kw.contains(&true) {
        if let Some(p) = c.code_claim() {
            return c.claim_of(p);
        }
        if cfg.option_claims {
            if let Some(p) = c.option_claim() {
                return c.claim_of(p);
            }
        }
        return c
            .fuzzy_keyword()
            .unwrap_or(Reading::Ignored(Ignore::NoKeyword));
    }
    let product = match c.named.products.as_slice() {
        [one] => *one,
        [] if c.named.code_shaped.is_empty() => {
            if let Some(r) = c.claim_shape(&claim_kw) {
                return r;
            }
            match c.active {
                Some(p) => p,
                None => return escalate(Reason::NoProduct, None, None, vec![]),
            }
        }
        [] => return c.fuzzy_code(sheet),
        many => {
            let codes = many.iter().map(|p| p.code.clone()).collect();
            return escalate(Reason::MultipleProducts, None, None, codes);
        }
    };
    c.claim_of(product)
}

/// One comment's tokens with what the run sheet and the config make of each.
struct Comment<'t, 'r> {
    toks: &'t [&'t str],
    filler: Mask,
    qty: Quantities,
    named: Named<'r>,
    /// The active product, when the run sheet has it.
    active: Option<&'r Product>,
    cfg: &'r Config,
}

impl<'r> Comment<'_, 'r> {
    /// SPEC 3.1.3a: the tokens that are neither keywords (`keyword`), quantities, the active
    /// product's option values nor filler words.
    fn extra_words(&self, keyword: &Mask) -> SmallVec<[usize; 8]> {
        let opts = self.active.map(|p| option_mask(self.toks, p, self.cfg));
        (0..self.toks.len())
            .filter(|&i| {
                !(keyword[i]
                    || self.qty.used[i]
                    || self.filler[i]
                    || opts.as_ref().is_some_and(|o| o[i]))
            })
            .collect()
    }

    /// SPEC 3.1.3a for a claim that names no product: `None` when it is shaped like a claim (the
    /// active product applies), else its escalation or `ignored`.
    fn claim_shape(&self, claim_kw: &Mask) -> Option<Reading> {
        let extras = self.extra_words(claim_kw).len();
        let first_is_keyword = claim_kw.first() == Some(&true);
        let shaped = if first_is_keyword {
            extras <= 2
        } else {
            extras == 0
        };
        if shaped {
            return None;
        }
        if !first_is_keyword && extras >= 3 {
            return Some(Reading::Ignored(Ignore::Chatter));
        }
        Some(escalate(
            Reason::UnclearClaim,
            None,
            None,
            self.active
                .map(|p| vec![p.code.clone()])
                .unwrap_or_default(),
        ))
    }

    /// SPEC 3.1.2a: no keyword, exactly one product by its code, and every other token a
    /// quantity, an option value of it or a filler word, at least one not a filler word.
    fn code_claim(&self) -> Option<&'r Product> {
        let [p] = self.named.products.as_slice() else {
            return None;
        };
        self.only_specifics(p, &self.named.code_used).then_some(*p)
    }

    /// Option claims (an extension some keyword packs turn on, schemas/README.md): a code claim
    /// of the active product, for a comment that names no code at all (`black M pls`).
    fn option_claim(&self) -> Option<&'r Product> {
        let p = self.active?;
        let none: Mask = SmallVec::from_elem(false, self.toks.len());
        (self.named.products.is_empty()
            && self.named.code_shaped.is_empty()
            && self.only_specifics(p, &none))
        .then_some(p)
    }

    /// Every token not in `skip` is a quantity, an option value of `p` or a filler word, and
    /// at least one is not a filler word.
    fn only_specifics(&self, p: &Product, skip: &Mask) -> bool {
        let opts = option_mask(self.toks, p, self.cfg);
        let mut specific = false;
        for i in 0..self.toks.len() {
            if skip[i] {
                continue;
            }
            if self.qty.used[i] || opts[i] {
                specific = true;
            } else if !self.filler[i] {
                return false;
            }
        }
        specific
    }

    /// SPEC 3.1.4: code-shaped words and no code: one near code escalates, none or several reject.
    fn fuzzy_code(&self, sheet: &RunSheet) -> Reading {
        let near: SmallVec<[&String; 2]> = sheet
            .codes()
            .iter()
            .filter(|code| {
                self.named
                    .code_shaped
                    .iter()
                    .any(|t| within_one_edit(t, code))
            })
            .collect();
        match near.as_slice() {
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
        }
    }

    /// SPEC 3.1.7: no keyword, and a 4+ letter word one edit from a claim keyword, either beside
    /// a code or as the only word that keeps the comment from being a bare claim.
    fn fuzzy_keyword(&self) -> Option<Reading> {
        let cfg = self.cfg;
        let near = |t: &str, values: &[&Vec<String>]| {
            t.chars().count() >= 4
                && t.chars().all(char::is_alphabetic)
                && !values.iter().any(|v| v.len() == 1 && v[0] == t)
                && cfg.claim_keywords.iter().any(|k| within_one_edit(t, k))
        };
        let fuzzy = |candidates| Some(escalate(Reason::FuzzyKeyword, None, None, candidates));
        if !self.named.products.is_empty() {
            let values: Vec<&Vec<String>> = self
                .named
                .products
                .iter()
                .flat_map(|p| p.option_values())
                .collect();
            if !self.toks.iter().any(|t| near(t, &values)) {
                return None;
            }
            return fuzzy(self.named.products.iter().map(|p| p.code.clone()).collect());
        }
        if !self.named.code_shaped.is_empty() {
            return None;
        }
        let values: Vec<&Vec<String>> =
            self.active.iter().flat_map(|p| p.option_values()).collect();
        let none: Mask = SmallVec::from_elem(false, self.toks.len());
        let extras = self.extra_words(&none);
        // Counted as a keyword, the near token must leave no other extra word; with none at
        // all, a near filler word still qualifies.
        let hit = match extras.as_slice() {
            [] => self.toks.iter().any(|t| near(t, &values)),
            [i] => near(self.toks[*i], &values),
            _ => false,
        };
        if !hit {
            return None;
        }
        fuzzy(
            self.active
                .map(|p| vec![p.code.clone()])
                .unwrap_or_default(),
        )
    }

    /// A cancel names products like a claim (SPEC 3.2): its codes, else the active product when
    /// no token is code-shaped; the options narrow the skus.
    fn cancel(&self) -> Reading {
        let products: SmallVec<[&Product; 2]> = if !self.named.products.is_empty() {
            self.named.products.clone()
        } else if self.named.code_shaped.is_empty() {
            match self.active {
                Some(p) => smallvec::smallvec![p],
                None => return Reading::Ignored(Ignore::CancelUnclear),
            }
        } else {
            return Reading::Ignored(Ignore::CancelUnclear);
        };
        let skus = products
            .iter()
            .flat_map(|p| candidates(self.toks, p, self.cfg))
            .map(str::to_string)
            .collect();
        Reading::Cancel { skus }
    }

    /// SPEC 3.1.5 and 3.1.6 for a claim of `product`: its variant and quantity.
    fn claim_of(&self, product: &Product) -> Reading {
        let cfg = self.cfg;
        let single_qty = match self.qty.values.as_slice() {
            [] => Some(1),
            [v] => Some(*v),
            _ => None,
        };
        let cands = candidates(self.toks, product, self.cfg);
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
