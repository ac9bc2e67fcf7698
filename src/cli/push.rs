//! `livesell push`: the target (a Shopify store or a signed webhook) from the flags and the environment, then the pusher and its tally.

use std::path::PathBuf;

use anyhow::Context;
use livesell::push::{Target, push as push_drafts};

use super::secs;

#[derive(clap::Args)]
pub struct PushArgs {
    /// A run's output directory (its orders_out.jsonl), or kafka://HOST:PORT[/TOPIC]
    /// (default topic livesell.orders-out).
    #[arg(long = "from")]
    pub from: String,
    /// shopify (Admin GraphQL; the token from SHOPIFY_ACCESS_TOKEN) or webhook.
    #[arg(long = "to")]
    pub to: String,
    /// The shop: NAME of NAME.myshopify.com.
    #[arg(long)]
    pub shop: Option<String>,
    /// The Admin API's GraphQL URL, when not the shop's own (a proxy, a test server).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The webhook's URL.
    #[arg(long)]
    pub url: Option<String>,
    /// The webhook's signing secret (or LIVESELL_WEBHOOK_SECRET).
    #[arg(long)]
    pub secret: Option<String>,
    /// The outbox (default DIR/push.redb).
    #[arg(long)]
    pub outbox: Option<PathBuf>,
    /// Keep reading what the run appends; stop after this many seconds with nothing new.
    #[arg(long)]
    pub follow: Option<f64>,
    /// Which file of DIR to push (notifications.jsonl: buyer messages, to a webhook).
    #[arg(long, default_value = "orders_out.jsonl")]
    pub file: String,
}

/// `livesell push`: the target from the flags, then the pusher.
pub fn push(args: PushArgs) -> anyhow::Result<()> {
    let PushArgs {
        from,
        to,
        shop,
        endpoint,
        url,
        secret,
        outbox,
        follow,
        file,
    } = args;
    let to = match to.as_str() {
        "shopify" => Target::Shopify {
            shop: shop.context("--to shopify needs --shop NAME")?,
            endpoint,
            token: std::env::var("SHOPIFY_ACCESS_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
                .context("--to shopify needs an Admin API access token in SHOPIFY_ACCESS_TOKEN")?,
        },
        "webhook" => Target::Webhook {
            url: url.context("--to webhook needs --url URL")?,
            secret: secret
                .or_else(|| std::env::var("LIVESELL_WEBHOOK_SECRET").ok())
                .filter(|s| !s.is_empty())
                .context("--to webhook needs --secret S (or LIVESELL_WEBHOOK_SECRET)")?,
        },
        other => anyhow::bail!("--to {other}: one of shopify, webhook"),
    };
    let follow = follow.map(|s| secs(s, "follow")).transpose()?;
    let r = push_drafts(livesell::push::PushArgs {
        from,
        to,
        outbox,
        follow,
        file,
    })?;
    eprintln!(
        "livesell: push: {} sent, {} already sent, {} recovered after an interruption, {} failed (push_failed.jsonl), {} throttled answer(s) waited out",
        r.sent, r.already, r.recovered, r.failed, r.throttled
    );
    Ok(())
}
