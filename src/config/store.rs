//! `[store]`: where accounts live. `backend = "sled"` (the default) is the embedded
//! store in `state_dir`; `backend = "postgres"` is a PostgreSQL database that several
//! daemons share (`url`, `password_file`, `pool_size`, `outbox_poll`, and TLS:
//! `sslmode`, `ssl_root_cert`).
//!
//! The URL may carry a password; `Debug` (and so `authd --check-config`) prints it
//! redacted, and the password from `password_file` is read only when the store opens.
//!
//! `sslmode` has libpq's values and meanings. It may be given as the key or in the URL's
//! query (`?sslmode=verify-full`); given in both, the two must agree, or the config is
//! refused (exit 78): one rule, no silent winner. Unset in both, it is `prefer`.

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
    /// TLS to the database (libpq's `sslmode`); `None`: the URL's, else `prefer`.
    /// `Config::load` sets it to the effective mode, so `--check-config` shows it.
    pub sslmode: Option<SslMode>,
    /// PEM file of the CA certificates that verify-ca and verify-full trust; unset:
    /// Mozilla's roots (webpki-roots), built in.
    pub ssl_root_cert: Option<PathBuf>,
}

/// libpq's `sslmode` values: how TLS to the database is used, and what is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is not checked.
    Prefer,
    /// TLS or no connection; the certificate is not checked.
    Require,
    /// TLS, with a certificate signed by a trusted CA (any host name).
    VerifyCa,
    /// TLS, with a certificate signed by a trusted CA for the host the URL names.
    VerifyFull,
}

impl SslMode {
    pub const NAMES: &'static str = "disable, prefer, require, verify-ca or verify-full";

    pub fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the server's certificate is checked against trusted CAs.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// The URL's query parameters, `(key, value)`, in order.
fn query_params(url: &str) -> Vec<(&str, &str)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

/// The URL's `sslmode=` (the last one, as libpq takes it), as given.
fn url_sslmode(url: &str) -> Option<&str> {
    query_params(url)
        .into_iter()
        .rev()
        .find(|(k, _)| *k == "sslmode")
        .map(|(_, v)| v)
}

/// `url` without its `sslmode=` parameters, for the driver, which knows only
/// disable/prefer/require: authd applies the mode itself (`store::postgres::tls`).
pub fn url_without_sslmode(url: &str) -> String {
    let Some((head, _)) = url.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<String> = query_params(url)
        .into_iter()
        .filter(|(k, _)| *k != "sslmode")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if kept.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", kept.join("&"))
    }
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
            sslmode: None,
            ssl_root_cert: None,
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
            .field("sslmode", &self.sslmode)
            .field("ssl_root_cert", &self.ssl_root_cert)
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
    /// The TLS mode in force: the key's, else the URL's, else `prefer` (a conflict
    /// between the two is refused by `validate`).
    pub fn effective_sslmode(&self) -> SslMode {
        let from_url = self.url.as_deref().and_then(url_sslmode);
        self.sslmode
            .or_else(|| from_url.and_then(SslMode::parse))
            .unwrap_or(SslMode::Prefer)
    }

    /// Fill in `sslmode` with the mode in force, so the printed config shows it.
    pub(super) fn resolve(&mut self) {
        if self.backend == StoreBackend::Postgres {
            self.sslmode = Some(self.effective_sslmode());
        }
    }

