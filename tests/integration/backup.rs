//! Online backup through the socket while clients keep writing, and offline restore into
//! an empty state directory: every account comes back; bad backups write nothing.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU8};
use std::sync::{Arc, Mutex};

use authd::protocol::{AddUser, Request, Response};

use crate::daemon::*;

/// Writer threads adding accounts around the backup.
const WRITERS: usize = 4;

/// Phases of the backup, as a writer sees them around each of its writes.
const BEFORE: u8 = 0;
const DURING: u8 = 1;
const AFTER: u8 = 2;

/// One acknowledged write: the account added, and the phase when it was sent and when
/// its answer came.
#[derive(Debug)]
struct Write {
    name: String,
    sent: u8,
    answered: u8,
}

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
    if crate::daemon::sled_only("restores into a sled directory and compares") {
        return;
    }
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

    // Writers keep adding accounts before, during and after the backup. Each write is
    // stamped with the phase read just before it is sent and just after its answer.
    let phase = Arc::new(AtomicU8::new(BEFORE));
    let stop = Arc::new(AtomicBool::new(false));
    let logs: Vec<Arc<Mutex<Vec<Write>>>> = (0..WRITERS).map(|_| Arc::default()).collect();
    let writers: Vec<_> = logs
        .iter()
        .enumerate()
        .map(|(w, log)| {
            let (phase, stop, log) = (Arc::clone(&phase), Arc::clone(&stop), Arc::clone(log));
            let mut client = a.client();
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(SeqCst) {
                    let name = format!("w{w}-{i:05}");
                    let add = Request::AddUser(AddUser {
                        name: name.clone(),
                        email: None,
                        phone: None,
                        sso: None,
                    });
                    let sent = phase.load(SeqCst);
                    assert_eq!(client.call(&add).unwrap(), Response::Done);
                    let answered = phase.load(SeqCst);
                    log.lock().unwrap().push(Write {
                        name,
                        sent,
                        answered,
                    });
                    i += 1;
                }
            })
        })
        .collect();
    // Has every writer had `at_least` writes sent in `phase` or later acknowledged?
    let each_has = |writers: &[std::thread::JoinHandle<()>], at_least: usize, phase: u8| {
        assert!(
            writers.iter().all(|w| !w.is_finished()),
            "a writer stopped (its write was refused)"
        );
        logs.iter().all(|log| {
            let log = log.lock().unwrap();
            log.iter().filter(|w| w.sent >= phase).count() >= at_least
        })
    };
    wait_until("every writer under way", || {
        each_has(&writers, 5, BEFORE).then_some(())
    });
    let file = a.dir.path().join("authd.backup");
    phase.store(DURING, SeqCst);
    let out = a.ctl(&["backup", "--output", file.to_str().unwrap()]);
    phase.store(AFTER, SeqCst);
    assert_ok(&out);
    assert!(a.log().contains("backup snapshot taken"), "{}", a.log());
    // Still writing after it: the backup ran under load from start to end.
    wait_until("every writer past the backup", || {
        each_has(&writers, 1, AFTER).then_some(())
    });
    stop.store(true, SeqCst);
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
    assert!(restored.iter().all(|n| original.contains(n)));
    // The snapshot is one moment: every write answered before the backup began is in it,
    // none sent after it ended is, and of each writer's (sequential) writes it holds the
    // first so many, never a later one without an earlier one.
    for log in &logs {
        let log = log.lock().unwrap();
        let held: Vec<bool> = log.iter().map(|w| restored.contains(&w.name)).collect();
        for (w, &held) in log.iter().zip(&held) {
            if w.answered == BEFORE {
                assert!(
                    held,
                    "{} was acknowledged before the backup, not in it",
                    w.name
                );
            }
            if w.sent == AFTER {
                assert!(!held, "{} was sent after the backup, yet in it", w.name);
            }
        }
        let prefix = held.iter().take_while(|&&h| h).count();
        assert!(
            held[prefix..].iter().all(|&h| !h),
            "not one moment: {:?}",
            log.iter().zip(&held).collect::<Vec<_>>()
        );
    }
    let written: usize = logs.iter().map(|l| l.lock().unwrap().len()).sum();
    let in_backup = restored.iter().filter(|n| n.starts_with('w')).count();
    assert!(
        in_backup <= written,
        "{in_backup} of {written} writes restored"
    );
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
    if !crate::authz::can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    // A directory `nobody` may write: the refusal must come from the daemon.
    let drop_box = d.dir.path().join("drop");
    std::fs::create_dir(&drop_box).unwrap();
    std::fs::set_permissions(&drop_box, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = drop_box.join("nope.backup");
    let out = d.ctl_as(
        crate::authz::NOBODY,
        "",
        &["--json", "backup", "--output", target.to_str().unwrap()],
    );
    assert_error(&out, 77, "permission_denied");
    assert_eq!(
        std::fs::read_dir(&drop_box).unwrap().count(),
        0,
        "wrote something"
    );
    // No snapshot was taken either.
    assert!(!d.log().contains("backup snapshot taken"), "{}", d.log());
}
