//! What the service layer needs from storage, as one trait: sled (`Store`) is its first
//! implementation, and another backend (PostgreSQL) implements the same.
//!
//! The model: reads see what is committed plus, for single records (`account`,
//! `reset_token`, the counters), what is staged. A change (`create`, `change`, `remove`,
//! `import`, `outbox_settle`) runs once against the records as they are now, serialized with every
//! other change, and is staged whole or not at all. `durable` resolves once every change
//! staged before it is committed and on disk; nothing may be acknowledged before that.
//! No sled type appears here.

use std::future::Future;
use std::pin::Pin;

use super::import::ImportChange;
use super::records::AuditEntry;
use super::{Account, ChannelKind, Effects, OutboxChange, OutboxItem, ResetToken, Store};
use crate::audit::Event;
use crate::error::Error;
use crate::vault::BackupMac;

/// A future the backend resolves (the trait stays object safe).
pub type Pending<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// A future the backend resolves to what it read.
pub type Fetching<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// One change to one account: runs once, may fill `Effects`, returns the audit event.
pub type AccountChange<'a> = dyn FnMut(&mut Account, &mut Effects) -> Result<Event, Error> + 'a;

/// `AccountChange` for `change_retrying`, which the caller awaits as a task.
pub type RetriedChange<'a> =
    dyn FnMut(&mut Account, &mut Effects) -> Result<Event, Error> + Send + 'a;

/// Figures kept as counters, changed in the same commit as the records they count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub accounts: u64,
    pub outbox_queued: u64,
    pub outbox_failed: u64,
}

pub trait Backend: Send + Sync {
    fn account(&self, name: &str) -> Result<Option<Account>, Error>;
    /// `account`, awaited as a task (the login path): a backend whose reads cross the
    /// network waits for them without holding one of the daemon's threads. The default
    /// reads at once.
    fn fetch_account<'a>(&'a self, name: &'a str) -> Fetching<'a, Option<Account>> {
        Box::pin(std::future::ready(self.account(name)))
    }
    /// Up to `limit` account names after `after`, in name order, and whether more follow.
    fn list(&self, after: Option<&str>, limit: usize) -> Result<(Vec<String>, bool), Error>;
    /// Up to `limit` history entries, newest first, with sequence below `before`.
    fn history(
        &self,
        name: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, bool), Error>;
    fn reset_token(&self, hash: &[u8; 32]) -> Result<Option<ResetToken>, Error>;
    fn counts(&self) -> Result<Counts, Error>;
    /// One page of the outbox in id order: queued, failed and delivered.
    fn outbox(&self, after: Option<u64>, limit: usize) -> Result<(Vec<OutboxItem>, bool), Error>;
    /// Up to `limit` messages on `kind` due at `now`, the earliest first.
    fn outbox_due(
        &self,
        kind: ChannelKind,
        now: u64,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, Error>;
    /// When the earliest queued message on `kind` falls due.
    fn outbox_next_due(&self, kind: ChannelKind) -> Result<Option<u64>, Error>;

    /// Stage a new account with its first history entry; `Exists` if the name is taken.
    fn create(&self, account: &Account, event: &Event, now: u64) -> Result<(), Error>;
    /// Stage a change of the account `name` (`NoSuchUser` if there is none).
    fn change(&self, name: &str, now: u64, change: &mut AccountChange<'_>) -> Result<(), Error>;
    /// `change`, for a change that may run more than once, awaited as a task: it must
    /// decide on nothing but the account it is given (and what it captured unchanged),
    /// since a backend may decide it on a record that turns out to be out of date and
    /// then again on the current one; only the decision on the record it replaces is
    /// staged. `seen`: the account as the caller last read it, a first guess. A backend
    /// that serializes changes anyway runs `change` once, at once.
    fn change_retrying<'a>(
        &'a self,
        name: &'a str,
        now: u64,
        seen: Option<&'a Account>,
        change: &'a mut RetriedChange<'_>,
    ) -> Pending<'a> {
        let _ = seen;
        Box::pin(std::future::ready(self.change(name, now, change)))
    }
    /// Stage the removal of an account, its history and its reset tokens.
    fn remove(&self, name: &str) -> Result<(), Error>;
    /// Stage a bulk import as one change, all or nothing: `decide` runs once per name,
    /// in order, on the account as it is now (`None`: no such account yet) and returns
    /// what to write for it (`None`: leave it); an `Err` stages nothing.
    fn import(
        &self,
        names: &[String],
        now: u64,
        decide: &mut ImportChange<'_>,
    ) -> Result<(), Error>;
    /// Stage what a delivery attempt did: `Some` replaces the message, `None` removes it;
    /// `event` goes to the account's history if the account still exists.
    fn outbox_settle(
        &self,
        id: u64,
        item: Option<&OutboxItem>,
        account: &str,
        event: Option<&Event>,
        now: u64,
    ) -> Result<(), Error>;
    /// Stage an admin's change to the outbox message `id` (retry, purge), decided on it
    /// as it is now; `Ok(false)` when there is none.
    fn outbox_change(
        &self,
        id: u64,
        now: u64,
        change: &mut OutboxChange<'_>,
    ) -> Result<bool, Error>;
    /// Stage the removal of up to `limit` delivered messages delivered before `before`
    /// (`outbox.keep_delivered`: no history entry); how many there were.
    fn outbox_prune_delivered(&self, before: u64, limit: usize) -> Result<u64, Error>;

