//! `[outbox]`: retries of outgoing mail and SMS, and the bound on one delivery attempt.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{bad, ConfigError};

/// The longest `outbox.attempt_timeout`: shutdown waits for the attempts in hand.
pub const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(600);

/// Retries of outgoing messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Wait before the first retry; doubled after each failed attempt.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub retry_first: Duration,
    /// Longest wait between attempts.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub retry_max: Duration,
    /// Give up (mark failed) this long after the message was queued.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub give_up: Duration,
    /// Bound on one delivery attempt: the SMTP connect and each read or write, and the
    /// run time of a sendmail or SMS gateway command (killed when it overruns).
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub attempt_timeout: Duration,
    /// How long a delivered message is kept, without its body, for `authctl outbox`
    /// (then removed; `purge --delivered-before` removes them sooner). `0s`: removed at
    /// delivery.
    #[serde(
        deserialize_with = "super::duration",
        serialize_with = "super::duration_text"
    )]
    pub keep_delivered: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            retry_first: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            give_up: Duration::from_secs(24 * 3600),
            attempt_timeout: Duration::from_secs(30),
            keep_delivered: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl OutboxConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let o = self;
        if o.retry_first.is_zero() || o.retry_max < o.retry_first {
            return bad(
                "outbox.retry_first",
                "must be longer than zero and not above retry_max",
            );
        }
        if o.give_up < o.retry_first {
            return bad("outbox.give_up", "must not be shorter than retry_first");
        }
        if o.attempt_timeout.is_zero() || o.attempt_timeout > MAX_ATTEMPT_TIMEOUT {
            return bad(
                "outbox.attempt_timeout",
                "must be longer than zero and at most 10m",
            );
        }
        Ok(())
    }
}
