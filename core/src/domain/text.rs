//! Text normalisation shared by the claim grammar and the run sheet: NFKC, lowercase, tokens.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC, then Unicode lowercase, then the typographic apostrophes `’` and `‘` as `'` (SPEC 3.1:
/// phone keyboards type them). ASCII text skips the NFKC pass: it is already normal.
pub fn normalize(text: &str) -> String {
    let mut out = String::new();
    normalize_into(text, &mut out);
    out
}

/// `normalize` into a buffer the caller keeps, so reading a comment allocates nothing.
pub fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        let nfkc: std::borrow::Cow<str> = if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
            text.into()
        } else {
            text.nfkc().collect::<String>().into()
        };
        if nfkc.contains('\u{3a3}') {
            // A final capital sigma lowers by its context, which only `str` knows.
            out.extend(nfkc.to_lowercase().chars().map(plain_apostrophe));
        } else {
            out.extend(
                nfkc.chars()
                    .flat_map(char::to_lowercase)
                    .map(plain_apostrophe),
            );
        }
    }
}

fn plain_apostrophe(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' => '\'',
        c => c,
    }
}

/// A mention names someone, never a product or a claim (SPEC 3.1): `@` and the longest run of
/// letters, digits, `_` and `.` after it become one space. Done in place on normalised text.
pub fn strip_mentions(normalized: &mut String) {
    if !normalized.contains('@') {
        return;
    }
    let mut out = String::with_capacity(normalized.len());
    let mut chars = normalized.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' {
            while chars
                .peek()
                .is_some_and(|&n| n.is_alphanumeric() || n == '_' || n == '.')
            {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    *normalized = out;
}

/// A token as SPEC 3.1 keeps it: apostrophes at either end removed (`'sold'` is `sold`); `None`
/// when nothing is left.
fn trimmed(token: &str) -> Option<&str> {
    let t = token.trim_matches('\'');
    (!t.is_empty()).then_some(t)
}

fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '#' || c == '-' || c == '\''
}

/// Maximal runs of alphanumerics, `#`, `-` and `'` in already-normalised text, apostrophes at
/// either end removed.
pub fn tokens(normalized: &str) -> Vec<&str> {
    let mut out = Vec::new();
    tokens_into(normalized, &mut out);
    out
}

/// `tokens` appended to any vector-like buffer (the grammar keeps them on the stack).
pub fn tokens_into<'a>(normalized: &'a str, out: &mut impl Extend<&'a str>) {
    let mut start: Option<usize> = None;
    let bytes = normalized.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (is_tok, width) = if b.is_ascii() {
            (
                b.is_ascii_alphanumeric() || matches!(b, b'#' | b'-' | b'\''),
                1,
            )
        } else {
            let c = normalized[i..].chars().next().unwrap_or(' ');
            (is_token_char(c), c.len_utf8())
        };
        match (is_tok, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.extend(trimmed(&normalized[s..i]));
                start = None;
            }
            _ => {}
        }
        i += width;
    }
    if let Some(s) = start {
        out.extend(trimmed(&normalized[s..]));
    }
}

/// Han, kana, hangul and bopomofo: scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF     // Hangul Jamo
        | 0x2E80..=0x2FDF   // CJK radicals, Kangxi radicals
        | 0x3005..=0x3007   // 々 〆 〇
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3100..=0x312F   // Bopomofo
        | 0x3130..=0x318F   // Hangul compatibility Jamo
        | 0x31A0..=0x31BF   // Bopomofo extended
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x20000..=0x3134F // CJK extensions B–G
    )
}

/// Thai: written without spaces, and its tone marks are no letters to `char::is_alphanumeric`.
pub fn is_thai(c: char) -> bool {
    ('\u{0E00}'..='\u{0E7F}').contains(&c)
}

/// Scripts written without spaces between words.
pub fn is_unspaced(c: char) -> bool {
    is_cjk(c) || is_thai(c)
}

/// Tokens of the unspaced packs (`tw`, `th`; schemas/README.md): as `tokens_into`, except that a
/// run also breaks where an unspaced script (CJK, Thai) meets any other (`粉a1` is `粉`, `a1`),
/// Thai marks belong to their run, and with `plus_n` (the plus form) `+` followed by one or two
/// ASCII digits, and no third, is a token of its own (`a1+1` is `a1`, `+1`).
pub fn unspaced_tokens_into<'a>(normalized: &'a str, plus_n: bool, out: &mut impl Extend<&'a str>) {
    let bytes = normalized.as_bytes();
    let mut start: Option<(usize, bool)> = None;
    let mut flush = |start: &mut Option<(usize, bool)>, end: usize| {
        if let Some((s, _)) = start.take() {
            out.extend(trimmed(&normalized[s..end]));
        }
    };
    let mut chars = normalized.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if plus_n && c == '+' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if (1..=2).contains(&digits) {
                flush(&mut start, i);
                let end = i + 1 + digits;
                start = Some((i, false));
                flush(&mut start, end);
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
                continue;
            }
        }
        if is_token_char(c) || is_thai(c) {
            let cjk = is_unspaced(c);
            match start {
                Some((_, run_cjk)) if run_cjk != cjk => {
                    flush(&mut start, i);
                    start = Some((i, cjk));
                }
                Some(_) => {}
                None => start = Some((i, cjk)),
            }
        } else {
            flush(&mut start, i);
        }
    }
    flush(&mut start, normalized.len());
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

