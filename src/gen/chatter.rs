//! Chatter: greetings, questions, negations and sentences that only sound like claims.

use fastrand::Rng;

use super::claims::fill_code;
use super::phrases::*;
use super::show::Show;
use super::texts::*;
use super::words::*;

/// What viewers say besides claiming: the plain chatter of any show, and now and then a
/// sentence SPEC 3.1 escalates though nobody claims.
pub(super) fn chatter(rng: &mut Rng, show: &Show) -> (String, Intent) {
    if rng.u32(0..1000) < 983 {
        return (plain_chatter(rng, show), Intent::Other);
    }
    let template = pick(rng, &VAGUE_CHATTER);
    (fill_code(rng, show, template), Intent::Vague)
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
