//! The PostgreSQL store with one daemon: the everyday flows on a database of the test's
//! own, the schema and key checks at start, and the `[store]` config keys. The promises
//! that need several daemons on one database are in `postgres_many`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use authd::client::Client;

use crate::daemon::*;
use crate::oath::{enrol, oathtool};
use crate::pg::TestDb;
use crate::spawned::Spawned;

/// The test config on `db`, with `extra` top-level keys first.
pub(crate) fn pg_config(db: &TestDb, extra: &str) -> String {
    format!("{extra}\n{TEST_CONFIG}\n{}", db.store_config())
}

/// Daemons on `db` sharing one secret key: the first makes it, the others get a copy.
pub(crate) fn fleet(body: &str, n: usize) -> Vec<Daemon> {
    let first = Daemon::start_with_config(body);
    let key = first.state_dir().join("secret.key");
    let mut all = vec![first];
    for _ in 1..n {
        all.push(Daemon::start_with_key(body, &key));
    }
    all
}

/// Start authd on `config` expecting it to refuse: its output once it exited. Fails the
/// test if it serves instead.
pub(crate) fn start_refused(config: &Path, socket: &Path) -> Output {
    let mut child = Spawned::spawn(
        Command::new(AUTHD)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Client::connect(socket, "test", Duration::from_secs(5)).is_ok() {
            panic!("authd started and served a database it must refuse");
        }
        assert!(Instant::now() < deadline, "authd neither served nor exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// authd started on a config whose database it cannot use yet: it has said twice that it
/// retries, is still running and does not serve.
pub(crate) struct Retrying {
    /// Its state directory and socket, removed with it.
    _dir: tempfile::TempDir,
    pub socket: PathBuf,
    log: PathBuf,
    pub child: Spawned,
}

impl Retrying {
    pub fn start(body: &str) -> Retrying {
        let (dir, config) = Daemon::prepare(body);
        let socket = dir.path().join("authd.sock");
        let log = dir.path().join("authd.log");
        let mut child = Spawned::spawn(
            Command::new(AUTHD)
                .arg("--config")
                .arg(&config)
                .env("RUST_LOG", "info")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap()),
        );
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        wait_until("a second retry", || {
            (read_log().matches("not ready, retrying").count() >= 2).then_some(())
        });
        assert!(child.try_wait().unwrap().is_none(), "{}", read_log());
        assert!(Client::connect(&socket, "test", Duration::from_secs(1)).is_err());
        Retrying {
            _dir: dir,
            socket,
            log,
            child,
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM ends it cleanly, waiting or serving.
    pub fn stop(mut self) {
        signal(self.child.id(), "TERM");
        assert!(wait_timeout(&mut self.child, Duration::from_secs(30)).success());
    }
}

#[track_caller]
fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} not in: {text}");
    }
}

#[test]
fn accounts_passwords_codes_and_backups_live_in_the_database() {
    let db = TestDb::create();
    let mut d = Daemon::start_with_config(&pg_config(&db, ""));
    d.user_with_password("alice");
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
    assert_error(
        &d.ctl_stdin("Wrong-Horse-Battery-1\n", &["--json", "verify", "alice"]),
        1,
        "denied",
    );
    assert_error(&d.ctl(&["--json", "add-user", "alice"]), 65, "exists");
    let (secret, codes) = enrol(&d, "alice");
    let code = oathtool(&secret, 1);
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &code]));
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "alice", "--code", &code]),
        1,
        "denied",
    );
    d.user_with_password("bob");
    let status = json(&d.ctl(&["--json", "status"]));
    assert_eq!(status["accounts"], 2, "{status}");
    let users = json(&d.ctl(&["--json", "list-users"]));
    assert_eq!(
        users["users"],
        serde_json::json!(["alice", "bob"]),
        "{users}"
    );
    assert!(!d.events("alice", "totp-confirmed").is_empty());

    // The records are in the database, not in the state directory.
    assert_eq!(db.sql("SELECT count(*) FROM accounts"), "2");
    assert_eq!(db.sql("SELECT max(version) FROM authd_schema"), "2");
    assert!(!d.state_dir().join("db").exists(), "a sled store was made");

    // A backup in the common format, restored into a sled state directory.
    let backup = d.dir.path().join("backup");
    assert_ok(&d.ctl(&["backup", "--output", backup.to_str().unwrap()]));
    let target = d.dir.path().join("restored");
    let key = d.state_dir().join("secret.key");
    let restored = Command::new(AUTHD)
        .args(["restore", "--state-dir", target.to_str().unwrap()])
        .args(["--key", key.to_str().unwrap(), backup.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ok(&restored);
    assert_says(&stdout(&restored), &["(2 accounts)"]);

    assert_ok(&d.ctl(&["remove-user", "bob"]));
    assert_eq!(db.sql("SELECT count(*) FROM accounts"), "1");
    assert_eq!(db.sql("SELECT count(*) FROM audit WHERE name = 'bob'"), "0");
    // A restart finds everything where it was.
    d.stop();
    d.spawn();
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &codes[0]]));
    assert_eq!(show(&d, "alice")["recovery_codes_left"], 9);
    assert_exit(&d.ctl(&["show", "bob"]), 67);
}

