//! The durable outbox: outgoing mail and SMS are written to the store (and flushed) before
//! the request that caused them is answered, then delivered by one courier per channel
//! (`courier`), so a mail server that hangs never delays an SMS login code.
//!
//! Each attempt is bounded by `outbox.attempt_timeout`. A transient failure is retried
//! with exponential backoff until `outbox.give_up`; a permanent one (an SMTP 5xx to the
//! message, a gateway exit status documented as permanent) is given up at once. A
//! message leaves the queue only when its delivery has been recorded, so an outage or a
//! restart loses nothing; once delivery is recorded it is never sent again. Message
//! bodies are sealed at rest: a reset mail carries a live token. A delivered message is
//! kept without its body for `outbox.keep_delivered`, then removed (`retention`).
//!
//! The couriers live here, beside the queue they serve; the server starts them, and the
//! service layer only queues messages (in its own transactions) and wakes them.

pub mod command;
mod courier;
pub mod mail;
pub mod requeue;
mod retention;
pub mod sms;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, ConfigError, OutboxConfig};
use crate::store::{Backend, ChannelKind};
use crate::vault::Vault;
use mail::MailTransport;
use sms::SmsTransport;

/// Why an attempt did not deliver a message; the text is for logs and `authctl outbox`
/// (never message content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try: the server or gateway is down, slow, busy, or answered 4xx.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help: the server refused the message (5xx) or the gateway exited
    /// with a status documented as permanent.
    #[error("{0}")]
    Permanent(String),
}

/// What the couriers use that a configuration reload may change.
pub struct Settings {
    pub retry: OutboxConfig,
    /// An SMS is given up once its code has expired.
    pub sms_code_ttl: Duration,
    pub mail: MailTransport,
    pub sms: SmsTransport,
}

impl Settings {
    /// Build the transports (creating the file transports' directories); errors name
    /// the config key.
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        let timeout = config.outbox.attempt_timeout;
        Ok(Settings {
            retry: config.outbox.clone(),
            sms_code_ttl: config.sms.code_ttl,
            mail: MailTransport::from_config(&config.mail, &config.state_dir, timeout)?,
            sms: SmsTransport::from_config(&config.sms, &config.state_dir, timeout)?,
        })
    }

    /// How long after queuing a message on `kind` is still tried.
    fn give_up(&self, kind: ChannelKind) -> Duration {
        match kind {
            ChannelKind::Mail => self.retry.give_up,
            // A login code is worthless once expired.
            ChannelKind::Sms => self.retry.give_up.min(self.sms_code_ttl),
        }
    }
}

/// The running outbox: what its couriers share, and how to wake them.
pub struct Outbox {
    store: Arc<dyn Backend>,
    vault: Arc<Vault>,
    settings: RwLock<Arc<Settings>>,
    /// One per channel, in `ChannelKind::ALL` order.
    wake: [Notify; 2],
}

impl Outbox {
    pub fn new(store: Arc<dyn Backend>, vault: Arc<Vault>, settings: Settings) -> Outbox {
        Outbox {
            store,
            vault,
            settings: RwLock::new(Arc::new(settings)),
            wake: [Notify::new(), Notify::new()],
        }
    }

    /// Use new settings from the next attempt on (attempts in hand finish with the old).
    pub fn reconfigure(&self, settings: Settings) {
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
    }

    fn settings(&self) -> Arc<Settings> {
        Arc::clone(&self.settings.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn wake_signal(&self, kind: ChannelKind) -> &Notify {
        match kind {
            ChannelKind::Mail => &self.wake[0],
            ChannelKind::Sms => &self.wake[1],
        }
    }

    /// Something was queued: wake the couriers (one with nothing due reads one index
    /// entry and sleeps again).
    pub fn wake(&self) {
        for kind in ChannelKind::ALL {
            self.wake_signal(kind).notify_one();
        }
    }

    /// Start one courier per channel on `tasks`; each stops at `shutdown`, after the
    /// attempt in hand.
    pub fn start(self: &Arc<Self>, tasks: &TaskTracker, shutdown: &CancellationToken) {
        // Messages other daemons queue in a shared store wake these couriers too.
        let outbox = Arc::downgrade(self);
        self.store.watch_outbox(Arc::new(move || {
            if let Some(outbox) = outbox.upgrade() {
                outbox.wake();
            }
        }));
        for kind in ChannelKind::ALL {
            tasks.spawn(courier::run(Arc::clone(self), kind, shutdown.clone()));
        }
        tasks.spawn(retention::run(Arc::clone(self), shutdown.clone()));
    }
}

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
