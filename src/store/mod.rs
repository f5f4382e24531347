//! The only code that touches sled: named trees, the schema version, typed records, and
//! the one write path (staged changes, applied and flushed by group commit).
//!
//! Trees (declared once, with their backup numbers, in `trees`): `accounts` (name ->
//! `Account`), `audit` (name NUL seq -> `AuditEntry`), `meta` (schema version, account
//! count, outbox counts, store id, generation, key check value), `reset_tokens` (keyed
//! hash -> `ResetToken`), `outbox` (id -> `OutboxItem`) and its derived index
//! `outbox_due` (see `outbox.rs`). A change (`writes.rs`) is staged, not written: the
//! caller awaits `Store::durable`, and the group commit (`flusher`) applies every staged
//! change in one transaction and flushes once before anyone is answered. The store id,
//! generation and key check are `integrity`'s; the sentinel file beside the database is
//! `sentinel`'s. Nothing here knows about policy, callers or the wire.

pub mod backend;
mod flusher;
mod import;
pub mod inspect;
pub mod integrity;
mod log;
mod outbox;
pub mod postgres;
pub mod records;
pub mod restore;
pub mod sentinel;
mod staging;
pub mod trees;
mod writes;

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use crate::error::Error;
pub use backend::{Backend, Counts, Decided, OutboxWake};
pub use import::{ImportChange, ImportWrite};
pub use log::{config as sled_config, snapshot_closed};
pub use outbox::OutboxChange;
use records::AuditEntry;
use records::{audit_key, decode_account, decode_audit, decode_token};
pub use records::{
    Account, Channel, ChannelKind, Disabled, LastLogin, MaxPasswordAge, OutboxItem, OutboxState,
    ResetToken, SecurityKeyRecord, SmsEnrolment, TotpEnrolment,
};
use staging::{Staging, TreeId, Trees};
use trees::Tree;
pub use writes::Effects;

/// Bumped when the on-disk layout changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

/// Audit entries kept per account; older ones are dropped as new ones arrive.
pub const HISTORY_LIMIT: u64 = 200;

const META_SCHEMA: &[u8] = b"schema_version";
const META_ACCOUNTS: &[u8] = b"accounts";

/// The embedded store: sled, the zero-setup default.
pub struct Store {
    db: sled::Db,
    accounts: sled::Tree,
    audit: sled::Tree,
    meta: sled::Tree,
    tokens: sled::Tree,
    outbox: sled::Tree,
    /// Derived from `outbox`, rebuilt at open; not in backups.
    outbox_due: sled::Tree,
    staging: Arc<Staging>,
    flusher: flusher::Flusher,
}

fn read_u64(bytes: Option<sled::IVec>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
        .map_or(0, u64::from_be_bytes)
}

