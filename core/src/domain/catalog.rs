//! Catalog import: a Shopify product export (CSV) turned into run-sheet `product` events, with run-sheet codes no two of which are one edit apart.
//!
//! Shopify's export has one row per variant: the product's first row carries `Title` and the
//! option names, later rows of the same `Handle` only the option values and the variant's
//! columns; rows with neither a SKU nor option values (extra images) belong to no variant.
//! A bad row is reported with its line and a reason, and the rest go on.

use std::collections::BTreeMap;

use super::decision::JsonObject;
use super::text::{edit_distance, is_code_shaped, normalize_code};

/// How products get their run-sheet codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    /// Generated: `A10`, `A21`, `A32`, … (no two within one edit of each other).
    Auto,
    /// The first variant's SKU, when it is code-shaped (letters then digits).
    Sku,
    /// The product's handle, when it is code-shaped.
    Handle,
}

impl Codes {
    /// `auto`, `sku` or `handle`.
    pub fn parse(s: &str) -> Result<Codes, String> {
        match s {
            "auto" => Ok(Codes::Auto),
            "sku" => Ok(Codes::Sku),
            "handle" => Ok(Codes::Handle),
            other => Err(format!("codes {other}: one of auto, sku, handle")),
        }
    }
}

/// A row (or product) left out, or taken with a change, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line of the file (1 is the header).
    pub line: u64,
    pub reason: &'static str,
    pub detail: String,
    /// The row was left out (else taken, with the change the detail says).
    pub skipped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogVariant {
    pub sku: String,
    pub options: Vec<(String, String)>,
    pub stock: i64,
    pub price_cents: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogProduct {
    pub handle: String,
    pub code: String,
    pub title: Option<String>,
    pub price_cents: i64,
    pub variants: Vec<CatalogVariant>,
}

impl CatalogProduct {
    /// The director `product` event (SPEC 1) of this product.
    pub fn event(&self, session_id: &str, ts: &str, currency: Option<&str>) -> String {
        let mut o = JsonObject::new();
        o.str("type", "director");
        o.str("session_id", session_id);
        o.str("ts", ts);
        o.str("action", "product");
        o.str("code", &self.code);
        o.opt_str("title", self.title.as_deref());
        o.num("price_cents", self.price_cents as i128);
        o.opt_str("currency", currency);
        let mut variants = String::from("[");
        for (i, v) in self.variants.iter().enumerate() {
            if i > 0 {
                variants.push(',');
            }
            let mut options = JsonObject::new();
            for (name, value) in &v.options {
                options.str(name, value);
            }
            let mut vo = JsonObject::new();
            vo.str("sku", &v.sku);
            vo.raw("options", &options.finish());
            vo.num("stock", v.stock as i128);
            variants.push_str(&vo.finish());
        }
        variants.push(']');
        o.raw("variants", &variants);
        o.finish()
    }
}

/// What an import made of a file.
#[derive(Debug, Default)]
pub struct Catalog {
    pub products: Vec<CatalogProduct>,
    pub problems: Vec<Problem>,
}

/// Columns this import reads, by their names in Shopify's export.
struct Columns {
    handle: usize,
    title: Option<usize>,
    options: [(Option<usize>, Option<usize>); 3],
    sku: Option<usize>,
    price: Option<usize>,
    qty: Option<usize>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Result<Columns, String> {
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let handle = col("Handle").ok_or("no Handle column: not a Shopify product export")?;
        let sku = col("Variant SKU");
        if sku.is_none() {
            return Err("no Variant SKU column: not a Shopify product export".into());
        }
        let option = |n: usize| {
            (
                col(&format!("Option{n} Name")),
                col(&format!("Option{n} Value")),
            )
        };
        Ok(Columns {
            handle,
            title: col("Title"),
            options: [option(1), option(2), option(3)],
            sku,
            price: col("Variant Price"),
            qty: col("Variant Inventory Qty"),
        })
    }
}

/// `19.99`, `20`, `1,299.00` → cents; no more than two decimals.
pub fn price_cents(s: &str) -> Option<i64> {
    let s: String = s.trim().chars().filter(|c| *c != ',').collect();
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 2 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

/// Reads a Shopify product export. `Err` when the file is not one at all (no header, no
/// `Handle` or `Variant SKU` column); otherwise every product it could make, and the problems.
pub fn import_shopify_csv(text: &str, codes: Codes) -> Result<Catalog, String> {
    import_shopify_csv_beside(text, codes, &[])
}

/// The same, into a run sheet that has the codes `existing` already: a new code is never one
/// edit from one of them (the same code replaces that product, SPEC 1).
pub fn import_shopify_csv_beside(
    text: &str,
    codes: Codes,
    existing: &[String],
) -> Result<Catalog, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("cannot read the header: {e}"))?
        .clone();
    let cols = Columns::find(&header)?;
    let mut cat = Catalog::default();
    // Products in file order, with the line of their first row.
    let mut products: Vec<(u64, CatalogProduct, [Option<String>; 3])> = Vec::new();
    let mut by_handle: BTreeMap<String, usize> = BTreeMap::new();
    let mut skus: BTreeMap<String, u64> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                cat.problems.push(skip(line, "bad_csv", e.to_string()));
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(handle) = get(Some(cols.handle)) else {
            if record.iter().any(|f| !f.trim().is_empty()) {
                cat.problems
                    .push(skip(line, "missing_handle", "a row with no Handle".into()));
            }
            continue;
        };
        let index = *by_handle.entry(handle.to_string()).or_insert_with(|| {
            products.push((
                line,
                CatalogProduct {
                    handle: handle.to_string(),
                    code: String::new(),
                    title: None,
                    price_cents: 0,
                    variants: Vec::new(),
                },
                Default::default(),
            ));
            products.len() - 1
        });
        let (_, product, names) = &mut products[index];
        if product.title.is_none() {
            product.title = get(cols.title).map(str::to_string);
        }
        for (n, (name_col, _)) in cols.options.iter().enumerate() {
            if names[n].is_none() {
                names[n] = get(*name_col).map(str::to_string);
            }
        }
        let values: Vec<Option<&str>> = cols.options.iter().map(|(_, v)| get(*v)).collect();
        let sku = get(cols.sku);
        if sku.is_none() && values.iter().all(Option::is_none) {
            // An image row, or the product's own row in an export of products only.
            continue;
        }
        let Some(sku) = sku else {
            cat.problems.push(skip(
                line,
                "missing_sku",
                format!("a variant of {handle} has no Variant SKU"),
            ));
            continue;
        };
        if let Some(first) = skus.get(sku) {
            cat.problems.push(skip(
                line,
                "duplicate_sku",
                format!("SKU {sku} was already on line {first}"),
            ));
            continue;
        }
        let price = match get(cols.price).map(|p| (p, price_cents(p))) {
            Some((_, Some(c))) => c,
            Some((p, None)) => {
                cat.problems.push(skip(
                    line,
                    "bad_price",
                    format!("Variant Price {p:?} of {sku}"),
                ));
                continue;
            }
            None => {
                cat.problems.push(skip(
                    line,
                    "missing_price",
                    format!("{sku} has no Variant Price"),
                ));
                continue;
            }
        };
        let stock = match get(cols.qty).map(|q| (q, q.parse::<i64>())) {
            None => 0,
            Some((_, Ok(q))) if q >= 0 => q,
            Some((_, Ok(q))) => {
                cat.problems.push(Problem {
                    line,
                    reason: "negative_inventory",
                    detail: format!("{sku} has Variant Inventory Qty {q}: stock 0"),
                    skipped: false,
                });
                0
            }
            Some((q, Err(_))) => {
                cat.problems.push(skip(
                    line,
                    "bad_inventory",
                    format!("Variant Inventory Qty {q:?} of {sku}"),
                ));
                continue;
            }
        };
        // Shopify's single-variant products have the option "Title: Default Title".
        let options: Vec<(String, String)> = values
            .iter()
            .enumerate()
            .filter_map(|(n, v)| {
                let value = (*v)?;
                let name = names[n]
                    .clone()
                    .unwrap_or_else(|| format!("Option{}", n + 1));
                let default = name.eq_ignore_ascii_case("title")
                    && value.eq_ignore_ascii_case("default title");
                (!default).then(|| (name, value.to_string()))
            })
            .collect();
        skus.insert(sku.to_string(), line);
        product.variants.push(CatalogVariant {
            sku: sku.to_string(),
            options,
            stock,
            price_cents: price,
        });
    }
    let mut kept: Vec<(u64, CatalogProduct)> = Vec::new();
    for (line, mut p, _) in products {
        let Some(first) = p.variants.first() else {
            cat.problems.push(skip(
                line,
                "no_variants",
                format!("product {} has no variant that could be read", p.handle),
            ));
            continue;
        };
        // A run-sheet product has one price (SPEC 1): the first variant's.
        p.price_cents = first.price_cents;
        if let Some(v) = p.variants.iter().find(|v| v.price_cents != p.price_cents) {
            cat.problems.push(Problem {
                line,
                reason: "varying_price",
                detail: format!(
                    "{}'s variants have different prices ({} is {} cents): the run sheet uses the first, {} cents",
                    p.handle, v.sku, v.price_cents, p.price_cents
                ),
                skipped: false,
            });
        }
        kept.push((line, p));
    }
    assign_codes(&mut kept, codes, existing, &mut cat.problems);
    cat.products = kept.into_iter().map(|(_, p)| p).collect();
    Ok(cat)
}

