//! Building the JSON lines of the simulation's events and queueing them by arrival time.

use std::cmp::Reverse;

use super::format::*;
use super::platforms::*;
use super::show::Show;
use super::{Gen, Line, MAX_DELAY_MS, OrderLine};

impl Gen<'_> {
    pub(super) fn arrival(&mut self, t: i64, stamped_ms: i64, (lo, hi): (i64, i64)) -> i64 {
        (stamped_ms + self.rng.i64(lo..=hi))
            .max(t + 15)
            .min(stamped_ms + MAX_DELAY_MS)
    }

    pub(super) fn begin(&mut self, ty: &str, session: &str, ts_us: i64, style: Style) -> String {
        let mut b = self
            .spare
            .pop()
            .unwrap_or_else(|| String::with_capacity(256));
        b.push_str("{\"type\":\"");
        b.push_str(ty);
        b.push_str("\",\"session_id\":");
        json_str(&mut b, session);
        b.push_str(",\"ts\":");
        push_ts(&mut b, ts_us, style);
        b
    }

    /// A backend event (director, stock, order, moderation, reserve) stamped in milliseconds.
    pub(super) fn begin_backend(
        &mut self,
        ty: &str,
        session: &str,
        t: i64,
        delay: (i64, i64),
    ) -> (String, i64) {
        let arrival = self.arrival(t, t, delay);
        (self.begin(ty, session, t * 1000, Style::Millis), arrival)
    }

    pub(super) fn finish(&mut self, mut b: String, arrival: i64) {
        b.push('}');
        self.line_seq += 1;
        self.pushed += 1;
        self.reorder.push(Reverse(Line {
            arrival,
            seq: self.line_seq,
            text: b,
        }));
    }

    pub(super) fn emit_product(&mut self, show: &Show, t: i64, p: usize) {
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        let prod = &show.products[p];
        b.push_str(",\"action\":\"product\"");
        kv_str(&mut b, "code", &prod.code);
        kv_str(&mut b, "title", prod.title);
        kv_int(&mut b, "price_cents", prod.price);
        kv_str(&mut b, "currency", "USD");
        b.push_str(",\"variants\":[");
        for (i, var) in prod.variants.iter().enumerate() {
            if i > 0 {
                b.push(',');
            }
            b.push_str("{\"sku\":");
            json_str(&mut b, &var.sku);
            if var.color.is_some() || var.size.is_some() || self.rng.bool() {
                b.push_str(",\"options\":{");
                let mut first = true;
                if let Some(c) = var.color {
                    b.push_str("\"color\":");
                    json_str(&mut b, c);
                    first = false;
                }
                if let Some(s) = var.size {
                    if !first {
                        b.push(',');
                    }
                    b.push_str("\"size\":");
                    json_str(&mut b, s);
                }
                b.push('}');
            }
            kv_int(&mut b, "stock", var.stock0);
            b.push('}');
        }
        b.push(']');
        self.finish(b, arr);
    }

    pub(super) fn emit_director(&mut self, show: &Show, t: i64, action: &str, code: Option<&str>) {
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        kv_str(&mut b, "action", action);
        if let Some(c) = code {
            kv_str(&mut b, "code", c);
        }
        self.finish(b, arr);
    }

    pub(super) fn emit_price(&mut self, show: &Show, t: i64, p: usize) {
        let (mut b, arr) = self.begin_backend("director", &show.id, t, DIRECTOR_DELAY);
        kv_str(&mut b, "action", "price");
        kv_str(&mut b, "code", &show.products[p].code);
        kv_int(&mut b, "price_cents", show.products[p].price);
        self.finish(b, arr);
    }

    pub(super) fn emit_order(&mut self, show: &Show, t: i64, o: &OrderLine, status: &str) {
        let (mut b, arr) = self.begin_backend("order", &show.id, t, ORDER_DELAY);
        kv_id(&mut b, "order_id", &o.order_id);
        kv_str(&mut b, "platform", PLATFORMS[o.platform as usize]);
        kv_id(&mut b, "user_id", &user_id(o.platform, o.user));
        kv_str(&mut b, "sku", &show.products[o.p].variants[o.v].sku);
        kv_int(&mut b, "qty", o.qty as i64);
        kv_int(&mut b, "amount_cents", o.amount);
        kv_str(&mut b, "status", status);
        if let Some(r) = &o.reservation_id {
            kv_str(&mut b, "reservation_id", r);
        }
        self.finish(b, arr);
    }

    pub(super) fn next_order_id(&mut self) -> Id {
        self.order_seq += 1;
        let n = self.order_seq;
        match self.rng.u32(0..3) {
            0 => Id::Int(5_100_000_000 + n),
            1 => Id::Str(format!("ord-{n:07}")),
            _ => Id::Str(format!("#{}", 100_000 + n)),
        }
    }
}
