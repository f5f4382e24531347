//! The outbox in sled: messages by id (`outbox`), an index of the queued ones by channel
//! and due time (`outbox_due`), and the queued/failed counts (in `meta`). Delivered
//! messages (kept without their bodies for `outbox.keep_delivered`) are in neither.
//!
//! The index lets each courier page through what is due on its own channel without
//! decoding anything else, and the counts make `status` one read. Both are derived: they
//! change in the same transactions as the messages, and are rebuilt from the messages at
//! every open (a backup carries neither). Nothing here decides when to retry or give up.

use std::ops::Bound;

use super::records::{decode_outbox, encode_account, encode_outbox};
use super::staging::{TreeId, View};
use super::writes::{adjust, append_audit, current};
use super::{read_u64, Store};
use crate::audit::Event;
use crate::error::Error;
use crate::store::{ChannelKind, OutboxItem, OutboxState};

pub(super) const META_QUEUED: &[u8] = b"outbox_queued";
pub(super) const META_FAILED: &[u8] = b"outbox_failed";

/// Index key of a queued message: channel, due time, id (all big-endian), so one
/// channel's due messages are one ordered range, the earliest first.
type DueKey = [u8; 17];

fn tag(kind: ChannelKind) -> u8 {
    match kind {
        ChannelKind::Mail => 0,
        ChannelKind::Sms => 1,
    }
}

fn due_key(kind: ChannelKind, at: u64, id: u64) -> DueKey {
    let mut key = [0u8; 17];
    key[0] = tag(kind);
    key[1..9].copy_from_slice(&at.to_be_bytes());
    key[9..].copy_from_slice(&id.to_be_bytes());
    key
}

/// The index key of a message still to be tried; `None` once it has failed or gone out.
fn queued_key(item: &OutboxItem) -> Option<DueKey> {
    (item.state() == OutboxState::Queued)
        .then(|| due_key(item.channel.kind(), item.next_attempt, item.id))
}

/// How a message counts: (queued, failed).
fn counted(item: &OutboxItem) -> (i64, i64) {
    item.state().counts()
}

fn id_of(key: &[u8]) -> Option<u64> {
    key.get(9..17)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
}

/// Queue a new message (its id already assigned) with an account change.
pub(super) fn queue(view: &mut View<'_>, item: &OutboxItem) -> Result<(), Error> {
    view.insert(
        TreeId::Outbox,
        &item.id.to_be_bytes()[..],
        encode_outbox(item),
    );
    if let Some(key) = queued_key(item) {
        view.insert(TreeId::OutboxDue, &key[..], &[][..]);
    }
    let (queued, failed) = counted(item);
    adjust(view, META_QUEUED, queued)?;
    adjust(view, META_FAILED, failed)
}

impl Store {
    /// Rebuild the due index and the counts from the messages (at open).
    pub(super) fn rebuild_outbox_index(&self) -> Result<(), Error> {
        self.outbox_due.clear()?;
        let (mut queued, mut failed) = (0u64, 0u64);
        let mut batch = sled::Batch::default();
        for value in self.outbox.iter().values() {
            let item = match decode_outbox(&value?) {
                Ok(item) => item,
                Err(e) => {
                    tracing::error!(error = %crate::error::DisplayChain(&e), "skipping an undecodable outbox message");
                    continue;
                }
            };
            if let Some(key) = queued_key(&item) {
                batch.insert(&key[..], &[][..]);
            }
            let (q, f) = counted(&item);
            queued += q as u64;
            failed += f as u64;
        }
        self.outbox_due.apply_batch(batch)?;
        self.meta.insert(META_QUEUED, &queued.to_be_bytes())?;
        self.meta.insert(META_FAILED, &failed.to_be_bytes())?;
        Ok(())
    }

