//! The webhook target: each record POSTed as JSON, signed with HMAC-SHA256, its deterministic id in `X-Livesell-Id` for the receiver to drop a second copy.

use super::deliver::{self, PushError};
use crate::adapters::signature::sign_sha256;

pub struct Webhook {
    agent: ureq::Agent,
    url: String,
    secret: String,
}

impl Webhook {
    pub fn new(url: String, secret: String) -> Webhook {
        Webhook {
            agent: crate::io::http_agent(),
            url,
            secret,
        }
    }

    /// Delivers one record (its line as it is); 2xx is delivered, 401/403 stops the pusher
    /// (the secret or the address is wrong for every record), other 4xx refuse the record.
    pub fn send(&self, id: &str, line: &str, log: &mut dyn FnMut(&str)) -> Result<(), PushError> {
        let body = line.as_bytes();
        let headers = [
            ("X-Livesell-Id", id.to_string()),
            // `sha256=<hex>` of HMAC-SHA256(secret, body), as Meta signs its webhooks.
            ("X-Livesell-Signature", sign_sha256(&self.secret, body)),
        ];
        let a = deliver::post(&self.agent, &self.url, &headers, body, 12, |m| log(m))?;
        match a.status {
            200..=299 => Ok(()),
            401 | 403 => Err(PushError::Stop(format!(
                "{}: HTTP {}: the receiver refuses our signature (--secret)",
                self.url, a.status
            ))),
            s => Err(PushError::Refused(format!(
                "HTTP {s}: {}",
                String::from_utf8_lossy(&a.body[..a.body.len().min(200)]).trim()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn the_signature_is_hmac_sha256_in_hex() {
        assert_eq!(
            sign_sha256("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
