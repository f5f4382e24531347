//! Bulk import (`authctl import`): many accounts created or updated, all or nothing.
//!
//! One import is a short conversation in an import session that the daemon keeps in
//! memory, so that no request has to exceed `MAX_FRAME`:
//!
//! ```text
//!   Import { session: None,    step: Stage(first lines) }  -> Imported { session, .. }
//!   Import { session: Some(s), step: Stage(more lines) }   -> Imported   (as often as needed)
//!   Import { session: Some(s), step: Hash }                -> Imported   (until to_hash == 0)
//!   Import { session: Some(s), step: Commit { dry_run } }  -> Imported { committed, .. }
//! ```
//!
//! `Stage` validates every line it carries (against the password policy and the accounts
//! as they are) and keeps them; a bad line is refused with its line number and ends the
//! session. `Hash` hashes the next few plain passwords on the hash pool, so a client can
//! show progress. `Commit` writes every staged line in one store change, or with
//! `dry_run` only reports what it would do. Nothing is written before `Commit`: an
//! abandoned or refused session leaves the store as it was.

use serde::{Deserialize, Serialize};

use super::request::Change;
use super::Secret;

/// Most lines one import may hold (split a larger file).
pub const MAX_IMPORT_LINES: u64 = 100_000;

/// A password for an imported account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportPassword {
    /// A password in the clear: the policy applies and the daemon hashes it.
    Plain(Secret),
    /// A hash as stored elsewhere: an argon2id PHC string, or a crypt(3) hash from
    /// /etc/shadow (`$6$`, `$5$`, `$y$`), verified as it is and replaced by argon2id at
    /// the first successful login. A secret too: it can be attacked offline.
    Hashed(Secret),
}

/// One line of an import file, parsed by the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportEntry {
    /// Its line number in the file, for the error that names it.
    pub line: u64,
    pub name: String,
    /// `None`: the password is left as it is (a new account gets none).
    pub password: Option<ImportPassword>,
    pub email: Change<String>,
    pub phone: Change<String>,
    /// `Set(provider)` makes it an SSO account, `Clear` a local one.
    pub sso: Change<String>,
    /// The account's disabled state; `None` leaves it as it is.
    pub disabled: Option<bool>,
}

/// What an `Import` request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStep {
    /// Validate these lines and add them to the session (opened by the first `Stage`).
    Stage(Vec<ImportEntry>),
    /// Hash the next few plain passwords of the session.
    Hash,
    /// Write everything staged in one change (nothing with `dry_run`); ends the session.
    Commit { dry_run: bool },
    /// Drop the session, writing nothing.
    Abort,
}

/// One step of an import (admin). -> `Imported`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// `None` only for the first `Stage`; then what `Imported` answered.
    pub session: Option<u64>,
    pub step: ImportStep,
}

/// Where an import session stands. Before `Commit`, `created`, `updated` and `unchanged`
/// say what the lines staged so far would do to the accounts as they are now; after it,
/// what the commit did (or, with `dry_run`, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub session: u64,
    /// Lines validated and held.
    pub staged: u64,
    /// Plain passwords hashed so far.
    pub hashed: u64,
    /// Plain passwords still to hash before `Commit`.
    pub to_hash: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// `Commit` wrote the lines; false before, after a dry run and after `Abort`.
    pub committed: bool,
}
