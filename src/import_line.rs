//! What a valid import line looks like on its own (`authctl import`): checked where the
//! file is read (authctl, so nothing is sent when a line is bad) and again where it is
//! written (authd, which never trusts a client). The password policy and the accounts
//! as they are stay authd's to check. Pure validation: no store, no hashing.

use crate::account::{
    check_change as checked, check_email, check_name, check_phone, check_provider,
};
use crate::error::Error;
use crate::password::check_stored;
use crate::protocol::{Change, ImportEntry, ImportPassword};

/// Longest password or hash a line may carry (the policy's `max_length` is lower).
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// `error`'s message, prefixed with the line it is about (its code kept where it says
/// more than `invalid_input`).
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

/// `check_stored` for a hash an admin imports, saying what is accepted.
pub fn check_hash(hash: &str) -> Result<(), Error> {
    check_stored(hash).map_err(|why| {
        Error::InvalidInput(format!(
            "not a password hash authd accepts ({why}): use an argon2id PHC string or a \
             $6$, $5$ or $y$ hash from /etc/shadow"
        ))
    })
}

/// `entry` if it is valid on its own, with its address, number and provider in the form
/// to store; else why not, naming its line.
pub fn check_entry(entry: ImportEntry) -> Result<ImportEntry, Error> {
    let line = entry.line;
    let fail = |e: Error| on_line(line, e);
    check_name(&entry.name).map_err(fail)?;
    match &entry.password {
        Some(ImportPassword::Plain(secret) | ImportPassword::Hashed(secret))
            if secret.expose().len() > MAX_PASSWORD_BYTES =>
        {
            return Err(fail(Error::InvalidInput(format!(
                "the password is longer than {MAX_PASSWORD_BYTES} bytes"
            ))));
        }
        Some(ImportPassword::Plain(secret)) if secret.expose().is_empty() => {
            return Err(fail(Error::InvalidInput("the password is empty".into())));
        }
        Some(ImportPassword::Hashed(hash)) => check_hash(hash.expose()).map_err(fail)?,
        _ => {}
    }
    if matches!(entry.sso, Change::Set(_)) && entry.password.is_some() {
        return Err(fail(Error::InvalidInput(format!(
            "`{}` is given a password and SSO: an SSO account has no password here",
            entry.name
        ))));
    }
    Ok(ImportEntry {
        email: checked(entry.email, check_email).map_err(fail)?,
        phone: checked(entry.phone, check_phone).map_err(fail)?,
        sso: checked(entry.sso, check_provider).map_err(fail)?,
        ..entry
    })
}
