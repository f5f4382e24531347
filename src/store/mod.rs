//! The only code that touches sled: named trees, the schema version, typed records, and
//! multi-record changes in one transaction.
//!
//! Trees: `accounts` (name -> `Account`), `audit` (name NUL seq -> `AuditEntry`),
//! `meta` (schema version, account count, outbox counts, store id, generation, key check
//! value), `reset_tokens` (keyed hash -> `ResetToken`), `outbox` (id -> `OutboxItem`) and
//! its derived index `outbox_due` (see `outbox.rs`). Writes here are *not* durable on
//! return: the caller awaits `Store::durable` before acknowledging, which goes through the
//! one group-commit flusher. The store id, generation and key check are `integrity`'s;
//! the sentinel file beside the database is `sentinel`'s. Nothing here knows about
//! policy, callers or the wire.

pub mod backup;
mod flusher;
pub mod inspect;
pub mod integrity;
mod log;
mod outbox;
pub mod records;
pub mod restore;
pub mod sentinel;

use std::ops::Bound;
use std::path::Path;

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::audit::Event;
use crate::error::Error;
use crate::protocol::AuditEntry;
pub use log::{config as sled_config, snapshot_closed};
use records::{
    audit_key, decode_account, decode_audit, decode_token, encode_account, encode_audit,
    encode_token,
};
pub use records::{
    Account, Channel, ChannelKind, OutboxItem, ResetToken, SmsEnrolment, TotpEnrolment,
};

/// Bumped when the on-disk layout changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

/// Audit entries kept per account; older ones are dropped as new ones arrive.
pub const HISTORY_LIMIT: u64 = 200;

const META_SCHEMA: &[u8] = b"schema_version";
const META_ACCOUNTS: &[u8] = b"accounts";

pub struct Store {
    db: sled::Db,
    accounts: sled::Tree,
    audit: sled::Tree,
    meta: sled::Tree,
    tokens: sled::Tree,
    outbox: sled::Tree,
    /// Derived from `outbox`, rebuilt at open; not in backups.
    outbox_due: sled::Tree,
    flusher: flusher::Flusher,
    /// Writers share it; a backup takes it alone, so it sees no transaction half-done.
    write_gate: std::sync::RwLock<()>,
}

/// Writes that belong to an account change and commit in the same transaction.
#[derive(Default)]
pub struct Effects {
    /// Messages to queue; their ids are assigned on commit.
    pub messages: Vec<OutboxItem>,
    pub new_tokens: Vec<([u8; 32], ResetToken)>,
    pub dropped_tokens: Vec<[u8; 32]>,
    /// More entries for the account's history, after the change's own event (e.g. a
    /// notice mail that could not be composed).
    pub events: Vec<Event>,
}

impl Effects {
    /// Nothing to write beside the account.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.new_tokens.is_empty()
            && self.dropped_tokens.is_empty()
            && self.events.is_empty()
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<Error>>;

fn abort<T>(e: Error) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn tx_error(e: TransactionError<Error>) -> Error {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => Error::Store(e),
    }
}