/// `edit_distance(a, b) <= 1` without computing the distance: the grammar asks only this, for
/// every word of many comments, and the full algorithm allocates a table each time.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        one_edit(a.as_bytes(), b.as_bytes())
    } else {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        one_edit(&a, &b)
    }
}

/// Equal, or one substitution, insertion, deletion, or swap of two neighbours apart.
fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix == short.len() {
        return true;
    }
    if short.len() == long.len() {
        let i = prefix;
        let rest = |from: usize| short[from..] == long[from..];
        // one substitution, or neighbours swapped
        rest(i + 1)
            || (i + 1 < short.len()
                && short[i] == long[i + 1]
                && short[i + 1] == long[i]
                && rest(i + 2))
    } else {
        // one insertion into the shorter
        short[prefix..] == long[prefix + 1..]
    }
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
    fn normalizes_like_nfkc_then_lowercase() {
        for t in [
            "ＳＯＬＤ Ａ１２",
            "ΟΔΟΣ ΣΟΦΙΑ",
            "Straße İstanbul",
            "ﬁne ①",
            "chốt A1",
            "plain",
            "",
        ] {
            let want = t.nfkc().collect::<String>().to_lowercase();
            assert_eq!(normalize(t), want, "{t:?}");
        }
    }

    #[test]
    fn typographic_apostrophes_read_as_ascii() {
        assert_eq!(normalize("Don’t ‘SOLD’"), "don't 'sold'");
        assert_eq!(normalize("I’ll ΣΟΦΙΑ’S"), "i'll σοφια's");
    }

    #[test]
    fn apostrophes_around_a_token_are_removed() {
        assert_eq!(tokens("'sold' 'a12 i'll ''"), vec!["sold", "a12", "i'll"]);
        assert_eq!(tokens("'''"), Vec::<&str>::new());
        let mut v = Vec::new();
        unspaced_tokens_into("'a1'+1", true, &mut v);
        assert_eq!(v, ["a1", "+1"]);
    }

    #[test]
    fn mentions_become_spaces() {
        let strip = |s: &str| {
            let mut s = s.to_string();
            strip_mentions(&mut s);
            s
        };
        assert_eq!(strip("@maria_lopez sold"), "  sold");
        assert_eq!(strip("sold @a12 for @jo.ann.x!"), "sold   for  !");
        assert_eq!(strip("@ sold"), "  sold");
        assert_eq!(strip("me@mañana pls"), "me  pls");
        assert_eq!(strip("no mention"), "no mention");
    }

    #[test]
    fn tokenizes_with_hash_dash_apostrophe() {
        assert_eq!(tokens("sold #a-12, don't!"), vec!["sold", "#a-12", "don't"]);
        assert_eq!(tokens("is a12 sold?"), vec!["is", "a12", "sold"]);
        assert_eq!(tokens("  "), Vec::<&str>::new());
        assert_eq!(tokens("chốt a1"), vec!["chốt", "a1"]);
    }

    #[test]
    fn plus_form_tokens_split_scripts_and_read_plus_n() {
        fn toks(s: &str) -> Vec<&str> {
            let mut v = Vec::new();
            unspaced_tokens_into(s, true, &mut v);
            v
        }
        assert_eq!(toks("a1+1"), ["a1", "+1"]);
        assert_eq!(toks("粉+1"), ["粉", "+1"]);
        assert_eq!(toks("我要粉色a1+2唷"), ["我要粉色", "a1", "+2", "唷"]);
        assert_eq!(toks("+1"), ["+1"]);
        assert_eq!(toks("a1 +12 m"), ["a1", "+12", "m"]);
        // Not the plus form: a third digit, a bare plus, a plus at the end.
        assert_eq!(toks("a1+100"), ["a1", "100"]);
        assert_eq!(toks("a+b +"), ["a", "b"]);
        assert_eq!(toks("黑色m號"), ["黑色", "m", "號"]);
        assert_eq!(toks("chốt a1"), ["chốt", "a1"]);
        // Without the pack, the SPEC's tokens are unchanged.
        assert_eq!(tokens("粉a1+1"), ["粉a1", "1"]);
        // Thai runs keep their tone marks and split from other scripts; no plus form there.
        let mut v = Vec::new();
        unspaced_tokens_into("เอาค่ะk3 +1", false, &mut v);
        assert_eq!(v, ["เอาค่ะ", "k3", "1"]);
        assert_eq!(tokens("เอาค่ะ"), ["เอาค", "ะ"]);
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

    #[test]
    fn within_one_edit_agrees_with_the_distance() {
        let words = [
            "", "a", "ab", "ba", "abc", "acb", "bac", "abd", "abcd", "abdc", "sold", "sodl",
            "gold", "solds", "old", "slod", "a12", "a21", "a1", "a123", "chốt", "chôt", "chốtt",
            "hcốt", "mine", "mien", "nime",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    within_one_edit(a, b),
                    edit_distance(a, b) <= 1,
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
