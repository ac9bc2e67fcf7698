//! The run sheet of a session: products, their variants and option values, the active product, config.

use rustc_hash::FxHashMap;

use super::event::ConfigChange;
use super::text::{normalize, normalize_code, tokens};
use super::time::Micros;

pub const DEFAULT_CLAIM_KEYWORDS: &[&str] = &[
    "sold", "mine", "me", "claim", "want", "take", "buy", "dibs", "cf",
];
/// SPEC 3.1.3a: what buyers type around a claim that names nothing.
pub const DEFAULT_FILLER_WORDS: &[&str] = &[
    "a", "an", "the", "i", "i'll", "i'm", "im", "my", "it", "this", "that", "one", "pls", "plz",
    "please", "thanks", "thx", "ty", "for", "too", "also", "and", "yes", "ok", "okay", "omg",
];
pub const DEFAULT_CANCEL_KEYWORDS: &[&str] = &["cancel", "unclaim", "pass"];
pub const DEFAULT_WINDOW_S: i64 = 90;
pub const DEFAULT_MAX_QTY: u64 = 5;
/// SPEC 3.5: a session closes this long after its `end`, or after this long without events.
pub const DEFAULT_CLOSE_AFTER_S: i64 = 86_400;
pub const DEFAULT_IDLE_CLOSE_S: i64 = 21_600;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Variant {
    pub sku: String,
    /// Option values, normalised and split into tokens (`Navy Blue` is `["navy", "blue"]`).
    pub values: Vec<Vec<String>>,
    pub stock: i64,
}

impl Variant {
    pub fn new(sku: String, option_values: &[String], stock: i64) -> Variant {
        let values = option_values
            .iter()
            .map(|v| {
                tokens(&normalize(v))
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|t: &Vec<String>| !t.is_empty())
            .collect();
        Variant { sku, values, stock }
    }

    pub fn has_value(&self, value: &[String]) -> bool {
        self.values.iter().any(|v| v.as_slice() == value)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Product {
    /// As the run sheet spells it; outputs use this form.
    pub code: String,
    pub title: Option<String>,
    pub price_cents: i64,
    pub currency: Option<String>,
    pub variants: Vec<Variant>,
    /// Every distinct option value of the variants, each as its token sequence (computed once:
    /// the grammar reads it for every comment).
    values: Vec<Vec<String>>,
}

impl Product {
    pub fn new(
        code: String,
        title: Option<String>,
        price_cents: i64,
        currency: Option<String>,
        variants: Vec<Variant>,
    ) -> Self {
        let mut values: Vec<Vec<String>> = Vec::new();
        for v in &variants {
            for val in &v.values {
                if !values.contains(val) {
                    values.push(val.clone());
                }
            }
        }
        Product {
            code,
            title,
            price_cents,
            currency,
            variants,
            values,
        }
    }

    /// Every distinct option value of the product, each as its token sequence.
    pub fn option_values(&self) -> &[Vec<String>] {
        &self.values
    }
}

/// Session settings that `config` director actions change; keywords only accumulate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub window_us: Micros,
    pub max_qty: u64,
    /// SPEC 3.5's `close_after_s` and `idle_close_s`, in microseconds.
    pub close_after_us: Micros,
    pub idle_close_us: Micros,
    pub claim_keywords: Vec<String>,
    pub cancel_keywords: Vec<String>,
    /// SPEC 3.1.3a's filler words, the configured ones added.
    pub filler_words: Vec<String>,
    /// Negations and first-token question words of keyword packs, beside SPEC 3.1.1's (empty
    /// unless a pack adds them: the SPEC's own lists are fixed).
    pub negations: Vec<String>,
    pub question_words: Vec<String>,
    /// Unspaced packs' reading of CJK and Thai text (schemas/README.md, "Unspaced scripts").
    pub unspaced: bool,
    /// The `tw` pack's reading of `+N` (schemas/README.md, "The plus form").
    pub plus_form: bool,
    /// Packs' option claims: `black M` claims the active product (schemas/README.md).
    pub option_claims: bool,
    /// Packs' solo words: a claim alone (`yo!!`), a filler word beside anything else.
    pub solo_words: Vec<String>,
    /// Size words and the size each stands for (SPEC 3.1.3a: small, medium, large; packs add).
    pub size_words: Vec<(String, String)>,
    /// Quantity units (`2pcs`, `2 pcs`; packs add `cái`, `件` …) and number words (packs only).
    pub qty_units: Vec<String>,
    pub qty_words: Vec<(String, u64)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            window_us: DEFAULT_WINDOW_S * 1_000_000,
            max_qty: DEFAULT_MAX_QTY,
            close_after_us: DEFAULT_CLOSE_AFTER_S * 1_000_000,
            idle_close_us: DEFAULT_IDLE_CLOSE_S * 1_000_000,
            claim_keywords: owned(DEFAULT_CLAIM_KEYWORDS),
            cancel_keywords: owned(DEFAULT_CANCEL_KEYWORDS),
            filler_words: owned(DEFAULT_FILLER_WORDS),
            negations: Vec::new(),
            question_words: Vec::new(),
            unspaced: false,
            plus_form: false,
            option_claims: false,
            solo_words: Vec::new(),
            size_words: [("small", "s"), ("medium", "m"), ("large", "l")]
                .iter()
                .map(|(w, s)| (w.to_string(), s.to_string()))
                .collect(),
            qty_units: owned(&["pcs"]),
            qty_words: Vec::new(),
        }
    }
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

impl Config {
    /// A `config` director action: the settings it names, and its words added (they only
    /// accumulate, SPEC 1).
    pub fn apply(&mut self, c: &ConfigChange) {
        if let Some(w) = c.reservation_window_s {
            self.window_us = w * 1_000_000;
        }
        if let Some(m) = c.max_qty {
            self.max_qty = m;
        }
        if let Some(s) = c.close_after_s {
            self.close_after_us = s * 1_000_000;
        }
        if let Some(s) = c.idle_close_s {
            self.idle_close_us = s * 1_000_000;
        }
        Config::add_keywords(&mut self.claim_keywords, &c.claim_keywords);
        Config::add_keywords(&mut self.cancel_keywords, &c.cancel_keywords);
        Config::add_keywords(&mut self.filler_words, &c.filler_words);
        Config::add_keywords(&mut self.negations, &c.negations);
        Config::add_keywords(&mut self.question_words, &c.question_words);
        Config::add_keywords(&mut self.qty_units, &c.qty_units);
        Config::add_keywords(&mut self.solo_words, &c.solo_words);
        self.unspaced |= c.unspaced;
        self.plus_form |= c.plus_form;
        self.option_claims |= c.option_claims;
        for (word, size) in &c.size_words {
            let pair = (normalize(word), normalize(size));
            if !self.size_words.contains(&pair) {
                self.size_words.push(pair);
            }
        }
        for (word, n) in &c.qty_words {
            let word = normalize(word);
            if !self.qty_words.iter().any(|(w, _)| *w == word) {
                self.qty_words.push((word, *n));
            }
        }
    }

