//! What a restore lets into a new store: every record of a backup, decoded and checked
//! with the rules the daemon applies when it writes one, before anything is written; and
//! writing the records that passed (`Store::restore`, which takes nothing else).
//!
//! A backup is trusted but not infallible: a file that was made or edited by hand (or a
//! bug) must not plant what the daemon would never have written, such as a name with
//! terminal escapes, a phone number with shell metacharacters, an account count of 2^63,
//! or a record filed under another account's name. The first bad record refuses the
//! whole file, naming the record. Checking needs the secret key: TOTP secrets and queued
//! messages must open with it, and the backup's key check value must be this key's.

mod rules;

use std::collections::HashMap;
use std::path::Path;

use subtle::ConstantTimeEq;

use super::trees::{Tree, TreeRecord};
use super::{integrity, Store, META_ACCOUNTS};
use crate::backup_file::Record;
use crate::error::{DisplayChain, Error};
use crate::vault::Vault;
use rules::{check_account, check_audit, check_meta, check_outbox, check_token, describe};

const META: u8 = Tree::Meta.backup_number().unwrap();

/// The first record that is not one the daemon could have written.
#[derive(Debug, thiserror::Error)]
#[error("{record}: {reason}")]
pub struct BadRecord {
    /// Which record: its number in the file, tree and key (escaped).
    pub record: String,
    pub reason: String,
}

/// Records that passed `check`: the only thing `Store::restore` writes.
pub struct Checked {
    records: Vec<Record>,
    accounts: usize,
}

impl Checked {
    /// How many accounts the backup holds.
    pub fn accounts(&self) -> usize {
        self.accounts
    }

    /// The records with their trees (`authd migrate`), and the id of the store they
    /// came from.
    pub fn into_trees(self) -> (Vec<TreeRecord>, Option<Vec<u8>>) {
        let mut id = None;
        let mut out = Vec::with_capacity(self.records.len());
        for (number, key, value) in self.records {
            if number == META && key == integrity::META_STORE_ID {
                id = Some(value.clone());
            }
            if let Some(tree) = Tree::from_backup_number(number) {
                out.push((tree, key, value));
            }
        }
        (out, id)
    }
}

fn key_check_at(records: &[Record]) -> Option<usize> {
    records
        .iter()
        .position(|(tree, key, _)| *tree == META && key == integrity::META_KEY_CHECK)
}

/// Do the records carry a key check value that is not `vault`'s (a backup of a store
/// with another key)? It is not authenticated: use it to explain a MAC that does not
/// verify, never to accept anything.
pub fn other_key(records: &[Record], vault: &Vault) -> bool {
    key_check_at(records).is_some_and(|i| !bool::from(records[i].2.ct_eq(&vault.check_value())))
}

/// Check every record of a backup against `vault`'s key; the first one that is not what
/// the daemon writes refuses them all.
pub fn check(records: Vec<Record>, vault: &Vault) -> Result<Checked, BadRecord> {
    // A wrong key is the likeliest reason for sealed secrets that do not open: say so
    // first.
    if let Some(i) = key_check_at(&records) {
        let (tree, key, value) = &records[i];
        check_meta(key, value, vault).map_err(|reason| BadRecord {
            record: describe(i + 1, *tree, key),
            reason,
        })?;
    }
    let mut accounts: HashMap<String, u64> = HashMap::new();
    let mut counted: Option<(usize, u64)> = None;
    let mut previous: Option<(u8, &[u8])> = None;
    for (i, (tree, key, value)) in records.iter().enumerate() {
        let bad = |reason: String| BadRecord {
            record: describe(i + 1, *tree, key),
            reason,
        };
        // Snapshots list each tree in key order: this also refuses a key given twice.
        if previous.is_some_and(|p| p >= (*tree, &key[..])) {
            return Err(bad("out of order, or a key given twice".into()));
        }
        previous = Some((*tree, &key[..]));
        match Tree::from_backup_number(*tree) {
            Some(Tree::Accounts) => {
                let account = check_account(key, value, vault).map_err(bad)?;
                accounts.insert(account.name, account.audit_seq);
            }
            Some(Tree::Audit) => check_audit(key, value, &accounts).map_err(bad)?,
            Some(Tree::Meta) => {
                if let Some(n) = check_meta(key, value, vault).map_err(bad)? {
                    counted = Some((i + 1, n));
                }
            }
            Some(Tree::Tokens) => check_token(key, value, &accounts).map_err(bad)?,
            Some(Tree::Outbox) => check_outbox(key, value, vault).map_err(bad)?,
            Some(Tree::OutboxDue) | None => return Err(bad("unknown tree".into())),
        }
    }
    let (record, count) = match counted {
        Some((i, n)) => (describe(i, META, META_ACCOUNTS), n),
        None => ("the account count (meta \"accounts\", missing)".into(), 0),
    };
    if count != accounts.len() as u64 {
        return Err(BadRecord {
            record,
            reason: format!(
                "says {count} accounts, but the backup holds {}",
                accounts.len()
            ),
        });
    }
    Ok(Checked {
        accounts: accounts.len(),
        records,
    })
}

