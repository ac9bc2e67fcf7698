//! The Shopify Admin GraphQL target: a draft order per reservation (`draftOrderCreate` with `reserveInventoryUntil`), deleted when the hold ends unpaid, completed when it converts; the cost throttle honoured.
//!
//! Draft orders are tagged `livesell-<reservation id>`: a create interrupted by a crash, or whose
//! answer was lost (a timeout, a 5xx, a dropped connection), is found by its tag, at the restart
//! or before it is sent again, instead of being made twice.

use std::time::Duration;

use serde_json::{Value, json};

use super::deliver::{self, PushError};
use super::outbox::Outbox;

pub const API_VERSION: &str = "2025-01";

pub struct Shopify {
    agent: ureq::Agent,
    endpoint: String,
    token: String,
    /// The cost bucket as the last answer left it: `(currently available, restore rate)`.
    bucket: Option<(f64, f64)>,
    pub throttled: u64,
}

/// What a record asks of the shop.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<'a> {
    Create {
        reservation: &'a str,
        sku: &'a str,
        qty: u64,
        reserve_until: &'a str,
        note: String,
        /// The price the buyer got, per unit: `(cents, currency)` (a flash tier's or an
        /// auction's); `None` without a currency (the shop's price stands).
        price: Option<(i64, &'a str)>,
    },
    Delete {
        reservation: &'a str,
    },
    Complete {
        reservation: &'a str,
    },
}

/// The action of one `orders_out.jsonl` record; `None` for a record of another kind.
pub fn action(r: &Value) -> Option<Action<'_>> {
    let reservation = r["reservation_id"].as_str()?;
    match r["kind"].as_str()? {
        "draft_order" => Some(Action::Create {
            reservation,
            sku: r["sku"].as_str()?,
            qty: r["qty"].as_u64()?,
            reserve_until: r["reserve_until"].as_str()?,
            note: format!(
                "Live Selling OS: {} {} won in show {} ({})",
                r["platform"].as_str().unwrap_or(""),
                r["user_id"].as_str().unwrap_or(""),
                r["session_id"].as_str().unwrap_or(""),
                r["claim_id"].as_str().unwrap_or("")
            ),
            price: r["unit_price_cents"]
                .as_i64()
                .zip(r["currency"].as_str().filter(|c| !c.is_empty())),
        }),
        "cancel_draft" => Some(Action::Delete { reservation }),
        "complete_draft" => Some(Action::Complete { reservation }),
        _ => None,
    }
}

pub fn tag(reservation: &str) -> String {
    format!("livesell-{reservation}")
}

/// Shopify's `MoneyInput` of `cents` in `currency` (a `Decimal` as a string: `45.99`).
fn money(cents: i64, currency: &str) -> Value {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    json!({"amount": format!("{sign}{}.{:02}", c / 100, c % 100), "currencyCode": currency})
}

/// Attempts at a create before the pusher stops (a restart takes it up again).
const CREATE_ATTEMPTS: u32 = 12;

/// A GraphQL string literal (inside a search query).
fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

impl Shopify {
    /// `shop`'s Admin API (`https://SHOP.myshopify.com/admin/api/VERSION/graphql.json`, or
    /// `endpoint` when given), with an Admin API access token.
    pub fn new(shop: &str, endpoint: Option<String>, token: String) -> Shopify {
        Shopify {
            agent: crate::io::http_agent(),
            endpoint: endpoint.unwrap_or_else(|| {
                format!("https://{shop}.myshopify.com/admin/api/{API_VERSION}/graphql.json")
            }),
            token,
            bucket: None,
            throttled: 0,
        }
    }

    /// One GraphQL call: its `data`. A `THROTTLED` answer (HTTP 200) waits until the bucket
    /// has refilled enough and asks again; other errors refuse the record.
    fn call(
        &mut self,
        query: &str,
        variables: Value,
        log: &mut dyn FnMut(&str),
    ) -> Result<Value, PushError> {
        self.call_tries(query, variables, 12, log)
    }