#[test]
fn a_database_with_a_newer_schema_is_refused() {
    let db = TestDb::create();
    let mut d = Daemon::start_with_config(&pg_config(&db, ""));
    d.user_with_password("alice");
    d.stop();
    db.sql("INSERT INTO authd_schema (version) VALUES (99)");
    let out = start_refused(&d.config, &d.socket);
    assert_exit(&out, 78);
    assert_says(
        &stderr(&out),
        &["schema version 99", "newer than version 2", "upgrade authd"],
    );
    assert!(!stderr(&out).contains("password"), "{}", stderr(&out));
    // Back at the version it knows, it serves again: the refusal changed nothing.
    db.sql("DELETE FROM authd_schema WHERE version = 99");
    d.spawn();
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
}

#[test]
fn a_daemon_with_another_key_or_none_is_refused() {
    let db = TestDb::create();
    let body = pg_config(&db, "");
    let d = Daemon::start_with_config(&body);
    d.user_with_password("alice");

    let (other, config) = Daemon::prepare(&body);
    let state = other.path().join("state");
    let socket = other.path().join("authd.sock");
    // No key: the database holds data sealed with one, so none is made.
    let out = start_refused(&config, &socket);
    assert_exit(&out, 78);
    assert_says(&stderr(&out), &["secret key", "missing"]);

    // Another key (32 bytes, mode 0600, as valid as the right one).
    let right = std::fs::read(d.state_dir().join("secret.key")).unwrap();
    let wrong: Vec<u8> = right.iter().map(|b| b ^ 0x5a).collect();
    let key = state.join("secret.key");
    std::fs::write(&key, &wrong).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = start_refused(&config, &socket);
    assert_exit(&out, 78);
    assert_says(
        &stderr(&out),
        &[
            &key.display().to_string(),
            "does not belong to the database",
        ],
    );
    // The first daemon still serves, with its key.
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
}

#[test]
fn store_settings_are_checked_and_the_password_never_shown() {
    let (_dir, config) = Daemon::prepare("[store]\nbackend = \"postgres\"\n");
    let check = Command::new(AUTHD)
        .args(["--check-config", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&check, 78);
    assert_says(&stderr(&check), &["store.url", "required"]);

    for (body, key) in [
        (
            "[store]\nbackend = \"postgres\"\nurl = \"mysql://h/d\"\n",
            "store.url",
        ),
        (
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://h/d\"\npool_size = 0\n",
            "store.pool_size",
        ),
        ("[store]\nurl = \"postgresql://h/d\"\n", "store.url"),
        ("[store]\nbackend = \"oracle\"\n", "backend"),
    ] {
        let (_dir, config) = Daemon::prepare(body);
        let out = Command::new(AUTHD)
            .args(["--config", config.to_str().unwrap()])
            .output()
            .unwrap();
        assert_exit(&out, 78);
        assert_says(&stderr(&out), &[key]);
    }

    let secret = "Hunter-Two-Secret";
    let db = TestDb::create();
    let password_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(password_file.path(), format!("{secret}\n")).unwrap();
    let url = db.url().replace("root@", &format!("root:{secret}@"));
    let body = format!(
        "{TEST_CONFIG}\n[store]\nbackend = \"postgres\"\nurl = \"{url}\"\npassword_file = \"{}\"\n",
        password_file.path().display()
    );
    // Trust authentication takes any password: the daemon serves, and says none.
    let d = Daemon::start_logging(&body, "debug");
    d.user_with_password("alice");
    let check = Command::new(AUTHD)
        .args(["--check-config", "--config", d.config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_says(
        &stdout(&check),
        &["[store]\nbackend = \"postgres\"", "root:<redacted>@"],
    );
    for text in [stdout(&check), stderr(&check), d.log()] {
        assert!(!text.contains(secret), "password shown: {text}");
    }
    // A password file every user can read is a problem --check-config reports.
    std::fs::set_permissions(
        password_file.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let check = Command::new(AUTHD)
        .args(["--check-config", "--config", d.config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&check, 78);
    assert_says(
        &stdout(&check),
        &["problem: store.password_file", "accessible to every user"],
    );
}

#[test]
fn a_database_that_does_not_answer_yet_is_waited_for() {
    let db = TestDb::reserve();
    // Retrying, not exiting, and not serving meanwhile.
    let mut waiting = Retrying::start(&pg_config(&db, ""));

    db.make();
    let log = waiting.log.clone();
    wait_serving(&waiting.socket, &mut waiting.child, || {
        std::fs::read_to_string(&log).unwrap_or_default()
    });
    let socket = &waiting.socket;
    let ctl = |input: &str, args: &[&str]| run_ctl(&built("authctl"), socket, None, input, args);
    assert_ok(&ctl("", &["add-user", "alice"]));
    assert_ok(&ctl(&pw(), &["set-password", "alice"]));
    assert_ok(&ctl(&pw(), &["verify", "alice"]));
    waiting.stop();

    // SIGTERM while waiting ends the wait cleanly.
    let gone = TestDb::reserve();
    Retrying::start(&pg_config(&gone, "")).stop();
}

#[test]
fn connections_the_database_drops_mid_run_are_replaced_without_a_restart() {
    let db = TestDb::create();
    let d = Daemon::start_with_config(&pg_config(&db, ""));
    d.user_with_password("alice");
    let dropped = crate::pg::psql(
        "test",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}'",
            db.name
        ),
    );
    assert_ne!(dropped, "0", "the daemon held no connection");
    // The pool notices closed connections and opens new ones (a request that raced the
    // closing may fail, as an internal error; the daemon goes on).
    let pid = d.pid();
    wait_until("a served login", || {
        let out = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
        match code(&out) {
            0 => Some(()),
            _ => {
                assert_eq!(json(&out)["error"]["code"], "internal", "{}", stdout(&out));
                None
            }
        }
    });
    assert_eq!(d.pid(), pid);
    d.user_with_password("bob");
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 2);
}
