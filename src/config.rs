//! The serve config file (TOML) of `livesell serve` and `serve-sql`: its tables, its loading, and the environment's tokens and secrets over it.

use std::path::Path;

use serde::Deserialize;

use crate::live::auth::AuthConfig;
use crate::live::limits::Limits;
use crate::live::webhook_state::WebhookConfig;
use crate::sql::pgwire::SqlAuth;

/// The serve config file: `[auth]`, `[webhooks]`, `[limits]` and `[sql]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServeFile {
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub webhooks: WebhookConfig,
    #[serde(default)]
    pub limits: Limits,
    /// Who may log in to `serve-sql`.
    #[serde(default)]
    pub sql: SqlAuth,
}

/// What `livesell serve` takes from the file, with the environment's tokens and secrets.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub auth: AuthConfig,
    pub webhooks: WebhookConfig,
    pub limits: Limits,
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

    /// The live server's tables: tokens added from `LIVESELL_*_TOKENS`, unset webhook secrets
    /// filled from `LIVESELL_*_SECRET` (see `AuthConfig::with_env`, `WebhookConfig::with_env`).
    pub fn live(self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<LiveConfig> {
        Ok(LiveConfig {
            auth: self.auth.with_env(&var)?,
            webhooks: self.webhooks.with_env(&var),
            limits: self.limits,
        })
    }

    /// Who may log in to `serve-sql`, the password possibly from `LIVESELL_SQL_PASSWORD`.
    pub fn sql_logins(self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<SqlAuth> {
        self.sql.with_env(var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<ServeFile> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("serve.toml");
        std::fs::write(&path, text)?;
        ServeFile::load(&path)
    }

    #[test]
    fn every_table_is_read_and_checked() {
        let f = load(
            "[auth]\npublic = false\ntokens = [{ role = \"director\", token = \"dddddddddddddddd\" }]\n\
             [webhooks]\ntwitch_secret = \"t\"\n[limits]\nmax_streams = 7\n[sql]\nuser = \"me\"\n",
        )
        .unwrap();
        assert!(!f.auth.public && f.auth.tokens.len() == 1);
        assert_eq!(f.limits.max_streams, 7);
        assert_eq!(f.sql.user.as_deref(), Some("me"));
        let live = f.live(|_| None).unwrap();
        assert_eq!(live.webhooks.twitch_secret.as_deref(), Some("t"));
        assert!(load("[nope]\n").is_err());
        assert!(load("[auth]\ntokens = [{ role = \"admin\", token = \"short\" }]\n").is_err());
        assert!(load("[limits]\nmax_streams = 0\n").is_err());
        assert!(ServeFile::load_or_default(None).unwrap().auth.public);
    }
}
