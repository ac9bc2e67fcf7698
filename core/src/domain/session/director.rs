//! Director events: the run sheet's products, the active product, prices, the config and the end (SPEC 3.5).

use super::{Cx, Session, sku_entry};
use crate::domain::decision::{Body as DBody, SessionEvent};
use crate::domain::event::Director;
use crate::domain::runsheet::{Product, Variant};
use crate::domain::text::normalize_code;

impl Session {
    pub(super) fn director(&mut self, d: &Director, cx: &mut Cx) {
        // Every director event may change how a text reads (products, the active one, keywords).
        self.readings.forget();
        match d {
            Director::Product(p) => {
                let variants = p
                    .variants
                    .iter()
                    .map(|v| {
                        let values: Vec<String> =
                            v.options.iter().map(|(_, val)| val.clone()).collect();
                        Variant::new(v.sku.clone(), &values, v.stock)
                    })
                    .collect();
                let product = Product::new(
                    p.code.clone(),
                    p.title.clone(),
                    p.price_cents,
                    p.currency.clone(),
                    variants,
                );
                for (sku, stock) in self.sheet.define(product, &mut self.ever_defined) {
                    sku_entry(&mut self.skus, &sku).pool = stock;
                    self.after_pool_change(&sku, cx);
                }
            }
            Director::Activate { code } => self.active = Some(normalize_code(code)),
            Director::Deactivate => self.active = None,
            Director::Price { code, price_cents } => {
                if let Some(p) = self.sheet.by_code_mut(&normalize_code(code)) {
                    p.price_cents = *price_cents;
                }
            }
            Director::Config(c) => self.cfg.apply(c),
            // SPEC 3.5: only the first end counts; the show stays ended whatever follows.
            Director::End if self.ended.is_none() => {
                self.ended = Some(cx.t);
                self.close_by_end = Some(cx.t + self.cfg.close_after_us);
                cx.push(DBody::Session(SessionEvent::Ended));
            }
            Director::End => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::tests::{K1, brief, comment, run};

    #[test]
    fn a_repeated_text_is_read_again_after_a_director_event() {
        // The memo of readings must not outlive the sheet, the active product or the keywords.
        let mut s = Session::new();
        let setup = &K1[..2];
        run(&mut s, setup);
        let k2 = r#""type":"director","action":"product","code":"K2","price_cents":900,"variants":[{"sku":"K2","stock":5}]"#;
        let yes = r#""type":"director","action":"config","claim_keywords":["yes"]"#;
        let events: Vec<(i64, String)> = vec![
            (1, comment("tiktok", "c1", "u1", "sold")),
            (2, K1[2].1.to_string()),
            (3, comment("tiktok", "c2", "u2", "sold")),
            (4, comment("tiktok", "c3", "u3", "sold K2")),
            (5, k2.to_string()),
            (6, comment("tiktok", "c4", "u4", "sold K2")),
            (7, comment("tiktok", "c5", "u5", "yes K2")),
            (8, yes.to_string()),
            (9, comment("tiktok", "c6", "u6", "yes K2")),
            (10, r#""type":"director","action":"deactivate""#.to_string()),
            (11, comment("tiktok", "c7", "u7", "sold")),
        ];
        let events: Vec<(i64, &str)> = events.iter().map(|(t, e)| (*t, e.as_str())).collect();
        let got: Vec<String> = run(&mut s, &events)
            .iter()
            .filter(|d| matches!(d.body, DBody::Claim(_)))
            .map(brief)
            .collect();
        let want = vec![
            "1 claim tiktok:c1 escalated - no_product",
            "3 claim tiktok:c2 reserved K1",
            "4 claim tiktok:c3 escalated - fuzzy_code",
            "6 claim tiktok:c4 reserved K2",
            "9 claim tiktok:c6 reserved K2",
            "11 claim tiktok:c7 escalated - no_product",
        ];
        assert_eq!(got, want);
    }
}
