//! Viewers: comments on every platform and taps on the web store.

use super::chatter::{chatter, dress};
use super::claims::*;
use super::format::*;
use super::platforms::*;
use super::show::{ResState, Show, buyer_key};
use super::texts::*;
use super::words::*;
use super::{Act, Gen, Moderation, OrderLine};

impl Gen<'_> {
    /// A moderator's "reject" for a comment that asked for nothing, `delay` ms later.
    fn idle_reject(
        &mut self,
        show: &mut Show,
        t: i64,
        pl: u8,
        user: u32,
        cid: &Id,
        delay: std::ops::RangeInclusive<i64>,
    ) {
        let key = claim_key(pl, cid);
        let m = Moderation {
            escalation_id: format!("esc:{key}"),
            platform: pl,
            user,
            claim_key: key,
            p: 0,
            v: 0,
            q: 1,
            accept: false,
            idle: true,
        };
        let at = t + self.rng.i64(delay);
        self.schedule(show, at, Act::Moderate(Box::new(m)));
    }

    pub(super) fn comment(&mut self, show: &mut Show, t: i64) {
        if show.ended {
            return;
        }
        let rate = show.base_rate * show.rate_mult(t);
        show.comment_clock =
            show.comment_clock.max(t as f64) - (1.0 - self.rng.f64()).ln() / rate * 1000.0;
        let next = (show.comment_clock as i64).max(t);
        self.schedule(show, next, Act::Comment);

        let rng = &mut self.rng;
        let mut pl = pick_platform(rng);
        let mut user = pick_user(rng, pl);
        let p_claim = match show.active {
            Some(a) => {
                let base = if show.products[a].hot { 0.62 } else { 0.48 };
                base + if t - show.last_activate < 6_000 {
                    0.12
                } else {
                    0.0
                }
            }
            None => 0.18,
        };
        let (text, intent) = if rng.f64() < p_claim {
            // per mille; SPEC 3.1's newer shapes (filler words, `me`, stretched keywords, code
            // claims without a keyword) take a share of the plain claims
            match rng.u32(0..1000) {
                0..560 => proper_claim(rng, show, None),
                560..600 => filler_claim(rng, show),
                600..625 => me_claim(rng, show),
                625..655 => stretched_claim(rng, show),
                655..700 => code_claim(rng, show),
                700..750 => typo_claim(rng, show),
                750..810 => {
                    let template = pick(rng, &QUESTIONS);
                    let q = fill_code(rng, show, template);
                    (decorate(rng, q), Intent::Other)
                }
                810..840 => {
                    let template = pick(rng, &NEGATIONS);
                    (fill_code(rng, show, template), Intent::Other)
                }
                840..870 => multi_claim(rng, show),
                870..930 => {
                    // usually someone who holds something changes their mind
                    let mut target = None;
                    if !show.res.is_empty() && rng.u32(0..100) < 60 {
                        let lo = show.res.len().saturating_sub(300);
                        let r = &show.res[rng.usize(lo..show.res.len())];
                        if r.state == ResState::Live && r.platform != WEB {
                            pl = r.platform;
                            user = r.user;
                            target = Some(r.p as usize);
                        }
                    }
                    cancel_text(rng, show, target)
                }
                930..950 => qty_problem(rng, show),
                950..970 => unknown_product(rng, show),
                _ => match show.extra_kw {
                    Some((kw, _)) => proper_claim(rng, show, Some(kw)),
                    None => proper_claim(rng, show, None),
                },
            }
        } else {
            chatter(rng, show)
        };
        let text = dress(rng, text);
        #[cfg(test)]
        self.log_comment(show, &text, &intent);

        self.comment_seq[pl as usize] += 1;
        let cid = comment_id(pl, self.comment_seq[pl as usize], &show.fb_post);
        let style = STYLE_OF[pl as usize];
        let ts_us = match style {
            Style::SecondsOffset | Style::SecondsZ => t.div_euclid(1000) * 1_000_000,
            Style::Micros => t * 1000 + self.rng.i64(0..1000),
            _ => t * 1000,
        };
        let arr = self.arrival(t, ts_us.div_euclid(1000), COMMENT_DELAY[pl as usize]);
        let mut b = self.begin("comment", &show.id, ts_us, style);
        kv_str(&mut b, "platform", PLATFORMS[pl as usize]);
        kv_id(&mut b, "comment_id", &cid);
        kv_id(&mut b, "user_id", &user_id(pl, user));
        if let Some(name) = user_name(pl, user) {
            kv_str(&mut b, "user_name", &name);
        }
        kv_str(&mut b, "text", &text);
        self.finish(b, arr);
        if show.after_end {
            // Rejected (show_ended) or chatter: nothing of it reaches the allocation model.
            return;
        }

        match intent {
            Intent::Claim { p, v, q } => {
                let key = claim_key(pl, &cid);
                self.try_claim(show, t, pl, user, key, p, v, q);
            }
            Intent::Escalate { p, v, q } => {
                if self.rng.u32(0..100) < 12 {
                    let key = claim_key(pl, &cid);
                    let m = Moderation {
                        escalation_id: format!("esc:{key}"),
                        platform: pl,
                        user,
                        claim_key: key,
                        p,
                        v,
                        q,
                        accept: self.rng.u32(0..100) < 70,
                        idle: false,
                    };
                    let at = t + self.rng.i64(4_000..=40_000);
                    self.schedule(show, at, Act::Moderate(Box::new(m)));
                }
            }
            Intent::Cancel { p } => self.cancel(show, t, pl, user, p),
            // a moderator rejects it: nobody asked for anything
            Intent::Vague if self.rng.u32(0..100) < 12 => {
                self.idle_reject(show, t, pl, user, &cid, 4_000..=40_000)
            }
            Intent::Vague => {}
            // a moderator taps "reject" on a comment that was never escalated
            Intent::Other if self.rng.u32(0..1000) < 2 => {
                self.idle_reject(show, t, pl, user, &cid, 4_000..=30_000)
            }
            Intent::Other => {}
        }
    }

    /// Web-store taps: `reserve` requests, and now and then an order with no reservation.
    pub(super) fn tap(&mut self, show: &mut Show, t: i64) {
        if show.ended {
            return;
        }
        // After the end, the store page of the last product still takes taps (rejected).
        let last = show.after_end.then(|| show.products.len() - 1);
        let Some(a) = show.active.or(last) else {
            show.tap_clock = (t + 1000) as f64;
            self.schedule(show, t + 1000, Act::Tap);
            return;
        };
        let rate = show.tap_rate * show.rate_mult(t);
        show.tap_clock = show.tap_clock.max(t as f64) - (1.0 - self.rng.f64()).ln() / rate * 1000.0;
        let next = (show.tap_clock as i64).max(t);
        self.schedule(show, next, Act::Tap);

        let v = self.rng.usize(0..show.products[a].variants.len());
        let user = pick_user(&mut self.rng, WEB);
        let q = match self.rng.u32(0..100) {
            0..85 => 1,
            85..97 => 2,
            _ => 3,
        };
        if self.rng.u32(0..100) < 3 && !show.after_end {
            let key = buyer_key(WEB, user, a, v);
            show.products[a].variants[v].sold += q as i64;
            show.bought.insert(key);
            let order = OrderLine {
                order_id: self.next_order_id(),
                platform: WEB,
                user,
                p: a,
                v,
                qty: q,
                amount: q as i64 * show.products[a].price,
                reservation_id: None,
            };
            self.emit_order(show, t, &order, "paid");
            return;
        }
        self.request_seq += 1;
        let n = self.request_seq;
        let rid = if self.rng.u32(0..100) < 70 {
            Id::Str(format!("tap_{:016x}", mix(n)))
        } else {
            Id::Int(900_000_000 + n)
        };
        let (mut b, arr) = self.begin_backend("reserve", &show.id, t, RESERVE_DELAY);
        kv_id(&mut b, "request_id", &rid);
        kv_str(&mut b, "platform", "web");
        kv_id(&mut b, "user_id", &user_id(WEB, user));
        kv_str(&mut b, "sku", &show.products[a].variants[v].sku);
        kv_int(&mut b, "qty", q as i64);
        self.finish(b, arr);
        if show.after_end {
            return;
        }
        let key = format!("req:{}", rid.text());
        self.try_claim(show, t, WEB, user, key, a, v, q);
    }
}
