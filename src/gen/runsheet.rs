//! The host's run sheet: shows start, products are activated, flash-priced and put away.

use super::format::*;
use super::platforms::*;
use super::show::{Show, build_show};
use super::{Act, Gen, StockChange};

/// SPEC 3.5's `close_after_s` of every generated show.
pub(super) const CLOSE_AFTER_S: i64 = 900;

impl Gen<'_> {
    pub(super) fn start_show(&mut self, t: i64, slot: u32) {
        self.shows_started += 1;
        let num = self.shows_started;
        let mut show = build_show(&mut self.rng, num, slot);
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        b.push_str(",\"action\":\"config\"");
        kv_int(&mut b, "reservation_window_s", show.window_ms / 1000);
        kv_int(&mut b, "max_qty", show.max_qty as i64);
        // Closed a quarter of an hour after its end: a long file frees its earlier shows.
        kv_int(&mut b, "close_after_s", CLOSE_AFTER_S);
        if let Some((claim, cancel)) = show.extra_kw {
            b.push_str(",\"claim_keywords\":[");
            json_str(&mut b, claim);
            b.push_str("],\"cancel_keywords\":[");
            json_str(&mut b, cancel);
            b.push(']');
        }
        self.finish(b, arr);
        for p in 0..show.products.len() {
            self.emit_product(&show, t + 1 + p as i64, p);
        }
        // the warehouse corrects a few counts before the show starts
        let mut k = 0;
        for p in 0..show.products.len() {
            for v in 0..show.products[p].variants.len() {
                if self.rng.u32(0..100) < 8 {
                    let n = show.products[p].variants[v].stock0 + self.rng.i64(0..=3);
                    k += 1;
                    self.schedule(
                        &mut show,
                        t + 200 + k,
                        Act::Stock {
                            p,
                            v,
                            change: StockChange::Set(n),
                        },
                    );
                }
            }
        }
        let first = t + self.rng.i64(3_000..=10_000);
        self.schedule(&mut show, first, Act::Activate { p: 0 });
        show.comment_clock = (t + 300) as f64;
        self.schedule(&mut show, t + 300, Act::Comment);
        show.tap_clock = (t + 1000) as f64;
        self.schedule(&mut show, t + 1000, Act::Tap);
        self.shows.insert(num, show);
    }

    pub(super) fn activate(&mut self, show: &mut Show, t: i64, p: usize) {
        if show.ended {
            return;
        }
        if self.rng.u32(0..100) < 5 {
            // the producer re-sends the run-sheet entry with a corrected price
            let prod = &mut show.products[p];
            prod.price = (prod.price / 100 + self.rng.i64(-3..=3)).max(5) * 100 + 99;
            self.emit_product(show, t, p);
        }
        let code = show.products[p].code.clone();
        self.emit_director(show, t + 1, "activate", Some(&code));
        show.active = Some(p);
        show.shown = show.shown.max(p + 1);
        show.last_activate = t + 1;
        let hot = show.products[p].hot;
        let dur = if hot {
            self.rng.i64(20_000..=60_000)
        } else {
            self.rng.i64(30_000..=120_000)
        };
        self.schedule(show, t + 1 + dur, Act::EndSegment { p });
        if self.rng.u32(0..100) < 15 {
            let at = t + 1 + dur * self.rng.i64(30..=70) / 100;
            self.schedule(show, at, Act::Flash { p });
        }
        if self.rng.u32(0..100) < 12 {
            let v = self.rng.usize(0..show.products[p].variants.len());
            let pool = show.products[p].variants[v].pool;
            let change = match self.rng.u32(0..10) {
                0..4 if pool > 0 => StockChange::Delta(-1),
                0..7 => StockChange::Set((pool + self.rng.i64(0..=3)).max(0)),
                _ => StockChange::Delta(self.rng.i64(1..=10)),
            };
            let at = t + self.rng.i64(2_000..=dur.min(30_000));
            self.schedule(show, at, Act::Stock { p, v, change });
        }
    }

    pub(super) fn flash(&mut self, show: &mut Show, t: i64, p: usize) {
        if show.active != Some(p) {
            return;
        }
        let old = show.products[p].price;
        let c = old * self.rng.i64(60..=85) / 100;
        let new = if c >= 199 {
            c / 100 * 100 - 1
        } else {
            c.max(99)
        };
        show.products[p].price = new;
        self.emit_price(show, t, p);
        if self.rng.bool() {
            let at = t + self.rng.i64(8_000..=20_000);
            self.schedule(show, at, Act::RestorePrice { p, price: old });
        }
    }

    pub(super) fn end_segment(&mut self, show: &mut Show, t: i64, p: usize) {
        if show.active != Some(p) {
            return;
        }
        let next = p + 1;
        if next < show.products.len() {
            if self.rng.u32(0..100) < 30 {
                self.emit_director(show, t, "deactivate", None);
                show.active = None;
                let at = t + self.rng.i64(3_000..=12_000);
                self.schedule(show, at, Act::Activate { p: next });
            } else {
                let at = t + self.rng.i64(300..=1_500);
                self.schedule(show, at, Act::Activate { p: next });
            }
        } else {
            self.emit_director(show, t, "deactivate", None);
            show.active = None;
            let at = t + self.rng.i64(10_000..=40_000);
            self.schedule(show, at, Act::EndShow);
        }
    }
}
