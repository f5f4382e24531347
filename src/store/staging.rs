//! Staged writes: every change a request makes waits here, in order, until the next group
//! commit applies all of them to sled as one atomic transaction and flushes once.
//!
//! A change runs under the staging lock against the records as they are now: what is
//! staged (newest first), then what a commit is applying, then sled. So changes to one
//! account are serialized, each sees every change staged before it, and a change that
//! fails stages nothing (`View` keeps its writes apart until the change succeeds). Point
//! reads (`Staging::get`) see the same; range reads (lists, history pages) see sled only,
//! that is, changes once they have been applied.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::{IVec, Transactional};

use crate::error::Error;

/// The trees a change can write (every tree: see `trees`).
pub(super) use super::trees::Tree as TreeId;

/// The sled trees, by `TreeId`.
#[derive(Clone)]
pub(super) struct Trees {
    pub accounts: sled::Tree,
    pub audit: sled::Tree,
    pub meta: sled::Tree,
    pub tokens: sled::Tree,
    pub outbox: sled::Tree,
    pub outbox_due: sled::Tree,
}

impl Trees {
    pub fn get(&self, id: TreeId) -> &sled::Tree {
        match id {
            TreeId::Accounts => &self.accounts,
            TreeId::Audit => &self.audit,
            TreeId::Meta => &self.meta,
            TreeId::Tokens => &self.tokens,
            TreeId::Outbox => &self.outbox,
            TreeId::OutboxDue => &self.outbox_due,
        }
    }
}

type Key = (TreeId, Vec<u8>);
/// The newest value of each written key; `None`: removed.
type Writes = HashMap<Key, Option<IVec>>;

#[derive(Default)]
struct State {
    /// Staged since the last commit took them.
    staged: Writes,
    /// How many changes made `staged`.
    changes: usize,
    /// What the commit in progress is applying to sled.
    applying: Option<Arc<Writes>>,
}

impl State {
    fn lookup(&self, key: &Key) -> Option<Option<IVec>> {
        self.staged
            .get(key)
            .or_else(|| self.applying.as_ref().and_then(|a| a.get(key)))
            .cloned()
    }
}

pub(super) struct Staging {
    /// For message ids: unique, increasing, also across restarts.
    db: sled::Db,
    trees: Trees,
    state: Mutex<State>,
}

/// One change's window on the store: reads see everything staged before it; its writes
/// join the staged set only if the change succeeds.
pub(super) struct View<'a> {
    staging: &'a Staging,
    state: &'a State,
    own: Writes,
}

impl View<'_> {
    pub fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<IVec>, Error> {
        let key = (tree, key.to_vec());
        if let Some(value) = self.own.get(&key) {
            return Ok(value.clone());
        }
        match self.state.lookup(&key) {
            Some(value) => Ok(value),
            None => Ok(self.staging.trees.get(tree).get(&key.1)?),
        }
    }

    pub fn insert(&mut self, tree: TreeId, key: impl Into<Vec<u8>>, value: impl Into<IVec>) {
        self.own.insert((tree, key.into()), Some(value.into()));
    }

    pub fn remove(&mut self, tree: TreeId, key: impl Into<Vec<u8>>) {
        self.own.insert((tree, key.into()), None);
    }

    pub fn generate_id(&self) -> Result<u64, Error> {
        Ok(self.staging.db.generate_id()?)
    }
}

impl Staging {
    pub fn new(db: sled::Db, trees: Trees) -> Staging {
        Staging {
            db,
            trees,
            state: Mutex::new(State::default()),
        }
    }

