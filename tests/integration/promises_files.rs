//! Promises about what authd leaves on disk and how it exits (authd(8): DEFAULT PATHS,
//! --check-config, EXIT STATUS; authd.toml(5) `[mail]`, `[sms]`): its state directory
//! is private whatever umask it is started with; `--check-config` creates nothing and
//! changes no record; a bad command line exits 2 and a transport that cannot be set up
//! exits 78, naming the key.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::*;

/// Every path below `dir` (itself included) with its metadata, without following links.
fn walk(dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut found = vec![(dir.to_path_buf(), std::fs::symlink_metadata(dir).unwrap())];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            found.extend(walk(&entry.path()));
        } else {
            found.push((entry.path(), meta));
        }
    }
    found
}

fn files_with(dir: &Path, extension: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == extension))
                .count()
        })
        .unwrap_or(0)
}

fn wait_for_files(dir: &Path, extension: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while files_with(dir, extension) < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} .{extension} files in {dir:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn nothing_in_the_state_directory_is_open_to_others_even_under_umask_000() {
    if crate::daemon::sled_only("the sled files in the state directory") {
        return;
    }
    let mut d = Daemon::launch(TEST_CONFIG, "000", "info");
    let state = d.state_dir();
    // Everything that leaves a file: the key and the store at the first start, a
    // "password changed" notice and a reset mail, an SMS code; the sentinel at shutdown.
    assert_ok(&d.ctl(&[
        "add-user",
        "ada",
        "--email",
        "ada@example.org",
        "--phone",
        crate::sms::PHONE,
    ]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "ada"]));
    assert_ok(&d.ctl(&["send-reset", "ada"]));
    assert_ok(&d.ctl(&["enable-sms", "ada"]));
    wait_for_files(&state.join("outbox/mail"), "eml", 2);
    wait_for_files(&state.join("outbox/sms"), "sms", 1);
    d.stop();

    let entries = walk(&state);
    for want in [
        "secret.key",
        "store.sentinel",
        "db",
        "outbox/mail",
        "outbox/sms",
    ] {
        assert!(
            entries.iter().any(|(p, _)| p == &state.join(want)),
            "no {want} in {entries:?}"
        );
    }
    let me = nix::unistd::getuid().as_raw();
    let open: Vec<String> = entries
        .iter()
        .filter(|(_, m)| m.mode() & 0o077 != 0 || m.uid() != me)
        .map(|(p, m)| format!("{} {:o} uid {}", p.display(), m.mode() & 0o7777, m.uid()))
        .collect();
    assert!(open.is_empty(), "open to others: {open:#?}");
    let key = std::fs::metadata(state.join("secret.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}

/// Mode, size and SHA-256 of every file below `dir`, to tell whether anything changed.
fn contents(dir: &Path) -> BTreeMap<PathBuf, String> {
    use sha2::Digest;
    walk(dir)
        .into_iter()
        .map(|(p, m)| {
            let digest = if m.is_file() {
                let hash = sha2::Sha256::digest(std::fs::read(&p).unwrap());
                hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
            } else {
                String::new()
            };
            (p, format!("{:o} {} bytes {digest}", m.mode(), m.len()))
        })
        .collect()
}

/// `authd --config CONFIG --check-config`, run under umask 022 (a shell's usual one).
fn check_config(config: &Path) -> std::process::Output {
    Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" --config \"$1\" --check-config")
        .arg(AUTHD)
        .arg(config)
        .output()
        .unwrap()
}

/// Is `path` one of the files sled rewrites whenever it opens a database (its log and
/// snapshots)? Those are sled's bookkeeping, not records.
fn sleds_own(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    path.parent().is_some_and(|p| p.ends_with("db")) && (name == "db" || name.starts_with("snap."))
}

#[track_caller]
fn assert_private(dir: &Path) {
    let open: Vec<String> = walk(dir)
        .iter()
        .filter(|(_, m)| m.mode() & 0o077 != 0)
        .map(|(p, m)| format!("{} {:o}", p.display(), m.mode() & 0o7777))
        .collect();
    assert!(open.is_empty(), "open to others: {open:#?}");
}

#[test]
fn check_config_creates_nothing_and_changes_no_record() {
    // Nothing exists yet: the state, socket, mail and SMS directories stay unmade.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    let config = base.join("authd.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{b}/run/authd.sock\"\nstate_dir = \"{b}/state\"\n\
             [mail]\ndir = \"{b}/mail\"\n[sms]\ndir = \"{b}/sms\"\n",
            b = base.display()
        ),
    )
    .unwrap();
    let out = check_config(&config);
    assert_ok(&out);
    assert!(
        stdout(&out).ends_with("configuration ok\n"),
        "{}",
        stdout(&out)
    );
    let left: Vec<_> = std::fs::read_dir(base)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["authd.toml"], "--check-config created files");

    // An empty state directory gets no key and no database.
    std::fs::create_dir(base.join("state")).unwrap();
    std::fs::set_permissions(base.join("state"), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_ok(&check_config(&config));
    assert_eq!(std::fs::read_dir(base.join("state")).unwrap().count(), 0);

    // A store at rest: its identity is read, nothing of authd's changes, and what sled
    // rewrites when it opens its files stays as private as the rest of the store.
    let mut d = Daemon::start();
    d.user_with_password("cleo");
    let history = stdout(&d.ctl(&["--json", "log", "cleo"]));
    assert!(d.terminate().success());
    let authds = |dir: &Path| {
        let mut all = contents(dir);
        all.retain(|p, _| !sleds_own(p));
        all
    };
    let before = authds(&d.state_dir());
    let out = check_config(&d.config);
    assert_ok(&out);
    assert!(
        stdout(&out).ends_with("configuration ok\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        authds(&d.state_dir()),
        before,
        "--check-config changed the store"
    );
    assert_private(&d.state_dir());
    d.spawn();
    assert_eq!(stdout(&d.ctl(&["--json", "log", "cleo"])), history);
}

/// Start authd on `body` and wait for it to exit; returns the exit code and stderr.
fn start_fails(dir: &Path, body: &str) -> (i32, String) {
    let config = dir.join("authd.toml");
    let socket = dir.join("authd.sock");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{body}",
            socket.display(),
            dir.join("state").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(AUTHD)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(30));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!socket.exists(), "the socket was left behind: {err}");
    (status.code().unwrap_or(-1), err)
}

