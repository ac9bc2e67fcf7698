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
    use crate::domain::grammar::{Reading, read};
    use crate::domain::runsheet::{Config, Product, RunSheet, Variant};
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

    /// A pack's session config, as `config` with `keyword_packs: [name]` builds it.
    fn config(p: &Pack) -> Config {
        let mut cfg = Config::default();
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Config::add_keywords(&mut cfg.claim_keywords, &words(p.claim));
        Config::add_keywords(&mut cfg.cancel_keywords, &words(p.cancel));
        cfg.plus_form = p.plus_form;
        cfg
    }

    #[test]
    fn each_pack_reads_its_markets_comments() {
        let mut sheet = RunSheet::default();
        let k1 = Variant::new("K1".into(), &[], 5);
        sheet.define(
            Product::new("K1".into(), None, 1000, None, vec![k1]),
            &mut Default::default(),
        );
        let claim = |qty| Reading::Claim {
            sku: "K1".into(),
            qty,
        };
        let cancel = Reading::Cancel {
            skus: vec!["K1".into()],
        };
        // (pack, comment as buyers type it, what the pack makes of it)
        let cases = [
            ("vi", "chốt K1 nha shop ơi", claim(1)),
            ("vi", "Lấy K1 x2 nhé", claim(2)),
            ("vi", "mua K1 ạ", claim(1)),
            ("vi", "hủy K1 nha shop", cancel.clone()),
            ("vi", "huỷ đơn K1", cancel.clone()),
            ("th", "เอา K1 ค่ะ", claim(1)),
            ("th", "รับ K1 x2 ครับ", claim(2)),
            ("th", "ยกเลิก K1 ค่ะ", cancel.clone()),
            ("ph", "pa-mine K1 po", claim(1)),
            ("ph", "kuha ako K1 x3", claim(3)),
            ("ph", "ayaw ko na K1", cancel.clone()),
            ("it", "mio K1 grazie!", claim(1)),
            ("it", "prendo K1 x2", claim(2)),
            ("it", "Compro il K1", claim(1)),
            ("it", "annulla K1 per favore", cancel.clone()),
            ("es", "MÍO K1 porfa", claim(1)),
            // "mío" with the accent as a combining mark: NFKC composes it.
            ("es", "mi\u{301}o K1", claim(1)),
            ("es", "quiero K1 x2", claim(2)),
            ("es", "apartado K1", claim(1)),
            ("es", "cancelo K1 gracias", cancel.clone()),
            ("tw", "K1+1", claim(1)),
            ("tw", "我要下標K1 +2", claim(2)),
            ("tw", "K1 不要了", cancel.clone()),
            ("tw", "取消K1", cancel.clone()),
        ];
        for (name, text, want) in cases {
            let p = pack(name).expect("a shipped pack");
            assert_eq!(read(text, &sheet, None, &config(p)), want, "{name}: {text}");
            // Without the pack the same comment claims or cancels nothing.
            let spec = read(text, &sheet, None, &Config::default());
            assert!(
                !matches!(spec, Reading::Claim { .. } | Reading::Cancel { .. }),
                "{name}: {text} without the pack: {spec:?}"
            );
        }
    }

    #[test]
    fn packs_are_found_by_name() {
        assert_eq!(pack("VI").map(|p| p.market), Some("Vietnam"));
        assert!(pack("xx").is_none());
    }
}
