//! The YouTube live chat transport: HTTPS requests to `liveChatMessages.list`, paced by the pure poller (`adapters::youtube_poll`), comments handed to a sink.

use std::time::Duration;

use anyhow::Context;

use crate::adapters::youtube_poll::{Next, YoutubePoll};
use crate::adapters::{Comment, End, Shows};

pub const DEFAULT_API: &str = "https://www.googleapis.com/youtube/v3";

/// Where and how to read one live chat.
#[derive(Debug, Clone)]
pub struct PollOptions {
    pub live_chat_id: String,
    /// The Data API's base URL (a test server or a proxy may stand in).
    pub api: String,
    /// An API key (`key=`), or an OAuth access token (`Authorization: Bearer`), or both.
    pub api_key: Option<String>,
    pub access_token: Option<String>,
    /// A floor under the API's `pollingIntervalMillis` (0: exactly as the API asks).
    pub min_interval_ms: u64,
    /// Stop after this many pages (for trials); None: until the chat ends.
    pub max_pages: Option<u64>,
}

/// What a poll read, for the closing line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollStats {
    pub pages: u64,
    pub comments: u64,
    pub skipped: u64,
    pub repeats: u64,
    pub failures: u64,
    pub stopped: String,
}

/// Polls until the chat ends (or `max_pages`), waiting between requests exactly as long as the
/// poller says. `sink` gets each page's new comments in order; `progress` a line per event.
pub fn poll(
    opts: &PollOptions,
    shows: &Shows,
    mut sink: impl FnMut(&[Comment], &[End]) -> anyhow::Result<()>,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<PollStats> {
    let agent = super::http_agent();
    let mut poller = YoutubePoll::new(&opts.live_chat_id, opts.min_interval_ms);
    let mut stats = PollStats::default();
    loop {
        let url = poller.url(&opts.api, opts.api_key.as_deref());
        let mut req = agent.get(&url);
        if let Some(t) = &opts.access_token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let next = match req.call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(64 << 20)
                    .read_to_vec()
                    .unwrap_or_default();
                if status == 200 {
                    match poller.on_page(&body, shows) {
                        Ok(page) => {
                            sink(&page.comments, &page.ends).context("writing comments")?;
                            stats.pages += 1;
                            stats.comments += page.comments.len() as u64;
                            stats.skipped += page.skipped as u64;
                            stats.repeats += page.repeats as u64;
                            progress(&format!(
                                "page {}: {} comments, {} other items, {} repeats",
                                stats.pages,
                                page.comments.len(),
                                page.skipped,
                                page.repeats
                            ));
                            page.next
                        }
                        Err((e, next)) => {
                            stats.failures += 1;
                            progress(&format!("unreadable page ({}): {e}", e.reason()));
                            next
                        }
                    }
                } else {
                    stats.failures += 1;
                    progress(&format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)]).trim()
                    ));
                    poller.on_failure(Some(status), &body)
                }
            }
            Err(e) => {
                stats.failures += 1;
                progress(&format!("request failed: {e}"));
                poller.on_failure(None, b"")
            }
        };
        match next {
            Next::Stop(why) => {
                stats.stopped = why;
                return Ok(stats);
            }
            Next::Wait(_) if opts.max_pages.is_some_and(|m| stats.pages >= m) => {
                stats.stopped = format!("{} pages read, as asked", stats.pages);
                return Ok(stats);
            }
            Next::Wait(ms) => std::thread::sleep(Duration::from_millis(ms)),
        }
    }
}
