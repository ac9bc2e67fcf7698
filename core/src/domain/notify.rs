//! Buyer messages: who to message and what, from each decision and the buyer's cart, in templates per locale (a TOML file, or the built-in English ones).
//!
//! Kinds: `won` (a claim reserved), `waitlisted` (at position N), `promoted` (off the waitlist),
//! `hold_expiring` (scheduled: `send_at` is `expiring_before_s` before the hold ends),
//! `hold_expired`, and `cart` (the cart's total and pay-by time after a change, while something
//! is held). Sending them through a platform's messaging API is not ours: a webhook pusher
//! hands them to a messaging service.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::cart::Cart;
use super::decision::{Body, Buyer, ClaimOutcome, Decision, JsonObject, ResEvent};
use super::time::{Micros, format_micros};

/// The built-in templates: `{name}` is replaced by the message's field of that name.
pub const BUILTIN: &str = r#"
locale = "en"
expiring_before_s = 30

[templates.en]
won = "You got {sku} ×{qty} for {price}! It is held for you until {pay_by}."
waitlisted = "{sku} is sold out right now: you are #{position} on the waitlist."
promoted = "Good news: {sku} ×{qty} came free and is yours, held until {pay_by}."
hold_expiring = "Your hold on {sku} ends at {pay_by}: pay now to keep it."
hold_expired = "Your hold on {sku} has ended and it went back on sale."
cart = "Your cart: {units} item(s), {total} to pay by {pay_by}."
"#;

#[derive(Debug, Clone, Deserialize)]
pub struct Templates {
    /// The locale of shows `sessions` does not name.
    pub locale: String,
    /// `hold_expiring` is sent this long before the hold ends.
    #[serde(default = "default_before")]
    pub expiring_before_s: i64,
    /// Per show, its locale.
    #[serde(default)]
    pub sessions: BTreeMap<String, String>,
    /// Per locale, per kind, the text.
    pub templates: BTreeMap<String, BTreeMap<String, String>>,
}

fn default_before() -> i64 {
    30
}

pub const KINDS: [&str; 6] = [
    "won",
    "waitlisted",
    "promoted",
    "hold_expiring",
    "hold_expired",
    "cart",
];

impl Default for Templates {
    fn default() -> Self {
        Templates::parse(BUILTIN).expect("the built-in templates read")
    }
}

impl Templates {
    /// Reads a templates file; every locale must have every kind, and the default locale must
    /// be one of them.
    pub fn parse(text: &str) -> Result<Templates, String> {
        let t: Templates = toml::from_str(text).map_err(|e| e.to_string())?;
        let locales: Vec<&String> = t.templates.keys().collect();
        for (locale, kinds) in &t.templates {
            if let Some(k) = KINDS.iter().find(|k| !kinds.contains_key(**k)) {
                return Err(format!("locale {locale} has no template for {k}"));
            }
        }
        for l in std::iter::once(&t.locale).chain(t.sessions.values()) {
            if !t.templates.contains_key(l) {
                return Err(format!(
                    "locale {l} has no templates (there are {locales:?})"
                ));
            }
        }
        if t.expiring_before_s < 0 {
            return Err("expiring_before_s must be ≥ 0".into());
        }
        Ok(t)
    }

    fn locale_of(&self, session_id: &str) -> &str {
        self.sessions.get(session_id).unwrap_or(&self.locale)
    }

    fn render(&self, locale: &str, kind: &str, vars: &[(&str, String)]) -> String {
        let mut text = self.templates[locale][kind].clone();
        for (k, v) in vars {
            text = text.replace(&format!("{{{k}}}"), v);
        }
        text
    }
}

/// Cents as money: `$12.50` for USD, `12.50 EUR` for another currency, `12.50` for none.
pub fn money(cents: i128, currency: Option<&str>) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let amount = format!("{sign}{}.{:02}", c / 100, c % 100);
    match currency {
        Some("USD") => format!("${amount}"),
        Some(cur) => format!("{amount} {cur}"),
        None => amount,
    }
}