    /// Resolves once every change staged before the call is on disk.
    fn durable(&self) -> Pending<'_>;
    /// `durable`, and whatever the backend records of its own state says so (shutdown).
    fn settle(&self) -> Pending<'_>;
    /// Every record as of one moment, in the backup format, MACed; returns the count.
    fn snapshot(&self, out: &mut dyn std::io::Write, mac: BackupMac) -> Result<u64, Error>;
    /// A store other processes queue messages in too calls `wake` whenever one may have
    /// (PostgreSQL: LISTEN/NOTIFY), so the couriers look at once rather than at their
    /// next poll. A store only this daemon writes has nothing to tell.
    fn watch_outbox(&self, wake: OutboxWake) {
        let _ = wake;
    }
}

/// What `watch_outbox` calls: wakes the couriers.
pub type OutboxWake = std::sync::Arc<dyn Fn() + Send + Sync>;

/// What one account change decided, and the audit event that records it. The change
/// returns both and `update_with` hands both back, so a handler builds its event once and
/// never clones it to keep a copy; the decision may itself be a refusal that is still
/// recorded (a wrong code counts toward the lockout).
#[derive(Debug)]
pub struct Decided<T> {
    pub value: T,
    pub event: Event,
}

impl<T> Decided<T> {
    pub fn new(value: T, event: Event) -> Self {
        Decided { value, event }
    }

    /// The same event with the decision put another way (`map(Err)` for a refusal).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decided<U> {
        Decided::new(f(self.value), self.event)
    }
}

/// A change whose only outcome is its event.
impl From<Event> for Decided<()> {
    fn from(event: Event) -> Self {
        Decided::new((), event)
    }
}

impl dyn Backend + '_ {
    /// Read-modify-write one account: `change` may fill `Effects` and returns what it
    /// decided with the event to append; both come back once the change is staged. An
    /// `Err` stages nothing.
    pub fn update_with<T>(
        &self,
        name: &str,
        now: u64,
        change: impl FnOnce(&mut Account, &mut Effects) -> Result<Decided<T>, Error>,
    ) -> Result<Decided<T>, Error> {
        let mut change = Some(change);
        let mut kept = Kept::default();
        self.change(name, now, &mut |account, effects| match change.take() {
            Some(change) => kept.keep(change(account, effects)?),
            None => Err(Error::Internal("a store change ran twice".into())),
        })?;
        kept.decided()
    }

    /// `update_with` for a change that may be decided more than once (`change_retrying`),
    /// awaited as a task: what the staged decision decided comes back.
    pub async fn update_retrying<T: Send>(
        &self,
        name: &str,
        now: u64,
        seen: Option<&Account>,
        mut change: impl FnMut(&mut Account, &mut Effects) -> Result<Decided<T>, Error> + Send,
    ) -> Result<Decided<T>, Error> {
        let mut kept = Kept::default();
        self.change_retrying(name, now, seen, &mut |account, effects| {
            kept.keep(change(account, effects)?)
        })
        .await?;
        kept.decided()
    }
}