#[test]
fn authd_exits_2_on_a_bad_command_line_and_78_on_a_transport_it_cannot_set_up() {
    for args in [
        &["--no-such-option"][..],
        &["--config"][..],
        &["--socket"][..],
    ] {
        let out = Command::new(AUTHD).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }

    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory would have to be made.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let cases = [
        (
            format!("[mail]\ndir = \"{}/mail\"\n", blocker.display()),
            "mail.dir",
        ),
        (
            format!("[sms]\ndir = \"{}/sms\"\n", blocker.display()),
            "sms.dir",
        ),
        (
            format!(
                "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nusername = \"authd\"\n\
                 password_file = \"{}/no-such-file\"\n",
                dir.path().display()
            ),
            "mail.password_file",
        ),
    ];
    for (i, (body, key)) in cases.iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        std::fs::create_dir(&case).unwrap();
        let (code, err) = start_fails(&case, &format!("{body}{TEST_CONFIG}"));
        assert_eq!(code, 78, "{key}: {err}");
        assert!(err.contains(key), "{key} not named: {err}");
    }
}

#[test]
fn a_store_with_a_schema_version_this_authd_does_not_read_is_refused_untouched() {
    if crate::daemon::sled_only("the sled schema version") {
        return;
    }
    let mut d = Daemon::start();
    d.user_with_password("sven");
    assert!(d.terminate().success());
    let db = d.state_dir().join("db");
    let set_schema = |version: u32| {
        let store = sled::open(&db).unwrap();
        let meta = store.open_tree("meta").unwrap();
        meta.insert("schema_version", &version.to_be_bytes())
            .unwrap();
        store.flush().unwrap();
    };
    set_schema(authd::store::SCHEMA_VERSION + 1);
    let (code, err) = start_fails(d.dir.path(), TEST_CONFIG);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "schema version {}",
            authd::store::SCHEMA_VERSION + 1
        )),
        "{err}"
    );
    // Nothing was converted or lost: with its version back, the store serves as before.
    set_schema(authd::store::SCHEMA_VERSION);
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "sven"]));
}
