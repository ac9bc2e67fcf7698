//! Helpers the benchmark programs share: the wall clock in milliseconds, and where `livesell` is.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch: the `ts` a platform would stamp (TikTok style).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The `livesell` binary: `given`, or the one next to this example in the target directory.
pub fn livesell_bin(given: Option<&str>) -> String {
    given.map(str::to_string).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.parent()
            .and_then(|p| p.parent())
            .map(|p| p.join("livesell"))
            .expect("target dir")
            .display()
            .to_string()
    })
}
