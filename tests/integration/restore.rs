//! `authd restore` against crafted backups: a file that was not written by the daemon
//! with the store's key (its MAC does not verify) is refused, and so is, even with the
//! key's MAC or `--trust-unsigned`, any record the daemon would never write. A refusal
//! writes nothing. The files are made the way an attacker would: a genuine backup taken
//! apart with the library's reader, edited, and written back with the library's writer
//! (under another key, or the real one for a file the daemon could never have made) or
//! as the old unsigned format with a correct SHA-256.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use authd::backup_file::{self as backup, Record};
use authd::store::records::{decode_account, encode_account, encode_outbox};
use authd::store::trees::Tree;
use authd::store::{Channel, OutboxItem, SCHEMA_VERSION};
use authd::vault::Vault;
use sha2::{Digest, Sha256};

use crate::daemon::*;

const ACCOUNTS: u8 = Tree::Accounts.backup_number().unwrap();
const META: u8 = Tree::Meta.backup_number().unwrap();
const OUTBOX: u8 = Tree::Outbox.backup_number().unwrap();

/// A daemon with accounts of every kind, and a genuine backup of it.
struct Source {
    daemon: Daemon,
    backup: PathBuf,
    /// A copy of the store's key, 0600, outside any state directory.
    key: PathBuf,
}

/// `openssl passwd -6 -salt saltsalt hunter22`.
const SHA512: &str = "$6$saltsalt$5mR43xQaRO8UqNJiGE2zcmprBTlO9lTdMHosy2oRT70EPekI6VsnFfjuo.EkgAwlkxAXJglqAax0P4w5f3EVa.";

fn source() -> Source {
    // Nothing listens on port 9: the reset mail stays queued, so the outbox is in the
    // backup too.
    let daemon = Daemon::start_with_config(&format!(
        "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n{TEST_CONFIG}"
    ));
    daemon.user_with_password("alice");
    assert_ok(&daemon.ctl(&["enable-totp", "alice"])); // a sealed secret, pending
    assert_ok(&daemon.ctl(&[
        "add-user",
        "bob",
        "--email",
        "bob@example.org",
        "--phone",
        "+44 7911 123456",
    ]));
    assert_ok(&daemon.ctl(&["send-reset", "bob"])); // a reset token and a queued mail
    let backup = daemon.dir.path().join("genuine.backup");
    assert_ok(&daemon.ctl(&["backup", "--output", backup.to_str().unwrap()]));
    let key = daemon.dir.path().join("store.key");
    std::fs::copy(daemon.state_dir().join("secret.key"), &key).unwrap();
    Source {
        daemon,
        backup,
        key,
    }
}

fn records(file: &Path) -> Vec<Record> {
    let bytes = std::fs::read(file).unwrap();
    backup::read_all(&bytes[..], SCHEMA_VERSION)
        .unwrap()
        .records
}

fn key_bytes(key: &Path) -> [u8; 32] {
    std::fs::read(key).unwrap().try_into().unwrap()
}

/// A format 2 file MACed with `key`, written by the library's own writer.
fn signed(records: &[Record], key: &[u8; 32]) -> Vec<u8> {
    let mac = Vault::from_key(key).backup_mac();
    let mut w = backup::Writer::new(Vec::new(), SCHEMA_VERSION, mac).unwrap();
    for (tree, k, v) in records {
        w.record(*tree, k, v).unwrap();
    }
    w.finish().unwrap().0
}

/// The format from before backups were signed: a SHA-256 anyone can compute, no MAC.
fn unsigned(records: &[Record]) -> Vec<u8> {
    let mut body = backup::MAGIC.to_vec();
    body.extend_from_slice(&backup::FORMAT_UNSIGNED.to_be_bytes());
    body.extend_from_slice(&SCHEMA_VERSION.to_be_bytes());
    for (tree, k, v) in records {
        body.push(*tree);
        body.extend_from_slice(&(k.len() as u32).to_be_bytes());
        body.extend_from_slice(k);
        body.extend_from_slice(&(v.len() as u32).to_be_bytes());
        body.extend_from_slice(v);
    }
    let mut file = body.clone();
    file.push(0xFF);
    file.extend_from_slice(&(records.len() as u64).to_be_bytes());
    file.extend_from_slice(&Sha256::digest(&body));
    file
}