    /// One page of the outbox in id order (the order of queuing): queued and failed.
    pub fn outbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, bool), Error> {
        let start = match after {
            Some(id) => Bound::Excluded(id.to_be_bytes().to_vec()),
            None => Bound::Unbounded,
        };
        let mut items = Vec::with_capacity(limit.min(256));
        let mut values = self
            .outbox
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .values();
        for value in values.by_ref().take(limit) {
            items.push(decode_outbox(&value?)?);
        }
        Ok((items, values.next().is_some()))
    }

    /// Up to `limit` messages on `kind` due at `now`, the earliest due first. Only these
    /// are read and decoded.
    pub fn outbox_due(
        &self,
        kind: ChannelKind,
        now: u64,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, Error> {
        let from = due_key(kind, 0, 0);
        let to = due_key(kind, now.saturating_add(1), 0);
        let mut items = Vec::with_capacity(limit.min(64));
        for key in self.outbox_due.range(from..to).keys().take(limit) {
            let key = key?;
            let value = match id_of(&key) {
                Some(id) => self.outbox.get(id.to_be_bytes())?,
                None => None,
            };
            match value.map(|v| decode_outbox(&v)) {
                Some(Ok(item)) => items.push(item),
                // An entry without a readable message would stop the channel: drop it
                // from the index (the message, if any, stays for `authctl outbox`).
                Some(Err(e)) => {
                    tracing::error!(error = %crate::error::DisplayChain(&e), "skipping an undecodable outbox message");
                    self.drop_due(&key)?;
                }
                None => self.drop_due(&key)?,
            }
        }
        Ok(items)
    }

    /// Take `key` out of the due index (with the next commit).
    fn drop_due(&self, key: &[u8]) -> Result<(), Error> {
        self.staging.change(|view| {
            view.remove(TreeId::OutboxDue, key);
            Ok(())
        })
    }

    /// When the earliest queued message on `kind` falls due, if any is queued.
    pub fn outbox_next_due(&self, kind: ChannelKind) -> Result<Option<u64>, Error> {
        let from = due_key(kind, 0, 0);
        let to = due_key(kind, u64::MAX, u64::MAX);
        Ok(self
            .outbox_due
            .range(from..=to)
            .keys()
            .next()
            .transpose()?
            .and_then(|key| key.get(1..9).and_then(|b| <[u8; 8]>::try_from(b).ok()))
            .map(u64::from_be_bytes))
    }

    /// (queued, failed) message counts: two reads.
    pub fn outbox_counts(&self) -> Result<(u64, u64), Error> {
        Ok((
            read_u64(self.staging.get(TreeId::Meta, META_QUEUED)?),
            read_u64(self.staging.get(TreeId::Meta, META_FAILED)?),
        ))
    }

    /// Record what happened to a delivery attempt: `Some(item)` replaces the queued
    /// message (retry later, or failed), `None` removes it (delivered). The event goes
    /// to the account's history when the account still exists.
    pub fn outbox_settle(
        &self,
        id: u64,
        item: Option<&OutboxItem>,
        account: &str,
        event: Option<&Event>,
        now: u64,
    ) -> Result<(), Error> {
        self.staging.change(|view| {
            let Some(old) = message(view, id)? else {
                // Purged by an admin while it was being delivered: it stays removed.
                return Ok(());
            };
            replace(view, &old, item)?;
            if let Some(event) = event {
                audit(view, account, event, now)?;
            }
            Ok(())
        })
    }

    /// Stage the removal of up to `limit` messages delivered before `before`; how many.
    /// Reads the whole outbox: delivered messages are kept for days, not forever, and
    /// this runs a few times an hour.
    pub fn outbox_prune_delivered(&self, before: u64, limit: usize) -> Result<u64, Error> {
        let mut old = Vec::new();
        for value in self.outbox.iter().values() {
            let Ok(item) = decode_outbox(&value?) else {
                continue;
            };
            if item.delivered.is_some_and(|at| at < before) {
                old.push(item.id);
                if old.len() >= limit {
                    break;
                }
            }
        }
        self.staging.change(|view| {
            for id in &old {
                view.remove(TreeId::Outbox, &id.to_be_bytes()[..]);
            }
            Ok(())
        })?;
        Ok(old.len() as u64)
    }

    /// Stage an admin's change to the message `id`, decided on it as it is now:
    /// `change` returns what replaces it (`Some`) or `None` to remove it, with the event
    /// for its account's history, or nothing to leave it as it is. `Ok(false)` when there
    /// is no such message.
    pub fn outbox_change(
        &self,
        id: u64,
        now: u64,
        change: &mut OutboxChange<'_>,
    ) -> Result<bool, Error> {
        self.staging.change(|view| {
            let Some(old) = message(view, id)? else {
                return Ok(false);
            };
            if let Some((new, event)) = change(&old)? {
                replace(view, &old, new.as_ref())?;
                audit(view, &old.account, &event, now)?;
            }
            Ok(true)
        })
    }
}