/// The messages one decision implies, as JSON lines: `id` is the decision's and the kind's,
/// deterministic. `hold`: a reserving claim's reservation (unit price, end of the hold);
/// `cart`: the buyer's cart after a reservation decision.
pub fn messages(
    t: &Templates,
    session_id: &str,
    d: &Decision,
    hold: Option<(i64, Micros)>,
    cart: Option<&Cart>,
    currency: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |id: String,
                    kind: &str,
                    buyer: &Buyer,
                    send_at: Option<Micros>,
                    vars: Vec<(&str, String)>| {
        out.push(message(
            t, session_id, d.ts, &id, kind, buyer, send_at, &vars,
        ));
    };
    match &d.body {
        Body::Claim(c) => {
            let (Some(sku), Some(qty)) = (&c.sku, c.qty) else {
                return Vec::new();
            };
            let kind = match c.outcome {
                ClaimOutcome::Reserved => "won",
                ClaimOutcome::Waitlisted => "waitlisted",
                ClaimOutcome::Promoted => "promoted",
                _ => return Vec::new(),
            };
            let mut vars = vec![("sku", sku.to_string()), ("qty", qty.to_string())];
            if let Some(p) = c.waitlist_position {
                vars.push(("position", p.to_string()));
            }
            // The hold's price and end are the reservation's, decided with the claim.
            if let Some((unit_price, until)) = hold {
                vars.push(("price", money(unit_price as i128 * qty as i128, currency)));
                vars.push(("pay_by", format_micros(until)));
            }
            push(c.claim_id.to_string(), kind, &c.buyer, None, vars);
        }
        Body::Reservation(r) => {
            let vars = vec![
                ("sku", r.sku.to_string()),
                ("qty", r.qty.to_string()),
                ("pay_by", format_micros(r.expires_at)),
                ("reservation_id", r.reservation_id.to_string()),
            ];
            match r.event {
                ResEvent::Created => {
                    let at = r.expires_at - t.expiring_before_s * 1_000_000;
                    if at > d.ts {
                        push(
                            r.reservation_id.to_string(),
                            "hold_expiring",
                            &r.buyer,
                            Some(at),
                            vars,
                        );
                    }
                }
                ResEvent::Expired => {
                    push(
                        r.reservation_id.to_string(),
                        "hold_expired",
                        &r.buyer,
                        None,
                        vars,
                    );
                }
                _ => {}
            }
            if let Some(cart) = cart {
                let f = cart.figures();
                if let Some(pay_by) = f.pay_by {
                    let vars = vec![
                        ("units", f.units.to_string()),
                        ("total", money(f.total_cents, currency)),
                        ("pay_by", format_micros(pay_by)),
                        ("cart_version", cart.version.to_string()),
                    ];
                    let id = format!("{}/{}", super::cart::cart_id(&r.buyer), cart.version);
                    push(id, "cart", &r.buyer, None, vars);
                }
            }
        }
        _ => {}
    }
    out
}