impl Store {
    /// Fill a new, empty store in `dir` with checked backup records (offline), flush it,
    /// and write its sentinel. The restored store gets an id and generation of its own,
    /// and `vault`'s key check value (the backup's own, which `check` compared), so only
    /// the key the backup was made with opens it.
    pub fn restore(dir: &Path, checked: Checked, vault: &Vault) -> Result<u64, Error> {
        let store = Store::open(dir, 64)?;
        if !store.is_empty()? {
            return Err(Error::InvalidInput(format!(
                "{} already holds a store; restore only into an empty state directory",
                dir.display()
            )));
        }
        let mut batches: HashMap<Tree, sled::Batch> = HashMap::new();
        let own = [
            integrity::META_STORE_ID,
            integrity::META_GENERATION,
            integrity::META_KEY_CHECK,
        ];
        let mut count = 0;
        for (number, key, value) in checked.records {
            if number == META && own.contains(&&key[..]) {
                continue;
            }
            // `check` let through only records of trees a backup holds.
            let tree = Tree::from_backup_number(number)
                .ok_or_else(|| Error::Internal(format!("a restored record in tree {number}")))?;
            batches.entry(tree).or_default().insert(key, value);
            count += 1;
        }
        for (tree, batch) in batches {
            store.tree(tree).apply_batch(batch)?;
        }
        store.record_key_check(vault)?;
        let id = store.new_identity()?;
        integrity::write_sentinel(&store, dir, &id, 0)
            .map_err(|e| Error::Internal(DisplayChain(&e).to_string()))?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Action, Event, Outcome};
    use crate::backup_file::read_all;
    use crate::store::records::{
        audit_key, decode_account, encode_account, encode_audit, encode_token,
    };
    use crate::store::{Account, ResetToken, SCHEMA_VERSION};
    use crate::vault::context;

