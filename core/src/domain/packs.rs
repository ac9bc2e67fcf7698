//! Keyword packs: claim and cancel words of other markets that a session turns on with `config` (`keyword_packs`); a pack only adds to the SPEC's defaults.

/// A market's words, as sellers' buyers type them in live comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pack {
    pub name: &'static str,
    pub market: &'static str,
    pub claim: &'static [&'static str],
    pub cancel: &'static [&'static str],
    /// Turns on the plus form: `A1+1`, `粉+1` (schemas/README.md, "The plus form").
    pub plus_form: bool,
}

pub const PACKS: &[Pack] = &[
    Pack {
        name: "vi",
        market: "Vietnam",
        // "chốt đơn" (close the order), "lấy" (take), "mua" (buy); "hủy"/"huỷ" (cancel) in
        // both spellings buyers type.
        claim: &["chốt", "lấy", "mua"],
        cancel: &["hủy", "huỷ"],
        plus_form: false,
    },
    Pack {
        name: "th",
        market: "Thailand",
        // "เอา" (want/take), "รับ" (take); "CF" is already a default; "ยกเลิก" (cancel).
        claim: &["เอา", "รับ"],
        cancel: &["ยกเลิก"],
        plus_form: false,
    },
    Pack {
        name: "ph",
        market: "Philippines",
        // "pa-mine" (one token: `-` joins), "kuha" (take); "mine" is already a default.
        claim: &["pa-mine", "kuha"],
        cancel: &["ayaw", "pass"],
        plus_form: false,
    },
    Pack {
        name: "it",
        market: "Italy",
        claim: &["mio", "mia", "prendo", "compro"],
        cancel: &["annulla"],
        plus_form: false,
    },
    Pack {
        name: "es",
        market: "Spain and Latin America",
        claim: &["mío", "mía", "quiero", "apartado"],
        cancel: &["cancelo", "cancelar"],
        plus_form: false,
    },
    Pack {
        name: "tw",
        market: "Taiwan and Hong Kong",
        // `+1` after a code or an option is the claim (`A1+1`, `粉+1`); "下標" (place the order),
        // "喊單" (call the order); "取消" (cancel), "不要" (don't want it after all).
        claim: &["下標", "喊單"],
        cancel: &["取消", "不要"],
        plus_form: true,
    },
];

pub fn pack(name: &str) -> Option<&'static Pack> {
    PACKS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::{normalize, tokens};

    #[test]
    fn every_pack_word_is_one_token_after_normalising() {
        for p in PACKS {
            for w in p.claim.iter().chain(p.cancel) {
                let n = normalize(w);
                assert_eq!(tokens(&n), [n.as_str()], "{} word {w:?}", p.name);
            }
        }
    }

    #[test]
    fn packs_are_found_by_name() {
        assert_eq!(pack("VI").map(|p| p.market), Some("Vietnam"));
        assert!(pack("xx").is_none());
    }
}
