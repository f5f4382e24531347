//! `[store]`: where accounts live. `backend = "sled"` (the default) is the embedded
//! store in `state_dir`; `backend = "postgres"` is a PostgreSQL database that several
//! daemons share (`url`, `password_file`, `pool_size`, `outbox_poll`).
//!
//! The URL may carry a password; `Debug` (and so `authd --check-config`) prints it
//! redacted, and the password from `password_file` is read only when the store opens.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::{bad, ConfigError};

/// The largest `store.pool_size`.
pub const MAX_POOL_SIZE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    #[default]
    Sled,
    Postgres,
}

#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub backend: StoreBackend,
    /// libpq-style URL: `postgresql://user@host:port/dbname?options`; printed with any
    /// password in it redacted.
    #[serde(serialize_with = "redacted")]
    pub url: Option<String>,
    /// A file holding the database password (first line); overrides one in `url`.
    pub password_file: Option<PathBuf>,
    /// Connections each daemon keeps open at most.
    pub pool_size: usize,
    /// postgres: the longest a courier waits before it looks at the shared outbox
    /// again; notifications (LISTEN/NOTIFY) wake it sooner.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub outbox_poll: Duration,
}

/// The longest `store.outbox_poll`.
pub const MAX_OUTBOX_POLL: Duration = Duration::from_secs(3600);

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: StoreBackend::Sled,
            url: None,
            password_file: None,
            pool_size: 16,
            outbox_poll: Duration::from_secs(5),
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("backend", &self.backend)
            .field("url", &self.url.as_deref().map(redact_url))
            .field("password_file", &self.password_file)
            .field("pool_size", &self.pool_size)
            .field("outbox_poll", &self.outbox_poll)
            .finish()
    }
}

/// The URL as `--check-config` prints it: without its password.
fn redacted<S: Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => s.serialize_some(&redact_url(url)),
        None => s.serialize_none(),
    }
}

/// `url` with any password in it (`user:PASSWORD@`, `password=PASSWORD`) replaced.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let (start, end) = (scheme_end + 3 + colon + 1, scheme_end + 3 + at);
                out.replace_range(start..end, "<redacted>");
            }
        }
    }
    if let Some(query) = out.find('?') {
        let (head, tail) = out.split_at(query + 1);
        let params: Vec<String> = tail
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=<redacted>"),
                _ => p.to_string(),
            })
            .collect();
        out = format!("{head}{}", params.join("&"));
    }
    out
}

impl StoreConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.pool_size == 0 || self.pool_size > MAX_POOL_SIZE {
            return bad("store.pool_size", "must be between 1 and 256");
        }
        if self.outbox_poll < Duration::from_secs(1) || self.outbox_poll > MAX_OUTBOX_POLL {
            return bad("store.outbox_poll", "must be between 1s and 1h");
        }
        if let Some(file) = &self.password_file {
            if !file.is_absolute() {
                return bad("store.password_file", "must be an absolute path");
            }
        }
        match (self.backend, &self.url) {
            (StoreBackend::Sled, Some(_)) => {
                bad("store.url", "only applies with backend = \"postgres\"")
            }
            (StoreBackend::Sled, None) if self.password_file.is_some() => bad(
                "store.password_file",
                "only applies with backend = \"postgres\"",
            ),
            (StoreBackend::Postgres, None) => {
                bad("store.url", "is required with backend = \"postgres\"")
            }
            (StoreBackend::Postgres, Some(url)) => {
                let scheme_ok = url.starts_with("postgresql://") || url.starts_with("postgres://");
                if !scheme_ok {
                    return bad("store.url", "must start with postgresql://");
                }
                match url.parse::<tokio_postgres::Config>() {
                    Ok(parsed) if parsed.get_dbname().is_none() => bad(
                        "store.url",
                        "must name the database (postgresql://HOST/DBNAME)",
                    ),
                    Ok(_) => Ok(()),
                    // The parser's message may quote the URL, password and all.
                    Err(_) => bad("store.url", "is not a valid PostgreSQL connection URL"),
                }
            }
            (StoreBackend::Sled, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgresql://authd:s3cret@db.example.org:5432/authd"),
            "postgresql://authd:<redacted>@db.example.org:5432/authd"
        );
        assert_eq!(
            redact_url("postgresql://db/authd?user=a&password=s3cret&sslmode=disable"),
            "postgresql://db/authd?user=a&password=<redacted>&sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://authd@db/authd"),
            "postgresql://authd@db/authd"
        );
        let config = StoreConfig {
            backend: StoreBackend::Postgres,
            url: Some("postgresql://u:hunter22@h/d?password=hunter23".into()),
            ..StoreConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let printed = toml::to_string(&config).unwrap();
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("u:<redacted>@h/d"), "{printed}");
    }

    #[test]
    fn values_are_checked() {
        let pg = |url: &str| StoreConfig {
            backend: StoreBackend::Postgres,
            url: Some(url.into()),
            ..StoreConfig::default()
        };
        assert!(pg("postgresql://root@127.0.0.1:5432/test")
            .validate()
            .is_ok());
        for url in ["mysql://h/d", "postgresql://h", "postgresql://h:notaport/d"] {
            assert!(pg(url).validate().is_err(), "{url}");
        }
        let none = StoreConfig {
            backend: StoreBackend::Postgres,
            ..StoreConfig::default()
        };
        assert!(none.validate().is_err());
        let sled_with_url = StoreConfig {
            url: Some("postgresql://h/d".into()),
            ..StoreConfig::default()
        };
        assert!(sled_with_url.validate().is_err());
        let zero = StoreConfig {
            pool_size: 0,
            ..pg("postgresql://h/d")
        };
        assert!(zero.validate().is_err());
    }
}