    pub fn add_keywords(list: &mut Vec<String>, words: &[String]) {
        for w in words {
            let n = normalize(w);
            if !n.is_empty() && !list.contains(&n) {
                list.push(n);
            }
        }
    }
}

/// Products by normalised code, and which product owns each sku.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RunSheet {
    products: Vec<Product>,
    by_code: FxHashMap<String, usize>,
    sku_owner: FxHashMap<String, usize>,
    /// Normalised codes in definition order, for deterministic fuzzy matching.
    codes: Vec<String>,
}

impl RunSheet {
    /// Defines or replaces a product; returns the skus that no earlier definition had.
    pub fn define(
        &mut self,
        product: Product,
        ever_defined: &mut rustc_hash::FxHashSet<String>,
    ) -> Vec<(String, i64)> {
        let key = normalize_code(&product.code);
        let idx = match self.by_code.get(&key) {
            Some(&i) => {
                let old = std::mem::replace(&mut self.products[i], product);
                for v in &old.variants {
                    if self.sku_owner.get(&v.sku) == Some(&i) {
                        self.sku_owner.remove(&v.sku);
                    }
                }
                i
            }
            None => {
                self.products.push(product);
                let i = self.products.len() - 1;
                self.by_code.insert(key.clone(), i);
                self.codes.push(key);
                i
            }
        };
        let mut fresh = Vec::new();
        for v in &self.products[idx].variants {
            self.sku_owner.insert(v.sku.clone(), idx);
            if ever_defined.insert(v.sku.clone()) {
                fresh.push((v.sku.clone(), v.stock));
            }
        }
        fresh
    }

    pub fn by_code(&self, normalized_code: &str) -> Option<&Product> {
        self.by_code
            .get(normalized_code)
            .map(|&i| &self.products[i])
    }

    pub fn by_code_mut(&mut self, normalized_code: &str) -> Option<&mut Product> {
        self.by_code
            .get(normalized_code)
            .map(|&i| &mut self.products[i])
    }

    pub fn owner_of(&self, sku: &str) -> Option<&Product> {
        self.sku_owner.get(sku).map(|&i| &self.products[i])
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn codes(&self) -> &[String] {
        &self.codes
    }
}
