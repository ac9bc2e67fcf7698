//! One POST with retries: 5xx, 429 and network errors are tried again with a growing pause; other answers are the caller's.

use std::time::Duration;

/// What a POST came back with, once it came back with anything that is not worth retrying.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a record cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The target refused this record for good (it is recorded as failed, the rest go on).
    #[error("{0}")]
    Refused(String),
    /// Nothing can go on (a refused token, a broken outbox): the pusher stops, and a restart
    /// takes up where it stopped.
    #[error("{0}")]
    Stop(String),
    /// No answer came after every attempt (timeouts, 5xx, dropped connections): whether the
    /// target did what was asked is not known. The pusher stops, as for `Stop`.
    #[error("{0}")]
    Unanswered(String),
}

/// How long to wait after the `n`th failed attempt: 100 ms doubling, at most 10 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << n.min(7))).min(Duration::from_secs(10))
}

/// POSTs `body` to `url` with `headers` until it gets an answer other than 5xx or 429 (or
/// `max_attempts` failed: then it stops the run, which a restart takes up again).
pub fn post(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
    max_attempts: u32,
    mut log: impl FnMut(&str),
) -> Result<Answer, PushError> {
    let mut attempt = 0;
    loop {
        let mut req = agent.post(url).header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let why = match req.send(body) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(16 << 20)
                    .read_to_vec()
                    .unwrap_or_default();
                if status < 500 && status != 429 {
                    return Ok(Answer { status, body });
                }
                format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
                )
            }
            Err(e) => format!("request failed: {e}"),
        };
        attempt += 1;
        if attempt >= max_attempts {
            return Err(PushError::Unanswered(format!(
                "{url}: {attempt} attempts failed, the last: {why}"
            )));
        }
        let pause = backoff(attempt - 1);
        log(&format!("{why}; trying again in {} ms", pause.as_millis()));
        std::thread::sleep(pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_ten_seconds() {
        let pauses: Vec<u128> = (0..10).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(
            pauses,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
        );
    }
}