impl Store {
    /// Open (or create) the database under `dir`, checking the schema version.
    pub fn open(dir: &Path, cache_capacity_mib: u64) -> Result<Store, Error> {
        let db = log::config(dir, cache_capacity_mib).open()?;
        let trees = Trees {
            accounts: db.open_tree(Tree::Accounts.name())?,
            audit: db.open_tree(Tree::Audit.name())?,
            meta: db.open_tree(Tree::Meta.name())?,
            tokens: db.open_tree(Tree::Tokens.name())?,
            outbox: db.open_tree(Tree::Outbox.name())?,
            outbox_due: db.open_tree(Tree::OutboxDue.name())?,
        };
        let generation = read_u64(trees.meta.get(integrity::META_GENERATION)?);
        let staging = Arc::new(Staging::new(db.clone(), trees.clone()));
        let store = Store {
            flusher: flusher::Flusher::start(db.clone(), Arc::clone(&staging), generation)
                .map_err(|e| Error::Internal(format!("cannot start flusher thread: {e}")))?,
            accounts: trees.accounts,
            audit: trees.audit,
            meta: trees.meta,
            tokens: trees.tokens,
            outbox: trees.outbox,
            outbox_due: trees.outbox_due,
            staging,
            db,
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

    /// Resolves once every change staged before the call is on disk.
    pub async fn durable(&self) -> Result<(), Error> {
        self.flusher.durable().await
    }

    /// `durable`, and the sentinel (once the daemon keeps one) records it: at shutdown.
    pub async fn settle(&self) -> Result<(), Error> {
        self.flusher.durable_and_recorded().await
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        match tree {
            Tree::Accounts => &self.accounts,
            Tree::Audit => &self.audit,
            Tree::Meta => &self.meta,
            Tree::Tokens => &self.tokens,
            Tree::Outbox => &self.outbox,
            Tree::OutboxDue => &self.outbox_due,
        }
    }

    /// Write every record, as of one moment, to `out` in the backup format, MACed with
    /// `mac` (`Vault::backup_mac`) as it goes; returns the record count. Commits wait
    /// meanwhile (a copy to a local file is quick), so no change is half in it.
    pub fn snapshot(
        &self,
        out: impl std::io::Write,
        mac: crate::vault::BackupMac,
    ) -> Result<u64, Error> {
        self.flusher.exclusive(|| {
            let io = |e: std::io::Error| Error::Internal(format!("writing the backup: {e}"));
            let mut writer =
                crate::backup_file::Writer::new(out, SCHEMA_VERSION, mac).map_err(io)?;
            for (number, tree) in Tree::backed_up() {
                for entry in self.tree(tree).iter() {
                    let (key, value) = entry?;
                    writer.record(number, &key, &value).map_err(io)?;
                }
            }
            let (_, count) = writer.finish().map_err(io)?;
            Ok(count)
        })
    }

    /// Commit what is staged and flush, synchronously. Only for offline tools and tests
    /// (no daemon serving): online writes go through `durable`, the group-commit path.
    pub fn flush_offline(&self) -> Result<(), Error> {
        self.flusher.commit_now()
    }

    pub fn account(&self, name: &str) -> Result<Option<Account>, Error> {
        self.staging
            .get(TreeId::Accounts, name.as_bytes())?
            .map(|bytes| decode_account(&bytes))
            .transpose()
    }

    /// True for a store with no accounts and no queued messages.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.accounts.is_empty() && self.outbox.is_empty())
    }

    pub fn account_count(&self) -> Result<u64, Error> {
        Ok(read_u64(self.staging.get(TreeId::Meta, META_ACCOUNTS)?))
    }

    /// The reset token with this keyed hash, if it exists (expired or not).
    pub fn reset_token(&self, hash: &[u8; 32]) -> Result<Option<ResetToken>, Error> {
        self.staging
            .get(TreeId::Tokens, hash)?
            .map(|bytes| decode_token(&bytes))
            .transpose()
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
    use crate::audit::{Action, Event, Outcome};

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
        store.flush_offline().unwrap();
        assert_eq!(store.account_count().unwrap(), 0);
        assert!(store.history("a", None, 10).unwrap().0.is_empty());
    }

    #[test]
    fn failed_update_writes_nothing() {
        let (_dir, store) = open();
        store
            .create(&Account::new("a".into(), 1), &event(), 1)
            .unwrap();
        let r: Result<Decided<()>, _> = (&store as &dyn Backend).update_with("a", 5, |acc, _| {
            acc.failures = 99;
            Err(Error::Denied)
        });
        assert!(matches!(r, Err(Error::Denied)));
        store.flush_offline().unwrap();
        let acc = store.account("a").unwrap().unwrap();
        assert_eq!(acc.failures, 0);
        assert_eq!(store.history("a", None, 10).unwrap().0.len(), 1);
    }

    #[test]
    fn an_update_hands_back_its_decision_and_the_event_it_staged() {
        let (_dir, store) = open();
        store
            .create(&Account::new("a".into(), 1), &event(), 1)
            .unwrap();
        let locked = Event::new(Action::LockedOut, Outcome::Denied, "test", "3".into());
        let decided = (&store as &dyn Backend)
            .update_with("a", 5, |acc, _| {
                acc.failures = 3;
                Ok(Decided::new(Err::<(), _>(Error::Denied), locked))
            })
            .unwrap();
        assert!(matches!(decided.value, Err(Error::Denied)));
        assert_eq!(decided.event.action, Action::LockedOut);
        assert_eq!(decided.event.detail, "3");
        store.flush_offline().unwrap();
        assert_eq!(store.account("a").unwrap().unwrap().failures, 3);
        let (history, _) = store.history("a", None, 10).unwrap();
        assert_eq!(history[0].action, Action::LockedOut.as_str());
        assert_eq!(history[0].detail, "3");
    }

    #[test]
    fn history_is_bounded_and_paged_newest_first() {
        let (_dir, store) = open();
        store
            .create(&Account::new("a".into(), 1), &event(), 1)
            .unwrap();
        for i in 0..(HISTORY_LIMIT + 20) {
            (&store as &dyn Backend)
                .update_with("a", 10 + i, |_, _| Ok(event().into()))
                .unwrap();
        }
        store.flush_offline().unwrap();
        let (page, more) = store.history("a", None, 50).unwrap();
        assert!(more);
        assert_eq!(page[0].seq, HISTORY_LIMIT + 21);
        let (rest, _) = store.history("a", Some(page[49].seq), 1000).unwrap();
        assert_eq!(page.len() + rest.len(), HISTORY_LIMIT as usize);
        store.remove("a").unwrap();
        store.flush_offline().unwrap();
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
        store.flush_offline().unwrap();
        assert_eq!(
            store.list(None, 2).unwrap(),
            (vec!["a".into(), "b".into()], true)
        );
        assert_eq!(store.list(Some("b"), 2).unwrap(), (vec!["c".into()], false));
    }

    #[test]
    fn concurrent_writers_are_all_applied_once_answered() {
        let (dir, store) = open();
        let store = Arc::new(store);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let store = Arc::clone(&store);
                    tokio::spawn(async move {
                        let name = format!("u{i}");
                        store.create(&Account::new(name, 1), &event(), 1).unwrap();
                        store.durable().await.unwrap();
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let generation = store.identity().unwrap().generation;
        assert!(generation >= 1);
        drop(store);
        // Every answered write was applied (a staged change never committed is lost).
        let again = Store::open(dir.path(), 8).unwrap();
        assert_eq!(again.account_count().unwrap(), 64);
        assert_eq!(again.list(None, 100).unwrap().0.len(), 64);
    }
}
