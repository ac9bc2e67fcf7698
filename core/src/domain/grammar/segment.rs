//! Unspaced scripts (Thai, Chinese) split into the words a session knows, so the grammar counts words there as it does between spaces.

use smallvec::SmallVec;

use crate::domain::runsheet::{Config, RunSheet};
use crate::domain::text::is_unspaced;

/// Every word a run may be made of: the session's keywords, filler, question and negation
/// words, quantity words and units, and the run sheet's one-token option values.
fn vocabulary<'a>(cfg: &'a Config, sheet: &'a RunSheet) -> Vec<&'a str> {
    let lists = [
        &cfg.claim_keywords,
        &cfg.cancel_keywords,
        &cfg.filler_words,
        &cfg.question_words,
        &cfg.negations,
        &cfg.qty_units,
    ];
    let mut words: Vec<&str> = lists
        .iter()
        .flat_map(|l| l.iter().map(String::as_str))
        .collect();
    words.extend(cfg.qty_words.iter().map(|(w, _)| w.as_str()));
    words.extend(cfg.size_words.iter().map(|(w, _)| w.as_str()));
    for p in sheet.products() {
        words.extend(
            p.option_values()
                .iter()
                .filter(|v| v.len() == 1)
                .map(|v| v[0].as_str()),
        );
    }
    words.retain(|w| w.starts_with(is_unspaced));
    words
}

/// The fewest words of `vocab` that make up `run` exactly, or `None` when some part of it is no
/// known word (then the run stays one token: a phrase the grammar does not know).
fn split<'t>(run: &'t str, vocab: &[&str]) -> Option<SmallVec<[&'t str; 8]>> {
    let ends: Vec<usize> = run
        .char_indices()
        .map(|(i, _)| i)
        .skip(1)
        .chain([run.len()])
        .collect();
    // best[i]: the fewest words covering run[..bounds[i]], with where the last word starts.
    let mut bounds = vec![0];
    bounds.extend(&ends);
    let mut best: Vec<Option<(usize, usize)>> = vec![None; bounds.len()];
    best[0] = Some((0, 0));
    for j in 1..bounds.len() {
        for i in 0..j {
            let Some((n, _)) = best[i] else { continue };
            let piece = &run[bounds[i]..bounds[j]];
            if vocab.contains(&piece) && best[j].is_none_or(|(m, _)| n + 1 < m) {
                best[j] = Some((n + 1, i));
            }
        }
    }
    best[bounds.len() - 1]?;
    let mut pieces = SmallVec::new();
    let mut j = bounds.len() - 1;
    while j > 0 {
        let (_, i) = best[j]?;
        pieces.push(&run[bounds[i]..bounds[j]]);
        j = i;
    }
    pieces.reverse();
    Some(pieces)
}

/// The tokens with every unspaced run that splits into known words replaced by those words.
pub(super) fn split_runs<'t>(
    toks: &[&'t str],
    cfg: &Config,
    sheet: &RunSheet,
) -> SmallVec<[&'t str; 16]> {
    if !toks.iter().any(|t| t.starts_with(is_unspaced)) {
        return toks.iter().copied().collect();
    }
    let vocab = vocabulary(cfg, sheet);
    let mut out = SmallVec::new();
    for t in toks {
        match t
            .starts_with(is_unspaced)
            .then(|| split(t, &vocab))
            .flatten()
        {
            Some(pieces) => out.extend(pieces),
            None => out.push(*t),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_splits_into_the_fewest_known_words() {
        let vocab = ["粉", "粉紅", "紅", "色", "我要", "เอา", "ค่ะ"];
        let s = |run| split(run, &vocab).map(|p| p.to_vec());
        assert_eq!(s("粉紅色"), Some(vec!["粉紅", "色"]));
        assert_eq!(s("我要粉色"), Some(vec!["我要", "粉", "色"]));
        assert_eq!(s("เอาค่ะ"), Some(vec!["เอา", "ค่ะ"]));
        assert_eq!(s("我要看背面"), None);
    }
}
