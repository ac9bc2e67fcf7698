//! Table tests of the claim grammar: the worked example of SPEC 6 and every rule of 3.1.

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

/// SPEC 6, the first table: every row, as the grammar reads it (`reserved` and `waitlisted` are
/// both a claim here; stock decides between them).
#[test]
fn the_worked_example_table() {
    let s = sheet();
    let cfg = Config::default();
    let active = Some("b7");
    let all_a12 = &["A12-RED-M", "A12-RED-S", "A12-BLUE-M"];
    let cases: Vec<(&str, Reading)> = vec![
        ("SOLD A12 red M", claim("A12-RED-M", 1)),
        ("A 12 sold red s", claim("A12-RED-S", 1)),
        ("sold a-12 blue medium", claim("A12-BLUE-M", 1)),
        ("ＳＯＬＤ Ａ１２ ｒｅｄ Ｍ", claim("A12-RED-M", 1)),
        ("is A12 sold?", Reading::Ignored(Ignore::Question)),
        ("sodl A12", esc(Reason::FuzzyKeyword, None, None, &["A12"])),
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
            esc(Reason::AmbiguousVariant, None, Some(1), all_a12),
        ),
        (
            "sold A12 purple",
            esc(Reason::AmbiguousVariant, None, Some(1), all_a12),
        ),
        (
            "cancel B7",
            Reading::Cancel {
                skus: vec!["B7".into()],
            },
        ),
        (
            "B7 gold looks nice",
            esc(Reason::FuzzyKeyword, None, None, &["B7"]),
        ),
        ("don't want B7", Reading::Ignored(Ignore::Negation)),
        (
            "I want to see the back of it",
            Reading::Ignored(Ignore::Chatter),
        ),
        (
            "@maria omg I want everything",
            esc(Reason::UnclearClaim, None, None, &["B7"]),
        ),
        ("where can I buy this", Reading::Ignored(Ignore::Question)),
        ("I’ll take it", claim("B7", 1)),
        (
            "mine came yesterday, love it",
            esc(Reason::UnclearClaim, None, None, &["B7"]),
        ),
        ("sold pls", claim("B7", 1)),
        ("A12 blue M", claim("A12-BLUE-M", 1)),
        ("soldddd", claim("B7", 1)),
        ("me!!", claim("B7", 1)),
        (
            "i'll tkae one",
            esc(Reason::FuzzyKeyword, None, None, &["B7"]),
        ),
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
    crate::domain::packs::pack("tw")
        .expect("the tw pack")
        .apply_to(&mut cfg);
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
        // `soldd` is `sold` stretched: a keyword, not a typo.
        ("soldd A12 red m", None, claim("A12-RED-M", 1)),
        (
            "B7 A12 gold",
            None,
            esc(Reason::FuzzyKeyword, None, None, &["B7", "A12"]),
        ),
        (
            "sodl",
            Some("b7"),
            esc(Reason::FuzzyKeyword, None, None, &["B7"]),
        ),
        ("sodl", None, esc(Reason::FuzzyKeyword, None, None, &[])),
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

/// The worked example's sheet with a dress in colours and sizes, and a one-variant bag.
fn show_sheet() -> RunSheet {
    let mut s = sheet();
    s.define(
        Product::new(
            "K3".into(),
            None,
            3900,
            None,
            vec![
                variant("K3-BLACK-M", &["black", "M"]),
                variant("K3-BLACK-S", &["black", "S"]),
                variant("K3-CHAMP-S", &["champagne", "S"]),
                variant("K3-MOCHA-L", &["mocha", "L"]),
            ],
        ),
        &mut FxHashSet::default(),
    );
    s.define(
        Product::new("P15".into(), None, 1500, None, vec![variant("P15", &[])]),
        &mut FxHashSet::default(),
    );
    s
}

/// The revised 3.1: apostrophes, mentions, question words, negations, `me`, stretched keywords,
/// code claims, claim shape and fuzzy keywords without a code.
#[test]
fn the_revised_rules_have_cases() {
    let s = show_sheet();
    let mut cfg = Config::default();
    let none = Reading::Ignored(Ignore::NoKeyword);
    let chatter = Reading::Ignored(Ignore::Chatter);
    let question = Reading::Ignored(Ignore::Question);
    let negation = Reading::Ignored(Ignore::Negation);
    let unclear = |c: &[&str]| esc(Reason::UnclearClaim, None, None, c);
    let k3_s = &["K3-BLACK-S", "K3-CHAMP-S"];
    let cases: Vec<(&str, Option<&str>, Reading)> = vec![
        // 1. typographic apostrophes, apostrophes around tokens, mentions
        ("don’t want B7", Some("b7"), negation.clone()),
        ("I won’t take it", Some("b7"), negation.clone()),
        ("didnt want it", Some("b7"), negation.clone()),
        ("‘sold’", Some("b7"), claim("B7", 1)),
        ("'sold' 'B7'", None, claim("B7", 1)),
        ("@A12 sold", Some("b7"), claim("B7", 1)),
        ("@maria_lopez sold K3 black M", None, claim("K3-BLACK-M", 1)),
        ("@host.shop @jo take it pls", Some("p15"), claim("P15", 1)),
        // 1. question words open a question, with or without `?`
        ("how much is K3", Some("k3"), question.clone()),
        (
            "can you take it off the hanger",
            Some("k3"),
            question.clone(),
        ),
        ("@host what's the price", Some("k3"), question.clone()),
        ("do you ship to Canada", Some("k3"), question.clone()),
        ("Is it sold", Some("k3"), question.clone()),
        // ... but only as the first token
        ("sold is it", Some("p15"), claim("P15", 1)),
        // 2. `me` at either end (filler words aside), an ordinary word elsewhere
        ("me!!", Some("p15"), claim("P15", 1)),
        ("me pls size S", Some("p15"), claim("P15", 1)),
        ("black M for me please", Some("k3"), claim("K3-BLACK-M", 1)),
        ("pls me", Some("p15"), claim("P15", 1)),
        ("show me A12", Some("b7"), none.clone()),
        ("show me the mocha one", Some("k3"), none.clone()),
        ("meeee", Some("p15"), claim("P15", 1)),
        // 2. stretched keywords; filler words are compared exactly
        ("SOOOLD", Some("p15"), claim("P15", 1)),
        ("mineee mocha L", Some("k3"), claim("K3-MOCHA-L", 1)),
        ("solddd K3 champagne", None, claim("K3-CHAMP-S", 1)),
        ("dibbbs", Some("p15"), claim("P15", 1)),
        (
            "passss",
            Some("p15"),
            Reading::Cancel {
                skus: vec!["P15".into()],
            },
        ),
        ("pas", Some("p15"), none.clone()),
        ("ssold", Some("p15"), claim("P15", 1)),
        // not a stretch, but one edit from `sold` and the only extra word: 3.1.7
        (
            "soldx",
            Some("p15"),
            esc(Reason::FuzzyKeyword, None, None, &["P15"]),
        ),
        ("sold plss", Some("p15"), claim("P15", 1)),
        // 2a. code claims: a code and its options or a quantity, no keyword
        ("K3 champagne S", Some("b7"), claim("K3-CHAMP-S", 1)),
        ("p15 x2", None, claim("P15", 2)),
        ("#K3 black m pls", None, claim("K3-BLACK-M", 1)),
        ("K 3 mocha large", None, claim("K3-MOCHA-L", 1)),
        (
            "K3 small",
            None,
            esc(Reason::AmbiguousVariant, None, Some(1), k3_s),
        ),
        ("K3 K3 champagne", None, claim("K3-CHAMP-S", 1)),
        (
            "A12 blue s",
            None,
            esc(Reason::UnknownVariant, None, Some(1), &[]),
        ),
        ("K3", Some("k3"), none.clone()),
        ("K3 pls", Some("k3"), none.clone()),
        ("P15 omg", None, none.clone()),
        ("K3 black looks amazing", None, none.clone()),
        ("K3 and P15 x2", None, none.clone()),
        ("K3 black Z9", None, none.clone()),
        // 3a. claim shape, the keyword first: up to two extra words
        (
            "sold K3 pls",
            None,
            esc(
                Reason::AmbiguousVariant,
                None,
                Some(1),
                &["K3-BLACK-M", "K3-BLACK-S", "K3-CHAMP-S", "K3-MOCHA-L"],
            ),
        ),
        ("mine pls size S", Some("p15"), claim("P15", 1)),
        (
            "take the red one",
            Some("a12"),
            esc(
                Reason::AmbiguousVariant,
                None,
                Some(1),
                &["A12-RED-M", "A12-RED-S"],
            ),
        ),
        ("want it for my mom", Some("p15"), claim("P15", 1)),
        ("sold to the lady in red", Some("p15"), unclear(&["P15"])),
        (
            "take a closer look at the stitching please",
            Some("k3"),
            unclear(&["K3"]),
        ),
        ("sold", None, esc(Reason::NoProduct, None, None, &[])),
        ("sold to me", None, esc(Reason::NoProduct, None, None, &[])),
        ("mine came yesterday love it", None, unclear(&[])),
        // 3a. the keyword elsewhere: none, one or two, three or more extra words
        ("I’ll take it", Some("p15"), claim("P15", 1)),
        ("omg yes I want it too", Some("p15"), claim("P15", 1)),
        ("I want black M", Some("k3"), claim("K3-BLACK-M", 1)),
        ("I want everything", Some("k3"), unclear(&["K3"])),
        ("I really want that", Some("k3"), unclear(&["K3"])),
        ("I want to see the back of it", Some("k3"), chatter.clone()),
        (
            "my sister will buy this later",
            Some("p15"),
            chatter.clone(),
        ),
        ("i want to buy", None, unclear(&[])),
        // 3a. with sizes as words when the product has them, whatever the option is called
        ("I want medium black", Some("k3"), claim("K3-BLACK-M", 1)),
        ("I want medium", Some("p15"), unclear(&["P15"])),
        // 7. fuzzy keywords without a code: the near word would leave no extra word
        (
            "i'll tkae one",
            Some("p15"),
            esc(Reason::FuzzyKeyword, None, None, &["P15"]),
        ),
        (
            "i'll tkae one",
            None,
            esc(Reason::FuzzyKeyword, None, None, &[]),
        ),
        (
            "sodl red M",
            Some("a12"),
            esc(Reason::FuzzyKeyword, None, None, &["A12"]),
        ),
        (
            "mnie pls",
            Some("k3"),
            esc(Reason::FuzzyKeyword, None, None, &["K3"]),
        ),
        ("sodl tkae", Some("k3"), none.clone()),
        ("tkae a closer look", Some("k3"), none.clone()),
        // `gold` is no option of K3: one edit from `sold`, and the only extra word
        (
            "gold",
            Some("k3"),
            esc(Reason::FuzzyKeyword, None, None, &["K3"]),
        ),
        (
            "gold x2 pls",
            Some("k3"),
            esc(Reason::FuzzyKeyword, None, None, &["K3"]),
        ),
        // 7. with a code: the codes present, no sku
        (
            "sodl K3 black M",
            None,
            esc(Reason::FuzzyKeyword, None, None, &["K3"]),
        ),
        (
            "wnat K3 and P15",
            None,
            esc(Reason::FuzzyKeyword, None, None, &["K3", "P15"]),
        ),
    ];
    for (text, active, want) in &cases {
        assert_eq!(
            read(text, &s, *active, &cfg),
            *want,
            "{text} (active {active:?})"
        );
    }
    // configured filler words join the defaults
    assert_eq!(
        read("po mine", &s, Some("p15"), &cfg),
        esc(Reason::UnclearClaim, None, None, &["P15"])
    );
    Config::add_keywords(&mut cfg.filler_words, &["Po".to_string()]);
    assert_eq!(read("po mine", &s, Some("p15"), &cfg), claim("P15", 1));
    assert_eq!(read("P15 x2 po", &s, None, &cfg), claim("P15", 2));
}

#[test]
fn a_single_x_digits_token_is_a_quantity_and_names_that_code() {
    let mut s = sheet();
    s.define(
        Product::new("X2".into(), None, 500, None, vec![variant("X2", &[])]),
        &mut FxHashSet::default(),
    );
    let cfg = Config::default();
    assert_eq!(read("sold x2", &s, Some("b7"), &cfg), claim("X2", 2));
    // The pair `x 2` names the code and is no quantity.
    assert_eq!(read("sold x 2", &s, Some("b7"), &cfg), claim("X2", 1));
    // A code claim needs more than the token that forms the code.
    assert_eq!(
        read("x2", &s, Some("b7"), &cfg),
        Reading::Ignored(Ignore::NoKeyword)
    );
}

#[test]
fn stretching_repeats_letters_only() {
    for (token, keyword, yes) in [
        ("sold", "sold", true),
        ("soldddd", "sold", true),
        ("sooold", "sold", true),
        ("ssoolldd", "sold", true),
        ("passss", "pass", true),
        ("pas", "pass", false),
        ("sol", "sold", false),
        ("soldx", "sold", false),
        ("sodl", "sold", false),
        ("pa--mine", "pa-mine", false),
        ("paa-miine", "pa-mine", true),
        ("chốttt", "chốt", true),
        ("", "sold", false),
    ] {
        assert_eq!(stretches(token, keyword), yes, "{token} ~ {keyword}");
    }
}

#[test]
fn unclear_and_code_claims_count_as_claims() {
    let s = show_sheet();
    let cfg = Config::default();
    assert!(read("I want everything", &s, Some("k3"), &cfg).is_claim());
    assert!(read("K3 champagne S", &s, None, &cfg).is_claim());
    assert!(!read("I want to see the back of it", &s, Some("k3"), &cfg).is_claim());
    assert!(!read("i'll tkae one", &s, Some("k3"), &cfg).is_claim());
}