/// Put a record where a snapshot would have it (trees in order, keys sorted).
fn insert(records: &mut Vec<Record>, record: Record) {
    let at = records
        .iter()
        .position(|(t, k, _)| (*t, k) > (record.0, &record.1))
        .unwrap_or(records.len());
    records.insert(at, record);
}

fn set_meta(records: &mut [Record], key: &[u8], value: &[u8]) {
    let slot = records
        .iter_mut()
        .find(|(t, k, _)| *t == META && k == key)
        .unwrap();
    slot.2 = value.to_vec();
}

fn account_count(records: &[Record]) -> u64 {
    records.iter().filter(|(t, _, _)| *t == ACCOUNTS).count() as u64
}

/// Edit the account stored under `name` in place (its key stays).
fn edit_account(records: &mut [Record], name: &str, edit: impl FnOnce(&mut authd::store::Account)) {
    let slot = records
        .iter_mut()
        .find(|(t, k, _)| *t == ACCOUNTS && k == name.as_bytes())
        .unwrap();
    let mut account = decode_account(&slot.2).unwrap();
    edit(&mut account);
    slot.2 = encode_account(&account);
}

fn restore(dir: &Path, file: &Path, args: &[&str]) -> Output {
    Command::new(AUTHD)
        .arg("restore")
        .arg("--state-dir")
        .arg(dir)
        .args(args)
        .arg(file)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap()
}

#[track_caller]
fn refused(out: &Output, says: &[&str]) {
    assert_exit(out, 65);
    let err = stderr(out);
    for s in says {
        assert!(err.contains(s), "expected {s:?} in: {err}");
    }
}