fn skip(line: u64, reason: &'static str, detail: String) -> Problem {
    Problem {
        line,
        reason,
        detail,
        skipped: true,
    }
}

/// Gives every product a code; a product whose SKU or handle is no code (by `codes`), or is one
/// edit from a code already given, is left out with the reason.
fn assign_codes(
    products: &mut Vec<(u64, CatalogProduct)>,
    codes: Codes,
    existing: &[String],
    problems: &mut Vec<Problem>,
) {
    let existing: Vec<String> = existing.iter().map(|c| normalize_code(c)).collect();
    let mut taken: Vec<String> = Vec::new();
    let mut generated = generated_codes().filter(|c| {
        let form = normalize_code(c);
        !existing.iter().any(|e| edit_distance(e, &form) <= 1)
    });
    products.retain_mut(|(line, p)| {
        let code = match codes {
            Codes::Auto => generated.next(),
            Codes::Sku | Codes::Handle => {
                let from = match codes {
                    Codes::Sku => &p.variants[0].sku,
                    _ => &p.handle,
                };
                let code: String = from.chars().filter(|c| c.is_alphanumeric()).collect();
                let form = normalize_code(&code);
                if !is_code_shaped(&form) {
                    problems.push(skip(
                        *line,
                        "not_a_code",
                        format!(
                            "{from:?} is not code-shaped (letters then digits, like A12): product {} left out; try --codes auto",
                            p.handle
                        ),
                    ));
                    return false;
                }
                let near_existing = existing
                    .iter()
                    .find(|e| **e != form && edit_distance(e, &form) <= 1);
                if let Some(near) = taken
                    .iter()
                    .find(|t| edit_distance(t, &form) <= 1)
                    .or(near_existing)
                {
                    problems.push(skip(
                        *line,
                        "code_too_close",
                        format!(
                            "code {code} is within one edit of {near}: claims for one would be read as typos of the other; product {} left out",
                            p.handle
                        ),
                    ));
                    return false;
                }
                Some(code)
            }
        };
        let Some(code) = code else {
            problems.push(skip(*line, "too_many_products", "no code left".into()));
            return false;
        };
        taken.push(normalize_code(&code));
        p.code = code;
        true
    });
}

