//! Account lifecycle on the wire: disabling an account, its expiry date, a forced or
//! aged-out password change, and the status an admin (or PAM's `account` step) reads.
//!
//! `AccountInfo` (what `ShowUser` answers) keeps its encoding: the lifecycle state is
//! its own answer (`ShowLifecycle` -> `Lifecycle`), so clients of either age decode what
//! they ask for. A login that succeeds while the password must be changed answers
//! `VerifiedChangeRequired` instead of `Verified`.

use serde::{Deserialize, Serialize};

use super::request::Change;
use super::SecondFactor;

/// Refuse every login and self-service request of the account (admin). -> `Done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disable {
    pub name: String,
    /// Why, for the audit trail and `show` (free text, no secret).
    pub reason: Option<String>,
}

/// Undo `Disable` (admin). -> `Done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enable {
    pub name: String,
}

/// How long a password may be used before it must be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordAge {
    /// Never ages out, whatever `[password] max_age` says.
    Never,
    Days(u32),
}

/// Edit an account's expiry and password-change policy (admin). `Change::Clear` on
/// `max_password_age` returns the account to the `[password] max_age` default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetLifecycle {
    pub name: String,
    /// Unix seconds after which logins are refused; `Clear` = never.
    pub expires: Change<u64>,
    /// `Some(true)`: the next login must change the password; `Some(false)` clears it.
    pub must_change_password: Option<bool>,
    pub max_password_age: Change<PasswordAge>,
}

/// An account's lifecycle state (admin or self). -> `Lifecycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowLifecycle {
    pub name: String,
}

/// What `ShowLifecycle` answers; times are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub name: String,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_since: Option<u64>,
    /// When logins start being refused (`expired`), if ever.
    pub expires: Option<u64>,
    pub expired: bool,
    /// Set by an admin (`--must-change-password`); cleared by the owner's change.
    pub must_change_password: bool,
    /// When the password was last set or changed (unknown for older records).
    pub password_changed: Option<u64>,
    /// The age in force (the account's own, else `[password] max_age`); `None`: never.
    pub max_password_age_days: Option<u32>,
    /// `password_changed` + the age in force, when both are known.
    pub password_expires: Option<u64>,
    /// A login succeeds, but the password must be changed now (flag or age).
    pub password_change_required: bool,
    /// The last successful login, and the PAM service (or client) it came through.
    pub last_login: Option<u64>,
    pub last_login_service: Option<String>,
}

/// One line of `list-users --long` (`ListAccounts`): an account's status at a glance,
/// like `passwd -S -a`. Small and bounded (names, providers and services are short), so
/// a page of `MAX_PAGE` stays far under the frame limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub name: String,
    pub disabled: bool,
    pub expired: bool,
    /// Unix seconds; `None` when not locked.
    pub locked_until: Option<u64>,
    pub password_set: bool,
    pub password_change_required: bool,
    pub sso: Option<String>,
    /// The active second factors.
    pub factors: Vec<SecondFactor>,
    pub password_changed: Option<u64>,
    pub last_login: Option<u64>,
    pub last_login_service: Option<String>,
}
