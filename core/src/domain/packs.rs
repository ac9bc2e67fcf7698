//! Keyword packs: the claim, cancel and filler words of other markets that a session turns on with `config` (`keyword_packs`); a pack only adds to the SPEC's defaults.

use super::event::ConfigChange;
use super::runsheet::Config;

/// A market's words, as its buyers type them in live comments (schemas/README.md lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pack {
    pub name: &'static str,
    pub market: &'static str,
    pub claim: &'static [&'static str],
    pub cancel: &'static [&'static str],
    /// SPEC 3.1.3a's filler words of the language: particles, politeness words, pronouns.
    pub filler: &'static [&'static str],
    /// Beside SPEC 3.1.1's English lists: negations anywhere, question words as the first token
    /// (in an unspaced script, anywhere inside a run).
    pub negations: &'static [&'static str],
    pub questions: &'static [&'static str],
    /// A script written without spaces between words (Chinese, Thai): its runs are split from
    /// other scripts, words count inside them, and a run is no extra word (schemas/README.md).
    pub unspaced: bool,
    /// Turns on the plus form: `A1+1`, `粉+1` (schemas/README.md, "The plus form").
    pub plus_form: bool,
    /// Option claims: a comment of the active product's option values alone (`rojo M porfa`)
    /// claims it, as SPEC 3.1.2a reads a code with its options (schemas/README.md).
    pub option_claims: bool,
    /// Words that claim standing alone among filler words (`yo!!`, `mia!`) and are filler
    /// words anywhere else (`mia sorella`): a possessive or a pronoun that is also a claim.
    pub solo: &'static [&'static str],
    /// The language's size words (`chica` for `S`), number words (`dos`) and units (`cái`).
    pub sizes: &'static [(&'static str, &'static str)],
    pub numbers: &'static [(&'static str, u64)],
    pub units: &'static [&'static str],
}