    /// `call`, giving up (`Stop`) after `attempts` without an answer.
    fn call_tries(
        &mut self,
        query: &str,
        variables: Value,
        attempts: u32,
        log: &mut dyn FnMut(&str),
    ) -> Result<Value, PushError> {
        let body = serde_json::to_vec(&json!({"query": query, "variables": variables}))
            .expect("a request serialises");
        loop {
            // Ask only when the bucket holds a call's cost (a mutation costs 10).
            if let Some((available, rate)) = self.bucket {
                if available < 10.0 && rate > 0.0 {
                    std::thread::sleep(Duration::from_secs_f64((10.0 - available) / rate));
                }
            }
            let headers = [("X-Shopify-Access-Token", self.token.clone())];
            let a = deliver::post(
                &self.agent,
                &self.endpoint,
                &headers,
                &body,
                attempts,
                |m| log(m),
            )?;
            if a.status == 401 || a.status == 403 {
                return Err(PushError::Stop(format!(
                    "{}: HTTP {}: the access token is refused (SHOPIFY_ACCESS_TOKEN)",
                    self.endpoint, a.status
                )));
            }
            let v: Value = serde_json::from_slice(&a.body).map_err(|e| {
                PushError::Refused(format!(
                    "HTTP {}: an answer that is not JSON ({e})",
                    a.status
                ))
            })?;
            let cost = &v["extensions"]["cost"];
            let status = &cost["throttleStatus"];
            if let (Some(avail), Some(rate)) = (
                status["currentlyAvailable"].as_f64(),
                status["restoreRate"].as_f64(),
            ) {
                self.bucket = Some((avail, rate));
            }
            let errors = v["errors"].as_array().cloned().unwrap_or_default();
            if errors
                .iter()
                .any(|e| e["extensions"]["code"] == "THROTTLED")
            {
                self.throttled += 1;
                let need = cost["requestedQueryCost"].as_f64().unwrap_or(10.0);
                let (avail, rate) = self.bucket.unwrap_or((0.0, 50.0));
                let wait = ((need - avail) / rate.max(1.0)).clamp(0.05, 30.0);
                log(&format!(
                    "throttled: waiting {:.0} ms for the cost bucket",
                    wait * 1e3
                ));
                std::thread::sleep(Duration::from_secs_f64(wait));
                continue;
            }
            if let Some(e) = errors.first() {
                return Err(PushError::Refused(format!(
                    "GraphQL error: {}",
                    e["message"].as_str().unwrap_or("unknown")
                )));
            }
            if a.status >= 400 {
                return Err(PushError::Refused(format!("HTTP {}", a.status)));
            }
            return Ok(v["data"].clone());
        }
    }

