//! `[reset]` and `[mail]`: password-reset tokens and the mail that carries them, with
//! their checks (the sender address, the transport's required keys, the password file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{bad, ConfigError};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResetConfig {
    /// How long an emailed reset token stays valid.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub token_ttl: Duration,
    /// At most one reset mail per account this often.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub min_interval: Duration,
    /// Link put in the mail, with `{token}` replaced; none by default.
    pub url: Option<String>,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            token_ttl: Duration::from_secs(30 * 60),
            min_interval: Duration::from_secs(5 * 60),
            url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// One .eml file per message in `dir`: works with no mail server at all.
    File,
    Sendmail,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub transport: MailTransportKind,
    /// The From: address.
    pub from: String,
    /// For `file`: where .eml files go [default: state_dir/outbox/mail].
    pub dir: Option<PathBuf>,
    /// For `sendmail`: the program.
    pub sendmail: PathBuf,
    /// For `smtp`.
    pub host: Option<String>,
    /// For `smtp` [default: 25 with tls = "none", 587 with "starttls", 465 with "tls"].
    pub port: Option<u16>,
    pub tls: Tls,
    pub username: Option<String>,
    /// File holding the SMTP password (first line), so the config holds no secret.
    pub password_file: Option<PathBuf>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: MailTransportKind::File,
            from: "authd@localhost".into(),
            dir: None,
            sendmail: PathBuf::from("/usr/sbin/sendmail"),
            host: None,
            port: None,
            tls: Tls::Starttls,
            username: None,
            password_file: None,
        }
    }
}

impl MailConfig {
    /// Where the file transport writes.
    pub fn file_dir(&self, state_dir: &Path) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| state_dir.join("outbox/mail"))
    }

    pub fn smtp_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            Tls::None => 25,
            Tls::Starttls => 587,
            Tls::Tls => 465,
        })
    }
}

impl ResetConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let r = self;
        if r.token_ttl.is_zero() {
            return bad("reset.token_ttl", "must be longer than zero");
        }
        if r.url.as_ref().is_some_and(|u| !u.contains("{token}")) {
            return bad("reset.url", "must contain {token}, where the token goes");
        }
        Ok(())
    }
}

impl MailConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let m = self;
        if let Err(e) = crate::email::mailable_sender(&m.from) {
            return Err(ConfigError::Invalid {
                key: "mail.from",
                reason: format!(
                    "must be an email address authd can mail from, e.g. \
                     authd@example.org or \"Auth Daemon <authd@example.org>\": {e}"
                ),
            });
        }
        if m.dir.as_ref().is_some_and(|d| !d.is_absolute()) {
            return bad("mail.dir", "must be an absolute path");
        }
        if m.transport == MailTransportKind::Smtp && m.host.as_deref().unwrap_or("").is_empty() {
            return bad("mail.host", "is required with transport = \"smtp\"");
        }
        if m.username.is_some() != m.password_file.is_some() {
            return bad(
                "mail.password_file",
                "username and password_file go together",
            );
        }
        if let Some(file) = &m.password_file {
            if std::fs::metadata(file).is_err() {
                return bad("mail.password_file", "cannot be read");
            }
        }
        Ok(())
    }
}