/// A key another store (or an attacker) has.
fn other_key(dir: &Path) -> PathBuf {
    let path = dir.join("other.key");
    std::fs::write(&path, [0x5a; 32]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Each crafted file is refused three ways, and nothing is written: with an attacker's
/// MAC, unsigned without --trust-unsigned, and (a record authd never writes) even with
/// the store's own MAC or with --trust-unsigned.
#[test]
fn crafted_backups_are_refused_and_write_nothing() {
    let s = source();
    let genuine = records(&s.backup);
    let key = key_bytes(&s.key);
    let attacker = key_bytes(&other_key(s.daemon.dir.path()));
    let alice = genuine
        .iter()
        .find(|(t, k, _)| *t == ACCOUNTS && k == b"alice")
        .map(|(_, _, v)| decode_account(v).unwrap())
        .unwrap();

    // (name, edit, what the record check says; None: every record is one authd writes)
    type Edit = Box<dyn Fn(&mut Vec<Record>)>;
    let cases: Vec<(&str, Edit, Option<&[&str]>)> = vec![
        (
            "a root account with a password",
            Box::new(move |r: &mut Vec<Record>| {
                let mut root = authd::store::Account::new("root".into(), 1);
                root.password_hash = alice.password_hash.clone();
                insert(r, (ACCOUNTS, b"root".to_vec(), encode_account(&root)));
                let n = account_count(r);
                set_meta(r, b"accounts", &n.to_be_bytes());
            }),
            None,
        ),
        (
            "an account count of 2^63",
            Box::new(|r: &mut Vec<Record>| set_meta(r, b"accounts", &(1u64 << 63).to_be_bytes())),
            Some(&[
                "meta \"accounts\"",
                "says 9223372036854775808 accounts",
                "holds 2",
            ]),
        ),
        (
            "a key that is not the name inside its record",
            Box::new(|r: &mut Vec<Record>| {
                let bob = r
                    .iter()
                    .position(|(t, k, _)| *t == ACCOUNTS && k == b"bob")
                    .unwrap();
                let (_, _, value) = r.remove(bob);
                insert(r, (ACCOUNTS, b"mallory".to_vec(), value));
            }),
            Some(&[
                "accounts \"mallory\"",
                "differs from the name inside the record (\"bob\")",
            ]),
        ),
        (
            "a name with terminal escape sequences",
            Box::new(|r: &mut Vec<Record>| {
                let name = "eve\u{1b}]0;owned\u{7}\u{1b}[2J";
                let eve = authd::store::Account::new(name.into(), 1);
                insert(
                    r,
                    (ACCOUNTS, name.as_bytes().to_vec(), encode_account(&eve)),
                );
                let n = account_count(r);
                set_meta(r, b"accounts", &n.to_be_bytes());
            }),
            Some(&[
                "accounts \"eve\\x1b]0;owned\\x07\\x1b[2J\"",
                "invalid account name",
            ]),
        ),
        (
            "a phone number with shell metacharacters",
            Box::new(|r: &mut Vec<Record>| {
                edit_account(r, "bob", |bob| {
                    bob.phone = Some("+447911123456;touch /tmp/pwned".into())
                })
            }),
            Some(&["accounts \"bob\"", "invalid phone number"]),
        ),
        (
            "an SMS to a number with shell metacharacters",
            Box::new(|r: &mut Vec<Record>| {
                let mut sms = OutboxItem::queued(
                    "bob",
                    Channel::Sms {
                        to: "$(reboot)".into(),
                    },
                    b"sealed?".to_vec(),
                    1,
                );
                sms.id = u64::MAX;
                insert(
                    r,
                    (OUTBOX, sms.id.to_be_bytes().to_vec(), encode_outbox(&sms)),
                );
            }),
            Some(&[
                "outbox #18446744073709551615",
                "invalid phone number `$(reboot)`",
            ]),
        ),
        (
            "a stored email address that is not the stored form",
            Box::new(|r: &mut Vec<Record>| {
                edit_account(r, "bob", |bob| {
                    bob.email = Some("bob@Bücher.example".into())
                })
            }),
            Some(&[
                "accounts \"bob\"",
                "not in the form authd stores (`bob@xn--bcher-kva.example`)",
            ]),
        ),
        // `openssl passwd -6 -salt saltsalt hunter22`, as `authctl import -e` stores it.
        (
            "an imported sha512-crypt hash",
            Box::new(|r: &mut Vec<Record>| {
                edit_account(r, "bob", |bob| bob.password_hash = Some(SHA512.into()))
            }),
            None,
        ),
        (
            "a sha512-crypt hash of 100,000,000 rounds",
            Box::new(|r: &mut Vec<Record>| {
                let costly = SHA512.replace("$6$", "$6$rounds=100000000$");
                edit_account(r, "bob", |bob| bob.password_hash = Some(costly))
            }),
            Some(&[
                "accounts \"bob\"",
                "password hash: sha512-crypt: 100000000 rounds",
            ]),
        ),
    ];

    let work = s.daemon.dir.path();
    let key_arg = s.key.to_str().unwrap();
    for (what, edit, record_says) in &cases {
        let mut r = genuine.clone();
        edit(&mut r);
        let target = work.join("never");
        let file = work.join("crafted.backup");
        let run = |bytes: Vec<u8>, args: &[&str]| {
            std::fs::write(&file, bytes).unwrap();
            let mut all = vec!["--key", key_arg];
            all.extend_from_slice(args);
            let out = restore(&target, &file, &all);
            assert!(
                !target.exists(),
                "{what}: a refused restore wrote something"
            );
            out
        };

        // An attacker without the key: the MAC does not verify.
        let out = run(signed(&r, &attacker), &[]);
        refused(
            &out,
            &["MAC does not verify", "changed since authd wrote it"],
        );
        // Or no MAC at all, as the old format had.
        let out = run(unsigned(&r), &[]);
        refused(&out, &["has no MAC", "--trust-unsigned"]);

        match record_says {
            Some(says) => {
                let out = run(unsigned(&r), &["--trust-unsigned"]);
                refused(&out, &["refused, nothing written"]);
                refused(&out, says);
                // Even a file with the store's own MAC (a bug, or someone with the key).
                let out = run(signed(&r, &key), &[]);
                refused(&out, says);
            }
            // Records authd could write: only the MAC tells this file is not a backup.
            None => {
                std::fs::write(&file, signed(&r, &key)).unwrap();
                assert_ok(&restore(&target, &file, &["--key", key_arg]));
                std::fs::remove_dir_all(&target).unwrap();
            }
        }
    }
}

/// Restore with the key in place, start, and the accounts and their secrets are back.
#[test]
fn a_genuine_backup_restores_with_its_key_and_starts() {
    if crate::daemon::sled_only("restores into a sled directory") {
        return;
    }
    let s = source();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::copy(&s.key, state.join("secret.key")).unwrap();
    let out = restore(&state, &s.backup, &[]); // the key in DIR is the default
    assert_ok(&out);
    let said = stdout(&out);
    assert!(said.contains("(2 accounts)"), "{said}");
    assert!(said.contains("the key is in place"), "{said}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    let config = dir.path().join("authd.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{TEST_CONFIG}",
            dir.path().join("r.sock").display(),
            state.display()
        ),
    )
    .unwrap();
    let b = Daemon::from_existing(dir, config);
    for name in ["alice", "bob"] {
        assert_eq!(
            json(&s.daemon.ctl(&["--json", "show", name])),
            json(&b.ctl(&["--json", "show", name])),
            "{name} differs after restore"
        );
    }
    assert_ok(&b.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
    assert_eq!(json(&b.ctl(&["--json", "status"]))["outbox_queued"], 1);
}

/// One byte changed and the unkeyed SHA-256 recomputed: every record still decodes and
/// passes the checks, so only the MAC refuses it.
#[test]
fn an_edited_backup_with_a_recomputed_checksum_is_refused_by_the_mac() {
    let s = source();
    let mut bytes = std::fs::read(&s.backup).unwrap();
    let at = bytes
        .windows(b"account-added".len())
        .position(|w| w == b"account-added")
        .unwrap();
    bytes[at + b"account-adde".len()] = b'e'; // "account-addee"
    let end = bytes.len() - 32 - 32 - 8 - 1; // MAC, SHA-256, count, 0xFF
    let sum = Sha256::digest(&bytes[..end]);
    bytes[end + 9..end + 41].copy_from_slice(&sum);
    let file = s.daemon.dir.path().join("edited.backup");
    std::fs::write(&file, &bytes).unwrap();
    let target = s.daemon.dir.path().join("never");
    let key = s.key.to_str().unwrap();

    let out = restore(&target, &file, &["--key", key]);
    refused(&out, &["MAC does not verify with the key", key]);
    assert!(!target.exists());
    // authctl-level checks (structure, SHA-256) pass: it really is the MAC.
    let out = restore(&target, &file, &["--key", key, "--trust-unsigned"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("MAC of"), "{}", stderr(&out));
}

/// Backups from before this change have no MAC: refused, unless trusted; trusted, they
/// restore (every record checked) and start.
#[test]
fn trust_unsigned_takes_a_valid_old_backup_and_still_checks_it() {
    if crate::daemon::sled_only("restores into a sled directory") {
        return;
    }
    let s = source();
    let old = s.daemon.dir.path().join("old.backup");
    std::fs::write(&old, unsigned(&records(&s.backup))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let key = s.key.to_str().unwrap();
    refused(&restore(&state, &old, &["--key", key]), &["has no MAC"]);
    assert!(!state.exists());
    let out = restore(&state, &old, &["--key", key, "--trust-unsigned"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("has no MAC; restored because of --trust-unsigned"));
    assert!(stdout(&out).contains("now copy"), "{}", stdout(&out));
    std::fs::copy(&s.key, state.join("secret.key")).unwrap();
    let config = dir.path().join("authd.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{TEST_CONFIG}",
            dir.path().join("r.sock").display(),
            state.display()
        ),
    )
    .unwrap();
    let b = Daemon::from_existing(dir, config);
    assert_ok(&b.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
}

/// The key must be the store's own: its MAC and its key check value say so, with or
/// without --trust-unsigned; a missing key is a configuration error.
#[test]
fn a_backup_restored_with_the_wrong_key_is_refused() {
    let s = source();
    let work = s.daemon.dir.path();
    let wrong = other_key(work);
    let target = work.join("never");
    for extra in [&[][..], &["--trust-unsigned"][..]] {
        let mut args = vec!["--key", wrong.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = restore(&target, &s.backup, &args);
        refused(&out, &["made with another secret key", "key check value"]);
        assert!(!target.exists());
    }
    // The default key: DIR/secret.key, here a wrong one; DIR keeps only it.
    std::fs::create_dir(&target).unwrap();
    std::fs::copy(&wrong, target.join("secret.key")).unwrap();
    refused(&restore(&target, &s.backup, &[]), &["another secret key"]);
    let left: Vec<_> = std::fs::read_dir(&target).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "a refused restore wrote beside the key");
    // No key at all.
    let empty = work.join("empty");
    let out = restore(&empty, &s.backup, &[]);
    assert_exit(&out, 78);
    assert!(stderr(&out).contains("--key FILE"), "{}", stderr(&out));
    assert!(!empty.exists());
}
