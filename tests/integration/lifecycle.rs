//! The daemon's life: config errors, socket ownership, durability across SIGKILL,
//! graceful shutdown, defaults without a config.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::Duration;

use authd::protocol::{Origin, Request, Response, Secret, Verify};

use crate::daemon::*;
use crate::spawned::Spawned;

#[test]
fn acknowledged_writes_survive_sigkill_and_the_stale_socket_is_replaced() {
    let mut d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    d.kill9();
    assert!(std::fs::symlink_metadata(&d.socket)
        .unwrap()
        .file_type()
        .is_socket());
    d.spawn();
    assert_eq!(
        json(&d.ctl(&["--json", "show", "alice"]))["email"],
        "alice@example.org"
    );

    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "alice"]));
    assert_error(
        &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "alice"]),
        1,
        "denied",
    );
    d.kill9();
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
    let log = json(&d.ctl(&["--json", "log", "alice"]));
    let outcomes: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().starts_with("mail-"))
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "ok", "denied", "ok"]);
    assert!(d.log().contains("removing stale socket"), "{}", d.log());
}

#[test]
fn socket_is_world_connectable_and_removed_on_sigterm() {
    let mut d = Daemon::start();
    let mode = std::fs::metadata(&d.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o666);
    let state = std::fs::metadata(d.state_dir())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(state & 0o777, 0o700);
    let status = d.terminate();
    assert_eq!(status.code(), Some(0));
    assert!(!d.socket.exists(), "socket left behind");
    assert_exit(&d.ctl(&["status"]), 69);
    let out = d.ctl(&["status"]);
    assert!(
        stderr(&out).contains("authd is not running at"),
        "{}",
        stderr(&out)
    );
}

/// No daemon: the message names the socket tried and where that path came from.
#[test]
fn no_daemon_names_the_socket_and_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone.sock");
    let gone = gone.to_str().unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let out = Command::new(AUTHCTL)
            .env_remove("AUTHD_SOCKET")
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        assert_error(&out, 69, "unreachable");
        stderr(&out)
    };
    let said = run(&[], &["--json", "--socket", gone, "status"]);
    assert!(said.contains(&format!("{gone} (from --socket)")), "{said}");
    let said = run(&[("AUTHD_SOCKET", gone)], &["--json", "status"]);
    assert!(
        said.contains(&format!("{gone} (from AUTHD_SOCKET)")),
        "{said}"
    );
    // An ordinary user without a daemon of its own: both places are named.
    if !have("setpriv") {
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(AUTHCTL)
        .arg("status")
        .env_remove("AUTHD_SOCKET")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    assert_exit(&out, 69);
    let said = stderr(&out);
    assert!(
        said.contains(
            "/run/authd/authd.sock (the system socket: your own daemon's socket \
                       /tmp/authd-65534/authd.sock"
        ) && said.contains("is not there"),
        "{said}"
    );
}

#[test]
fn a_live_daemons_socket_is_not_stolen() {
    let d = Daemon::start();
    let second = Command::new(AUTHD)
        .arg("--config")
        .arg(&d.config)
        .arg("--state-dir")
        .arg(d.dir.path().join("other-state"))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already listening"), "{err}");
    // Same state dir too: the socket is checked before the (locked) store.
    let third = Command::new(AUTHD)
        .arg("--config")
        .arg(&d.config)
        .output()
        .unwrap();
    assert_eq!(third.status.code(), Some(1));
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(err.contains("already listening"), "{err}");
    assert_ok(&d.ctl(&["status"]));
}

#[test]
fn a_non_socket_file_in_the_way_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authd.sock");
    std::fs::write(&path, "precious").unwrap();
    let out = Command::new(AUTHD)
        .arg("--socket")
        .arg(&path)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[test]
fn a_socket_directory_others_can_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = Command::new(AUTHD)
        .arg("--socket")
        .arg(run.join("authd.sock"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("writable by group or others"), "{err}");
    assert!(!run.join("authd.sock").exists());
}

