//! What the webhook doors of `livesell serve` keep in the shared state: the platforms' secrets (the `[webhooks]` table) and the deliveries already taken.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use serde::Deserialize;

use crate::adapters::Shows;

/// The `[webhooks]` table of the serve config file; secrets may come from the environment too.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub meta_app_secret: Option<String>,
    /// What Meta's subscription check (`hub.verify_token`) must say.
    pub meta_verify_token: Option<String>,
    pub tiktok_secret: Option<String>,
    /// How old a TikTok signature's timestamp may be (default 300 s).
    pub tiktok_max_age_s: Option<i64>,
    pub twitch_secret: Option<String>,
    /// Which show a payload belongs to (see pipelines/shows.toml).
    #[serde(default)]
    pub shows: Shows,
}

impl WebhookConfig {
    /// Fills unset secrets from `LIVESELL_META_APP_SECRET`, `LIVESELL_META_VERIFY_TOKEN`,
    /// `LIVESELL_TIKTOK_SECRET` and `LIVESELL_TWITCH_SECRET`.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> WebhookConfig {
        for (slot, name) in [
            (&mut self.meta_app_secret, "LIVESELL_META_APP_SECRET"),
            (&mut self.meta_verify_token, "LIVESELL_META_VERIFY_TOKEN"),
            (&mut self.tiktok_secret, "LIVESELL_TIKTOK_SECRET"),
            (&mut self.twitch_secret, "LIVESELL_TWITCH_SECRET"),
        ] {
            if slot.is_none() {
                *slot = var(name).filter(|v| !v.is_empty());
            }
        }
        self
    }
}

/// Delivery ids remembered for dropping redeliveries.
const REMEMBERED: usize = 100_000;

/// Recently seen deliveries (platform message ids, or a digest of the body where the platform
/// gives none), oldest forgotten first.
#[derive(Default)]
pub struct Seen(Mutex<(HashSet<String>, VecDeque<String>)>);

impl Seen {
    /// True the first time `key` is seen.
    pub(super) fn first(&self, key: String) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        if !set.insert(key.clone()) {
            return false;
        }
        order.push_back(key);
        if order.len() > REMEMBERED {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }

    /// Forgets `key`: a delivery that could not be fed must be taken when it comes again.
    pub(super) fn forget(&self, key: &str) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        if set.remove(key) {
            order.retain(|k| k != key);
        }
    }
}
