//! What `authd --check-config` finds wrong with the store without starting: the checks of
//! `integrity` (sentinel, key check value), run on a database that no daemon holds. It
//! opens the database only to read its `meta` tree and never writes a record.

use std::path::Path;

use super::integrity::{identity_in, judge, key_check_in, Finding, Identity, IntegrityError};
use super::sentinel;
use super::trees::Tree;
use crate::vault::Vault;

/// For `authd --check-config`: what a start would refuse, found without starting. Only
/// when no daemon holds the database (a running daemon passed these checks at its start);
/// no record is written.
pub fn problems(state_dir: &Path, vault: Option<(&Vault, &Path)>) -> Vec<String> {
    let db = state_dir.join("db");
    if !db.join("db").is_file() || held_by_daemon(&db.join("db")) {
        return Vec::new();
    }
    let opened = sled::Config::new().path(&db).cache_capacity(8 << 20).open();
    let db = match opened {
        Ok(db) => db,
        Err(e) => return vec![format!("cannot open the store in {}: {e}", db.display())],
    };
    let meta_name = Tree::Meta.name();
    let has_meta = db.tree_names().iter().any(|n| n == meta_name.as_bytes());
    let meta = match has_meta.then(|| db.open_tree(meta_name)).transpose() {
        Ok(meta) => meta,
        Err(e) => return vec![format!("cannot read the store: {e}")],
    };
    let found = match &meta {
        Some(meta) => identity_in(meta),
        None => Ok(Identity {
            id: None,
            generation: 0,
            accounts: 0,
        }),
    };
    let verdict = match sentinel::read(state_dir) {
        Err(reason) => Err(IntegrityError::from(Finding::Unreadable {
            sentinel: state_dir.join(sentinel::FILE),
            reason,
        })),
        Ok(s) => found
            .map_err(IntegrityError::from)
            .and_then(|id| Ok(judge(state_dir, &id, s.as_ref())?)),
    };
    let mut problems = Vec::new();
    if let Err(e) = verdict {
        problems.push(e.to_string());
    }
    let recorded = meta.as_ref().and_then(|m| key_check_in(m).ok().flatten());
    if let (Some((vault, key)), Some(recorded)) = (vault, recorded) {
        if recorded[..] != vault.check_value()[..] {
            let wrong = IntegrityError::from(Finding::WrongKey {
                key: key.to_path_buf(),
                state_key: state_dir.join("secret.key"),
            });
            problems.push(wrong.to_string());
        }
    }
    problems
}

/// Does a running daemon hold the database's lock?
fn held_by_daemon(file: &Path) -> bool {
    use nix::fcntl::{Flock, FlockArg};
    let Ok(file) = std::fs::File::open(file) else {
        return false;
    };
    Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err()
}