/// One message as a JSON line.
#[allow(clippy::too_many_arguments)]
fn message(
    t: &Templates,
    session_id: &str,
    ts: Micros,
    id: &str,
    kind: &str,
    buyer: &Buyer,
    send_at: Option<Micros>,
    vars: &[(&str, String)],
) -> String {
    let locale = t.locale_of(session_id);
    let mut o = JsonObject::new();
    o.str("id", &format!("{id}/{kind}"));
    o.str("session_id", session_id);
    o.ts("ts", ts);
    if let Some(at) = send_at {
        o.ts("send_at", at);
    }
    o.str("kind", kind);
    o.str("platform", &buyer.platform);
    o.str("user_id", &buyer.user_id);
    o.str("locale", locale);
    o.str("text", &t.render(locale, kind, vars));
    for (k, v) in vars {
        o.str(k, v);
    }
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cart::Carts;
    use crate::domain::decision::{ClaimDecision, ReservationDecision};

    fn buyer() -> Buyer {
        Buyer {
            platform: "tiktok".into(),
            user_id: "u1".into(),
        }
    }

    fn reservation(event: ResEvent) -> Decision {
        Decision {
            ts: 1_000_000,
            late: false,
            body: Body::Reservation(ReservationDecision {
                reservation_id: "r1".into(),
                event,
                sku: "A12-RED-M".into(),
                qty: 2,
                buyer: buyer(),
                claim_id: "tiktok:c1".into(),
                expires_at: 91_000_000,
                unit_price_cents: 2500,
                reason: None,
            }),
        }
    }

    fn claim(outcome: ClaimOutcome, position: Option<u64>) -> Decision {
        Decision {
            ts: 1_000_000,
            late: false,
            body: Body::Claim(ClaimDecision {
                claim_id: "tiktok:c1".into(),
                buyer: buyer(),
                sku: Some("A12-RED-M".into()),
                qty: Some(2),
                outcome,
                reason: None,
                reservation_id: (outcome != ClaimOutcome::Waitlisted).then(|| "r1".into()),
                waitlist_position: position,
                escalation_id: None,
                candidates: vec![],
            }),
        }
    }

    fn parsed(lines: &[String]) -> Vec<serde_json::Value> {
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn each_decision_says_what_to_tell_the_buyer() {
        let t = Templates::default();
        let mut carts = Carts::default();
        let created = reservation(ResEvent::Created);
        let Body::Reservation(r) = &created.body else {
            unreachable!()
        };
        let (_, cart) = carts.apply(r, created.ts);
        let cart = cart.clone();

        let hold = Some((2500, 91_000_000));
        let won = parsed(&messages(
            &t,
            "s1",
            &claim(ClaimOutcome::Reserved, None),
            hold,
            None,
            Some("USD"),
        ));
        assert_eq!(won.len(), 1);
        assert_eq!(won[0]["id"], "tiktok:c1/won");
        assert_eq!(won[0]["kind"], "won");
        assert_eq!(
            won[0]["text"],
            "You got A12-RED-M ×2 for $50.00! It is held for you until 1970-01-01T00:01:31.000000Z."
        );
        let wait = parsed(&messages(
            &t,
            "s1",
            &claim(ClaimOutcome::Waitlisted, Some(3)),
            None,
            None,
            None,
        ));
        assert_eq!(
            wait[0]["text"],
            "A12-RED-M is sold out right now: you are #3 on the waitlist."
        );
        assert_eq!(wait[0]["position"], "3");
        assert!(
            messages(
                &t,
                "s1",
                &claim(ClaimOutcome::Escalated, None),
                None,
                None,
                None
            )
            .is_empty()
        );

        let made = parsed(&messages(
            &t,
            "s1",
            &created,
            None,
            Some(&cart),
            Some("EUR"),
        ));
        let kinds: Vec<&str> = made.iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["hold_expiring", "cart"]);
        assert_eq!(made[0]["send_at"], "1970-01-01T00:01:01.000000Z");
        assert_eq!(
            made[1]["text"],
            "Your cart: 2 item(s), 50.00 EUR to pay by 1970-01-01T00:01:31.000000Z."
        );
        assert_eq!(made[1]["id"], "cart/tiktok/u1/1/cart");

        let expired = reservation(ResEvent::Expired);
        let Body::Reservation(r) = &expired.body else {
            unreachable!()
        };
        let (_, cart) = carts.apply(r, expired.ts);
        let gone = parsed(&messages(&t, "s1", &expired, None, Some(cart), None));
        // Nothing is held any more: no cart message.
        let kinds: Vec<&str> = gone.iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["hold_expired"]);
    }

    #[test]
    fn templates_per_locale_and_show_are_checked_when_read() {
        let es = BUILTIN
            .replace("[templates.en]", "[templates.es]")
            .replace("You got", "Tienes");
        let both = format!(
            "{BUILTIN}\n{}\n[sessions]\nshow-es = \"es\"\n",
            es.split_once("[templates.es]")
                .map(|(_, t)| format!("[templates.es]{t}"))
                .unwrap()
        );
        let t = Templates::parse(&both).unwrap();
        let m = parsed(&messages(
            &t,
            "show-es",
            &claim(ClaimOutcome::Reserved, None),
            None,
            None,
            None,
        ));
        assert!(
            m[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("Tienes A12-RED-M"),
            "{}",
            m[0]
        );
        assert_eq!(m[0]["locale"], "es");
        let missing = BUILTIN.replace("cart = ", "carts = ");
        assert!(
            Templates::parse(&missing)
                .unwrap_err()
                .contains("no template for cart")
        );
        let unknown = BUILTIN.replace("locale = \"en\"", "locale = \"fr\"");
        assert!(Templates::parse(&unknown).unwrap_err().contains("fr"));
    }

    #[test]
    fn money_reads_as_money() {
        assert_eq!(money(5000, Some("USD")), "$50.00");
        assert_eq!(money(5, Some("EUR")), "0.05 EUR");
        assert_eq!(money(-150, None), "-1.50");
    }
}
