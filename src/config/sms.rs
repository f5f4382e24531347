//! `[sms]`: the SMS transport, which countries get codes, and the codes' lifetime and
//! rate limits, with their checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{bad, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// One file per message in `dir`: works with no gateway at all.
    File,
    /// Run `command` with the number as last argument and the text on stdin.
    Command,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub transport: SmsTransportKind,
    /// For `file` [default: state_dir/outbox/sms].
    pub dir: Option<PathBuf>,
    /// For `command`: the program and its arguments; exit 0 means delivered.
    pub command: Vec<String>,
    /// ISO 3166 alpha-2 codes whose numbers may get codes; empty = all.
    pub countries: Vec<String>,
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub code_ttl: Duration,
    /// At most one code per account this often.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub min_interval: Duration,
    /// At most this many codes per account in 24 hours.
    pub daily_limit: u32,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            transport: SmsTransportKind::File,
            dir: None,
            command: Vec::new(),
            countries: Vec::new(),
            code_ttl: Duration::from_secs(300),
            min_interval: Duration::from_secs(60),
            daily_limit: 10,
        }
    }
}

impl SmsConfig {
    pub fn file_dir(&self, state_dir: &Path) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| state_dir.join("outbox/sms"))
    }
}

impl SmsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let sms = self;
        if sms.transport == SmsTransportKind::Command
            && sms.command.first().is_none_or(|p| p.is_empty())
        {
            return bad("sms.command", "is required with transport = \"command\"");
        }
        if sms.dir.as_ref().is_some_and(|d| !d.is_absolute()) {
            return bad("sms.dir", "must be an absolute path");
        }
        if sms.countries.iter().any(|c| {
            c.len() != 2
                || c.to_ascii_uppercase()
                    .parse::<phonenumber::country::Id>()
                    .is_err()
        }) {
            return bad(
                "sms.countries",
                "must be ISO 3166 alpha-2 codes, e.g. [\"DE\", \"FR\"]",
            );
        }
        if sms.code_ttl.is_zero() {
            return bad("sms.code_ttl", "must be longer than zero");
        }
        if sms.daily_limit == 0 {
            return bad("sms.daily_limit", "must be at least 1");
        }
        Ok(())
    }
}
