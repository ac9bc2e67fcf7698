//! Bearer tokens and roles of the live server: who may direct the show, who may moderate, who may watch.

use std::path::Path;

use serde::Deserialize;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Director,
    Moderator,
    /// Reads the ticker and overlay when they are not public.
    Viewer,
    /// Every role.
    Admin,
}

impl Role {
    /// Whether a token of this role may do what `needed` may.
    pub fn covers(self, needed: Role) -> bool {
        self == needed || self == Role::Admin || needed == Role::Viewer
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::Moderator => "moderator",
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub role: Role,
    pub token: String,
}

/// The `[auth]` table of the serve config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The ticker and overlay need no token (the default).
    #[serde(default = "yes")]
    pub public: bool,
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
}

fn yes() -> bool {
    true
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            public: true,
            tokens: Vec::new(),
        }
    }
}

/// The serve config file (TOML): `[auth]`, `[webhooks]` and `[limits]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServeFile {
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub webhooks: super::ingest::WebhookConfig,
    #[serde(default)]
    pub limits: super::limits::Limits,
    /// Who may log in to `serve-sql`.
    #[serde(default)]
    pub sql: crate::serve_sql::SqlAuth,
}

impl ServeFile {
    /// The file at `path`, or every table's defaults without one.
    pub fn load_or_default(path: Option<&Path>) -> anyhow::Result<ServeFile> {
        path.map_or_else(|| Ok(ServeFile::default()), ServeFile::load)
    }

    pub fn load(path: &Path) -> anyhow::Result<ServeFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let file: ServeFile =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        file.auth.clone().checked()?;
        file.limits.clone().checked()?;
        Ok(file)
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or one nobody issued: 401.
    Unauthenticated,
    /// A valid token of another role: 403.
    Forbidden,
}

impl AuthConfig {
    /// Adds tokens from `LIVESELL_DIRECTOR_TOKENS`, `LIVESELL_MODERATOR_TOKENS`,
    /// `LIVESELL_VIEWER_TOKENS` and `LIVESELL_ADMIN_TOKENS` (comma-separated).
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<AuthConfig> {
        for (name, role) in [
            ("LIVESELL_DIRECTOR_TOKENS", Role::Director),
            ("LIVESELL_MODERATOR_TOKENS", Role::Moderator),
            ("LIVESELL_VIEWER_TOKENS", Role::Viewer),
            ("LIVESELL_ADMIN_TOKENS", Role::Admin),
        ] {
            for token in var(name).unwrap_or_default().split(',') {
                let token = token.trim();
                if !token.is_empty() {
                    self.tokens.push(TokenEntry {
                        role,
                        token: token.to_string(),
                    });
                }
            }
        }
        self.checked()
    }

    fn checked(self) -> anyhow::Result<AuthConfig> {
        for t in &self.tokens {
            if t.token.len() < 16 {
                anyhow::bail!(
                    "a {} token is shorter than 16 characters: too easy to guess",
                    t.role.as_str()
                );
            }
        }
        Ok(self)
    }

    /// Whether some token of `role` (or admin) exists.
    pub fn has(&self, role: Role) -> bool {
        self.tokens
            .iter()
            .any(|t| t.role.covers(role) && t.role != Role::Viewer)
    }

    /// The role of a presented token, comparing against every issued token in constant time.
    fn role_of(&self, presented: &str) -> Option<Role> {
        let mut found = None;
        for t in &self.tokens {
            if bool::from(t.token.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(t.role);
            }
        }
        found
    }

    /// Checks an `Authorization` header value against the role an action needs.
    pub fn check(&self, authorization: Option<&str>, needed: Role) -> Result<Role, Refusal> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Unauthenticated)?;
        let role = self.role_of(token).ok_or(Refusal::Unauthenticated)?;
        if role.covers(needed) {
            Ok(role)
        } else {
            Err(Refusal::Forbidden)
        }
    }

    /// Checks a read of the public surfaces (ticker, overlay).
    pub fn check_read(&self, authorization: Option<&str>) -> Result<(), Refusal> {
        if self.public {
            return Ok(());
        }
        self.check(authorization, Role::Viewer).map(|_| ())
    }
}