    /// The shop's variant of `sku` (looked up once, then kept in the outbox).
    fn variant(
        &mut self,
        outbox: &Outbox,
        sku: &str,
        log: &mut dyn FnMut(&str),
    ) -> Result<String, PushError> {
        if let Some(id) = outbox.variant(sku).map_err(stop)? {
            return Ok(id);
        }
        let q = "query($q: String!) { productVariants(first: 1, query: $q) { nodes { id sku } } }";
        let data = self.call(q, json!({"q": format!("sku:'{}'", quoted(sku))}), log)?;
        let id = data["productVariants"]["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|v| v["sku"] == sku))
            .and_then(|v| v["id"].as_str())
            .ok_or_else(|| PushError::Refused(format!("the shop has no variant with SKU {sku}")))?
            .to_string();
        outbox.set_variant(sku, &id).map_err(stop)?;
        Ok(id)
    }

    /// A draft order already made for `reservation` (an interrupted create), if any.
    pub fn find(
        &mut self,
        reservation: &str,
        log: &mut dyn FnMut(&str),
    ) -> Result<Option<String>, PushError> {
        let q = "query($q: String!) { draftOrders(first: 1, query: $q) { nodes { id status } } }";
        let data = self.call(
            q,
            json!({"q": format!("tag:'{}'", quoted(&tag(reservation)))}),
            log,
        )?;
        Ok(data["draftOrders"]["nodes"][0]["id"]
            .as_str()
            .map(str::to_string))
    }

    /// Whether an interrupted completion happened.
    pub fn completed(&mut self, draft: &str, log: &mut dyn FnMut(&str)) -> Result<bool, PushError> {
        let q = "query($id: ID!) { draftOrder(id: $id) { id status } }";
        let data = self.call(q, json!({"id": draft}), log)?;
        Ok(data["draftOrder"]["status"] == "COMPLETED")
    }

    /// A create, sent again only once the shop is known not to have made it: after an attempt
    /// that got no answer (a timeout, a 5xx, a dropped connection), the draft is looked for by
    /// its tag first. `None`: it was made, and is there to adopt.
    fn create(
        &mut self,
        q: &str,
        variables: Value,
        reservation: &str,
        log: &mut dyn FnMut(&str),
    ) -> Result<Option<Value>, PushError> {
        let mut attempt = 0;
        loop {
            match self.call_tries(q, variables.clone(), 1, log) {
                Err(PushError::Unanswered(why)) => {
                    attempt += 1;
                    if attempt >= CREATE_ATTEMPTS {
                        return Err(PushError::Unanswered(why));
                    }
                    let pause = deliver::backoff(attempt - 1);
                    log(&format!(
                        "{why}; looking for the draft by its tag before trying again in {} ms",
                        pause.as_millis()
                    ));
                    std::thread::sleep(pause);
                    if self.find(reservation, log)?.is_some() {
                        log("the draft was made: its answer was lost; adopted");
                        return Ok(None);
                    }
                }
                r => return r.map(Some),
            }
        }
    }

    /// Does `action`; returns the draft order's id.
    pub fn apply(
        &mut self,
        outbox: &Outbox,
        action: &Action,
        log: &mut dyn FnMut(&str),
    ) -> Result<Option<String>, PushError> {
        match action {
            Action::Create {
                reservation,
                sku,
                qty,
                reserve_until,
                note,
                price,
            } => {
                let variant = self.variant(outbox, sku, log)?;
                let q = "mutation($input: DraftOrderInput!) { draftOrderCreate(input: $input) { draftOrder { id status } userErrors { field message } } }";
                let mut line = json!({"variantId": variant, "quantity": qty});
                if let Some((cents, currency)) = price {
                    // The reservation's price (a flash tier's, an auction's), not the catalog's.
                    line["priceOverride"] = money(*cents, currency);
                }
                let input = json!({
                    "lineItems": [line],
                    "reserveInventoryUntil": reserve_until,
                    "tags": [tag(reservation)],
                    "note": note,
                });
                let data = self.create(q, json!({"input": input}), reservation, log)?;
                let Some(data) = data else {
                    return Ok(self.find(reservation, log)?);
                };
                user_errors(&data["draftOrderCreate"])?;
                let id = data["draftOrderCreate"]["draftOrder"]["id"]
                    .as_str()
                    .ok_or_else(|| {
                        PushError::Refused("draftOrderCreate returned no draft order".into())
                    })?;
                Ok(Some(id.to_string()))
            }
            Action::Delete { reservation } => {
                let Some(draft) = outbox.remote(reservation).map_err(stop)? else {
                    // Its create was refused: there is nothing to delete.
                    return Ok(None);
                };
                let q = "mutation($input: DraftOrderDeleteInput!) { draftOrderDelete(input: $input) { deletedId userErrors { field message } } }";
                let data = self.call(q, json!({"input": {"id": draft}}), log)?;
                match user_errors(&data["draftOrderDelete"]) {
                    // Deleted already (an interrupted delete, tried again).
                    Err(PushError::Refused(m)) if m.to_lowercase().contains("not exist") => {}
                    r => r?,
                }
                Ok(Some(draft))
            }
            Action::Complete { reservation } => {
                let Some(draft) = outbox.remote(reservation).map_err(stop)? else {
                    return Err(PushError::Refused(format!(
                        "reservation {reservation} has no draft order to complete"
                    )));
                };
                let q = "mutation($id: ID!) { draftOrderComplete(id: $id) { draftOrder { id status order { id } } userErrors { field message } } }";
                let data = self.call(q, json!({"id": draft}), log)?;
                user_errors(&data["draftOrderComplete"])?;
                Ok(Some(draft))
            }
        }
    }
}

fn user_errors(payload: &Value) -> Result<(), PushError> {
    match payload["userErrors"].as_array().and_then(|e| e.first()) {
        Some(e) => Err(PushError::Refused(format!(
            "{}",
            e["message"].as_str().unwrap_or("a user error")
        ))),
        None => Ok(()),
    }
}

fn stop(e: redb::Error) -> PushError {
    PushError::Stop(format!("the outbox: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_kind_is_one_action() {
        let r = json!({"id":"r1/draft","kind":"draft_order","reservation_id":"r1","sku":"A-RED",
                       "qty":2,"reserve_until":"2026-12-02T18:01:30.000000Z","session_id":"s",
                       "platform":"tiktok","user_id":"u1","claim_id":"tiktok:c1",
                       "unit_price_cents":4599,"currency":"USD"});
        match action(&r).unwrap() {
            Action::Create {
                reservation,
                sku,
                qty,
                reserve_until,
                note,
                price,
            } => {
                assert_eq!((reservation, sku, qty), ("r1", "A-RED", 2));
                assert_eq!(reserve_until, "2026-12-02T18:01:30.000000Z");
                assert!(note.contains("tiktok u1"), "{note}");
                assert_eq!(price, Some((4599, "USD")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            money(4599, "USD"),
            json!({"amount": "45.99", "currencyCode": "USD"})
        );
        assert_eq!(money(5, "EUR")["amount"], "0.05");
        let cancel = json!({"kind":"cancel_draft","reservation_id":"r1"});
        assert_eq!(action(&cancel), Some(Action::Delete { reservation: "r1" }));
        let done = json!({"kind":"complete_draft","reservation_id":"r1"});
        assert_eq!(action(&done), Some(Action::Complete { reservation: "r1" }));
        assert_eq!(action(&json!({"kind":"other","reservation_id":"r1"})), None);
        assert_eq!(tag("res:1"), "livesell-res:1");
        assert_eq!(quoted("it's"), "it\\'s");
    }
}
