//! The daemon's domain operations, one method per request kind: validate, apply through
//! the store in one transaction, wait until it is durable, then log the audit event.
//!
//! Every handler returns only after its change is on disk (`Service::commit`). Handlers
//! never see sockets or frames; authorization has already happened in dispatch.

mod accounts;
mod backup;
mod challenge;
mod credentials;
mod info;
mod outbox;
mod reset;
mod sms;
mod two_factor;

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use crate::audit::Event;
use crate::config::Config;
use crate::error::Error;
use crate::outbox::mail::MailTransport;
use crate::outbox::sms::SmsTransport;
use crate::password::Hasher;
use crate::store::Store;
use crate::vault::Vault;
use challenge::Challenges;

pub struct Service {
    config: Config,
    store: Store,
    hasher: Hasher,
    vault: Vault,
    mail: Arc<MailTransport>,
    sms: Arc<SmsTransport>,
    challenges: Challenges,
    outbox_wake: Notify,
    started: Instant,
}

impl Service {
    pub fn new(
        config: Config,
        store: Store,
        hasher: Hasher,
        vault: Vault,
        mail: MailTransport,
        sms: SmsTransport,
    ) -> Service {
        Service {
            config,
            store,
            hasher,
            vault,
            mail: Arc::new(mail),
            sms: Arc::new(sms),
            challenges: Challenges::default(),
            outbox_wake: Notify::new(),
            started: Instant::now(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Wait until everything written so far is durable, then log the event.
    async fn commit(&self, account: &str, event: &Event) -> Result<(), Error> {
        self.store.durable().await?;
        event.log(account);
        Ok(())
    }

    /// Make sure everything acknowledged is on disk and the store's sentinel says so
    /// (used at shutdown).
    pub async fn flush(&self) -> Result<(), Error> {
        self.store.settle().await
    }
}
