//! Is this the right store, whole, with the right key? Checked at start, before anything
//! is written.
//!
//! - The store records a key check value (an HMAC of a fixed label under the secret key)
//!   in its `meta` tree: a start with another key is refused instead of turning TOTP
//!   logins into internal errors and recovery codes into wrong guesses.
//! - The store has a random id and a generation (bumped by the flusher with every flush),
//!   both in `meta`; the sentinel outside the database (`sentinel`) remembers them. A
//!   database that comes back empty while a sentinel exists, holds another store's id, or
//!   is at an older generation than the sentinel's is refused: acknowledged changes are
//!   missing, and answering `no_such_user` for everyone would hand PAM stacks with
//!   `nullok` the decision.
//!
//! `authd --force-open` accepts such a store (audited) and rewrites the sentinel. Stores
//! made before these checks get their id, check value and sentinel at their first start.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::flusher::Keeper;
use super::sentinel::{self, Sentinel};
use super::{read_u64, Store};
use crate::error::Error;
use crate::vault::Vault;

pub(super) const META_STORE_ID: &[u8] = b"store_id";
pub const META_GENERATION: &[u8] = b"generation";
pub(super) const META_KEY_CHECK: &[u8] = b"key_check";

const RESTORE: &str = "restore the latest backup into a new state directory with `authd restore` \
    (see authd(8), BACKUP AND RESTORE), or, to accept the store as it is, start once with \
    `authd --force-open`";

/// What the start-up checks found wrong.
#[derive(Debug, thiserror::Error)]
pub enum Finding {
    #[error(
        "the database in {} is empty (it holds no store id{}), but the sentinel {} says it \
         held store {id} at generation {generation} ({accounts} accounts): the database was \
         lost or damaged",
        .db.display(),
        found_accounts(*.found),
        .sentinel.display()
    )]
    Emptied {
        db: PathBuf,
        found: u64,
        sentinel: PathBuf,
        id: String,
        generation: u64,
        accounts: u64,
    },
    #[error(
        "the database in {} is store {found}, but the sentinel {} names store {expected}: \
         it was replaced by another store's database",
        .db.display(),
        .sentinel.display()
    )]
    OtherStore {
        db: PathBuf,
        found: String,
        sentinel: PathBuf,
        expected: String,
    },
    #[error(
        "the database in {} is at generation {found} ({accounts} accounts), older than \
         generation {expected} recorded in the sentinel {}: it was rolled back (damaged, or \
         replaced by an older copy) and acknowledged changes are missing",
        .db.display(),
        .sentinel.display()
    )]
    RolledBack {
        db: PathBuf,
        found: u64,
        accounts: u64,
        sentinel: PathBuf,
        expected: u64,
    },
    #[error("the store sentinel {} cannot be read ({reason})", .sentinel.display())]
    Unreadable { sentinel: PathBuf, reason: String },
    #[error(
        "the secret key {} does not belong to this store (its check value differs from the \
         one the store recorded with its own key)",
        .key.display()
    )]
    WrongKey { key: PathBuf, state_key: PathBuf },
}

impl Finding {
    /// What the admin can do about it.
    pub fn remedy(&self) -> String {
        match self {
            Finding::Emptied { .. } | Finding::OtherStore { .. } | Finding::RolledBack { .. } => {
                RESTORE.into()
            }
            Finding::Unreadable { .. } => "if the database is intact, start once with \
                `authd --force-open` to write a new sentinel; otherwise restore the latest \
                backup with `authd restore` (see authd(8), BACKUP AND RESTORE)"
                .into(),
            Finding::WrongKey { state_key, .. } => format!(
                "restore the store's own key file ({} or, under systemd, \
                 $CREDENTIALS_DIRECTORY/authd.key) from your backup; see authd(8), SECRET KEY",
                state_key.display()
            ),
        }
    }
}

/// Why the store is not opened: a refusal (exit 78) or a failure.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    #[error("{finding}; {}", .finding.remedy())]
    Refused { finding: Finding },
    #[error("cannot read or update the store")]
    Store(#[from] Error),
    #[error("cannot make the store durable or write the sentinel {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<Finding> for IntegrityError {
    fn from(finding: Finding) -> Self {
        IntegrityError::Refused { finding }
    }
}

fn found_accounts(n: u64) -> String {
    match n {
        0 => " and no accounts".into(),
        n => format!(" but {n} accounts"),
    }
}

impl IntegrityError {
    /// A refusal the admin must resolve (exit 78), as opposed to an I/O failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, IntegrityError::Refused { .. })
    }
}

/// What the store says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: Option<String>,
    pub generation: u64,
    pub accounts: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn identity_in(meta: &sled::Tree) -> Result<Identity, Error> {
    Ok(Identity {
        id: meta.get(META_STORE_ID)?.map(|b| hex(&b)),
        generation: read_u64(meta.get(META_GENERATION)?),
        accounts: read_u64(meta.get(super::META_ACCOUNTS)?),
    })
}