#[test]
fn a_bad_config_exits_78_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[password]\nmin_lenght = 3\n", "min_lenght"),
        ("[lockout]\nbase = \"soon\"\n", "base"),
        ("[password]\nmin_score = 9\n", "password.min_score"),
        ("socket = 5\n", "socket"),
    ];
    for (text, key) in cases {
        let file = dir.path().join("authd.toml");
        std::fs::write(&file, text).unwrap();
        let out = Command::new(AUTHD)
            .arg("--config")
            .arg(&file)
            .arg("--check-config")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(78), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{key} not named in: {err}");
    }
    let missing = Command::new(AUTHD)
        .args(["--config", "/nonexistent/authd.toml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(78));
    let ok = Command::new(AUTHD)
        .arg("--check-config")
        .arg("--socket")
        .arg(dir.path().join("authd.sock"))
        .arg("--state-dir")
        .arg(dir.path().join("fresh"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("configuration ok"));

    // Problems on disk: a state dir others can write, an exposed key file.
    let state = dir.path().join("open-state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::write(state.join("secret.key"), [1u8; 32]).unwrap();
    std::fs::set_permissions(
        state.join("secret.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let bad = Command::new(AUTHD)
        .arg("--check-config")
        .arg("--socket")
        .arg(dir.path().join("x.sock"))
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(78));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("writable by group or others"), "{text}");
    assert!(text.contains("accessible to group or others"), "{text}");
}

/// Is one of the daemon's password-hashing threads (`authd-hash-N`) running, i.e. in
/// state R in /proc? Idle workers sleep on their queue (state S).
fn hashing(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // `PID (COMM) STATE ...`: the state follows the last parenthesis.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        comm.starts_with("authd-hash") && state == Some("R")
    })
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    // Slow hashing, so the verify is still hashing when SIGTERM arrives.
    let mut d = Daemon::start_with_config("[password]\nargon2_m_kib = 65536\nargon2_t = 8\n");
    d.user_with_password("slow");
    let mut client =
        authd::client::Client::connect(&d.socket, "test", Duration::from_secs(120)).unwrap();
    // The set-password above is answered, so its hash is done; its worker may still be
    // freeing the hash memory for a moment, then every worker is idle.
    let pid = d.pid();
    wait_until("the hash workers to go idle", || {
        (!hashing(pid)).then_some(())
    });
    let worker = std::thread::spawn(move || {
        client.call(&Request::Verify(Verify {
            name: "slow".into(),
            password: Secret::new(GOOD_PW),
            code: None,
            origin: Origin::default(),
        }))
    });
    // SIGTERM only once the daemon has read the request and is hashing its password.
    let pid = d.pid();
    wait_until("a hash worker running the verify", || {
        assert!(
            !worker.is_finished(),
            "the verify was answered before SIGTERM"
        );
        hashing(pid).then_some(())
    });
    let status = d.terminate();
    let answer = worker.join().unwrap().unwrap();
    assert_eq!(
        answer,
        Response::Verified {
            name: "slow".into()
        }
    );
    assert_eq!(status.code(), Some(0));
}

#[test]
fn with_no_config_a_user_daemon_uses_its_xdg_directories() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let runtime = dir.path().join("run");
    let state_home = dir.path().join("state");
    // Root would use the system paths: run as `nobody` then.
    let as_uid = if nix::unistd::geteuid().is_root() {
        if !crate::authz::can_switch_uid() {
            return;
        }
        Some(crate::authz::NOBODY)
    } else {
        None
    };
    let bin = exposed_copy(AUTHD, dir.path());
    let mut child = Spawned::spawn(
        command_as(&bin, as_uid)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_STATE_HOME", &state_home)
            .env_remove("NOTIFY_SOCKET")
            .stderr(Stdio::null()),
    );
    let socket = runtime.join("authd/authd.sock");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no socket at {socket:?}"
        );
        assert!(child.try_wait().unwrap().is_none(), "authd exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ok(&run_ctl(
        std::path::Path::new(AUTHCTL),
        &socket,
        None,
        "",
        &["status"],
    ));
    assert!(state_home.join("authd/db").exists());
    signal(child.id(), "TERM");
    assert_eq!(
        wait_timeout(&mut child, Duration::from_secs(30)).code(),
        Some(0)
    );
    assert!(!socket.exists());
}

