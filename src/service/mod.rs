//! The daemon's domain operations, one method per request kind: validate, stage one
//! atomic change through the store (`store::Backend`), wait until it is durable, then log
//! the audit event.
//!
//! Every handler returns only after its change is on disk (`Service::commit`). Handlers
//! never see sockets or frames; authorization has already happened in dispatch.

mod accounts;
mod backup;
mod credentials;
mod forgot;
mod import;
mod import_totp;
mod info;
mod keys;
mod lifecycle;
pub(crate) mod login;
mod outbox;
mod outbox_admin;
mod portal;
mod reload;
mod reset;
mod sms;
mod two_factor;

use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::audit::Event;
use crate::authz::Caller;
use crate::config::Config;
use crate::error::Error;
use crate::log_limit::LogLimit;
use crate::outbox::Outbox;
use crate::password::Hasher;
use crate::store::{Account, Backend, Decided, Effects};
use crate::vault::Vault;
use login::challenge::Challenges;

pub use reload::Reloaded;

/// An SSO account authenticates at its provider: nothing here may touch its credentials.
fn refuse_sso(account: &Account) -> Result<(), Error> {
    match account.sso {
        Some(_) => Err(Error::SsoAccount(account.name.clone())),
        None => Ok(()),
    }
}

pub struct Service {
    /// Swapped whole on SIGHUP; each request reads the one in force when it asks.
    config: RwLock<Arc<Config>>,
    store: Arc<dyn Backend>,
    hasher: Hasher,
    vault: Arc<Vault>,
    /// Delivery is the outbox's own (its couriers); the service queues and wakes.
    outbox: Arc<Outbox>,
    challenges: Challenges,
    /// Portal sessions (authd-web), in memory.
    sessions: crate::portal::Sessions,
    /// Warnings callers can cause, counted per uid (`log_limit`).
    warnings: LogLimit,
    /// Bulk imports under way, in memory until they commit.
    imports: import::ImportSessions,
    started: Instant,
}

impl Service {
    pub fn new(
        config: Config,
        store: Arc<dyn Backend>,
        hasher: Hasher,
        vault: Arc<Vault>,
        outbox: Arc<Outbox>,
    ) -> Service {
        Service {
            config: RwLock::new(Arc::new(config)),
            store,
            hasher,
            vault,
            outbox,
            challenges: Challenges::default(),
            sessions: crate::portal::Sessions::default(),
            warnings: LogLimit::default(),
            imports: import::ImportSessions::default(),
            started: Instant::now(),
        }
    }

    /// Once the daemon answers: make what the first requests would otherwise wait for
    /// (the dummy hash), on the hash pool in the daemon's own turn.
    pub fn prepare(&self) {
        let me = nix::unistd::geteuid().as_raw();
        self.hasher.prepare(crate::password::Share::exempt(me));
    }

    /// Warnings a caller can cause go through this, so one uid cannot flood the log.
    pub fn warnings(&self) -> &LogLimit {
        &self.warnings
    }

    /// The configuration in force now.
    pub fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(config) => Arc::clone(&config),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn set_config(&self, config: Arc<Config>) {
        match self.config.write() {
            Ok(mut slot) => *slot = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
    }

    /// The account `name` as it is now; `NoSuchUser` if there is none.
    fn existing(&self, name: &str) -> Result<Account, Error> {
        self.store
            .account(name)?
            .ok_or_else(|| Error::NoSuchUser(name.to_string()))
    }

    /// `existing`, awaited as a task (the login path: `Backend::fetch_account`).
    async fn fetch_existing(&self, name: &str) -> Result<Account, Error> {
        self.store
            .fetch_account(name)
            .await?
            .ok_or_else(|| Error::NoSuchUser(name.to_string()))
    }

    /// Wait until everything written so far is durable, then log the event.
    async fn commit(&self, account: &str, event: &Event) -> Result<(), Error> {
        self.store.durable().await?;
        event.log(account);
        Ok(())
    }

    /// Change the account `name`: `change` decides on the record as it is now (with every
    /// earlier change applied) and returns the decision with its audit event
    /// (`Ok(event.into())` when the event is all there is). The change is staged whole or
    /// not at all (an `Err` stages nothing); once it is durable the event is logged and
    /// the decision returned. Every account change a handler makes goes through here.
    async fn record<T>(
        &self,
        name: &str,
        now: u64,
        change: impl FnOnce(&mut Account, &mut Effects) -> Result<Decided<T>, Error>,
    ) -> Result<T, Error> {
        let Decided { value, event } = self.store.update_with(name, now, change)?;
        self.commit(name, &event).await?;
        Ok(value)
    }

    /// `record` for a decision that may be taken more than once, first on `seen` (the
    /// account as read before, `Backend::change_retrying`): a login's.
    async fn record_retrying<T: Send>(
        &self,
        name: &str,
        now: u64,
        seen: Option<&Account>,
        change: impl FnMut(&mut Account, &mut Effects) -> Result<Decided<T>, Error> + Send,
    ) -> Result<T, Error> {
        let Decided { value, event } = self.store.update_retrying(name, now, seen, change).await?;
        self.commit(name, &event).await?;
        Ok(value)
    }

    /// Make sure everything acknowledged is on disk and the store's sentinel says so
    /// (used at shutdown).
    pub async fn flush(&self) -> Result<(), Error> {
        self.store.settle().await
    }

    /// Log (rate limited per uid) a request refused for `what` it carried, when no
    /// account is known to record it for.
    fn warn_denied(&self, caller: &Caller, what: &str) {
        if let Some(left_out) = self.warnings.allow(caller.peer().uid, Instant::now()) {
            tracing::warn!(
                target: "audit",
                actor = %caller.describe(),
                outcome = "denied",
                "{what}{}",
                crate::log_limit::note(left_out)
            );
        }
    }
}