pub(super) fn key_check_in(meta: &sled::Tree) -> Result<Option<Vec<u8>>, Error> {
    Ok(meta.get(META_KEY_CHECK)?.map(|b| b.to_vec()))
}

impl Store {
    pub fn identity(&self) -> Result<Identity, Error> {
        identity_in(&self.meta)
    }

    /// The key check value recorded with the store, if any.
    pub fn key_check(&self) -> Result<Option<Vec<u8>>, Error> {
        key_check_in(&self.meta)
    }

    /// Record `vault`'s check value and flush (start-up only, before serving).
    pub fn record_key_check(&self, vault: &Vault) -> Result<(), Error> {
        self.meta.insert(META_KEY_CHECK, &vault.check_value())?;
        self.flush_offline()
    }

    /// Give the store a new random id and flush (start-up or restore, before serving).
    pub fn new_identity(&self) -> Result<String, Error> {
        let id = crate::vault::random_bytes::<16>()?;
        self.meta.insert(META_STORE_ID, &id)?;
        self.flush_offline()?;
        Ok(hex(&id))
    }
}

/// Compare the store with its sentinel (`None`: there is none).
pub fn judge(
    state_dir: &Path,
    found: &Identity,
    sentinel: Option<&Sentinel>,
) -> Result<(), Finding> {
    let Some(s) = sentinel else {
        return Ok(());
    };
    let db = state_dir.join("db");
    let sentinel = state_dir.join(sentinel::FILE);
    match &found.id {
        None => Err(Finding::Emptied {
            db,
            found: found.accounts,
            sentinel,
            id: s.store_id.clone(),
            generation: s.generation,
            accounts: s.accounts,
        }),
        Some(id) if *id != s.store_id => Err(Finding::OtherStore {
            db,
            found: id.clone(),
            sentinel,
            expected: s.store_id.clone(),
        }),
        Some(_) if found.generation < s.generation => Err(Finding::RolledBack {
            db,
            found: found.generation,
            accounts: found.accounts,
            sentinel,
            expected: s.generation,
        }),
        Some(_) => Ok(()),
    }
}

/// Log an override of `finding` by `--force-open` (warn, target `audit`).
fn overridden(finding: &Finding) {
    tracing::warn!(
        target: "audit",
        action = "force-open",
        outcome = "overridden",
        actor = "authd",
        detail = %finding,
        "store check overridden with --force-open"
    );
}

/// At start, before anything is written: refuse a store that its sentinel says was
/// emptied, replaced or rolled back, unless `force` (then log it as an audit event).
pub fn check_store(store: &Store, state_dir: &Path, force: bool) -> Result<(), IntegrityError> {
    let verdict = match sentinel::read(state_dir) {
        Err(reason) => Err(Finding::Unreadable {
            sentinel: state_dir.join(sentinel::FILE),
            reason,
        }),
        Ok(found) => {
            let identity = store.identity()?;
            if found.is_none() && identity.id.is_some() {
                tracing::warn!(
                    sentinel = %state_dir.join(sentinel::FILE).display(),
                    "the store sentinel is missing; writing a new one (a loss before now cannot be detected)"
                );
            }
            judge(state_dir, &identity, found.as_ref())
        }
    };
    match verdict {
        Err(finding) if force => {
            overridden(&finding);
            Ok(())
        }
        Err(finding) => Err(finding.into()),
        Ok(()) => Ok(()),
    }
}

/// Whether the key may be created: only for a new store that recorded no key yet.
pub fn may_create_key(store: &Store) -> Result<bool, Error> {
    Ok(store.is_empty()? && store.key_check()?.is_none())
}

/// The key must be the store's own. A store without a check value (new, or made before
/// key checks) records this key's; `force` records it over a mismatch (audited).
pub fn check_key(
    store: &Store,
    vault: &Vault,
    key: &Path,
    state_dir: &Path,
    force: bool,
) -> Result<(), IntegrityError> {
    let check = vault.check_value();
    match store.key_check()? {
        Some(recorded) if bool::from(subtle::ConstantTimeEq::ct_eq(&recorded[..], &check[..])) => {
            return Ok(())
        }
        Some(_) => {
            let finding = Finding::WrongKey {
                key: key.to_path_buf(),
                state_key: state_dir.join("secret.key"),
            };
            if !force {
                return Err(finding.into());
            }
            overridden(&finding);
        }
        None if !store.is_empty()? => {
            tracing::info!(
                "recorded the secret key's check value in the store (first start with key checks)"
            );
        }
        None => {}
    }
    store.record_key_check(vault)?;
    Ok(())
}