fn read_u64(bytes: Option<sled::IVec>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Append `event` to the account's history inside a transaction, dropping the entry that
/// falls out of the bounded window.
fn append_audit(
    audit: &TransactionalTree,
    account: &mut Account,
    event: &Event,
    now: u64,
) -> TxResult<()> {
    account.audit_seq += 1;
    let entry = AuditEntry {
        seq: account.audit_seq,
        at: now,
        action: event.action.as_str().to_string(),
        outcome: event.outcome.as_str().to_string(),
        actor: event.actor.clone(),
        detail: event.detail.clone(),
    };
    audit.insert(audit_key(&account.name, entry.seq), encode_audit(&entry))?;
    if let Some(old) = account.audit_seq.checked_sub(HISTORY_LIMIT) {
        audit.remove(audit_key(&account.name, old))?;
    }
    Ok(())
}

impl Store {
    /// Open (or create) the database under `dir`, checking the schema version.
    pub fn open(dir: &Path, cache_capacity_mib: u64) -> Result<Store, Error> {
        let db = log::config(dir, cache_capacity_mib).open()?;
        let meta = db.open_tree("meta")?;
        let generation = read_u64(meta.get(integrity::META_GENERATION)?);
        let store = Store {
            accounts: db.open_tree("accounts")?,
            audit: db.open_tree("audit")?,
            flusher: flusher::Flusher::start(db.clone(), meta.clone(), generation)
                .map_err(|e| Error::Internal(format!("cannot start flusher thread: {e}")))?,
            meta,
            tokens: db.open_tree("reset_tokens")?,
            outbox: db.open_tree("outbox")?,
            outbox_due: db.open_tree("outbox_due")?,
            db,
            write_gate: std::sync::RwLock::new(()),
        };
        match store.schema_version()? {
            None => {
                store
                    .meta
                    .insert(META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
                store.db.flush()?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(Error::Internal(format!(
                    "the store has schema version {v}; this authd reads version {SCHEMA_VERSION}"
                )))
            }
        }
        store.rebuild_outbox_index()?;
        Ok(store)
    }

    pub fn schema_version(&self) -> Result<Option<u32>, Error> {
        Ok(self
            .meta
            .get(META_SCHEMA)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
            .map(u32::from_be_bytes))
    }

    /// Resolves once every change made before the call is on disk.
    pub async fn durable(&self) -> Result<(), Error> {
        self.flusher.durable().await
    }

    /// `durable`, and the sentinel (once the daemon keeps one) records it: at shutdown.
    pub async fn settle(&self) -> Result<(), Error> {
        self.flusher.durable_and_recorded().await
    }

    fn writing(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        // A poisoned gate only means a writer panicked; the data is sled's to guard.
        self.write_gate.read().unwrap_or_else(|e| e.into_inner())
    }

    fn trees(&self) -> [&sled::Tree; 5] {
        [
            &self.accounts,
            &self.audit,
            &self.meta,
            &self.tokens,
            &self.outbox,
        ]
    }

    /// Write every record, as of one moment, to `out` in the backup format, MACed with
    /// `mac` (`Vault::backup_mac`) as it goes; returns the record count. Writers wait
    /// meanwhile (a copy to a local file is quick).
    pub fn snapshot(
        &self,
        out: impl std::io::Write,
        mac: crate::vault::BackupMac,
    ) -> Result<u64, Error> {
        let _alone = self.write_gate.write().unwrap_or_else(|e| e.into_inner());
        let io = |e: std::io::Error| Error::Internal(format!("writing the backup: {e}"));
        let mut writer = backup::Writer::new(out, SCHEMA_VERSION, mac).map_err(io)?;
        for (number, tree) in self.trees().into_iter().enumerate() {
            for entry in tree.iter() {
                let (key, value) = entry?;
                writer.record(number as u8, &key, &value).map_err(io)?;
            }
        }
        let (_, count) = writer.finish().map_err(io)?;
        Ok(count)
    }

    /// Flush synchronously. Only for offline tools (no daemon serving): online writes
    /// go through `durable`, the group-commit path.
    pub fn flush_offline(&self) -> Result<(), Error> {
        self.db.flush()?;
        Ok(())
    }

    pub fn account(&self, name: &str) -> Result<Option<Account>, Error> {
        self.accounts
            .get(name)?
            .map(|bytes| decode_account(&bytes))
            .transpose()
    }

    /// True for a store with no accounts and no queued messages.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.accounts.is_empty() && self.outbox.is_empty())
    }

    pub fn account_count(&self) -> Result<u64, Error> {
        Ok(read_u64(self.meta.get(META_ACCOUNTS)?))
    }

    /// Insert a new account with its first audit entry; `Exists` if the name is taken.
    pub fn create(&self, account: &Account, event: &Event, now: u64) -> Result<(), Error> {
        let _writing = self.writing();
        (&self.accounts, &self.audit, &self.meta)
            .transaction(|(accounts, audit, meta)| {
                if accounts.get(&account.name)?.is_some() {
                    return abort(Error::Exists(account.name.clone()));
                }
                let mut account = account.clone();
                append_audit(audit, &mut account, event, now)?;
                accounts.insert(account.name.as_bytes(), encode_account(&account))?;
                let count = read_u64(meta.get(META_ACCOUNTS)?);
                meta.insert(META_ACCOUNTS, &(count + 1).to_be_bytes())?;
                Ok(())
            })
            .map_err(tx_error)
    }

    /// Read-modify-write one account atomically. `change` may run more than once (on a
    /// conflict), so it must only compute from its argument. It returns a value for the
    /// caller and the audit event to append; an `Err` writes nothing.
    pub fn update<T>(
        &self,
        name: &str,
        now: u64,
        change: impl Fn(&mut Account) -> Result<(T, Event), Error>,
    ) -> Result<T, Error> {
        self.update_with(name, now, |account, _| change(account))
    }

    /// `update`, plus the `Effects` the change asks for (queued messages, reset
    /// tokens), all in one transaction.
    pub fn update_with<T>(
        &self,
        name: &str,
        now: u64,
        change: impl Fn(&mut Account, &mut Effects) -> Result<(T, Event), Error>,
    ) -> Result<T, Error> {
        let _writing = self.writing();
        (
            &self.accounts,
            &self.audit,
            &self.tokens,
            &self.outbox,
            &self.outbox_due,
            &self.meta,
        )
            .transaction(|(accounts, audit, tokens, outbox, due, meta)| {
                let Some(bytes) = accounts.get(name)? else {
                    return abort(Error::NoSuchUser(name.to_string()));
                };
                let mut account = match decode_account(&bytes) {
                    Ok(a) => a,
                    Err(e) => return abort(e),
                };
                let mut effects = Effects::default();
                let (value, event) = match change(&mut account, &mut effects) {
                    Ok(v) => v,
                    Err(e) => return abort(e),
                };
                account.updated = now;
                append_audit(audit, &mut account, &event, now)?;
                for extra in &effects.events {
                    append_audit(audit, &mut account, extra, now)?;
                }
                accounts.insert(name.as_bytes(), encode_account(&account))?;
                for hash in &effects.dropped_tokens {
                    tokens.remove(&hash[..])?;
                }
                for (hash, token) in &effects.new_tokens {
                    tokens.insert(&hash[..], encode_token(token))?;
                }
                for message in &effects.messages {
                    let id = outbox.generate_id()?;
                    let item = OutboxItem {
                        id,
                        ..message.clone()
                    };
                    outbox::queue(outbox, due, meta, &item)?;
                }
                Ok(value)
            })
            .map_err(tx_error)
    }

    /// The reset token with this keyed hash, if it exists (expired or not).
    pub fn reset_token(&self, hash: &[u8; 32]) -> Result<Option<ResetToken>, Error> {
        self.tokens
            .get(hash)?
            .map(|bytes| decode_token(&bytes))
            .transpose()
    }

    /// Delete an account, its history and its reset tokens in one transaction.
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        let _writing = self.writing();
        (&self.accounts, &self.audit, &self.meta, &self.tokens)
            .transaction(|(accounts, audit, meta, tokens)| {
                let Some(bytes) = accounts.remove(name.as_bytes())? else {
                    return abort(Error::NoSuchUser(name.to_string()));
                };
                let account = match decode_account(&bytes) {
                    Ok(a) => a,
                    Err(e) => return abort(e),
                };
                // History is the window of the newest HISTORY_LIMIT sequence numbers.
                let oldest = account.audit_seq.saturating_sub(HISTORY_LIMIT - 1).max(1);
                for seq in oldest..=account.audit_seq {
                    audit.remove(audit_key(name, seq))?;
                }
                for hash in &account.reset_tokens {
                    tokens.remove(&hash[..])?;
                }
                let count = read_u64(meta.get(META_ACCOUNTS)?);
                meta.insert(META_ACCOUNTS, &count.saturating_sub(1).to_be_bytes())?;
                Ok(())
            })
            .map_err(tx_error)
    }

    /// Up to `limit` account names after `after`, and whether more follow.
    pub fn list(&self, after: Option<&str>, limit: usize) -> Result<(Vec<String>, bool), Error> {
        let start = match after {
            Some(a) => Bound::Excluded(a.as_bytes().to_vec()),
            None => Bound::Unbounded,
        };
        let mut names = Vec::with_capacity(limit.min(256));
        let mut keys = self
            .accounts
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .keys();
        for key in keys.by_ref().take(limit) {
            names.push(String::from_utf8_lossy(&key?).into_owned());
        }
        Ok((names, keys.next().is_some()))
    }

    /// Up to `limit` history entries, newest first, with sequence below `before`.
    pub fn history(
        &self,
        name: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, bool), Error> {
        let from = audit_key(name, 0);
        let to = audit_key(name, before.unwrap_or(u64::MAX));
        let mut entries = Vec::with_capacity(limit.min(256));
        let mut values = self.audit.range(from..to).values().rev();
        for value in values.by_ref().take(limit) {
            entries.push(decode_audit(&value?)?);
        }
        Ok((entries, values.next().is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Action, Outcome};

    fn event() -> Event {
        Event::new(Action::AccountAdded, Outcome::Ok, "test", String::new())
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8).unwrap();
        (dir, store)
    }

    #[test]
    fn create_counts_and_refuses_duplicates() {
        let (_dir, store) = open();
        store
            .create(&Account::new("a".into(), 1), &event(), 1)
            .unwrap();
        let again = store.create(&Account::new("a".into(), 2), &event(), 2);
        assert!(matches!(again, Err(Error::Exists(_))));
        assert_eq!(store.account_count().unwrap(), 1);
        store.remove("a").unwrap();
        assert_eq!(store.account_count().unwrap(), 0);
        assert!(store.history("a", None, 10).unwrap().0.is_empty());
    }

    #[test]
    fn failed_update_writes_nothing() {
        let (_dir, store) = open();
        store
            .create(&Account::new("a".into(), 1), &event(), 1)
            .unwrap();
        let r: Result<(), _> = store.update("a", 5, |acc| {
            acc.failures = 99;
            Err(Error::Denied)
        });
        assert!(matches!(r, Err(Error::Denied)));
        let acc = store.account("a").unwrap().unwrap();
        assert_eq!(acc.failures, 0);
        assert_eq!(store.history("a", None, 10).unwrap().0.len(), 1);
    }

    #[test]
    fn history_is_bounded_and_paged_newest_first() {
        let (_dir, store) = open();
        store
            .create(&Account::new("a".into(), 1), &event(), 1)
            .unwrap();
        for i in 0..(HISTORY_LIMIT + 20) {
            store.update("a", 10 + i, |_| Ok(((), event()))).unwrap();
        }
        let (page, more) = store.history("a", None, 50).unwrap();
        assert!(more);
        assert_eq!(page[0].seq, HISTORY_LIMIT + 21);
        let (rest, _) = store.history("a", Some(page[49].seq), 1000).unwrap();
        assert_eq!(page.len() + rest.len(), HISTORY_LIMIT as usize);
        store.remove("a").unwrap();
        assert_eq!(store.audit.len(), 0, "remove left history behind");
    }

    #[test]
    fn list_pages_in_name_order() {
        let (_dir, store) = open();
        for n in ["c", "a", "b"] {
            store
                .create(&Account::new(n.into(), 1), &event(), 1)
                .unwrap();
        }
        assert_eq!(
            store.list(None, 2).unwrap(),
            (vec!["a".into(), "b".into()], true)
        );
        assert_eq!(store.list(Some("b"), 2).unwrap(), (vec!["c".into()], false));
    }
}
