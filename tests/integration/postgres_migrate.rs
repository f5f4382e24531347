//! `authd migrate --from sled:DIR --to postgres:URL`: a host's sled store moves into an
//! empty database whole (passwords, TOTP, history, the outbox), a daemon on the database
//! with the same key serves it, a second run writes nothing, and a database that holds
//! other data, or a store whose daemon is running, is refused.

use std::process::{Command, Output};

use crate::daemon::*;
use crate::oath::{enrol, oathtool};
use crate::pg::TestDb;
use crate::postgres::pg_config;

fn migrate(from: &std::path::Path, db: &TestDb) -> Output {
    Command::new(AUTHD)
        .arg("migrate")
        .arg("--from")
        .arg(format!("sled:{}", from.display()))
        .arg("--to")
        .arg(format!("postgres:{}", db.url()))
        .output()
        .unwrap()
}

#[test]
fn a_sled_store_moves_into_an_empty_database_once() {
    if crate::daemon::sled_only("needs a sled host to migrate") {
        return;
    }
    if !have("oathtool") {
        return;
    }
    let mut host = Daemon::start();
    host.user_with_password("alice");
    host.user_with_password("bob");
    let (secret, _) = enrol(&host, "alice");
    assert_ok(&host.ctl(&["set-user", "bob", "--email", "bob@example.org"]));
    assert_ok(&host.ctl(&["send-reset", "bob"]));
    let history = json(&host.ctl(&["--json", "log", "alice"]))["events"]
        .as_array()
        .unwrap()
        .len();
    let db = TestDb::create();

    // Not while the daemon holds the store.
    let busy = migrate(&host.state_dir(), &db);
    assert_eq!(busy.status.code(), Some(1), "{}", stderr(&busy));
    assert!(
        stderr(&busy).contains("cannot open the sled store"),
        "{}",
        stderr(&busy)
    );
    assert_eq!(db.sql("SELECT to_regclass('accounts') IS NULL").trim(), "t");

    host.stop();
    let out = migrate(&host.state_dir(), &db);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("migrated 2 accounts"),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.sql("SELECT count(*) FROM accounts").trim(), "2");

    // Once more: done already, nothing written.
    let again = migrate(&host.state_dir(), &db);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).starts_with("already migrated"),
        "{}",
        stdout(&again)
    );
    assert_eq!(db.sql("SELECT count(*) FROM accounts").trim(), "2");

    // A daemon on the database, with the store's key, serves what the host had.
    let key = host.state_dir().join("secret.key");
    let d = Daemon::start_with_key(&pg_config(&db, ""), &key);
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "bob"]));
    let code = oathtool(&secret, 1);
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &code]));
    let moved = json(&d.ctl(&["--json", "log", "alice"]))["events"]
        .as_array()
        .unwrap()
        .len();
    assert!(moved > history, "history {history} then {moved}");
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 2);
    // New accounts and messages go on after the migrated ones.
    assert_ok(&d.ctl(&["add-user", "carol", "--email", "carol@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "carol"]));
}

#[test]
fn a_database_with_other_data_or_a_wrong_source_is_refused() {
    let mut host = Daemon::start();
    host.user_with_password("alice");
    host.stop();
    let db = TestDb::create();
    let other = Daemon::start_with_config(&pg_config(&db, ""));
    assert_ok(&other.ctl(&["add-user", "zed"]));
    drop(other);
    // The database has another key recorded: 78.
    let out = migrate(&host.state_dir(), &db);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not belong to the database"),
        "{}",
        stderr(&out)
    );
    // Same key, but the database holds accounts of its own: 73, nothing written.
    let db2 = TestDb::create();
    let key = host.state_dir().join("secret.key");
    let mine = Daemon::start_with_key(&pg_config(&db2, ""), &key);
    assert_ok(&mine.ctl(&["add-user", "zed"]));
    drop(mine);
    let out = migrate(&host.state_dir(), &db2);
    assert_eq!(out.status.code(), Some(73), "{}", stderr(&out));
    assert!(stderr(&out).contains("migrate only into an empty database"));
    assert_eq!(db2.sql("SELECT count(*) FROM accounts").trim(), "1");
    // Bad arguments: 2.
    let out = Command::new(AUTHD)
        .args(["migrate", "--from", "relative/dir", "--to", "postgres:x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