/// After the checks passed: give a store without an id one, make what is on disk durable,
/// write the sentinel, and have the flusher keep it current from now on.
pub fn seal(store: &Store, state_dir: &Path) -> Result<(), IntegrityError> {
    let found = store.identity()?;
    let id = match found.id {
        Some(id) => id,
        None => store.new_identity()?,
    };
    write_sentinel(store, state_dir, &id, found.generation)?;
    store.flusher.keep_sentinel(Keeper {
        state_dir: state_dir.to_path_buf(),
        store_id: id,
        written: found.generation,
        written_at: Instant::now(),
    });
    Ok(())
}

/// Write a sentinel for the store as it is on disk now (no daemon serving).
pub fn write_sentinel(
    store: &Store,
    state_dir: &Path,
    id: &str,
    generation: u64,
) -> Result<(), IntegrityError> {
    let write = |path: PathBuf| move |source| IntegrityError::Write { path, source };
    // What the store holds may have been recovered from a log an earlier process wrote
    // but never synced (after kill -9): sync it before the sentinel vouches for it.
    sync_tree(&state_dir.join("db")).map_err(write(state_dir.join("db")))?;
    let sentinel = Sentinel {
        store_id: id.to_string(),
        generation,
        accounts: store.account_count()?,
    };
    sentinel::write(state_dir, &sentinel).map_err(write(state_dir.join(sentinel::FILE)))
}

/// fsync every file below `dir`, and the directories.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            std::fs::File::open(entry.path())?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(id: Option<&str>, generation: u64) -> Identity {
        Identity {
            id: id.map(str::to_string),
            generation,
            accounts: 3,
        }
    }

    fn sentinel(id: &str, generation: u64) -> Sentinel {
        Sentinel {
            store_id: id.into(),
            generation,
            accounts: 3,
        }
    }

    #[test]
    fn empty_replaced_and_rolled_back_stores_are_refused() {
        let dir = Path::new("/s");
        let s = sentinel("aa", 10);
        assert!(judge(dir, &identity(None, 0), None).is_ok());
        assert!(judge(dir, &identity(Some("aa"), 3), None).is_ok());
        assert!(judge(dir, &identity(Some("aa"), 10), Some(&s)).is_ok());
        assert!(judge(dir, &identity(Some("aa"), 11), Some(&s)).is_ok());
        let emptied = judge(dir, &identity(None, 0), Some(&s)).unwrap_err();
        assert!(matches!(emptied, Finding::Emptied { .. }));
        let emptied = IntegrityError::from(emptied).to_string();
        assert!(emptied.contains("authd restore"), "{emptied}");
        assert!(emptied.contains("--force-open"), "{emptied}");
        assert!(matches!(
            judge(dir, &identity(Some("bb"), 10), Some(&s)),
            Err(Finding::OtherStore { .. })
        ));
        let old = judge(dir, &identity(Some("aa"), 9), Some(&s)).unwrap_err();
        assert!(old.to_string().contains("generation 9"), "{old}");
    }

    #[test]
    fn a_store_is_sealed_with_its_key_and_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8).unwrap();
        let key = Vault::from_key(&[1; 32]);
        let path = dir.path().join("secret.key");
        check_key(&store, &key, &path, dir.path(), false).unwrap();
        check_key(&store, &key, &path, dir.path(), false).unwrap();
        let other = Vault::from_key(&[2; 32]);
        let refused = check_key(&store, &other, &path, dir.path(), false).unwrap_err();
        assert!(matches!(
            refused,
            IntegrityError::Refused {
                finding: Finding::WrongKey { .. }
            }
        ));
        check_key(&store, &other, &path, dir.path(), true).unwrap();
        check_key(&store, &other, &path, dir.path(), false).unwrap();

        check_store(&store, dir.path(), false).unwrap();
        seal(&store, dir.path()).unwrap();
        let id = store.identity().unwrap();
        let written = sentinel::read(dir.path()).unwrap().unwrap();
        assert_eq!(Some(written.store_id), id.id);
        assert_eq!(written.generation, id.generation);
        check_store(&store, dir.path(), false).unwrap();
    }

    #[test]
    fn a_store_from_before_the_checks_gets_them_at_its_first_start() {
        use crate::audit::{Action, Event, Outcome};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8).unwrap();
        let event = Event::new(Action::AccountAdded, Outcome::Ok, "test", String::new());
        store
            .create(&super::super::Account::new("a".into(), 1), &event, 1)
            .unwrap();
        store.flush_offline().unwrap();
        assert_eq!(store.key_check().unwrap(), None);
        assert_eq!(store.identity().unwrap().id, None);
        check_store(&store, dir.path(), false).unwrap();
        assert!(
            !may_create_key(&store).unwrap(),
            "a key for a store with data"
        );
        let key = Vault::from_key(&[1; 32]);
        let path = dir.path().join("secret.key");
        check_key(&store, &key, &path, dir.path(), false).unwrap();
        assert!(store.key_check().unwrap().is_some());
        seal(&store, dir.path()).unwrap();
        assert!(store.identity().unwrap().id.is_some());
        assert_eq!(sentinel::read(dir.path()).unwrap().unwrap().accounts, 1);
    }
}
