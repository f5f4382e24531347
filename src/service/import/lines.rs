//! One import line in authd: checked on its own (`import_line`) and against the
//! password policy, then applied to an account as it is. Pure: no store, no hashing.

use crate::config::PasswordConfig;
use crate::error::Error;
use crate::import_line::{check_entry, on_line};
use crate::password::{check_policy, CryptScheme};
use crate::protocol::{Change, ImportEntry, ImportPassword, Secret};
use crate::service::accounts::apply;
use crate::store::{Account, Disabled};

/// An import line's password as the session holds it.
pub enum Password {
    /// Left as it is.
    Keep,
    /// In the clear (policy checked), still to hash.
    Plain(Secret),
    /// A hash to store as it is: imported, or a plain password once hashed.
    Hash(String),
}

/// An import line that passed the checks that need no account.
pub struct Line {
    pub line: u64,
    pub name: String,
    pub password: Password,
    pub email: Change<String>,
    pub phone: Change<String>,
    pub sso: Change<String>,
    pub disabled: Option<bool>,
}

/// The checks a line passes on its own (`import_line`) and the password policy;
/// errors name the line.
pub fn check(config: &PasswordConfig, entry: ImportEntry) -> Result<Line, Error> {
    let entry = check_entry(entry)?;
    let password = match entry.password {
        None => Password::Keep,
        Some(ImportPassword::Plain(pw)) => {
            check_policy(config, &entry.name, pw.expose()).map_err(|e| on_line(entry.line, e))?;
            Password::Plain(pw)
        }
        Some(ImportPassword::Hashed(hash)) => Password::Hash(hash.expose().to_string()),
    };
    Ok(Line {
        line: entry.line,
        name: entry.name,
        password,
        email: entry.email,
        phone: entry.phone,
        sso: entry.sso,
        disabled: entry.disabled,
    })
}

/// The one place an import's `disabled` meets an account: `true` disables it (as
/// `authctl disable --reason "imported as disabled"`; one disabled already keeps its
/// reason), `false` enables it, absent changes nothing; says what changed ("disabled",
/// "enabled").
pub fn apply_disabled(
    account: &mut Account,
    disabled: Option<bool>,
    now: u64,
) -> Result<Option<&'static str>, Error> {
    Ok(match (disabled, account.disabled.is_some()) {
        (Some(true), false) => {
            account.disabled = Some(Disabled {
                since: now,
                reason: Some("imported as disabled".into()),
            });
            Some("disabled")
        }
        (Some(false), true) => {
            account.disabled = None;
            Some("enabled")
        }
        _ => None,
    })
}

/// Apply `line` to `account` (a new one or as it is now), with `hash` as its password
/// when it sets one; the fields that changed, named for the audit detail. Refused (the
/// line named) where `set-user` or `set-password` would refuse.
pub fn apply_line(
    line: &Line,
    hash: Option<&str>,
    account: &mut Account,
    now: u64,
) -> Result<Vec<&'static str>, Error> {
    let fail = |e: Error| on_line(line.line, e);
    let mut changed = Vec::new();
    if apply(&mut account.email, &line.email) {
        changed.push("email");
    }
    if line.phone != Change::Keep && account.phone.as_ref() != change_value(&line.phone) {
        if account.sms.is_some() {
            return Err(fail(Error::InvalidInput(format!(
                "SMS verification is set up for `{}`: its phone number cannot change here",
                account.name
            ))));
        }
        apply(&mut account.phone, &line.phone);
        changed.push("phone");
    }
    if apply(&mut account.sso, &line.sso) {
        changed.push("sso");
        if account.sso.is_some() && account.password_hash.take().is_some() {
            changed.push("password removed");
        }
    }
    if let Some(hash) = hash {
        if account.sso.is_some() {
            return Err(fail(Error::SsoAccount(account.name.clone())));
        }
        if account.password_hash.as_deref() != Some(hash) {
            account.password_hash = Some(hash.to_string());
            // Set by an admin: its age starts now; a demand for a change stays.
            crate::lifecycle::password_set(account, now, false);
            changed.push("password");
        }
    }
    if let Some(what) = apply_disabled(account, line.disabled, now).map_err(fail)? {
        changed.push(what);
    }
    Ok(changed)
}

fn change_value(change: &Change<String>) -> Option<&String> {
    match change {
        Change::Set(v) => Some(v),
        _ => None,
    }
}

/// What `hash` is, for the audit detail: "sha512-crypt", "argon2".
pub fn hash_kind(hash: &str) -> &'static str {
    CryptScheme::of(hash).map_or("argon2", CryptScheme::name)
}
