//! `[lockout]`, `[totp]` and `[recovery]`: what a login tolerates and the second factors
//! it takes, with their bounds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{bad, ConfigError};

/// The most recovery codes in a set (`recovery.codes`).
pub const MAX_RECOVERY_CODES: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    pub max_failures: u32,
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub base: Duration,
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub max: Duration,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            max_failures: 5,
            base: Duration::from_secs(60),
            max: Duration::from_secs(3600),
        }
    }
}

impl LockoutConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let l = self;
        if l.max_failures == 0 {
            return bad("lockout.max_failures", "must be at least 1");
        }
        if l.base.is_zero() {
            return bad("lockout.base", "must be longer than zero");
        }
        if l.max < l.base {
            return bad("lockout.max", "must not be shorter than lockout.base");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotpConfig {
    /// Shown in authenticator apps next to the account name.
    pub issuer: String,
    /// Time steps accepted either side of now.
    pub skew: u32,
    pub digits: u32,
    /// Seconds per step.
    pub period: u64,
}

impl Default for TotpConfig {
    fn default() -> Self {
        TotpConfig {
            issuer: "authd".into(),
            skew: 1,
            digits: 6,
            period: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryConfig {
    /// Recovery codes in a set.
    pub codes: u32,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig { codes: 10 }
    }
}

impl TotpConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let t = self;
        if t.issuer.is_empty() || t.issuer.len() > 64 || t.issuer.contains(':') {
            return bad("totp.issuer", "must be 1-64 characters without ':'");
        }
        if t.skew > 10 {
            return bad("totp.skew", "must be 0 to 10 steps");
        }
        if !(6..=8).contains(&t.digits) {
            return bad("totp.digits", "must be 6 to 8 (authenticator apps use 6)");
        }
        if !(15..=300).contains(&t.period) {
            return bad("totp.period", "must be 15 to 300 seconds (apps use 30)");
        }
        Ok(())
    }
}

impl RecoveryConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_RECOVERY_CODES).contains(&self.codes) {
            return bad("recovery.codes", "must be 1 to 50");
        }
        Ok(())
    }
}
