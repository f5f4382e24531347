//! Golden layout of what the store keeps around its records: which tree each record is in
//! (its number in a backup file), the keys (an account's name; name, NUL, big-endian
//! sequence for history; the big-endian id for a message) and the `meta` values
//! (big-endian numbers, the key check value, a 16-byte store id). Checked both ways: a
//! store written through its API holds exactly these records (seen in a snapshot, which
//! copies the trees as they are), and a store restored from them reads them back.
//!
//! The record values are the golden records of `golden.rs`; the outbox's due index and
//! its counts are left out of the reading side: they are derived, rebuilt at every open.

use super::hex;
use crate::audit::{Action, Event, Outcome};
use crate::backup_file::{read_all, Record};
use crate::store::records::{encode_account, encode_audit, encode_outbox, AuditEntry};
use crate::store::{restore, Account, Channel, ChannelKind, OutboxItem, Store, SCHEMA_VERSION};
use crate::vault::{context, Vault};

const T: u64 = 1_700_000_000;

fn vault() -> Vault {
    Vault::from_key(&[7; 32])
}

fn alice() -> Account {
    Account {
        audit_seq: 2,
        updated: T + 1,
        ..Account::new("alice".into(), T)
    }
}

fn entry(seq: u64, at: u64, action: Action) -> AuditEntry {
    AuditEntry {
        seq,
        at,
        action: action.as_str().into(),
        outcome: "ok".into(),
        actor: "test".into(),
        detail: String::new(),
    }
}

/// The first message a store queues (id 0), sealed under `vault` for alice.
fn message(vault: &Vault) -> OutboxItem {
    let channel = Channel::Mail {
        from: "authd@example.org".into(),
        to: "alice@example.org".into(),
        subject: "Reset your password".into(),
    };
    let sealed = vault.seal(&context("mail", "alice"), b"mail").unwrap();
    OutboxItem::queued("alice", channel, sealed, T + 1)
}

/// The records of a store holding alice (2 history entries) and one queued message, at
/// generation 1, in snapshot order: tree number, key, value.
fn layout(vault: &Vault, item: &OutboxItem, store_id: &[u8]) -> Vec<Record> {
    let u64_be = |n: u64| n.to_be_bytes().to_vec();
    let rows: [(u8, &[u8], Vec<u8>); 11] = [
        (0, b"alice", encode_account(&alice())),
        (
            1,
            b"alice\0\0\0\0\0\0\0\0\x01",
            encode_audit(&entry(1, T, Action::AccountAdded)),
        ),
        (
            1,
            b"alice\0\0\0\0\0\0\0\0\x02",
            encode_audit(&entry(2, T + 1, Action::ResetRequested)),
        ),
        (2, b"accounts", u64_be(1)),
        (2, b"generation", u64_be(1)),
        (2, b"key_check", vault.check_value().to_vec()),
        (2, b"outbox_failed", u64_be(0)),
        (2, b"outbox_queued", u64_be(1)),
        (2, b"schema_version", vec![0, 0, 0, 1]),
        (2, b"store_id", store_id.to_vec()),
        (4, &[0; 8], encode_outbox(item)),
    ];
    rows.into_iter()
        .map(|(tree, key, value)| (tree, key.to_vec(), value))
        .collect()
}

/// Records as text, for a readable difference.
fn shown(records: &[Record]) -> Vec<(u8, String, String)> {
    records
        .iter()
        .map(|(tree, key, value)| (*tree, hex(key), hex(value)))
        .collect()
}

fn event(action: Action) -> Event {
    Event::new(action, Outcome::Ok, "test", String::new())
}

#[test]
fn a_store_writes_its_trees_keys_and_meta_values_as_before() {
    let vault = vault();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 8).unwrap();
    store.record_key_check(&vault).unwrap();
    let id = store.new_identity().unwrap();
    store
        .create(
            &Account::new("alice".into(), T),
            &event(Action::AccountAdded),
            T,
        )
        .unwrap();
    let item = message(&vault);
    (&store as &dyn crate::store::Backend)
        .update_with("alice", T + 1, |_, effects| {
            effects.messages.push(item.clone());
            Ok(event(Action::ResetRequested).into())
        })
        .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(store.durable())
        .unwrap();

    let mut out = Vec::new();
    store.snapshot(&mut out, vault.backup_mac()).unwrap();
    let records = read_all(&out[..], SCHEMA_VERSION).unwrap().records;
    let id = super::unhex(&id);
    assert_eq!(id.len(), 16);
    assert_eq!(shown(&records), shown(&layout(&vault, &item, &id)));
}

#[test]
fn a_store_reads_the_committed_layout() {
    let vault = vault();
    let item = message(&vault);
    let records = layout(&vault, &item, &[0x5a; 16]);
    let checked = restore::check(records, &vault).unwrap();
    let dir = tempfile::tempdir().unwrap();
    Store::restore(dir.path(), checked, &vault).unwrap();

    let store = Store::open(dir.path(), 8).unwrap();
    assert_eq!(store.schema_version().unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(store.account_count().unwrap(), 1);
    assert!(store.account("alice").unwrap().unwrap() == alice());
    let (history, more) = store.history("alice", None, 10).unwrap();
    assert!(!more);
    let history: Vec<_> = history
        .into_iter()
        .map(|e| (e.seq, e.at, e.action))
        .collect();
    assert_eq!(
        history,
        [
            (2, T + 1, "reset-requested".to_string()),
            (1, T, "account-added".to_string())
        ]
    );
    assert_eq!(store.outbox(None, 10).unwrap(), (vec![item.clone()], false));
    assert_eq!(store.outbox_counts().unwrap(), (1, 0));
    assert_eq!(
        store.outbox_due(ChannelKind::Mail, T + 1, 10).unwrap(),
        [item]
    );
}