/// A fresh random token (for `demo`, and for `serve` when none is configured).
pub fn random_token() -> std::io::Result<String> {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::with_capacity(32);
    let mut bytes = [0u8; 64];
    while s.len() < 32 {
        // The operating system's generator: a token must not be guessable from another.
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        // 252 = 7 × 36: bytes above it are dropped, so every character is equally likely.
        for b in bytes.iter().filter(|&&b| b < 252).take(32 - s.len()) {
            s.push(ALPHABET[(b % 36) as usize] as char);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AuthConfig {
        AuthConfig::from_toml(
            r#"
            [auth]
            public = false
            tokens = [
              { role = "director", token = "dddddddddddddddd" },
              { role = "moderator", token = "mmmmmmmmmmmmmmmm" },
              { role = "viewer", token = "vvvvvvvvvvvvvvvv" },
            ]
            "#,
        )
        .unwrap()
    }

    impl AuthConfig {
        fn from_toml(text: &str) -> anyhow::Result<AuthConfig> {
            let f: ServeFile = toml::from_str(text)?;
            f.auth.checked()
        }
    }

    #[test]
    fn roles_are_enforced() {
        let a = config();
        let d = Some("Bearer dddddddddddddddd");
        let m = Some("Bearer mmmmmmmmmmmmmmmm");
        assert_eq!(a.check(d, Role::Director), Ok(Role::Director));
        assert_eq!(a.check(m, Role::Director), Err(Refusal::Forbidden));
        assert_eq!(a.check(d, Role::Moderator), Err(Refusal::Forbidden));
        assert_eq!(a.check(None, Role::Director), Err(Refusal::Unauthenticated));
        assert_eq!(
            a.check(Some("Bearer nope"), Role::Director),
            Err(Refusal::Unauthenticated)
        );
        assert_eq!(
            a.check(Some("Basic dddddddddddddddd"), Role::Director),
            Err(Refusal::Unauthenticated)
        );
        // Reading needs any token when the surfaces are not public.
        assert_eq!(a.check_read(None), Err(Refusal::Unauthenticated));
        assert_eq!(a.check_read(m), Ok(()));
        assert_eq!(
            a.check(Some("Bearer vvvvvvvvvvvvvvvv"), Role::Moderator),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn env_tokens_add_and_short_tokens_are_refused() {
        let a = AuthConfig::default()
            .with_env(|k| (k == "LIVESELL_ADMIN_TOKENS").then(|| "aaaaaaaaaaaaaaaa, ".into()))
            .unwrap();
        assert!(a.public);
        let admin = Some("Bearer aaaaaaaaaaaaaaaa");
        assert!(a.check(admin, Role::Director).is_ok() && a.check(admin, Role::Moderator).is_ok());
        let short = AuthConfig::default().with_env(|_| Some("short".into()));
        assert!(short.is_err());
        assert!(AuthConfig::from_toml("[auth]\nopen = 1\n").is_err());
    }

    #[test]
    fn random_tokens_are_long_and_differ() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        // Every character of the alphabet turns up, none far more often than another.
        let mut counts = [0u32; 36];
        for _ in 0..500 {
            for c in random_token().unwrap().bytes() {
                let i = if c.is_ascii_digit() {
                    c - b'0'
                } else {
                    c - b'a' + 10
                };
                counts[i as usize] += 1;
            }
        }
        // A token owes nothing to the process's own generator: reseeding it does not repeat one.
        fastrand::seed(7);
        let first = random_token().unwrap();
        fastrand::seed(7);
        assert_ne!(first, random_token().unwrap());
        // 16,000 characters: about 444 each.
        assert!(
            counts.iter().all(|&n| (300..600).contains(&n)),
            "{counts:?}"
        );
    }
}
