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

/// The resident set of process `pid` in MiB (0 once it is gone).
#[allow(dead_code)]
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}