    /// The TLS keys, with the URL's `sslmode` (also for `authd migrate`'s URL).
    pub fn validate_tls(&self) -> Result<(), ConfigError> {
        if self.backend != StoreBackend::Postgres {
            if self.sslmode.is_some() {
                return bad("store.sslmode", "only applies with backend = \"postgres\"");
            }
            if self.ssl_root_cert.is_some() {
                return bad(
                    "store.ssl_root_cert",
                    "only applies with backend = \"postgres\"",
                );
            }
            return Ok(());
        }
        let url = self.url.as_deref().unwrap_or_default();
        if let Some(given) = url_sslmode(url) {
            let Some(from_url) = SslMode::parse(given) else {
                let reason = format!("sslmode must be one of {}", SslMode::NAMES);
                return bad("store.url", &reason);
            };
            if let Some(key) = self.sslmode.filter(|k| *k != from_url) {
                let reason = format!(
                    "\"{}\" differs from sslmode={} in store.url: give it in one place",
                    key.as_str(),
                    from_url.as_str()
                );
                return bad("store.sslmode", &reason);
            }
        }
        for (key, _) in query_params(url) {
            if key.starts_with("ssl") && key != "sslmode" && key != "sslnegotiation" {
                let reason = format!(
                    "{key} is not supported in the URL: use store.ssl_root_cert for the CA \
                     file (client certificates are not supported)"
                );
                return bad("store.url", &reason);
            }
        }
        if let Some(file) = &self.ssl_root_cert {
            if !file.is_absolute() {
                return bad("store.ssl_root_cert", "must be an absolute path");
            }
            if !self.effective_sslmode().verifies() {
                return bad(
                    "store.ssl_root_cert",
                    "only applies with sslmode = \"verify-ca\" or \"verify-full\"",
                );
            }
        }
        Ok(())
    }

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
        self.validate_tls()?;
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
                match url_without_sslmode(url).parse::<tokio_postgres::Config>() {
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
    fn sslmode_comes_from_the_key_or_the_url_and_the_two_must_agree() {
        let pg = |url: &str, mode: Option<SslMode>| StoreConfig {
            backend: StoreBackend::Postgres,
            url: Some(url.into()),
            sslmode: mode,
            ..StoreConfig::default()
        };
        assert_eq!(
            pg("postgresql://h/d", None).effective_sslmode(),
            SslMode::Prefer
        );
        let in_url = pg(
            "postgresql://h/d?connect_timeout=5&sslmode=verify-full",
            None,
        );
        assert_eq!(in_url.effective_sslmode(), SslMode::VerifyFull);
        assert!(in_url.validate().is_ok());
        let both = pg(
            "postgresql://h/d?sslmode=verify-ca",
            Some(SslMode::VerifyCa),
        );
        assert!(both.validate().is_ok());
        let differ = pg("postgresql://h/d?sslmode=require", Some(SslMode::Disable));
        assert!(differ.validate().is_err());
        assert!(pg("postgresql://h/d?sslmode=maybe", None)
            .validate()
            .is_err());
        assert!(pg("postgresql://h/d?sslcert=/c.pem", None)
            .validate()
            .is_err());
        let mut resolved = pg("postgresql://h/d?sslmode=require", None);
        resolved.resolve();
        assert_eq!(resolved.sslmode, Some(SslMode::Require));
        assert!(resolved.validate().is_ok());

        assert_eq!(
            url_without_sslmode("postgresql://h/d?sslmode=verify-full&connect_timeout=5"),
            "postgresql://h/d?connect_timeout=5"
        );
        assert_eq!(
            url_without_sslmode("postgresql://h/d?sslmode=disable"),
            "postgresql://h/d"
        );
        assert_eq!(url_without_sslmode("postgresql://h/d"), "postgresql://h/d");

        let root = |mode, path: &str| StoreConfig {
            ssl_root_cert: Some(path.into()),
            ..pg("postgresql://h/d", mode)
        };
        assert!(root(Some(SslMode::VerifyFull), "/etc/ca.pem")
            .validate()
            .is_ok());
        assert!(root(Some(SslMode::VerifyFull), "ca.pem")
            .validate()
            .is_err());
        assert!(root(Some(SslMode::Require), "/etc/ca.pem")
            .validate()
            .is_err());
        assert!(root(None, "/etc/ca.pem").validate().is_err());
        let sled = StoreConfig {
            sslmode: Some(SslMode::Require),
            ..StoreConfig::default()
        };
        assert!(sled.validate().is_err());
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
