//! The simplified allocation model: holds, waitlists, expiries, payments, moderation, stock.

use super::format::*;
use super::platforms::*;
use super::show::{Res, ResState, Show, Wait, buyer_key};
use super::{Act, Gen, Moderation, OrderLine, StockChange};

pub(super) const WAITLIST_CAP: usize = 1_000;

impl Gen<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn try_claim(
        &mut self,
        show: &mut Show,
        t: i64,
        pl: u8,
        user: u32,
        claim_key: String,
        p: usize,
        v: usize,
        q: u32,
    ) {
        let key = buyer_key(pl, user, p, v);
        if show.holding.contains_key(&key)
            || show.waiting.contains_key(&key)
            || show.bought.contains(&key)
        {
            return; // duplicate_claim
        }
        if q as i64 <= show.products[p].variants[v].available() {
            self.create_res(show, t, pl, user, claim_key, p, v, q);
        } else {
            let var = &mut show.products[p].variants[v];
            if var.waitlist.len() < WAITLIST_CAP {
                show.wait_seq += 1;
                let id = show.wait_seq;
                var.waitlist.push_back(Wait {
                    id,
                    key,
                    platform: pl,
                    user,
                    qty: q,
                    claim_key,
                });
                show.waiting.insert(key, id);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_res(
        &mut self,
        show: &mut Show,
        t: i64,
        pl: u8,
        user: u32,
        claim_key: String,
        p: usize,
        v: usize,
        q: u32,
    ) {
        let idx = show.res.len() as u32;
        let unit = show.products[p].price;
        show.res.push(Res {
            claim_key,
            platform: pl,
            user,
            p: p as u16,
            v: v as u16,
            qty: q,
            unit,
            state: ResState::Live,
        });
        show.holding.insert(buyer_key(pl, user, p, v), idx);
        let hot = show.products[p].hot;
        let var = &mut show.products[p].variants[v];
        var.held += q as i64;
        var.res.push(idx);
        let restock =
            var.available() <= 0 && hot && !var.restock_planned && self.rng.u32(0..100) < 30;
        if restock {
            var.restock_planned = true;
        }
        let window = show.window_ms;
        self.schedule(show, t + window, Act::Expire { res: idx });
        let pay_at = match self.rng.u32(0..100) {
            0..72 => Some(t + self.rng.i64(4_000..=(window - 3_000).clamp(5_000, 50_000))),
            72..85 => Some(t + window + self.rng.i64(1_000..=45_000)),
            _ => None,
        };
        if let Some(at) = pay_at {
            self.schedule(show, at, Act::Pay { res: idx });
        }
        if restock {
            let d = self.rng.i64(1..=5);
            let at = t + self.rng.i64(5_000..=30_000);
            self.schedule(
                show,
                at,
                Act::Stock {
                    p,
                    v,
                    change: StockChange::Delta(d),
                },
            );
        }
    }

    /// Units came back: promote waitlisted buyers whose quantity fits, in order.
    pub(super) fn release(&mut self, show: &mut Show, t: i64, p: usize, v: usize) {
        {
            let var = &show.products[p].variants[v];
            if var.available() <= 0 || var.waitlist.is_empty() {
                return;
            }
        }
        let mut wl = std::mem::take(&mut show.products[p].variants[v].waitlist);
        let mut skipped = Vec::new();
        while show.products[p].variants[v].available() > 0 {
            let Some(w) = wl.pop_front() else { break };
            if show.waiting.get(&w.key) != Some(&w.id) {
                continue; // cancelled while waiting
            }
            if w.qty as i64 <= show.products[p].variants[v].available() {
                show.waiting.remove(&w.key);
                self.create_res(show, t, w.platform, w.user, w.claim_key, p, v, w.qty);
            } else {
                skipped.push(w);
            }
        }
        for w in skipped.into_iter().rev() {
            wl.push_front(w);
        }
        show.products[p].variants[v].waitlist = wl;
    }

    pub(super) fn expire(&mut self, show: &mut Show, t: i64, idx: u32) {
        let r = &mut show.res[idx as usize];
        if r.state != ResState::Live {
            return;
        }
        r.state = ResState::Expired;
        let (p, v, q) = (r.p as usize, r.v as usize, r.qty);
        show.holding.remove(&buyer_key(r.platform, r.user, p, v));
        show.products[p].variants[v].held -= q as i64;
        self.release(show, t, p, v);
    }

    pub(super) fn cancel(&mut self, show: &mut Show, t: i64, pl: u8, user: u32, p: Option<usize>) {
        let Some(p) = p else { return };
        for v in 0..show.products[p].variants.len() {
            let key = buyer_key(pl, user, p, v);
            show.waiting.remove(&key);
            if let Some(idx) = show.holding.remove(&key) {
                let r = &mut show.res[idx as usize];
                r.state = ResState::Cancelled;
                show.products[p].variants[v].held -= r.qty as i64;
                self.release(show, t, p, v);
            }
        }
    }

    pub(super) fn pay(&mut self, show: &mut Show, t: i64, idx: u32) {
        let r = &show.res[idx as usize];
        let (pl, user, p, v, q, unit, state) = (
            r.platform,
            r.user,
            r.p as usize,
            r.v as usize,
            r.qty,
            r.unit,
            r.state,
        );
        let key = buyer_key(pl, user, p, v);
        match state {
            ResState::Live => {
                show.holding.remove(&key);
                let var = &mut show.products[p].variants[v];
                var.held -= q as i64;
                var.sold += q as i64;
            }
            // paid after the hold ran out: a direct sale, or an oversell when it is gone
            ResState::Expired => show.products[p].variants[v].sold += q as i64,
            // most people whose hold was taken away do not pay; a few had already checked out
            ResState::Cancelled | ResState::Revoked => {
                if self.rng.u32(0..100) >= 10 {
                    return;
                }
                show.products[p].variants[v].sold += q as i64;
            }
            ResState::Converted => return,
        }
        show.res[idx as usize].state = ResState::Converted;
        show.bought.insert(key);
        let reservation_id = (self.rng.u32(0..100) < 85)
            .then(|| format!("res:{}", show.res[idx as usize].claim_key));
        let order = OrderLine {
            order_id: self.next_order_id(),
            platform: pl,
            user,
            p,
            v,
            qty: q,
            amount: q as i64 * unit,
            reservation_id,
        };
        self.emit_order(show, t, &order, "paid");
        if self.rng.u32(0..100) < 3 {
            let at = t + self.rng.i64(30_000..=300_000);
            self.schedule(show, at, Act::Refund(Box::new(order)));
        }
    }

    pub(super) fn refund(&mut self, show: &mut Show, t: i64, order: OrderLine) {
        self.emit_order(show, t, &order, "refunded");
        let var = &mut show.products[order.p].variants[order.v];
        var.sold -= order.qty as i64;
        var.pool -= order.qty as i64;
    }

    pub(super) fn moderate(&mut self, show: &mut Show, t: i64, m: Moderation) {
        let (mut b, arr) = self.begin_backend("moderation", &show.id, t, MODERATION_DELAY);
        kv_str(&mut b, "escalation_id", &m.escalation_id);
        if m.accept {
            kv_str(&mut b, "decision", "accept");
            kv_str(&mut b, "sku", &show.products[m.p].variants[m.v].sku);
            kv_int(&mut b, "qty", m.q as i64);
        } else {
            kv_str(&mut b, "decision", "reject");
        }
        self.finish(b, arr);
        if m.idle {
            return;
        }
        if self.rng.u32(0..100) < 5 {
            // a second moderator answers the other way a little later: too late, counted only
            let second = Moderation {
                escalation_id: m.escalation_id.clone(),
                platform: m.platform,
                user: m.user,
                claim_key: m.claim_key.clone(),
                p: m.p,
                v: m.v,
                q: m.q,
                accept: !m.accept,
                idle: true,
            };
            let at = t + self.rng.i64(2_000..=20_000);
            self.schedule(show, at, Act::Moderate(Box::new(second)));
        }
        if m.accept {
            self.try_claim(show, t, m.platform, m.user, m.claim_key, m.p, m.v, m.q);
        }
    }

    pub(super) fn stock(
        &mut self,
        show: &mut Show,
        t: i64,
        p: usize,
        v: usize,
        change: StockChange,
    ) {
        let (mut b, arr) = self.begin_backend("stock", &show.id, t, STOCK_DELAY);
        kv_str(&mut b, "sku", &show.products[p].variants[v].sku);
        match change {
            StockChange::Set(n) => kv_int(&mut b, "set", n),
            StockChange::Delta(d) => kv_int(&mut b, "delta", d),
        }
        self.finish(b, arr);
        let var = &mut show.products[p].variants[v];
        let before = var.pool;
        match change {
            StockChange::Set(n) => var.pool = n,
            StockChange::Delta(d) => var.pool += d,
        }
        // a shortfall revokes the newest holds first
        let mut i = var.res.len();
        while i > 0 && var.pool < var.held + var.sold {
            i -= 1;
            let r = &mut show.res[var.res[i] as usize];
            if r.state == ResState::Live {
                r.state = ResState::Revoked;
                var.held -= r.qty as i64;
                show.holding.remove(&buyer_key(r.platform, r.user, p, v));
            }
        }
        if show.products[p].variants[v].pool > before {
            self.release(show, t, p, v);
        }
    }
}
