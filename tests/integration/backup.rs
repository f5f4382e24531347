//! Online backup through the socket while clients keep writing, and offline restore into
//! an empty state directory: every account comes back; bad backups write nothing.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use authd::protocol::{Request, Response};

use crate::daemon::*;

fn restore(
    state_dir: &std::path::Path,
    key: &std::path::Path,
    file: &std::path::Path,
) -> std::process::Output {
    Command::new(AUTHD)
        .arg("restore")
        .arg("--state-dir")
        .arg(state_dir)
        .arg("--key")
        .arg(key)
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn a_backup_under_load_restores_every_account() {
    if !have("oathtool") {
        return;
    }
    let a = Daemon::start_with_config(&format!(
        "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n{TEST_CONFIG}"
    ));
    a.user_with_password("alice");
    let secret = json(&a.ctl(&["--json", "enable-totp", "alice"]))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let code = std::process::Command::new("oathtool")
        .args(["--totp", "-b", &secret])
        .output()
        .unwrap();
    let confirmed = a.ctl(&["--json", "confirm-totp", "alice", stdout(&code).trim()]);
    let recovery = json(&confirmed)["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_string();
    a.user_with_password("bob");
    assert_ok(&a.ctl(&["add-user", "carol", "--email", "carol@example.org"]));
    assert_ok(&a.ctl(&["send-reset", "carol"])); // queued: nothing listens on port 9

    // Writers keep adding accounts while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, acked) = (Arc::clone(&stop), Arc::clone(&acked));
            let mut client = a.client();
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let add = Request::AddUser {
                        name: format!("w{w}-{i:05}"),
                        email: None,
                        phone: None,
                        sso: None,
                    };
                    assert_eq!(client.call(&add).unwrap(), Response::Done);
                    acked.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let before = acked.load(Ordering::Relaxed);
    let file = a.dir.path().join("authd.backup");
    let out = a.ctl(&["backup", "--output", file.to_str().unwrap()]);
    assert_ok(&out);
    let after = acked.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Restore elsewhere, checked with the key (kept separately), and compare.
    let b_dir = tempfile::tempdir().unwrap();
    let b_state = b_dir.path().join("state");
    let key = a.state_dir().join("secret.key");
    assert_ok(&restore(&b_state, &key, &file));
    std::fs::copy(&key, b_state.join("secret.key")).unwrap();
    let b_config = b_dir.path().join("authd.toml");
    let a_config = std::fs::read_to_string(&a.config).unwrap();
    std::fs::write(
        &b_config,
        a_config
            .replace(
                &a.socket.display().to_string(),
                &b_dir.path().join("b.sock").display().to_string(),
            )
            .replace(
                &a.state_dir().display().to_string(),
                &b_state.display().to_string(),
            ),
    )
    .unwrap();
    let b = Daemon::from_existing(b_dir, b_config);
    for name in ["alice", "bob", "carol"] {
        assert_eq!(
            json(&a.ctl(&["--json", "show", name])),
            json(&b.ctl(&["--json", "show", name])),
            "{name} differs after restore"
        );
    }
    let restored: Vec<String> =
        serde_json::from_value(json(&b.ctl(&["--json", "list-users"]))["users"].clone()).unwrap();
    let original: Vec<String> =
        serde_json::from_value(json(&a.ctl(&["--json", "list-users"]))["users"].clone()).unwrap();
    let written = restored.iter().filter(|n| n.starts_with('w')).count();
    assert!(
        (before..=after).contains(&written),
        "{written} written accounts restored, {before}..={after} acknowledged around the backup"
    );
    assert!(restored.iter().all(|n| original.contains(n)));
    // Secrets survived sealed: the password and a recovery code work on the copy.
    let pw = format!("{GOOD_PW}\n");
    assert_ok(&b.ctl_stdin(&pw, &["verify", "alice", "--code", &recovery]));
    assert_eq!(json(&b.ctl(&["--json", "status"]))["outbox_queued"], 1);

    // A non-empty target is refused; a truncated or corrupted file writes nothing.
    assert_exit(&restore(&b_state, &key, &file), 73);
    let bytes = std::fs::read(&file).unwrap();
    let broken = a.dir.path().join("broken.backup");
    let target = a.dir.path().join("never");
    std::fs::write(&broken, &bytes[..bytes.len() - 10]).unwrap();
    let out = restore(&target, &key, &broken);
    assert_exit(&out, 65);
    assert!(
        stderr(&out).contains("truncated or corrupt"),
        "{}",
        stderr(&out)
    );
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x40;
    std::fs::write(&broken, &flipped).unwrap();
    assert_exit(&restore(&target, &key, &broken), 65);
    assert!(!target.exists(), "a refused restore wrote something");
}

#[test]
fn only_admins_may_back_up() {
    let d = Daemon::start();
    if nix::unistd::geteuid().is_root() {
        let out = d.ctl_as(
            (65534, 65534),
            "",
            &["backup", "--output", "/tmp/nope.backup"],
        );
        assert_exit(&out, 77);
        assert!(!std::path::Path::new("/tmp/nope.backup").exists());
    }
}