/// Codes a host can read out, no two within Damerau–Levenshtein distance 1 (SPEC 3.1.4 would
/// escalate a typo of one as `fuzzy_code` towards the other): a letter and two digits, then
/// three, chosen in reading order. `I`, `O` (read as digits) and `X` (`x2` is a quantity) are
/// left out.
pub fn generated_codes() -> impl Iterator<Item = String> {
    let letters: Vec<char> = ('A'..='Z')
        .filter(|c| !matches!(c, 'I' | 'O' | 'X'))
        .collect();
    let mut chosen: Vec<String> = Vec::new();
    let candidates = [10u32..100, 100..1000].into_iter().flat_map(move |digits| {
        let letters = letters.clone();
        letters
            .into_iter()
            .flat_map(move |l| digits.clone().map(move |d| format!("{l}{d}")))
    });
    candidates.filter(move |c| {
        let form = c.to_lowercase();
        if chosen.iter().any(|t| edit_distance(t, &form) <= 1) {
            return false;
        }
        chosen.push(form);
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,Variant Compare At Price,Image Src";

    #[test]
    fn a_shopify_export_becomes_products_with_their_variants() {
        let csv = format!(
            "{HEADER}\n\
             silk-scarf,Silk Scarf,<p>Soft</p>,Acme,Scarves,,TRUE,Color,Red,Size,M,,,SCARF-RED-M,100,shopify,3,deny,manual,25.00,,https://x/1.jpg\n\
             silk-scarf,,,,,,,,Red,,L,,,SCARF-RED-L,100,shopify,0,deny,manual,25.00,,\n\
             silk-scarf,,,,,,,,Navy Blue,,M,,,SCARF-NAVY-M,100,shopify,7,deny,manual,25.00,,\n\
             silk-scarf,,,,,,,,,,,,,,,,,,,,,https://x/2.jpg\n\
             mug,Mug,,,,,TRUE,Title,Default Title,,,,,MUG-1,300,shopify,12,deny,manual,\"1,299.5\",,\n"
        );
        let cat = import_shopify_csv(&csv, Codes::Auto).unwrap();
        assert_eq!(cat.problems, vec![]);
        assert_eq!(cat.products.len(), 2);
        let scarf = &cat.products[0];
        assert_eq!(scarf.code, "A10");
        assert_eq!(scarf.title.as_deref(), Some("Silk Scarf"));
        assert_eq!(scarf.price_cents, 2500);
        assert_eq!(scarf.variants.len(), 3);
        assert_eq!(
            scarf.variants[2].options,
            vec![
                ("Color".into(), "Navy Blue".into()),
                ("Size".into(), "M".into())
            ]
        );
        assert_eq!(scarf.variants[2].stock, 7);
        let mug = &cat.products[1];
        assert_eq!(mug.code, "A21");
        assert_eq!(mug.price_cents, 129_950);
        assert_eq!(mug.variants[0].options, vec![]);
        let ev: serde_json::Value =
            serde_json::from_str(&mug.event("s1", "2026-12-02T10:00:00Z", Some("USD"))).unwrap();
        assert_eq!(ev["action"], "product");
        assert_eq!(ev["code"], "A21");
        assert_eq!(ev["variants"][0]["sku"], "MUG-1");
        assert_eq!(ev["variants"][0]["options"], serde_json::json!({}));
        assert_eq!(ev["variants"][0]["stock"], 12);
        assert_eq!(ev["currency"], "USD");
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_the_rest_go_on() {
        let csv = format!(
            "{HEADER}\n\
             a,A,,,,,,Size,S,,,,,A-S,,,2,,,10.00,,\n\
             a,,,,,,,,M,,,,,A-S,,,2,,,10.00,,\n\
             a,,,,,,,,L,,,,,,,,2,,,10.00,,\n\
             a,,,,,,,,XL,,,,,A-XL,,,lots,,,10.00,,\n\
             a,,,,,,,,XXL,,,,,A-XXL,,,-3,,,12.00,,\n\
             b,B,,,,,,Size,S,,,,,B-S,,,1,,,ten,,\n\
             ,,,,,,,,,,,,,C-1,,,1,,,1.00,,\n"
        );
        let cat = import_shopify_csv(&csv, Codes::Auto).unwrap();
        let got: Vec<(u64, &str, bool)> = cat
            .problems
            .iter()
            .map(|p| (p.line, p.reason, p.skipped))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, "duplicate_sku", true),
                (4, "missing_sku", true),
                (5, "bad_inventory", true),
                (6, "negative_inventory", false),
                (7, "bad_price", true),
                (8, "missing_handle", true),
                (2, "varying_price", false),
                (7, "no_variants", true),
            ]
        );
        assert_eq!(cat.products.len(), 1);
        let skus: Vec<&str> = cat.products[0]
            .variants
            .iter()
            .map(|v| v.sku.as_str())
            .collect();
        assert_eq!(skus, ["A-S", "A-XXL"]);
        assert_eq!(cat.products[0].variants[1].stock, 0);
    }

    #[test]
    fn a_file_that_is_no_product_export_is_refused() {
        assert!(import_shopify_csv("name,price\nx,1\n", Codes::Auto).is_err());
        assert!(import_shopify_csv("", Codes::Auto).is_err());
    }

    #[test]
    fn generated_codes_are_never_one_edit_apart() {
        let codes: Vec<String> = generated_codes().take(300).collect();
        assert_eq!(codes.len(), 300);
        assert_eq!(&codes[..3], ["A10", "A21", "A32"]);
        for (i, a) in codes.iter().enumerate() {
            assert!(is_code_shaped(&a.to_lowercase()), "{a}");
            assert!(!a.starts_with(['I', 'O', 'X']), "{a}");
            for b in &codes[i + 1..] {
                assert!(
                    edit_distance(&a.to_lowercase(), &b.to_lowercase()) >= 2,
                    "{a} and {b}"
                );
            }
        }
    }

    #[test]
    fn codes_from_skus_or_handles_must_be_codes_and_far_apart() {
        let csv = format!(
            "{HEADER}\n\
             k12,K,,,,,,,,,,,,K12,,,1,,,1.00,,\n\
             k13,K2,,,,,,,,,,,,K13,,,1,,,1.00,,\n\
             scarf,S,,,,,,,,,,,,SC-77,,,1,,,1.00,,\n\
             tee,T,,,,,,,,,,,,TEE-RED,,,1,,,1.00,,\n"
        );
        let by_sku = import_shopify_csv(&csv, Codes::Sku).unwrap();
        let codes: Vec<&str> = by_sku.products.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["K12", "SC77"]);
        let reasons: Vec<&str> = by_sku.problems.iter().map(|p| p.reason).collect();
        assert_eq!(reasons, ["code_too_close", "not_a_code"]);
        let by_handle = import_shopify_csv(&csv, Codes::Handle).unwrap();
        let codes: Vec<&str> = by_handle.products.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["k12"]);
    }

    #[test]
    fn codes_keep_clear_of_the_run_sheets_own() {
        let csv = format!(
            "{HEADER}\nk12,K,,,,,,,,,,,,K12,,,1,,,1.00,,\nk5,K,,,,,,,,,,,,K5,,,1,,,1.00,,\n"
        );
        let auto =
            import_shopify_csv_beside(&csv, Codes::Auto, &["A1".into(), "a20".into()]).unwrap();
        let codes: Vec<&str> = auto.products.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["A32", "A43"]);
        // The same code replaces the product; one edit from a code there is refused.
        let by_sku =
            import_shopify_csv_beside(&csv, Codes::Sku, &["K12".into(), "K6".into()]).unwrap();
        let codes: Vec<&str> = by_sku.products.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["K12"]);
        assert_eq!(by_sku.problems[0].reason, "code_too_close");
    }

    #[test]
    fn prices() {
        for (s, c) in [
            ("25", Some(2500)),
            ("25.5", Some(2550)),
            ("0.99", Some(99)),
            (".5", Some(50)),
            ("1,299.00", Some(129_900)),
            ("1.999", None),
            ("-1", None),
            ("", None),
            ("abc", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(price_cents(s), c, "{s:?}");
        }
    }
}
