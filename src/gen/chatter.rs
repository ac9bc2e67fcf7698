//! Chatter: greetings, questions, negations and sentences that only sound like claims.

use fastrand::Rng;

use super::claims::fill_code;
use super::phrases::*;
use super::show::Show;
use super::texts::*;
use super::words::*;

/// What viewers say besides claiming, per mille: the plain chatter of any show, claim words in
/// ordinary sentences (SPEC 3.1.3a ignores them, or escalates a few as `unclear_claim`),
/// questions without a question mark and the newer negations (SPEC 3.1.1).
pub(super) fn chatter(rng: &mut Rng, show: &Show) -> (String, Intent) {
    let (list, intent): (&[&str], Intent) = match rng.u32(0..1000) {
        0..790 => return (plain_chatter(rng, show), Intent::Other),
        790..870 => (&WORDY_CHATTER, Intent::Other),
        870..885 => (&VAGUE_CHATTER, Intent::Vague),
        885..945 => (&OPEN_QUESTIONS, Intent::Other),
        _ => (&MORE_NEGATIONS, Intent::Other),
    };
    let template = pick(rng, list);
    (fill_code(rng, show, template), intent)
}

fn plain_chatter(rng: &mut Rng, show: &Show) -> String {
    let t = pick(rng, &CHATTER);
    let mut s = t.to_string();
    if s.contains("{C}") {
        let p = show
            .active
            .unwrap_or_else(|| rng.usize(0..show.products.len()));
        s = s.replace("{C}", &show.products[p].code);
    }
    if s.contains("{P}") {
        s = s.replace("{P}", pick(rng, &PLACES));
    }
    s
}

/// How a phone and a viewer dress any comment: a mention of the host or another viewer before
/// or after it (removed before tokenising, SPEC 3.1), and the typographic apostrophe `’` that
/// phone keyboards type (read as `'`). Neither changes how the comment reads.
pub(super) fn dress(rng: &mut Rng, text: String) -> String {
    let mut text = text;
    if text.contains('\'') && rng.u32(0..100) < 35 {
        text = text.replace('\'', "\u{2019}");
    }
    if rng.u32(0..100) < 5 {
        let m = pick(rng, &MENTIONS);
        text = if rng.u32(0..4) == 0 {
            format!("{text} @{m}")
        } else {
            format!("@{m} {text}")
        };
    }
    text
}