/// The message `id` as it is now, staged changes included.
fn message(view: &mut View<'_>, id: u64) -> Result<Option<OutboxItem>, Error> {
    view.get(TreeId::Outbox, &id.to_be_bytes())?
        .map(|b| decode_outbox(&b))
        .transpose()
}

/// Put `new` (or nothing) where `old` was, keeping the due index and the counts.
fn replace(view: &mut View<'_>, old: &OutboxItem, new: Option<&OutboxItem>) -> Result<(), Error> {
    let id = old.id;
    if let Some(key) = queued_key(old) {
        view.remove(TreeId::OutboxDue, &key[..]);
    }
    match new {
        Some(item) => {
            view.insert(TreeId::Outbox, &id.to_be_bytes()[..], encode_outbox(item));
            if let Some(key) = queued_key(item) {
                view.insert(TreeId::OutboxDue, &key[..], &[][..]);
            }
        }
        None => view.remove(TreeId::Outbox, &id.to_be_bytes()[..]),
    }
    let (was_queued, was_failed) = counted(old);
    let (queued, failed) = new.map(counted).unwrap_or((0, 0));
    adjust(view, META_QUEUED, queued - was_queued)?;
    adjust(view, META_FAILED, failed - was_failed)
}

/// Append `event` to `account`'s history, if the account still exists.
fn audit(view: &mut View<'_>, account: &str, event: &Event, now: u64) -> Result<(), Error> {
    if let Some(mut acc) = current(view, account)? {
        append_audit(view, &mut acc, event, now);
        view.insert(TreeId::Accounts, account.as_bytes(), encode_account(&acc));
    }
    Ok(())
}