    pub fn trees(&self) -> &Trees {
        &self.trees
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a change panicked; it staged nothing.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `change` against the current records; on success its writes are staged.
    pub fn change<T>(
        &self,
        change: impl FnOnce(&mut View<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut state = self.lock();
        let mut view = View {
            staging: self,
            state: &state,
            own: Writes::new(),
        };
        let value = change(&mut view)?;
        let own = view.own;
        state.staged.extend(own);
        state.changes += 1;
        Ok(value)
    }

    /// Nothing staged.
    pub fn is_empty(&self) -> bool {
        self.lock().staged.is_empty()
    }

    /// How many changes are staged and not yet taken by a commit.
    pub fn changes(&self) -> usize {
        self.lock().changes
    }

    /// The value of one key, staged changes included.
    pub fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<IVec>, Error> {
        let key = (tree, key.to_vec());
        if let Some(value) = self.lock().lookup(&key) {
            return Ok(value);
        }
        Ok(self.trees.get(tree).get(&key.1)?)
    }

    /// Apply everything staged so far, with `extra` meta writes, to sled in one
    /// transaction. Changes staged meanwhile wait for the next commit. Returns how many
    /// keys were written.
    pub fn apply(&self, extra: &[(&[u8], IVec)]) -> Result<usize, Error> {
        let writes = {
            let mut state = self.lock();
            let writes = Arc::new(std::mem::take(&mut state.staged));
            state.changes = 0;
            state.applying = Some(Arc::clone(&writes));
            writes
        };
        let result = self.transaction(&writes, extra);
        self.lock().applying = None;
        result.map(|()| writes.len())
    }

    fn transaction(&self, writes: &Writes, extra: &[(&[u8], IVec)]) -> Result<(), Error> {
        let t = &self.trees;
        (
            &t.accounts,
            &t.audit,
            &t.meta,
            &t.tokens,
            &t.outbox,
            &t.outbox_due,
        )
            .transaction(|(accounts, audit, meta, tokens, outbox, due)| {
                for ((tree, key), value) in writes {
                    let tx = match tree {
                        TreeId::Accounts => accounts,
                        TreeId::Audit => audit,
                        TreeId::Meta => meta,
                        TreeId::Tokens => tokens,
                        TreeId::Outbox => outbox,
                        TreeId::OutboxDue => due,
                    };
                    match value {
                        Some(v) => tx.insert(key.as_slice(), v.clone())?,
                        None => tx.remove(key.as_slice())?,
                    };
                }
                for (key, value) in extra {
                    meta.insert(*key, value.clone())?;
                }
                Ok::<_, ConflictableTransactionError<Error>>(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => Error::Store(e),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging() -> (tempfile::TempDir, Staging) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let trees = Trees {
            accounts: db.open_tree("accounts").unwrap(),
            audit: db.open_tree("audit").unwrap(),
            meta: db.open_tree("meta").unwrap(),
            tokens: db.open_tree("reset_tokens").unwrap(),
            outbox: db.open_tree("outbox").unwrap(),
            outbox_due: db.open_tree("outbox_due").unwrap(),
        };
        (dir, Staging::new(db, trees))
    }

    fn put(s: &Staging, key: &str, value: &str) {
        s.change(|v| {
            v.insert(TreeId::Accounts, key.as_bytes(), value.as_bytes());
            Ok(())
        })
        .unwrap();
    }

    fn value(s: &Staging, key: &str) -> Option<Vec<u8>> {
        s.get(TreeId::Accounts, key.as_bytes())
            .unwrap()
            .map(|v| v.to_vec())
    }

    #[test]
    fn each_change_sees_the_ones_staged_before_it_and_sled_sees_them_at_apply() {
        let (_dir, s) = staging();
        put(&s, "a", "1");
        let seen = s
            .change(|v| {
                let old = v.get(TreeId::Accounts, b"a")?;
                v.insert(TreeId::Accounts, &b"a"[..], &b"2"[..]);
                Ok(old.map(|o| o.to_vec()))
            })
            .unwrap();
        assert_eq!(seen, Some(b"1".to_vec()));
        assert_eq!(value(&s, "a"), Some(b"2".to_vec()));
        assert_eq!(s.changes(), 2);
        assert!(
            s.trees().accounts.get("a").unwrap().is_none(),
            "in sled before a commit"
        );
        assert_eq!(s.apply(&[]).unwrap(), 1);
        assert_eq!(s.changes(), 0);
        assert!(s.is_empty());
        assert_eq!(s.trees().accounts.get("a").unwrap().unwrap(), b"2");
    }

    #[test]
    fn a_failed_change_stages_nothing() {
        let (_dir, s) = staging();
        let r: Result<(), Error> = s.change(|v| {
            v.insert(TreeId::Accounts, &b"a"[..], &b"1"[..]);
            Err(Error::Denied)
        });
        assert!(matches!(r, Err(Error::Denied)));
        assert!(s.is_empty());
        assert_eq!(value(&s, "a"), None);
    }

    #[test]
    fn a_removal_is_staged_like_a_write() {
        let (_dir, s) = staging();
        put(&s, "a", "1");
        s.apply(&[]).unwrap();
        s.change(|v| {
            v.remove(TreeId::Accounts, &b"a"[..]);
            Ok(())
        })
        .unwrap();
        assert_eq!(value(&s, "a"), None);
        assert!(s.trees().accounts.get("a").unwrap().is_some());
        s.apply(&[(b"generation", IVec::from(&[7u8][..]))]).unwrap();
        assert!(s.trees().accounts.get("a").unwrap().is_none());
        assert_eq!(s.trees().meta.get("generation").unwrap().unwrap(), [7u8]);
    }
}
