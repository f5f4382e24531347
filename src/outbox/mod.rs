//! The durable outbox: outgoing mail and SMS are written to the store (and flushed) before the
//! request that caused it is answered, then delivered by a background task that retries
//! with exponential backoff and gives up after `outbox.give_up`.
//!
//! A message leaves the queue only when its delivery has been recorded, so a mail server
//! outage or a restart loses nothing; once delivery is recorded it is never sent again.
//! Message bodies are sealed at rest: a reset mail carries a live token.

pub mod delivery;
pub mod mail;
pub mod sms;

use std::time::Duration;

use crate::config::OutboxConfig;

/// When to try again after `attempts` failed attempts: `retry_first`, doubling, at most
/// `retry_max`.
pub fn next_attempt(config: &OutboxConfig, attempts: u32, now: u64) -> u64 {
    let first = config.retry_first.as_millis().max(1);
    let wait = first.saturating_mul(1u128 << attempts.saturating_sub(1).min(40));
    let wait = Duration::from_millis(wait.min(config.retry_max.as_millis()) as u64);
    now + wait.as_secs().max(1)
}

/// Has a message queued at `created` been tried for `give_up`?
pub fn expired(give_up: Duration, created: u64, now: u64) -> bool {
    now.saturating_sub(created) >= give_up.as_secs()
}

/// `alice@example.org` -> `a***@example.org`, for logs and audit lines.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_max() {
        let config = OutboxConfig::default();
        let waits: Vec<u64> = (1..=12).map(|a| next_attempt(&config, a, 0)).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]
        );
        assert!(!expired(config.give_up, 0, 24 * 3600 - 1));
        assert!(expired(config.give_up, 0, 24 * 3600));
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_address("alice@example.org"), "a***@example.org");
        assert_eq!(mask_address("nonsense"), "***");
    }
}