#[test]
fn systemd_socket_activation_and_readiness_notification() {
    if !have("systemd-socket-activate") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("activated.sock");
    let notify_path = dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let config = dir.path().join("authd.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{TEST_CONFIG}",
            dir.path().join("unused.sock").display(),
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("authd.log")).unwrap();
    // systemd-socket-activate execs authd in its own place: one process to guard.
    let mut activator = Spawned::spawn(
        Command::new("systemd-socket-activate")
            .arg("--listen")
            .arg(&socket)
            .arg("-E")
            .arg(format!("NOTIFY_SOCKET={}", notify_path.display()))
            .arg(AUTHD)
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "activator never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The first connection makes the activator start authd with the listening socket.
    assert_ok(&run_ctl(
        std::path::Path::new(AUTHCTL),
        &socket,
        None,
        "",
        &["status"],
    ));
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));
    assert!(
        !dir.path().join("unused.sock").exists(),
        "bound its own socket"
    );
    let daemon_log = std::fs::read_to_string(dir.path().join("authd.log")).unwrap();
    assert!(
        daemon_log.contains("socket passed by systemd"),
        "{daemon_log}"
    );

    signal(activator.id(), "TERM");
    assert_eq!(
        wait_timeout(&mut activator, Duration::from_secs(30)).code(),
        Some(0)
    );
    let n = notify.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
}

/// The names of sled's page-table snapshots in the daemon's database, oldest first.
fn snapshots(d: &Daemon) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(d.state_dir().join("db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap."))
        .collect();
    names.sort();
    names
}

#[test]
fn a_clean_stop_snapshots_the_store_so_the_next_start_replays_nothing() {
    if crate::daemon::sled_only("the sled snapshot at stop") {
        return;
    }
    let mut d = Daemon::start();
    for name in ["alice", "bob"] {
        assert_ok(&d.ctl(&["add-user", name]));
    }
    let before = snapshots(&d);
    assert_eq!(d.terminate().code(), Some(0));
    let after = snapshots(&d);
    assert!(after.last() > before.last(), "{before:?} -> {after:?}");
    assert!(d.log().contains("store log snapshotted"), "{}", d.log());
    d.spawn();
    assert_ok(&d.ctl(&["show", "bob"]));
    // A start that had log records to replay would have written a newer snapshot.
    assert_eq!(snapshots(&d), after);
}

/// `--check-config` prints the effective configuration as TOML (a real parser reads it:
/// Python's tomllib), and that text, used as the configuration, prints the same again.
#[test]
fn check_config_prints_toml_that_reads_back_the_same() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let check = |config: Option<&std::path::Path>| {
        let mut cmd = Command::new(AUTHD);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        let out = cmd
            .arg("--check-config")
            .arg("--socket")
            .arg(dir.path().join("authd.sock"))
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let printed = check(None);
    let mut python = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sys, tomllib; d = tomllib.load(sys.stdin.buffer); \
             print(d['state_dir'], d['lockout']['max_failures'], d['lockout']['base'])",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut python.stdin.take().unwrap(), printed.as_bytes()).unwrap();
    let parsed = python.wait_with_output().unwrap();
    assert!(parsed.status.success(), "not TOML:\n{printed}");
    assert_eq!(
        stdout(&parsed).trim(),
        format!("{} 5 1m", dir.path().join("state").display())
    );
    let file = dir.path().join("printed.toml");
    std::fs::write(&file, &printed).unwrap();
    assert_eq!(check(Some(&file)), printed);
}
