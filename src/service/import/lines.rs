//! One import line: checked on its own (name, contact data, password policy, hash
//! format), then applied to an account as it is. Pure: no store, no hashing here.

use crate::account::{check_email, check_name, check_phone, check_provider};
use crate::config::PasswordConfig;
use crate::error::Error;
use crate::password::{check_policy, check_stored, CryptScheme};
use crate::protocol::{Change, ImportEntry, ImportPassword, Secret};
use crate::store::Account;

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

/// `error`'s message, prefixed with the line it is about (same code).
pub fn on_line(line: u64, error: Error) -> Error {
    match error {
        Error::WeakPassword(why) => Error::WeakPassword(format!("line {line}: {why}")),
        Error::SsoAccount(name) => Error::InvalidInput(format!(
            "line {line}: `{name}` is an SSO account: it has no password here \
             (add \"sso\": false to make it a local account)"
        )),
        other => Error::InvalidInput(format!("line {line}: {other}")),
    }
}

fn checked(
    change: Change<String>,
    check: fn(&str) -> Result<String, Error>,
) -> Result<Change<String>, Error> {
    Ok(match change {
        Change::Set(value) => Change::Set(check(&value)?),
        other => other,
    })
}

/// The checks a line passes on its own; errors name the line.
pub fn check(config: &PasswordConfig, entry: ImportEntry) -> Result<Line, Error> {
    let n = entry.line;
    let fail = |e: Error| on_line(n, e);
    check_name(&entry.name).map_err(fail)?;
    let password = match entry.password {
        None => Password::Keep,
        Some(ImportPassword::Plain(pw)) => {
            check_policy(config, &entry.name, pw.expose()).map_err(fail)?;
            Password::Plain(pw)
        }
        Some(ImportPassword::Hashed(hash)) => {
            check_stored(hash.expose()).map_err(|why| {
                fail(Error::InvalidInput(format!(
                    "not a password hash authd accepts ({why}): use an argon2id PHC string \
                     or a $6$, $5$ or $y$ hash from /etc/shadow"
                )))
            })?;
            Password::Hash(hash.expose().to_string())
        }
    };
    if matches!(entry.sso, Change::Set(_)) && !matches!(password, Password::Keep) {
        return Err(fail(Error::InvalidInput(format!(
            "`{}` is given a password and SSO: an SSO account has no password here",
            entry.name
        ))));
    }
    Ok(Line {
        line: n,
        password,
        email: checked(entry.email, check_email).map_err(fail)?,
        phone: checked(entry.phone, check_phone).map_err(fail)?,
        sso: checked(entry.sso, check_provider).map_err(fail)?,
        disabled: entry.disabled,
        name: entry.name,
    })
}

/// The one place an import's `disabled` meets an account. authd has no disabled state
/// yet (disable and enable come separately): `true` is refused with the reason, `false`
/// and absent change nothing. When accounts can be disabled, this sets or clears that
/// state on `account` and says so ("disabled", "enabled").
pub fn apply_disabled(
    _account: &mut Account,
    disabled: Option<bool>,
) -> Result<Option<&'static str>, Error> {
    match disabled {
        Some(true) => Err(Error::InvalidInput(
            "\"disabled\": true is not supported by this authd yet (accounts cannot be \
             disabled); leave it out or set it to false"
                .into(),
        )),
        Some(false) | None => Ok(None),
    }
}

/// Set `field` to what `change` says; whether it changed.
fn apply(field: &mut Option<String>, change: &Change<String>) -> bool {
    let new = match change {
        Change::Keep => return false,
        Change::Set(v) => Some(v.clone()),
        Change::Clear => None,
    };
    let changed = *field != new;
    *field = new;
    changed
}

/// Apply `line` to `account` (a new one or as it is now), with `hash` as its password
/// when it sets one; the fields that changed, named for the audit detail. Refused (the
/// line named) where `set-user` or `set-password` would refuse.
pub fn apply_line(
    line: &Line,
    hash: Option<&str>,
    account: &mut Account,
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
            changed.push("password");
        }
    }
    if let Some(what) = apply_disabled(account, line.disabled).map_err(fail)? {
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
