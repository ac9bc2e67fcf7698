//! The tests' own reading of SPEC 3.1 (revised): what the processor must make of a comment.
//!
//! The generator's `Intent` for each comment is checked against it, so that the simulated buyers
//! pay for the reservations the processor really gives them. It covers what the generator
//! writes; SPEC 3.1's configured filler words and the `x 2` form next to an `X2` code are left out.

use crate::domain::text::{normalize, within_one_edit};

const QUESTION_WORDS: [&str; 16] = [
    "where", "how", "what", "what's", "where's", "how's", "when", "which", "who", "why", "can",
    "could", "do", "does", "is", "are",
];
const NEGATIONS: [&str; 13] = [
    "not", "dont", "don't", "no", "never", "can't", "cant", "won't", "wont", "didn't", "didnt",
    "doesn't", "doesnt",
];
pub(super) const CLAIM: [&str; 9] = [
    "sold", "mine", "me", "claim", "want", "take", "buy", "dibs", "cf",
];
pub(super) const CANCEL: [&str; 3] = ["cancel", "unclaim", "pass"];
const FILLER: [&str; 26] = [
    "a", "an", "the", "i", "i'll", "i'm", "im", "my", "it", "this", "that", "one", "pls", "plz",
    "please", "thanks", "thx", "ty", "for", "too", "also", "and", "yes", "ok", "okay", "omg",
];

