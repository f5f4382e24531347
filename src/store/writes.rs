//! The changes: create, change and remove an account, each with its audit entries and
//! the records that go with it (reset tokens, queued messages, the counters). Each runs
//! against the records as they are now, staged changes included, and is staged whole
//! or not at all (see `staging`); it is on disk once the caller's `durable` resolves.

use super::backend::AccountChange;
use super::records::AuditEntry;
use super::records::{audit_key, decode_account, encode_account, encode_audit, encode_token};
use super::staging::{TreeId, View};
use super::{outbox, read_u64, Account, OutboxItem, ResetToken, Store, HISTORY_LIMIT};
use crate::audit::Event;
use crate::error::Error;

/// Writes that belong to an account change and commit with it.
#[derive(Default)]
pub struct Effects {
    /// Messages to queue; their ids are assigned as they are staged.
    pub messages: Vec<OutboxItem>,
    pub new_tokens: Vec<([u8; 32], ResetToken)>,
    pub dropped_tokens: Vec<[u8; 32]>,
    /// More entries for the account's history, after the change's own event (e.g. a
    /// notice mail that could not be composed).
    pub events: Vec<Event>,
}

impl Effects {
    /// Nothing to write beside the account.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.new_tokens.is_empty()
            && self.dropped_tokens.is_empty()
            && self.events.is_empty()
    }
}

/// Add `delta` to the counter under `key` in `meta`.
pub(super) fn adjust(view: &mut View<'_>, key: &[u8], delta: i64) -> Result<(), Error> {
    if delta != 0 {
        let count = read_u64(view.get(TreeId::Meta, key)?).saturating_add_signed(delta);
        view.insert(TreeId::Meta, key, &count.to_be_bytes()[..]);
    }
    Ok(())
}

/// Append `event` to the account's history, dropping the entry that falls out of the
/// bounded window.
pub(super) fn append_audit(view: &mut View<'_>, account: &mut Account, event: &Event, now: u64) {
    account.audit_seq += 1;
    let entry = AuditEntry {
        seq: account.audit_seq,
        at: now,
        action: event.action.as_str().to_string(),
        outcome: event.outcome.as_str().to_string(),
        actor: event.actor.clone(),
        detail: event.detail.clone(),
    };
    view.insert(
        TreeId::Audit,
        audit_key(&account.name, entry.seq),
        encode_audit(&entry),
    );
    if let Some(old) = account.audit_seq.checked_sub(HISTORY_LIMIT) {
        view.remove(TreeId::Audit, audit_key(&account.name, old));
    }
}

/// The account `name` as it is now.
pub(super) fn current(view: &View<'_>, name: &str) -> Result<Option<Account>, Error> {
    view.get(TreeId::Accounts, name.as_bytes())?
        .map(|bytes| decode_account(&bytes))
        .transpose()
}

/// Write a changed account with its event and the effects that go with it.
pub(super) fn write_changed(
    view: &mut View<'_>,
    mut account: Account,
    event: &Event,
    effects: Effects,
    now: u64,
) -> Result<(), Error> {
    account.updated = now;
    append_audit(view, &mut account, event, now);
    for extra in &effects.events {
        append_audit(view, &mut account, extra, now);
    }
    view.insert(
        TreeId::Accounts,
        account.name.as_bytes(),
        encode_account(&account),
    );
    for hash in &effects.dropped_tokens {
        view.remove(TreeId::Tokens, &hash[..]);
    }
    for (hash, token) in &effects.new_tokens {
        view.insert(TreeId::Tokens, &hash[..], encode_token(token));
    }
    for message in effects.messages {
        let item = OutboxItem {
            id: view.generate_id()?,
            ..message
        };
        outbox::queue(view, &item)?;
    }
    Ok(())
}

impl Store {
    /// Insert a new account with its first audit entry; `Exists` if the name is taken.
    pub fn create(&self, account: &Account, event: &Event, now: u64) -> Result<(), Error> {
        self.staging.change(|view| {
            if view
                .get(TreeId::Accounts, account.name.as_bytes())?
                .is_some()
            {
                return Err(Error::Exists(account.name.clone()));
            }
            let mut account = account.clone();
            append_audit(view, &mut account, event, now);
            view.insert(
                TreeId::Accounts,
                account.name.as_bytes(),
                encode_account(&account),
            );
            adjust(view, super::META_ACCOUNTS, 1)
        })
    }

    /// Read-modify-write one account (`Backend::change`). `change` runs once, on the
    /// account as it is now (later changes to it wait); it returns the audit event to
    /// append and may ask for `Effects` (queued messages, reset tokens), all staged
    /// together; an `Err` stages nothing. Callers use `Backend::update_with`, which
    /// also returns a value.
    pub fn change(
        &self,
        name: &str,
        now: u64,
        change: &mut AccountChange<'_>,
    ) -> Result<(), Error> {
        self.staging.change(|view| {
            let Some(mut account) = current(view, name)? else {
                return Err(Error::NoSuchUser(name.to_string()));
            };
            let mut effects = Effects::default();
            let event = change(&mut account, &mut effects)?;
            write_changed(view, account, &event, effects, now)
        })
    }

    /// Delete an account, its history and its reset tokens.
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        self.staging.change(|view| {
            let Some(account) = current(view, name)? else {
                return Err(Error::NoSuchUser(name.to_string()));
            };
            view.remove(TreeId::Accounts, name.as_bytes());
            // History is the window of the newest HISTORY_LIMIT sequence numbers.
            let oldest = account.audit_seq.saturating_sub(HISTORY_LIMIT - 1).max(1);
            for seq in oldest..=account.audit_seq {
                view.remove(TreeId::Audit, audit_key(name, seq));
            }
            for hash in &account.reset_tokens {
                view.remove(TreeId::Tokens, &hash[..]);
            }
            adjust(view, super::META_ACCOUNTS, -1)
        })
    }
}
