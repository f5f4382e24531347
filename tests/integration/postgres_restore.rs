//! `authd restore` and PostgreSQL (authd(8), BACKUP AND RESTORE; README, Many hosts): a
//! sled host's backup restores into an empty database that daemons then serve, a
//! database's backup restores into a sled state directory (and into another database),
//! and a database that holds data, has another key, cannot be reached or is named
//! together with --state-dir is refused with its exit status, writing nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::daemon::*;
use crate::oath::{enrol, oathtool};
use crate::pg::TestDb;
use crate::postgres::pg_config;

/// A backup of `d`, and a copy of its key outside any state directory.
fn backup_of(d: &Daemon) -> (PathBuf, PathBuf) {
    let backup = d.dir.path().join("taken.backup");
    assert_ok(&d.ctl(&["backup", "--output", backup.to_str().unwrap()]));
    let key = d.dir.path().join("store.key");
    std::fs::copy(d.state_dir().join("secret.key"), &key).unwrap();
    (backup, key)
}

/// alice with a password and TOTP, bob with an address and a reset mail that stays
/// queued (nothing listens on port 9): every table has rows. Returns alice's secret and
/// recovery codes.
fn populate(d: &Daemon) -> (String, Vec<String>) {
    d.user_with_password("alice");
    let enrolled = enrol(d, "alice");
    assert_ok(&d.ctl(&["add-user", "bob", "--email", "bob@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "bob"]));
    enrolled
}

const DEAD_MAIL: &str =
    "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n";

/// `authd restore ARGS... FILE`, with no credentials directory to fall back on.
fn restore(args: &[&str], file: &Path) -> Output {
    Command::new(AUTHD)
        .arg("restore")
        .args(args)
        .arg(file)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap()
}

/// A configuration for `db`, not started, with `key` (if any) as its state directory's
/// key, as an admin prepares a host before restoring.
fn prepared(db: &TestDb, key: Option<&Path>) -> (tempfile::TempDir, PathBuf) {
    let (dir, config) = Daemon::prepare(&pg_config(db, DEAD_MAIL));
    if let Some(key) = key {
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        std::fs::copy(key, state.join("secret.key")).unwrap();
    }
    (dir, config)
}

#[track_caller]
fn says(out: &Output, code: i32, parts: &[&str]) {
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    for part in parts {
        assert!(
            stderr(out).contains(part),
            "{part:?} not in: {}",
            stderr(out)
        );
    }
}

#[test]
fn a_sled_backup_restores_into_an_empty_database_that_daemons_then_serve() {
    if !have("oathtool") {
        return;
    }
    // A sled host, whatever store the suite runs on.
    let host = Daemon::start_with_config(&format!(
        "{DEAD_MAIL}{TEST_CONFIG}\n[store]\nbackend = \"sled\"\n"
    ));
    let (secret, codes) = populate(&host);
    let (backup, key) = backup_of(&host);

    let db = TestDb::create();
    let (dir, config) = prepared(&db, Some(&key));
    let out = restore(&["--config", config.to_str().unwrap()], &backup);
    assert_ok(&out);
    let said = stdout(&out);
    assert!(said.contains("(2 accounts) into the database"), "{said}");
    assert!(said.contains("the key is in place"), "{said}");
    assert_eq!(db.sql("SELECT count(*) FROM accounts"), "2");

    let d = Daemon::from_existing(dir, config);
    for name in ["alice", "bob"] {
        assert_eq!(show(&host, name), show(&d, name), "{name} differs");
    }
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &oathtool(&secret, 1)]));
    let status = json(&d.ctl(&["--json", "status"]));
    assert_eq!(status["accounts"], 2);
    assert_eq!(status["outbox_queued"], 1);
    // A second daemon with a copy of the key shares it; new messages get new ids.
    let other = Daemon::start_with_key(&pg_config(&db, DEAD_MAIL), &key);
    assert_ok(&other.ctl_stdin(&pw(), &["verify", "alice", "--code", &codes[0]]));
    assert_ok(&other.ctl(&["add-user", "carol", "--email", "carol@example.org"]));
    assert_ok(&other.ctl(&["send-reset", "carol"]));
    assert_eq!(d.outbox_len(), 2);
}