pub const PACKS: &[Pack] = &[
    Pack {
        name: "en",
        market: "English-speaking shows that want option claims",
        // The SPEC's English reading, plus option claims (`black M pls`) and the words buyers
        // type around them; nothing that SPEC 3.1 reads differently otherwise.
        claim: &[],
        cancel: &["nvm"],
        filler: &[
            "size", "thank", "you", "just", "then", "instead", "in", "lol",
        ],
        negations: &[],
        questions: &[],
        unspaced: false,
        plus_form: false,
        option_claims: true,
        solo: &[],
        sizes: &[],
        numbers: &[("two", 2), ("three", 3)],
        units: &["pairs", "pair"],
    },
    Pack {
        name: "vi",
        market: "Vietnam",
        // "chốt (đơn)" (close the order), "lấy" (take), "mua" (buy), "đặt" (order), "giữ" (hold),
        // as typed with and without diacritics; "hủy"/"huỷ" (cancel) in both spellings buyers type.
        claim: &["chốt", "chot", "chôt", "lấy", "mua", "đặt", "giữ", "order"],
        cancel: &["hủy", "huỷ", "huy"],
        filler: &[
            "ạ", "a", "nha", "nhé", "nhe", "nè", "ne", "shop", "ơi", "oi", "em", "e", "mình", "mk",
            "chị", "c", "với", "giúp", "size", "sz", "màu", "đơn", "cái", "cây", "luôn", "thêm",
            "cho", "áo", "quần", "váy", "đầm", "túi",
        ],
        negations: &["không", "ko", "hông", "đừng", "chưa"],
        questions: &["bao", "sao", "ở", "đâu", "gì", "nào", "giá", "còn"],
        unspaced: false,
        plus_form: false,
        option_claims: true,
        solo: &[],
        sizes: &[],
        numbers: &[("một", 1), ("hai", 2)],
        units: &["cái", "c", "chiếc", "bộ", "đôi", "cây"],
    },
    Pack {
        name: "th",
        market: "Thailand",
        // "เอา" (want/take), "รับ" (take), "จอง" (book), "สั่ง" (order); "CF" is already a
        // default; "ยกเลิก" (cancel). Thai is written without spaces (schemas/README.md).
        claim: &["เอา", "รับ", "จอง", "สั่ง"],
        cancel: &["ยกเลิก"],
        filler: &[
            "ค่ะ",
            "คะ",
            "ครับ",
            "คับ",
            "ค่า",
            "จ้า",
            "นะ",
            "แม่ค้า",
            "พี่",
            "หนู",
            "ด้วย",
            "ไซส์",
            "สี",
            "ตัว",
            "ชิ้น",
            "ใบ",
            "คู่",
            "ขวด",
            "น้อง",
        ],
        negations: &["ไม่"],
        questions: &["ไหม", "มั้ย", "เท่าไหร่", "เท่าไร", "อะไร", "ยังไง", "หรอ"],
        unspaced: true,
        plus_form: false,
        option_claims: true,
        solo: &[],
        sizes: &[],
        numbers: &[("หนึ่ง", 1), ("สอง", 2)],
        units: &["ตัว", "ชิ้น", "ใบ", "คู่", "ขวด"],
    },
    Pack {
        name: "ph",
        market: "Philippines",
        // "pa-mine" (one token: `-` joins), "kuha" (take), "kukunin" (will take), "sakin" (mine),
        // "pa-reserve"/"pa-hold"; "mine" is already a default. "ayaw" (don't want), "bawi".
        claim: &[
            "pa-mine",
            "pamine",
            "kuha",
            "kukunin",
            "pa-reserve",
            "reserve",
            "pa-hold",
            "grab",
            "steal",
        ],
        cancel: &["ayaw", "bawi"],
        filler: &[
            "po", "opo", "ate", "sis", "mars", "mamsh", "miss", "maam", "ma'am", "na", "lang",
            "ko", "ng", "sa", "yung", "yan", "pa", "naman", "din", "rin", "muna", "salamat", "ako",
            "size",
        ],
        negations: &["hindi", "wag", "huwag", "di"],
        questions: &[
            "magkano", "saan", "ano", "paano", "meron", "pwede", "puwede", "ilan",
        ],
        unspaced: false,
        plus_form: false,
        option_claims: true,
        solo: &["akin", "sakin"],
        sizes: &[],
        numbers: &[("isa", 1), ("dalawa", 2), ("tatlo", 3)],
        units: &["piraso", "pares"],
    },
    Pack {
        name: "it",
        market: "Italy",
        // "per me" (for me) is a claim: `me` stays a keyword at either end, as in English.
        claim: &[
            "prendo",
            "compro",
            "voglio",
            "prenoto",
            "prenotato",
            "presa",
            "preso",
        ],
        cancel: &["annulla", "annullo", "cancella", "cancellami", "rinuncio"],
        filler: &[
            "grazie",
            "per",
            "favore",
            "perfavore",
            "pf",
            "lo",
            "la",
            "il",
            "tg",
            "taglia",
            "colore",
            "dai",
            "sì",
            "si",
            "allora",
            "scusa",
            "cara",
            "tesoro",
            "un",
            "una",
            "uno",
            "anche",
        ],
        negations: &["non", "mai"],
        questions: &[
            "quanto", "quanta", "dove", "come", "cosa", "quale", "qual", "quando", "perché", "c'è",
            "avete", "posso",
        ],
        unspaced: false,
        plus_form: false,
        option_claims: true,
        solo: &["mio", "mia", "io"],
        sizes: &[
            ("piccola", "s"),
            ("piccolo", "s"),
            ("media", "m"),
            ("medio", "m"),
            ("grande", "l"),
        ],
        numbers: &[("due", 2), ("tre", 3)],
        units: &["pz", "pezzi"],
    },
    Pack {
        name: "es",
        market: "Spain and Latin America",
        claim: &[
            "quiero",
            "apartado",
            "apartada",
            "apartados",
            "aparto",
            "apártame",
            "apartame",
            "sepárame",
            "separame",
            "anótame",
            "anotame",
            "apúntame",
            "llevo",
            "vendido",
            "vendida",
        ],
        cancel: &[
            "cancelo", "cancelar", "cancela", "bórrame", "borrame", "quítame", "quitame",
        ],
        // "me" is a filler word here: Spanish sentences open with it ("me encanta"), so it
        // claims nothing in a session with this pack.
        filler: &[
            "porfa", "porfis", "porfavor", "por", "favor", "xfa", "plis", "gracias", "amiga", "me",
            "lo", "la", "los", "las", "el", "un", "una", "uno", "en", "de", "para", "mí", "mi",
            "talla", "color", "sí", "si", "hermosa", "linda", "bella", "reina", "entonces",
        ],
        negations: &["nunca", "tampoco"],
        questions: &[
            "qué", "que", "cuánto", "cuanto", "cuánta", "dónde", "donde", "cómo", "como", "cuál",
            "cual", "hay", "tienes", "tienen", "puedes",
        ],
        unspaced: false,
        plus_form: false,
        option_claims: true,
        solo: &["mío", "mía", "míos", "mías", "mio", "mia", "yo"],
        sizes: &[
            ("chica", "s"),
            ("chico", "s"),
            ("mediana", "m"),
            ("mediano", "m"),
            ("grande", "l"),
        ],
        numbers: &[("dos", 2), ("tres", 3)],
        units: &["piezas", "pzs", "pz", "pares"],
    },
    Pack {
        name: "tw",
        market: "Taiwan and Hong Kong",
        // `+1` after a code or an option is the claim (`A1+1`, `粉+1`); "下標" (place the order),
        // "喊單" (call the order), "我要" (I want), "留" (keep one, Hong Kong); "取消" (cancel),
        // "不要" (don't want it after all).
        claim: &["下標", "喊單", "我要", "要", "留"],
        cancel: &["取消", "不要", "唔要", "棄單"],
        filler: &[
            "謝謝",
            "感謝",
            "老闆",
            "老闆娘",
            "闆娘",
            "姐",
            "小姐",
            "唔該",
            "啦",
            "喔",
            "了",
            "的",
            "我",
            "也",
            "呀",
            "色",
            "號",
            "件",
            "對",
            "個",
        ],
        negations: &[],
        questions: &["嗎", "吗", "呢", "多少", "幾", "有沒有", "還有"],
        unspaced: true,
        plus_form: true,
        option_claims: true,
        solo: &[],
        sizes: &[],
        numbers: &[("一", 1), ("兩", 2), ("二", 2), ("三", 3)],
        units: &["件", "對", "個", "組", "條"],
    },
];

