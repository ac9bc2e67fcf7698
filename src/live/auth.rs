//! Bearer tokens and roles of the live server: who may direct the show, who may moderate, who may watch.

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

    /// Refuses tokens too short to hold.
    pub fn checked(self) -> anyhow::Result<AuthConfig> {
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

    /// Checks a read of what names buyers (claims, carts, the moderator queue): the show's
    /// staff only, a director, moderator or admin token; a viewer's is refused (403).
    pub fn check_staff(&self, authorization: Option<&str>) -> Result<Role, Refusal> {
        match self.check(authorization, Role::Viewer)? {
            Role::Viewer => Err(Refusal::Forbidden),
            role => Ok(role),
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
            // The `[auth]` table as the serve config file holds it.
            #[derive(serde::Deserialize)]
            struct File {
                #[serde(default)]
                auth: AuthConfig,
            }
            let f: File = toml::from_str(text)?;
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
}
