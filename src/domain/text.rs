//! Text normalisation shared by the claim grammar and the run sheet: NFKC, lowercase, tokens.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC, then Unicode lowercase (SPEC 3.1). ASCII text skips the NFKC pass: it is already normal.
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        return text.to_lowercase();
    }
    text.nfkc().collect::<String>().to_lowercase()
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '#' || c == '-' || c == '\''
}

/// Maximal runs of alphanumerics, `#`, `-` and `'` in already-normalised text.
pub fn tokens(normalized: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in normalized.char_indices() {
        match (is_token_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&normalized[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&normalized[s..]);
    }
    out
}

/// A token as a code is compared: leading `#` dropped, every `-` removed.
pub fn code_form(token: &str) -> String {
    let t = token.strip_prefix('#').unwrap_or(token);
    t.chars().filter(|&c| c != '-').collect()
}

/// Normalised run-sheet code or keyword, compared against `code_form` of tokens.
pub fn normalize_code(code: &str) -> String {
    code_form(&normalize(code))
}

/// One or more letters followed by one or more ASCII digits, the whole string.
pub fn is_code_shaped(form: &str) -> bool {
    let letters = form.chars().take_while(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return false;
    }
    let rest: &str = {
        let idx = form
            .char_indices()
            .nth(letters)
            .map(|(i, _)| i)
            .unwrap_or(form.len());
        &form[idx..]
    };
    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_ascii_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Digits as a number, saturating: any value past 99 is out of range anyway.
pub fn digits_value(s: &str) -> u64 {
    s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add((b - b'0') as u64)
    })
}

/// Damerau–Levenshtein distance (with adjacent transpositions) between two normalised strings.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_fullwidth_and_case() {
        assert_eq!(normalize("ＳＯＬＤ Ａ１２ ｒｅｄ Ｍ"), "sold a12 red m");
        assert_eq!(normalize("SOLD"), "sold");
        assert_eq!(normalize("ÄÖ"), "äö");
    }

    #[test]
    fn tokenizes_with_hash_dash_apostrophe() {
        assert_eq!(tokens("sold #a-12, don't!"), vec!["sold", "#a-12", "don't"]);
        assert_eq!(tokens("is a12 sold?"), vec!["is", "a12", "sold"]);
        assert_eq!(tokens("  "), Vec::<&str>::new());
        assert_eq!(tokens("chốt a1"), vec!["chốt", "a1"]);
    }

    #[test]
    fn code_shapes() {
        assert_eq!(code_form("#a-12"), "a12");
        assert!(is_code_shaped("a12"));
        assert!(is_code_shaped("bx7"));
        assert!(!is_code_shaped("12"));
        assert!(!is_code_shaped("a12b"));
        assert!(!is_code_shaped("sold"));
        assert!(!is_code_shaped("a１２"));
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("a21", "a12"), 1);
        assert_eq!(edit_distance("sodl", "sold"), 1);
        assert_eq!(edit_distance("gold", "sold"), 1);
        assert_eq!(edit_distance("z99", "a12"), 3);
        assert_eq!(digits_value("99999999999999999999999"), u64::MAX);
    }
}