/// An admin's change to one outbox message (`Backend::outbox_change`): what replaces
/// it (`None`: removed) and the audit event; `None` leaves the message as it is.
pub type OutboxChange<'a> =
    dyn FnMut(&OutboxItem) -> Result<Option<(Option<OutboxItem>, Event)>, Error> + 'a;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Action, Outcome};
    use crate::store::{Account, Channel, Effects};

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8).unwrap();
        let event = Event::new(Action::AccountAdded, Outcome::Ok, "test", String::new());
        store
            .create(&Account::new("a".into(), 1), &event, 1)
            .unwrap();
        (dir, store)
    }

    fn queue_one(store: &Store, channel: Channel, now: u64) {
        let event = Event::new(Action::ResetRequested, Outcome::Ok, "test", String::new());
        (store as &dyn crate::store::Backend)
            .update_with("a", now, |_, effects: &mut Effects| {
                let item = OutboxItem::queued("a", channel.clone(), vec![1], now);
                effects.messages.push(item);
                Ok(event.clone().into())
            })
            .unwrap();
        store.flush_offline().unwrap();
    }

    fn mail() -> Channel {
        Channel::Mail {
            from: "f@example.org".into(),
            to: "t@example.org".into(),
            subject: "s".into(),
        }
    }

    fn sms() -> Channel {
        Channel::Sms {
            to: "+4930901820".into(),
        }
    }

    #[test]
    fn each_channel_pages_through_its_own_due_messages() {
        let (_dir, store) = open();
        for now in [10, 11, 12] {
            queue_one(&store, mail(), now);
        }
        queue_one(&store, sms(), 13);
        assert_eq!(store.outbox_counts().unwrap(), (4, 0));
        let due = store.outbox_due(ChannelKind::Mail, 11, 10).unwrap();
        assert_eq!(due.iter().map(|i| i.created).collect::<Vec<_>>(), [10, 11]);
        assert_eq!(
            store.outbox_due(ChannelKind::Mail, 100, 1).unwrap().len(),
            1
        );
        let sms_due = store.outbox_due(ChannelKind::Sms, 100, 10).unwrap();
        assert_eq!(sms_due.len(), 1);
        assert_eq!(store.outbox_next_due(ChannelKind::Sms).unwrap(), Some(13));

        // A retry moves the message back in its channel's order; a failure takes it out
        // of the index; a delivery removes it.
        let mut first = due[0].clone();
        first.attempts = 1;
        first.next_attempt = 50;
        store
            .outbox_settle(first.id, Some(&first), "a", None, 20)
            .unwrap();
        store.flush_offline().unwrap();
        let order: Vec<u64> = store
            .outbox_due(ChannelKind::Mail, 100, 10)
            .unwrap()
            .iter()
            .map(|i| i.next_attempt)
            .collect();
        assert_eq!(order, [11, 12, 50]);
        assert_eq!(store.outbox_next_due(ChannelKind::Mail).unwrap(), Some(11));
        let mut second = due[1].clone();
        second.failed = true;
        store
            .outbox_settle(second.id, Some(&second), "a", None, 20)
            .unwrap();
        store.flush_offline().unwrap();
        store
            .outbox_settle(sms_due[0].id, None, "a", None, 20)
            .unwrap();
        store.flush_offline().unwrap();
        assert_eq!(store.outbox_counts().unwrap(), (2, 1));
        assert_eq!(store.outbox_next_due(ChannelKind::Sms).unwrap(), None);
        assert_eq!(store.outbox(None, 10).unwrap().0.len(), 3);
    }

    #[test]
    fn an_index_entry_without_a_readable_message_is_dropped() {
        let (_dir, store) = open();
        queue_one(&store, mail(), 10);
        store
            .outbox_due
            .insert(&due_key(ChannelKind::Mail, 5, 999)[..], &[][..])
            .unwrap();
        store
            .outbox
            .insert(998u64.to_be_bytes(), &[9, 9][..])
            .unwrap();
        store
            .outbox_due
            .insert(&due_key(ChannelKind::Mail, 6, 998)[..], &[][..])
            .unwrap();
        let due = store.outbox_due(ChannelKind::Mail, 100, 10).unwrap();
        assert_eq!(due.len(), 1);
        store.flush_offline().unwrap();
        assert_eq!(store.outbox_next_due(ChannelKind::Mail).unwrap(), Some(10));
    }

    #[test]
    fn the_index_and_counts_are_rebuilt_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 8).unwrap();
            let event = Event::new(Action::AccountAdded, Outcome::Ok, "test", String::new());
            store
                .create(&Account::new("a".into(), 1), &event, 1)
                .unwrap();
            queue_one(&store, mail(), 5);
            queue_one(&store, sms(), 6);
            let mut failed = store.outbox_due(ChannelKind::Sms, 10, 1).unwrap()[0].clone();
            failed.failed = true;
            store
                .outbox_settle(failed.id, Some(&failed), "a", None, 7)
                .unwrap();
            store.flush_offline().unwrap();
            // As a restored backup would be: no index, stale counts.
            store.outbox_due.clear().unwrap();
            store.meta.insert(META_QUEUED, &9u64.to_be_bytes()).unwrap();
            store.flush_offline().unwrap();
        }
        let store = Store::open(dir.path(), 8).unwrap();
        assert_eq!(store.outbox_counts().unwrap(), (1, 1));
        assert_eq!(
            store.outbox_due(ChannelKind::Mail, 10, 10).unwrap().len(),
            1
        );
        assert!(store
            .outbox_due(ChannelKind::Sms, 10, 10)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn an_admin_change_is_decided_on_the_message_and_a_purged_one_stays_purged() {
        let (_dir, store) = open();
        queue_one(&store, mail(), 10);
        let item = store.outbox_due(ChannelKind::Mail, 10, 1).unwrap()[0].clone();
        let event = Event::new(Action::OutboxPurged, Outcome::Ok, "test", String::new());
        // Left as it is: nothing staged.
        assert!(store.outbox_change(item.id, 11, &mut |_| Ok(None)).unwrap());
        assert_eq!(store.outbox_counts().unwrap(), (1, 0));
        let purge = &mut |_: &OutboxItem| Ok(Some((None, event.clone())));
        assert!(store.outbox_change(item.id, 11, purge).unwrap());
        store.flush_offline().unwrap();
        assert!(!store.outbox_change(item.id, 12, purge).unwrap());
        // A courier that had the message in hand settles afterwards: it stays removed.
        let mut tried = item.clone();
        tried.attempts = 1;
        store
            .outbox_settle(item.id, Some(&tried), "a", None, 13)
            .unwrap();
        store.flush_offline().unwrap();
        assert_eq!(store.outbox_counts().unwrap(), (0, 0));
        assert!(store.outbox(None, 10).unwrap().0.is_empty());
        assert!(store
            .outbox_due(ChannelKind::Mail, 100, 10)
            .unwrap()
            .is_empty());
    }
}
