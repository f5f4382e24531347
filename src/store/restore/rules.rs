//! What one backup record must be to be restored: the rules the daemon applies when it
//! writes such a record (names, addresses, numbers, hashes, sealed secrets that open for
//! their own account, the `meta` records authd keeps), and how a message names a record.
//! Each rule returns the reason a record fails, for `check` to report.

use std::collections::HashMap;

use subtle::ConstantTimeEq;

use crate::account::{check_email, check_name, check_phone, check_provider};
use crate::error::{DisplayChain, Error};
use crate::store::records::{decode_account, decode_audit, decode_outbox, decode_token, Account};
use crate::store::trees::Tree;
use crate::store::{integrity, outbox, Channel, HISTORY_LIMIT, META_ACCOUNTS, META_SCHEMA};
use crate::vault::{context, Vault};

/// Longest stored text shown in a message.
const SHOWN: usize = 64;

/// Stored text as a message may show it: controls and invisible characters escaped,
/// cut to `SHOWN` characters.
fn shown(bytes: &[u8]) -> String {
    crate::escape::clipped(&String::from_utf8_lossy(bytes), SHOWN)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An audit key: account name, NUL, big-endian sequence number.
fn audit_key(key: &[u8]) -> Option<(&str, u64)> {
    let split = key.len().checked_sub(9)?;
    let (name, rest) = key.split_at(split);
    let seq = <[u8; 8]>::try_from(&rest[1..]).ok()?;
    (rest[0] == 0)
        .then(|| std::str::from_utf8(name).ok())
        .flatten()
        .map(|name| (name, u64::from_be_bytes(seq)))
}

pub(super) fn describe(number: usize, tree: u8, key: &[u8]) -> String {
    let what = match Tree::from_backup_number(tree) {
        Some(Tree::Accounts) => format!("accounts \"{}\"", shown(key)),
        Some(Tree::Audit) => match audit_key(key) {
            Some((name, seq)) => format!("audit \"{}\" #{seq}", shown(name.as_bytes())),
            None => format!("audit {}", hex(&key[..key.len().min(16)])),
        },
        Some(Tree::Meta) => format!("meta \"{}\"", shown(key)),
        Some(Tree::Tokens) => format!("reset_tokens {}…", hex(&key[..key.len().min(4)])),
        Some(Tree::Outbox) => match <[u8; 8]>::try_from(key) {
            Ok(id) => format!("outbox #{}", u64::from_be_bytes(id)),
            Err(_) => format!("outbox {}", hex(&key[..key.len().min(16)])),
        },
        Some(Tree::OutboxDue) | None => format!("tree {tree}"),
    };
    format!("record {number} ({what})")
}

/// An optional text field must be exactly what its rule stores for it.
fn stored_form(
    field: &str,
    value: &str,
    rule: fn(&str) -> Result<String, Error>,
) -> Result<(), String> {
    let stored = rule(value).map_err(|e| e.to_string())?;
    if stored == value {
        Ok(())
    } else {
        Err(format!(
            "{field} `{}` is not in the form authd stores (`{}`)",
            shown(value.as_bytes()),
            shown(stored.as_bytes())
        ))
    }
}

pub(super) fn check_account(key: &[u8], value: &[u8], vault: &Vault) -> Result<Account, String> {
    let a = decode_account(value).map_err(|e| DisplayChain(&e).to_string())?;
    if a.name.as_bytes() != key {
        return Err(format!(
            "the key differs from the name inside the record (\"{}\")",
            shown(a.name.as_bytes())
        ));
    }
    check_name(&a.name).map_err(|e| e.to_string())?;
    let fields = [
        ("email address", &a.email, check_email as fn(&str) -> _),
        ("phone number", &a.phone, check_phone),
        ("SSO provider", &a.sso, check_provider),
    ];
    for (field, value, rule) in fields {
        if let Some(value) = value {
            stored_form(field, value, rule)?;
        }
    }
    if let Some(hash) = &a.password_hash {
        if a.sso.is_some() {
            return Err("an SSO account with a password (authd removes it)".into());
        }
        crate::password::check_stored(hash).map_err(|e| format!("password hash: {e}"))?;
    }
    if let Some(totp) = &a.totp {
        vault
            .open(&context("totp", &a.name), &totp.sealed_secret)
            .map_err(|_| "its TOTP secret does not open with this key for this account")?;
    }
    if a.recovery_codes.len() > crate::config::MAX_RECOVERY_CODES as usize {
        return Err(format!(
            "{} recovery codes; a set has at most {}",
            a.recovery_codes.len(),
            crate::config::MAX_RECOVERY_CODES
        ));
    }
    if a.reset_tokens.len() > crate::reset::MAX_OUTSTANDING {
        return Err(format!("{} outstanding reset tokens", a.reset_tokens.len()));
    }
    if a.sms.is_some() && a.phone.is_none() {
        return Err("SMS verification without a phone number".into());
    }
    if a.sms_code
        .as_ref()
        .is_some_and(|c| c.tries > crate::sms::MAX_TRIES)
    {
        return Err("an SMS code with more tries than allowed".into());
    }
    Ok(a)
}

/// Action and outcome names: short lowercase words with dashes.
fn is_word(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn check_audit(
    key: &[u8],
    value: &[u8],
    accounts: &HashMap<String, u64>,
) -> Result<(), String> {
    let (name, seq) = audit_key(key).ok_or("not an audit key (name, NUL, sequence)")?;
    let newest = *accounts
        .get(name)
        .ok_or("history of an account the backup does not hold")?;
    let entry = decode_audit(value).map_err(|e| DisplayChain(&e).to_string())?;
    if entry.seq != seq {
        return Err(format!(
            "sequence {} inside the record differs from the key's",
            entry.seq
        ));
    }
    let oldest = newest.saturating_sub(HISTORY_LIMIT - 1).max(1);
    if !(oldest..=newest).contains(&seq) {
        return Err(format!(
            "outside the account's history (entries {oldest} to {newest})"
        ));
    }
    if !is_word(&entry.action) || !is_word(&entry.outcome) {
        return Err("not an action and outcome authd records".into());
    }
    if entry.detail.chars().count() > crate::audit::MAX_DETAIL {
        return Err("detail longer than authd keeps".into());
    }
    Ok(())
}

/// Returns the account count, for the `accounts` record.
pub(super) fn check_meta(key: &[u8], value: &[u8], vault: &Vault) -> Result<Option<u64>, String> {
    let size = |n: usize| match value.len() == n {
        true => Ok(()),
        false => Err(format!("{} bytes where {n} belong", value.len())),
    };
    let u64_value = || <[u8; 8]>::try_from(value).map(u64::from_be_bytes).ok();
    match key {
        k if k == META_SCHEMA => {
            size(4)?;
            if value != crate::store::SCHEMA_VERSION.to_be_bytes() {
                return Err("schema version differs from the file's header".into());
            }
        }
        k if k == META_ACCOUNTS => {
            size(8)?;
            return Ok(u64_value());
        }
        // Recounted from the messages at every start; the restored store gets its own
        // id and generation.
        k if k == outbox::META_QUEUED || k == outbox::META_FAILED => size(8)?,
        k if k == integrity::META_GENERATION => size(8)?,
        k if k == integrity::META_STORE_ID => size(16)?,
        k if k == integrity::META_KEY_CHECK => {
            size(32)?;
            if !bool::from(value.ct_eq(&vault.check_value())) {
                return Err(
                    "the backup was made with another secret key (its key check \
                            value is not this key's)"
                        .into(),
                );
            }
        }
        _ => return Err("not a record authd keeps in `meta`".into()),
    }
    Ok(None)
}

pub(super) fn check_token(
    key: &[u8],
    value: &[u8],
    accounts: &HashMap<String, u64>,
) -> Result<(), String> {
    if key.len() != 32 {
        return Err("not a token hash".into());
    }
    let token = decode_token(value).map_err(|e| DisplayChain(&e).to_string())?;
    if !accounts.contains_key(&token.account) {
        return Err(format!(
            "a token for account \"{}\", which the backup does not hold",
            shown(token.account.as_bytes())
        ));
    }
    Ok(())
}

/// A message may outlive its account (removed while it was queued): its account need
/// only be a valid name.
pub(super) fn check_outbox(key: &[u8], value: &[u8], vault: &Vault) -> Result<(), String> {
    let id = <[u8; 8]>::try_from(key).map_err(|_| "not an outbox id")?;
    let item = decode_outbox(value).map_err(|e| DisplayChain(&e).to_string())?;
    if item.id != u64::from_be_bytes(id) {
        return Err(format!(
            "id {} inside the record differs from the key",
            item.id
        ));
    }
    check_name(&item.account).map_err(|e| e.to_string())?;
    match &item.channel {
        Channel::Mail { from, to, subject } => {
            stored_form("recipient", to, check_email)?;
            crate::email::mailable_sender(from)
                .map_err(|e| format!("sender `{}`: {e}", shown(from.as_bytes())))?;
            if crate::escape::escaped(subject) != *subject || subject.chars().count() > 200 {
                return Err("a subject authd does not write".into());
            }
        }
        Channel::Sms { to } => stored_form("number", to, check_phone)?,
    }
    if item.delivered.is_some() {
        // Delivered: its body was dropped, nothing is sealed.
        return match item.sealed.is_empty() && !item.failed {
            true => Ok(()),
            false => {
                Err("a delivered message that still holds its body or is marked failed".into())
            }
        };
    }
    let kind = item.channel.kind().as_str();
    vault
        .open(&context(kind, &item.account), &item.sealed)
        .map_err(|_| "its sealed message does not open with this key for this account")?;
    Ok(())
}