    const HASH: &str = "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$\
                        AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn vault() -> Vault {
        Vault::from_key(&[9; 32])
    }

    /// The records of a snapshot of a small store: alice (password, TOTP) and bob.
    fn genuine() -> Vec<Record> {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8).unwrap();
        store.record_key_check(&vault()).unwrap();
        let event = Event::new(Action::AccountAdded, Outcome::Ok, "test", String::new());
        let mut alice = Account::new("alice".into(), 1);
        alice.password_hash = Some(HASH.into());
        alice.totp = Some(crate::store::TotpEnrolment {
            sealed_secret: vault().seal(&context("totp", "alice"), b"seed").unwrap(),
            active: true,
            last_step: None,
            since: 1,
        });
        store.create(&alice, &event, 1).unwrap();
        store
            .create(&Account::new("bob".into(), 1), &event, 1)
            .unwrap();
        store.flush_offline().unwrap();
        let mut out = Vec::new();
        store.snapshot(&mut out, vault().backup_mac()).unwrap();
        read_all(&out[..], SCHEMA_VERSION).unwrap().records
    }

    fn account_slot(records: &mut [Record], name: &str) -> usize {
        records
            .iter()
            .position(|(t, k, _)| {
                *t == Tree::Accounts.backup_number().unwrap() && k == name.as_bytes()
            })
            .unwrap()
    }

    fn edit(records: &mut [Record], name: &str, change: impl FnOnce(&mut Account)) {
        let i = account_slot(records, name);
        let mut account = decode_account(&records[i].2).unwrap();
        change(&mut account);
        records[i].2 = encode_account(&account);
    }

    fn insert(records: &mut Vec<Record>, record: Record) {
        let at = records
            .iter()
            .position(|(t, k, _)| (*t, k) > (record.0, &record.1))
            .unwrap_or(records.len());
        records.insert(at, record);
    }

    #[track_caller]
    fn refused(records: Vec<Record>, says: &str) {
        match check(records, &vault()) {
            Ok(_) => panic!("accepted; expected {says:?}"),
            Err(e) => assert!(e.to_string().contains(says), "{e}"),
        }
    }

    #[test]
    fn a_snapshot_of_a_real_store_passes() {
        let checked = check(genuine(), &vault()).unwrap();
        assert_eq!(checked.accounts(), 2);
    }

    #[test]
    fn records_the_daemon_never_writes_are_refused() {
        let mut r = genuine();
        edit(&mut r, "alice", |a| a.sso = Some("corp".into()));
        refused(r, "SSO account with a password");

        let mut r = genuine();
        let huge = HASH.replace("m=64", "m=4294967295");
        edit(&mut r, "alice", |a| a.password_hash = Some(huge));
        refused(r, "beyond what authd allows");

        let mut r = genuine();
        edit(&mut r, "bob", |a| {
            a.totp = alice_totp();
        });
        refused(r, "TOTP secret does not open");

        let mut r = genuine();
        edit(&mut r, "bob", |a| a.sso = Some("evil\u{1b}[0m".into()));
        refused(r, "invalid SSO provider");

        let mut r = genuine();
        let i = account_slot(&mut r, "bob");
        let copy = r[i].clone();
        r.insert(i, copy);
        refused(r, "a key given twice");

        let mut r = genuine();
        let entry = crate::store::records::AuditEntry {
            seq: 1,
            at: 1,
            action: "account-added".into(),
            outcome: "ok".into(),
            actor: "x".into(),
            detail: String::new(),
        };
        insert(
            &mut r,
            (
                Tree::Audit.backup_number().unwrap(),
                audit_key("zed", 1),
                encode_audit(&entry),
            ),
        );
        refused(r, "history of an account the backup does not hold");

        let mut r = genuine();
        let token = ResetToken {
            account: "zed".into(),
            expires: 9,
        };
        insert(
            &mut r,
            (
                Tree::Tokens.backup_number().unwrap(),
                vec![7; 32],
                encode_token(&token),
            ),
        );
        refused(r, "which the backup does not hold");

        let mut r = genuine();
        insert(&mut r, (META, b"admin".to_vec(), b"yes".to_vec()));
        refused(r, "not a record authd keeps");

        let mut r = genuine();
        r.retain(|(t, k, _)| !(*t == META && k == META_ACCOUNTS));
        refused(r, "(meta \"accounts\", missing): says 0 accounts");
    }

    /// Alice's sealed TOTP secret, to copy into another account.
    fn alice_totp() -> Option<crate::store::TotpEnrolment> {
        let r = genuine();
        let i = r
            .iter()
            .position(|(t, k, _)| *t == Tree::Accounts.backup_number().unwrap() && k == b"alice")
            .unwrap();
        decode_account(&r[i].2).unwrap().totp
    }

    #[test]
    fn another_key_is_named_as_such() {
        let r = genuine();
        let other = Vault::from_key(&[1; 32]);
        assert!(other_key(&r, &other));
        assert!(!other_key(&r, &vault()));
        let e = check(r, &other).err().unwrap().to_string();
        assert!(e.contains("meta \"key_check\""), "{e}");
        assert!(e.contains("another secret key"), "{e}");
    }

    #[test]
    fn restore_writes_the_checked_records_a_sentinel_and_the_key_check() {
        let dir = tempfile::tempdir().unwrap();
        let checked = check(genuine(), &vault()).unwrap();
        Store::restore(dir.path(), checked, &vault()).unwrap();
        let sentinel = super::super::sentinel::read(dir.path()).unwrap().unwrap();
        assert_eq!(sentinel.accounts, 2);
        let store = Store::open(dir.path(), 8).unwrap();
        assert_eq!(
            store.key_check().unwrap(),
            Some(vault().check_value().to_vec())
        );
        assert_eq!(store.identity().unwrap().id, Some(sentinel.store_id));
        assert!(store.account("alice").unwrap().is_some());
    }
}