#[test]
fn a_database_backup_restores_into_sled_and_into_another_database() {
    if !have("oathtool") {
        return;
    }
    let db = TestDb::create();
    let source = Daemon::start_with_config(&pg_config(&db, DEAD_MAIL));
    let (secret, _) = populate(&source);
    // As a migrated database has it: a record of its own that sled's `meta` never holds.
    db.sql("INSERT INTO meta (key, value) VALUES ('migrated_from', '\\x00')");
    let (backup, key) = backup_of(&source);

    // Into sled (the form without a configuration).
    let sled = tempfile::tempdir().unwrap();
    let state = sled.path().join("state");
    let out = restore(
        &[
            "--state-dir",
            state.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
        &backup,
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains("(2 accounts) into"),
        "{}",
        stdout(&out)
    );
    std::fs::copy(&key, state.join("secret.key")).unwrap();
    let config = sled.path().join("authd.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{DEAD_MAIL}{TEST_CONFIG}\n[store]\nbackend = \"sled\"\n",
            sled.path().join("r.sock").display(),
            state.display()
        ),
    )
    .unwrap();
    let on_sled = Daemon::from_existing(sled, config);
    assert_ok(&on_sled.ctl_stdin(&pw(), &["verify", "alice", "--code", &oathtool(&secret, 1)]));
    assert_eq!(show(&source, "bob"), show(&on_sled, "bob"));

    // Into another database, with --config before `restore` and the key given.
    let other = TestDb::create();
    let (dir, config) = prepared(&other, None);
    let out = Command::new(AUTHD)
        .arg("--config")
        .arg(&config)
        .args(["restore", "--key", key.to_str().unwrap()])
        .arg(&backup)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        stdout(&out).contains("give this host's daemon a copy"),
        "{}",
        stdout(&out)
    );
    std::fs::create_dir(dir.path().join("state")).unwrap();
    std::fs::copy(&key, dir.path().join("state/secret.key")).unwrap();
    let on_db = Daemon::from_existing(dir, config);
    // Another copy of the backup: the same next code works there too.
    assert_ok(&on_db.ctl_stdin(&pw(), &["verify", "alice", "--code", &oathtool(&secret, 1)]));
    assert_eq!(
        other.sql("SELECT count(*) FROM meta WHERE key = 'migrated_from'"),
        "0"
    );
}

#[test]
fn a_database_that_is_not_empty_or_not_usable_is_refused_and_keeps_what_it_had() {
    let host = Daemon::start_with_config(&format!(
        "{DEAD_MAIL}{TEST_CONFIG}\n[store]\nbackend = \"sled\"\n"
    ));
    populate_without_totp(&host);
    let (backup, key) = backup_of(&host);
    let key_arg = key.to_str().unwrap();

    // A database with an account of its own (same key): 73, untouched.
    let busy = TestDb::create();
    let zed = Daemon::start_with_key(&pg_config(&busy, ""), &key);
    assert_ok(&zed.ctl(&["add-user", "zed"]));
    drop(zed);
    let (_dir, config) = prepared(&busy, None);
    let out = restore(
        &["--config", config.to_str().unwrap(), "--key", key_arg],
        &backup,
    );
    says(
        &out,
        73,
        &[
            "is not empty (1 accounts",
            "restore only into a new or empty database",
        ],
    );
    assert_eq!(
        busy.sql("SELECT string_agg(name, ',') FROM accounts"),
        "zed"
    );

    // An empty database whose first daemon made (and recorded) another key: 78.
    let other_key = TestDb::create();
    drop(Daemon::start_with_config(&pg_config(&other_key, "")));
    let (_dir, config) = prepared(&other_key, None);
    let out = restore(
        &["--config", config.to_str().unwrap(), "--key", key_arg],
        &backup,
    );
    says(&out, 78, &["does not belong to the database"]);
    assert_eq!(other_key.sql("SELECT count(*) FROM accounts"), "0");

    // The backup checked with the wrong key: 65, before the database is touched.
    let fresh = TestDb::create();
    let (dir, config) = prepared(&fresh, None);
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, [0x5a; 32]).unwrap();
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = restore(
        &[
            "--config",
            config.to_str().unwrap(),
            "--key",
            wrong.to_str().unwrap(),
        ],
        &backup,
    );
    says(&out, 65, &["another secret key"]);
    assert_eq!(fresh.sql("SELECT to_regclass('accounts') IS NULL"), "t");
    // No key at all (none in the state directory): 78.
    let out = restore(&["--config", config.to_str().unwrap()], &backup);
    says(&out, 78, &["--key FILE"]);

    // --state-dir with a postgres configuration, or no target at all: 2.
    let out = restore(
        &[
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            "/tmp/x",
            "--key",
            key_arg,
        ],
        &backup,
    );
    says(&out, 2, &["leave out --state-dir"]);
    let out = restore(&["--key", key_arg], &backup);
    says(&out, 2, &["restore needs a target"]);

    // A database nobody answers for: 73; a configuration that does not load: 78.
    let (_dir, config) = Daemon::prepare(&format!(
        "{TEST_CONFIG}\n[store]\nbackend = \"postgres\"\nurl = \"postgresql://root@127.0.0.1:1/none\"\n"
    ));
    let out = restore(
        &["--config", config.to_str().unwrap(), "--key", key_arg],
        &backup,
    );
    says(&out, 73, &["cannot use the database"]);
    let (_dir, config) = Daemon::prepare("[store]\nbackend = \"postgres\"\n");
    let out = restore(
        &["--config", config.to_str().unwrap(), "--key", key_arg],
        &backup,
    );
    says(&out, 78, &["store.url"]);
}

/// `populate` without the TOTP enrolment (no oathtool needed).
fn populate_without_totp(d: &Daemon) {
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["add-user", "bob", "--email", "bob@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "bob"]));
}