/// What a change staged decided: its last run's, as a change may run more than once.
struct Kept<T> {
    value: Option<T>,
    event: Option<Event>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            value: None,
            event: None,
        }
    }
}

impl<T> Kept<T> {
    /// Keep `decided` (replacing an earlier run's); its event is what the store stages.
    fn keep(&mut self, decided: Decided<T>) -> Result<Event, Error> {
        self.event = Some(decided.event.clone());
        self.value = Some(decided.value);
        Ok(decided.event)
    }

    fn decided(self) -> Result<Decided<T>, Error> {
        match (self.value, self.event) {
            (Some(value), Some(event)) => Ok(Decided::new(value, event)),
            _ => Err(Error::Internal("a store change did not run".into())),
        }
    }
}

impl Backend for Store {
    fn account(&self, name: &str) -> Result<Option<Account>, Error> {
        Store::account(self, name)
    }
    fn list(&self, after: Option<&str>, limit: usize) -> Result<(Vec<String>, bool), Error> {
        Store::list(self, after, limit)
    }
    fn history(
        &self,
        name: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, bool), Error> {
        Store::history(self, name, before, limit)
    }
    fn reset_token(&self, hash: &[u8; 32]) -> Result<Option<ResetToken>, Error> {
        Store::reset_token(self, hash)
    }
    fn counts(&self) -> Result<Counts, Error> {
        let (outbox_queued, outbox_failed) = self.outbox_counts()?;
        Ok(Counts {
            accounts: self.account_count()?,
            outbox_queued,
            outbox_failed,
        })
    }
    fn outbox(&self, after: Option<u64>, limit: usize) -> Result<(Vec<OutboxItem>, bool), Error> {
        Store::outbox(self, after, limit)
    }
    fn outbox_due(
        &self,
        kind: ChannelKind,
        now: u64,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, Error> {
        Store::outbox_due(self, kind, now, limit)
    }
    fn outbox_next_due(&self, kind: ChannelKind) -> Result<Option<u64>, Error> {
        Store::outbox_next_due(self, kind)
    }
    fn outbox_prune_delivered(&self, before: u64, limit: usize) -> Result<u64, Error> {
        Store::outbox_prune_delivered(self, before, limit)
    }
    fn create(&self, account: &Account, event: &Event, now: u64) -> Result<(), Error> {
        Store::create(self, account, event, now)
    }
    fn change(&self, name: &str, now: u64, change: &mut AccountChange<'_>) -> Result<(), Error> {
        Store::change(self, name, now, change)
    }
    fn remove(&self, name: &str) -> Result<(), Error> {
        Store::remove(self, name)
    }
    fn import(
        &self,
        names: &[String],
        now: u64,
        decide: &mut ImportChange<'_>,
    ) -> Result<(), Error> {
        Store::import(self, names, now, decide)
    }
    fn outbox_settle(
        &self,
        id: u64,
        item: Option<&OutboxItem>,
        account: &str,
        event: Option<&Event>,
        now: u64,
    ) -> Result<(), Error> {
        Store::outbox_settle(self, id, item, account, event, now)
    }
    fn outbox_change(
        &self,
        id: u64,
        now: u64,
        change: &mut OutboxChange<'_>,
    ) -> Result<bool, Error> {
        Store::outbox_change(self, id, now, change)
    }
    fn durable(&self) -> Pending<'_> {
        Box::pin(Store::durable(self))
    }
    fn settle(&self) -> Pending<'_> {
        Box::pin(Store::settle(self))
    }
    fn snapshot(&self, out: &mut dyn std::io::Write, mac: BackupMac) -> Result<u64, Error> {
        Store::snapshot(self, out, mac)
    }
}