impl Pack {
    /// Adds the pack's words to `change`, as `keyword_packs` in a `config` does.
    pub fn add_to(&self, change: &mut ConfigChange) {
        let add =
            |to: &mut Vec<String>, words: &[&str]| to.extend(words.iter().map(|w| w.to_string()));
        add(&mut change.claim_keywords, self.claim);
        add(&mut change.cancel_keywords, self.cancel);
        add(&mut change.filler_words, self.filler);
        add(&mut change.negations, self.negations);
        add(&mut change.question_words, self.questions);
        add(&mut change.qty_units, self.units);
        add(&mut change.solo_words, self.solo);
        change.unspaced |= self.unspaced;
        change.plus_form |= self.plus_form;
        change.option_claims |= self.option_claims;
        change.size_words.extend(
            self.sizes
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string())),
        );
        change
            .qty_words
            .extend(self.numbers.iter().map(|(a, n)| (a.to_string(), *n)));
    }

    /// A session's config with the pack on, as `config` with `keyword_packs: [name]` makes it.
    pub fn apply_to(&self, cfg: &mut Config) {
        let mut change = ConfigChange::default();
        self.add_to(&mut change);
        cfg.apply(&change);
    }
}

pub fn pack(name: &str) -> Option<&'static Pack> {
    PACKS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grammar::{Reading, read};
    use crate::domain::runsheet::{Product, RunSheet, Variant};
    use crate::domain::text::{normalize, tokens, unspaced_tokens_into};

    #[test]
    fn every_pack_word_is_one_token_after_normalising() {
        for p in PACKS {
            let words = p.claim.iter().chain(p.cancel).chain(p.filler);
            for w in words.chain(p.negations).chain(p.questions) {
                let n = normalize(w);
                let toks = if p.unspaced {
                    let mut v = Vec::new();
                    unspaced_tokens_into(&n, p.plus_form, &mut v);
                    v
                } else {
                    tokens(&n)
                };
                assert_eq!(toks, [n.as_str()], "{} word {w:?}", p.name);
            }
        }
    }

    /// A pack's session config, as `config` with `keyword_packs: [name]` builds it.
    fn config(p: &Pack) -> Config {
        let mut cfg = Config::default();
        p.apply_to(&mut cfg);
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

    /// The pack's row of the table in schemas/README.md.
    fn readme_row(p: &Pack) -> String {
        let list = |w: &[&str]| {
            if w.is_empty() {
                "—".to_string()
            } else {
                w.join(" ")
            }
        };
        let claim = if p.plus_form {
            format!("`+N`; {}", list(p.claim))
        } else {
            list(p.claim)
        };
        format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            p.name,
            p.market,
            claim,
            list(p.cancel),
            list(p.filler),
            list(p.negations),
            list(p.questions)
        )
    }

    #[test]
    fn the_readme_lists_every_pack_as_it_is() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/README.md");
        let readme = std::fs::read_to_string(path).expect("schemas/README.md");
        let rows: Vec<String> = PACKS.iter().map(readme_row).collect();
        for row in &rows {
            assert!(
                readme.contains(row.as_str()),
                "schemas/README.md lacks the row\n{}",
                rows.join("\n")
            );
        }
    }

    #[test]
    fn the_director_schema_names_every_pack() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../schemas/events/director.schema.json"
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("the schema")).unwrap();
        let names: Vec<&str> = schema["properties"]["keyword_packs"]["anyOf"][0]["items"]["enum"]
            .as_array()
            .expect("an enum of pack names")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let packs: Vec<&str> = PACKS.iter().map(|p| p.name).collect();
        assert_eq!(names, packs);
    }

    #[test]
    fn packs_are_found_by_name() {
        assert_eq!(pack("VI").map(|p| p.market), Some("Vietnam"));
        assert!(pack("xx").is_none());
    }
}