/// A show's run sheet as the grammar sees it: lowercase codes and option values per variant.
#[derive(Clone, Debug)]
pub(super) struct Sheet {
    pub(super) codes: Vec<String>,
    pub(super) variants: Vec<Vec<Vec<String>>>,
    pub(super) claim_kw: Vec<String>,
    pub(super) cancel_kw: Vec<String>,
    pub(super) max_qty: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Read {
    Ignored,
    Rejected,
    Escalated(&'static str),
    Claim { p: usize, v: usize, q: u32 },
    Cancel(Option<usize>),
}

/// `tok` is `kw` with some of its letters repeated.
fn stretched(tok: &str, kw: &str) -> bool {
    let (t, k): (Vec<char>, Vec<char>) = (tok.chars().collect(), kw.chars().collect());
    let (mut i, mut j) = (0, 0);
    while j < k.len() {
        if i >= t.len() || t[i] != k[j] {
            return false;
        }
        let c = k[j];
        let (mut a, mut b) = (0, 0);
        while i < t.len() && t[i] == c {
            i += 1;
            a += 1;
        }
        while j < k.len() && k[j] == c {
            j += 1;
            b += 1;
        }
        if a < b {
            return false;
        }
    }
    i == t.len()
}

fn digits(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| {
        s.bytes().fold(0u64, |a, b| {
            a.saturating_mul(10).saturating_add((b - b'0') as u64)
        })
    })
}

/// One or more letters, then one or more ASCII digits.
fn code_shaped(form: &str) -> bool {
    let letters = form.chars().take_while(|c| c.is_alphabetic()).count();
    let rest: String = form.chars().skip(letters).collect();
    letters > 0 && digits(&rest).is_some()
}

fn code_form(tok: &str) -> String {
    tok.strip_prefix('#').unwrap_or(tok).replace('-', "")
}

/// SPEC 3.1 tokens: NFKC, lowercase, `’` `‘` as `'`, mentions out, apostrophes trimmed.
pub(super) fn tokens(text: &str) -> (String, Vec<String>) {
    let norm = normalize(text).replace(['\u{2019}', '\u{2018}'], "'");
    let mut plain = String::new();
    let mut it = norm.chars().peekable();
    while let Some(c) = it.next() {
        if c == '@' {
            while it
                .peek()
                .is_some_and(|&n| n.is_alphanumeric() || n == '_' || n == '.')
            {
                it.next();
            }
            plain.push(' ');
        } else {
            plain.push(c);
        }
    }
    let toks = plain
        .split(|c: char| !(c.is_alphanumeric() || c == '#' || c == '-' || c == '\''))
        .map(|t| t.trim_matches('\'').to_string())
        .filter(|t| !t.is_empty())
        .collect();
    (norm, toks)
}

pub(super) fn read(text: &str, sheet: &Sheet, active: Option<usize>) -> Read {
    let (norm, toks) = tokens(text);
    let n = toks.len();
    if norm.contains('?')
        || toks
            .first()
            .is_some_and(|t| QUESTION_WORDS.contains(&t.as_str()))
        || toks.iter().any(|t| NEGATIONS.contains(&t.as_str()))
    {
        return Read::Ignored;
    }
    let code_at = |t: &str| sheet.codes.iter().position(|c| *c == code_form(t));
    // quantities (3.1.6)
    let mut qty: Vec<Option<u64>> = vec![None; n];
    for i in 0..n {
        let t = toks[i].as_str();
        let one = t
            .strip_prefix('x')
            .and_then(digits)
            .or_else(|| t.strip_suffix('x').and_then(digits))
            .or_else(|| t.strip_prefix("qty").and_then(digits))
            .or_else(|| t.strip_suffix("pcs").and_then(digits));
        if one.is_some() {
            qty[i] = one;
        }
        if i + 1 < n {
            let next = toks[i + 1].as_str();
            let pair = match (t, digits(next), digits(t)) {
                ("x", Some(d), _) if code_at(&format!("x{next}")).is_none() => Some(d),
                ("qty", Some(d), _) => Some(d),
                (_, _, Some(d)) if next == "pcs" => Some(d),
                _ => None,
            };
            if pair.is_some() {
                qty[i] = pair;
                qty[i + 1] = pair;
            }
        }
    }
    // codes (3.1.3)
    let mut forming = vec![false; n];
    let mut named: Vec<usize> = Vec::new();
    for i in 0..n {
        if qty[i].is_none()
            && let Some(p) = code_at(&toks[i])
        {
            forming[i] = true;
            if !named.contains(&p) {
                named.push(p);
            }
        }
        let single = toks[i].chars().count() == 1 && toks[i].chars().all(char::is_alphabetic);
        if single
            && i + 1 < n
            && digits(&toks[i + 1]).is_some()
            && qty[i].is_none()
            && let Some(p) = code_at(&format!("{}{}", toks[i], toks[i + 1]))
        {
            forming[i] = true;
            forming[i + 1] = true;
            if !named.contains(&p) {
                named.push(p);
            }
        }
    }
    let shaped: Vec<usize> = (0..n)
        .filter(|&i| qty[i].is_none() && !forming[i] && code_shaped(&code_form(&toks[i])))
        .collect();
    // keywords (3.1.2)
    let filler = |t: &str| FILLER.contains(&t);
    let first_word = toks.iter().position(|t| !filler(t));
    let last_word = toks.iter().rposition(|t| !filler(t));
    let is_claim = |i: usize| {
        let t = toks[i].as_str();
        if stretched(t, "me") {
            return Some(i) == first_word || Some(i) == last_word;
        }
        sheet.claim_kw.iter().any(|k| k != "me" && stretched(t, k))
    };
    let is_cancel = |i: usize| sheet.cancel_kw.iter().any(|k| stretched(&toks[i], k));
    let values = |p: usize| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for var in &sheet.variants[p] {
            for o in var {
                out.push(o.clone());
                match o.as_str() {
                    "s" => out.push("small".into()),
                    "m" => out.push("medium".into()),
                    "l" => out.push("large".into()),
                    _ => {}
                }
            }
        }
        out
    };
    let resolve = |p: usize| -> Read {
        let vals = values(p);
        let mut mentioned: Vec<String> = Vec::new();
        for i in 0..n {
            if forming[i] || qty[i].is_some() || !vals.contains(&toks[i]) {
                continue;
            }
            let v = match toks[i].as_str() {
                "small" => "s".to_string(),
                "medium" => "m".to_string(),
                "large" => "l".to_string(),
                t => t.to_string(),
            };
            mentioned.push(v);
        }
        let vars = &sheet.variants[p];
        let v = if vars.len() == 1 {
            0
        } else {
            let cands: Vec<usize> = (0..vars.len())
                .filter(|&v| mentioned.iter().all(|m| vars[v].contains(m)))
                .collect();
            match cands.len() {
                0 => return Read::Escalated("unknown_variant"),
                1 => cands[0],
                _ => return Read::Escalated("ambiguous_variant"),
            }
        };
        let mut qs: Vec<u64> = qty.iter().flatten().copied().collect();
        qs.dedup();
        qs.sort_unstable();
        qs.dedup();
        let q = match qs.as_slice() {
            [] => 1,
            [q] if (1..=99).contains(q) && *q <= sheet.max_qty => *q,
            [_] => return Read::Escalated("qty_over_limit"),
            _ => return Read::Escalated("ambiguous_qty"),
        };
        Read::Claim { p, v, q: q as u32 }
    };
    let active_vals = active.map(|p| values(p)).unwrap_or_default();
    let extras = |skip: Option<usize>| {
        (0..n)
            .filter(|&i| {
                Some(i) != skip
                    && !is_claim(i)
                    && qty[i].is_none()
                    && !filler(&toks[i])
                    && !active_vals.contains(&toks[i])
            })
            .count()
    };
    if (0..n).any(&is_cancel) {
        return Read::Cancel(match named.as_slice() {
            [p] => Some(*p),
            _ => active,
        });
    }
    if !(0..n).any(&is_claim) {
        // 3.1.2a, then 3.1.7
        if let [p] = named.as_slice() {
            let vals = values(*p);
            let others: Vec<usize> = (0..n).filter(|&i| !forming[i]).collect();
            let allowed = |i: usize| qty[i].is_some() || vals.contains(&toks[i]);
            if others.iter().all(|&i| allowed(i) || filler(&toks[i]))
                && others.iter().any(|&i| allowed(i))
            {
                return resolve(*p);
            }
        }
        let product = named.first().copied().or(active);
        let product_vals = product.map(|p| values(p)).unwrap_or_default();
        for i in 0..n {
            let t = toks[i].as_str();
            let near = !forming[i]
                && t.chars().count() >= 4
                && t.chars().all(char::is_alphabetic)
                && !product_vals.iter().any(|v| v == t)
                && sheet.claim_kw.iter().any(|k| within_one_edit(t, k));
            if near && (!named.is_empty() || (shaped.is_empty() && extras(Some(i)) == 0)) {
                return Read::Escalated("fuzzy_keyword");
            }
        }
        return Read::Ignored;
    }
    match named.as_slice() {
        [p] => return resolve(*p),
        [] => {}
        _ => return Read::Escalated("multiple_products"),
    }
    if let Some(&i) = shaped.first() {
        let form = code_form(&toks[i]);
        let near = sheet
            .codes
            .iter()
            .filter(|c| within_one_edit(c, &form))
            .count();
        return if near == 1 {
            Read::Escalated("fuzzy_code")
        } else {
            Read::Rejected
        };
    }
    // 3.1.3a
    let x = extras(None);
    let claim = if is_claim(0) { x <= 2 } else { x == 0 };
    if claim {
        match active {
            Some(p) => resolve(p),
            None => Read::Escalated("no_product"),
        }
    } else if is_claim(0) || x <= 2 {
        Read::Escalated("unclear_claim")
    } else {
        Read::Ignored
    }
}
