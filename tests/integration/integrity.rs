//! Store integrity at start: another secret key, a database that came back empty or
//! rolled back, are refused (exit 78) instead of served; `--force-open` overrides (and is
//! audited); a SIGKILL at any moment and a restore from backup still start cleanly.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authd::client::Client;
use authd::protocol::{AddUser, Request};

use crate::daemon::*;
use crate::spawned::Spawned;

/// Start authd on `d`'s config expecting it to refuse: its output once it exited. Fails
/// the test if it starts serving instead.
fn start_refused(d: &Daemon, env: &[(&str, &Path)]) -> Output {
    let mut child = Spawned::spawn(
        Command::new(AUTHD)
            .arg("--config")
            .arg(&d.config)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Client::connect(&d.socket, "test", Duration::from_secs(5)).is_ok() {
            panic!("authd started and served a store it must refuse");
        }
        assert!(Instant::now() < deadline, "authd neither served nor exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn check_config(d: &Daemon) -> Output {
    Command::new(AUTHD)
        .arg("--config")
        .arg(&d.config)
        .arg("--check-config")
        .output()
        .unwrap()
}

#[track_caller]
fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} missing in:\n{text}");
    }
}

fn sentinel_generation(d: &Daemon) -> u64 {
    std::fs::read_to_string(d.state_dir().join("store.sentinel"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("generation "))
        .unwrap()
        .parse()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status();
    assert!(status.unwrap().success());
}

fn no_such_user(d: &Daemon, name: &str) {
    let out = d.ctl(&["--json", "show", name]);
    assert_exit(&out, 67);
    assert_eq!(json(&out)["error"]["code"], "no_such_user");
}

#[test]
fn another_secret_key_is_refused_at_start() {
    if crate::daemon::sled_only("the sled key check (postgres has its own test)") {
        return;
    }
    let mut d = Daemon::start();
    d.user_with_password("alice");
    d.terminate();
    let key = d.state_dir().join("secret.key");
    let right = std::fs::read(&key).unwrap();
    let wrong: Vec<u8> = right.iter().map(|b| b ^ 0x5a).collect();
    std::fs::write(&key, &wrong).unwrap(); // 32 bytes, still mode 0600

    let out = start_refused(&d, &[]);
    assert_exit(&out, 78);
    let key_name = key.display().to_string();
    assert_says(
        &stderr(&out),
        &[&key_name, "does not belong to this store", "restore"],
    );
    let check = check_config(&d);
    assert_exit(&check, 78);
    assert_says(
        &stdout(&check),
        &["problem: the secret key", "does not belong to this store"],
    );

    // The same key handed over by systemd as a credential.
    std::fs::write(&key, &right).unwrap();
    let creds = d.dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("authd.key"), &wrong).unwrap();
    std::fs::set_permissions(
        creds.join("authd.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = start_refused(&d, &[("CREDENTIALS_DIRECTORY", &creds)]);
    assert_exit(&out, 78);
    let cred_name = creds.join("authd.key").display().to_string();
    assert_says(
        &stderr(&out),
        &[&cred_name, "does not belong to this store"],
    );

    // With its own key back, the store opens and alice's password still works.
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
}

#[test]
fn a_truncated_database_that_comes_up_empty_is_refused_and_force_open_is_audited() {
    if crate::daemon::sled_only("the sled sentinel") {
        return;
    }
    let mut d = Daemon::start();
    for name in ["alice", "bob", "carol"] {
        d.user_with_password(name);
    }
    d.terminate();
    // The damage: the sled log cut short, no snapshot file to recover from.
    let db = d.state_dir().join("db");
    for entry in std::fs::read_dir(&db).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("snap.")
        {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::File::options()
        .write(true)
        .open(db.join("db"))
        .unwrap()
        .set_len(0)
        .unwrap();

    let out = start_refused(&d, &[]);
    assert_exit(&out, 78);
    assert_says(
        &stderr(&out),
        &[
            "is empty",
            "store.sentinel",
            "(3 accounts)",
            "authd restore",
            "--force-open",
        ],
    );
    assert_exit(&check_config(&d), 78);

    // The admin accepts the loss: the store opens as it is, and the override is audited.
    d.spawn_with(&["--force-open"]);
    assert_says(
        &d.log(),
        &[
            "WARN audit: store check overridden with --force-open",
            "action=\"force-open\"",
            "is empty",
        ],
    );
    no_such_user(&d, "alice");
    d.user_with_password("alice");
    d.terminate();
    // The sentinel was rewritten: the next start needs no override.
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
    no_such_user(&d, "bob");
}

#[test]
fn an_older_copy_of_the_database_is_refused_and_a_restored_backup_starts() {
    if crate::daemon::sled_only("the sled sentinel") {
        return;
    }
    let mut d = Daemon::start();
    d.user_with_password("alice");
    d.terminate();
    let old = d.dir.path().join("db.old");
    copy_dir(&d.state_dir().join("db"), &old);
    d.spawn();
    d.user_with_password("bob");
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
    let backup = d.dir.path().join("authd.backup");
    assert_ok(&d.ctl(&["backup", "--output", backup.to_str().unwrap()]));
    d.terminate();
    // Put the older database back: bob and alice's last login are gone.
    std::fs::remove_dir_all(d.state_dir().join("db")).unwrap();
    std::fs::rename(&old, d.state_dir().join("db")).unwrap();

    let out = start_refused(&d, &[]);
    assert_exit(&out, 78);
    assert_says(
        &stderr(&out),
        &["rolled back", "older than generation", "authd restore"],
    );
    let check = check_config(&d);
    assert_exit(&check, 78);
    assert_says(
        &stdout(&check),
        &["problem: the database in", "rolled back"],
    );

    // The fix the message names: restore the latest backup, key copied in first.
    let damaged = d.dir.path().join("state.damaged");
    std::fs::rename(d.state_dir(), &damaged).unwrap();
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(d.state_dir())
        .unwrap();
    std::fs::copy(damaged.join("secret.key"), d.state_dir().join("secret.key")).unwrap();
    let restored = Command::new(AUTHD)
        .arg("restore")
        .arg("--state-dir")
        .arg(d.state_dir())
        .arg(&backup)
        .output()
        .unwrap();
    assert_ok(&restored);
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "bob"]));
    d.terminate();
    d.spawn();
    assert_ok(&d.ctl(&["show", "alice"]));
    // The restored store keeps the key check: another key is refused on it too.
    d.terminate();
    std::fs::write(d.state_dir().join("secret.key"), [7u8; 32]).unwrap();
    assert_exit(&start_refused(&d, &[]), 78);
}

#[test]
fn sigkill_while_writing_never_makes_the_next_start_refuse() {
    if crate::daemon::sled_only("the sled sentinel") {
        return;
    }
    let mut d = Daemon::start();
    for round in 0..3 {
        let before = sentinel_generation(&d);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (socket, stop) = (d.socket.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let Ok(mut client) = Client::connect(&socket, "kill", Duration::from_secs(5))
                    else {
                        return;
                    };
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let add = Request::AddUser(AddUser {
                            name: format!("r{round}w{w}n{i}"),
                            email: None,
                            phone: None,
                            sso: None,
                        });
                        if client.call(&add).is_err() {
                            return;
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        // Kill only once the running daemon has advanced its sentinel under load.
        let deadline = Instant::now() + Duration::from_secs(30);
        while sentinel_generation(&d) <= before {
            assert!(Instant::now() < deadline, "the sentinel never advanced");
            std::thread::sleep(Duration::from_millis(20));
        }
        d.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        d.spawn(); // panics if the start is refused
        assert!(
            !d.log().contains("refusing to open the store"),
            "{}",
            d.log()
        );
    }
}
