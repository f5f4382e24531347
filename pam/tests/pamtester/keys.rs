//! Security keys at a PAM login: the module runs the key helper (`key_helper=`), here
//! authd-key's test build answering with a software token, through a wrapper script
//! that names the token file (the module gives the helper a clean environment). The key
//! answers after the password; no key, a helper that does not answer in time, an unsafe
//! helper, or a remote login fall back to a code; nothing fails open.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::daemon::*;
use crate::oath::{enrol, oathtool};
use crate::stack::*;

const WEBAUTHN: &str =
    "[webauthn]\nrp_id = \"login.example.test\"\norigin = \"https://login.example.test\"\n";

/// A daemon that is a relying party, with alice (password) and its own temp dir.
fn relying_party() -> Option<(Daemon, tempfile::TempDir)> {
    if !ready() {
        return None;
    }
    let d = Daemon::start_with_config(&format!("{TEST_CONFIG}{WEBAUTHN}"));
    d.user_with_password("alice");
    Some((d, tempfile::tempdir().unwrap()))
}

/// Register the soft token in `token` to alice (as admin): her recovery codes.
fn add_key(d: &Daemon, token: &Path) -> Vec<String> {
    let out = Command::new(built("authctl"))
        .args([
            "--socket",
            d.socket.to_str().unwrap(),
            "--json",
            "add-key",
            "alice",
        ])
        .env("AUTHD_SOFTTOKEN", token)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ok(&out);
    serde_json::from_value(json(&out)["recovery_codes"].clone()).unwrap()
}

/// A helper script in `dir`: `body` runs after touching the file `ran` there.
fn helper(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    let ran = dir.join(format!("{name}.ran"));
    let script = format!("#!/bin/sh\n: > '{}'\n{body}\n", ran.display());
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The test build of authd-key answering with the token in `token` (none: no key).
fn soft_helper(dir: &Path, name: &str, token: Option<&Path>) -> PathBuf {
    let key = built("authd-key");
    let version = Command::new(&key).arg("--version").output().unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout).contains("software token"),
        "{} must be authd-key's test build (cargo build -p authd-key --features softtoken)",
        key.display()
    );
    let env = token.map_or(String::new(), |t| {
        format!("AUTHD_SOFTTOKEN='{}' ", t.display())
    });
    helper(dir, name, &format!("{env}exec '{}' \"$@\"", key.display()))
}

fn ran(helper: &Path) -> bool {
    // `helper` writes NAME.ran beside itself; the helpers here have no extension.
    helper.with_extension("ran").exists()
}

/// A service whose auth line runs `helper` with `extra` options.
fn with_helper(d: &Daemon, suffix: &str, helper: &Path, extra: &str) -> Service {
    let line = format!("key_helper={} {extra}", helper.display());
    let stack = STACK.replacen("socket=SOCKET\n", &format!("socket=SOCKET {line}\n"), 1);
    service(d, suffix, &stack)
}

/// pamtester's `authenticate` with `answers`, extra arguments and environment.
fn login(svc: &Service, answers: &[&str], args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("pamtester")
        .args(args)
        .args(["-v", &svc.name, "alice", "authenticate"])
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT")
        .env_remove("SSH_TTY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = answers.iter().map(|a| format!("{a}\n")).collect();
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    (out.status.success(), printed(&out))
}

#[test]
fn a_touch_of_the_key_after_the_password_logs_in() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let token = dir.path().join("alice.softtoken");
    add_key(&d, &token);
    let svc = with_helper(&d, "key", &soft_helper(dir.path(), "h", Some(&token)), "");
    let (ok, text) = login(&svc, &[GOOD_PW], &[], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("Touch your security key."), "{text}");
    assert!(!text.contains("Verification code"), "{text}");
    let log = stdout(&d.ctl(&["log", "alice"]));
    assert!(log.contains(&format!("service={}", svc.name)), "{log}");
}

#[test]
fn no_key_present_falls_back_to_the_app_code() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let (secret, _) = enrol(&d, "alice");
    add_key(&d, &dir.path().join("alice.softtoken"));
    let svc = with_helper(&d, "nokey", &soft_helper(dir.path(), "h", None), "");
    let (ok, text) = login(&svc, &[GOOD_PW, &oathtool(&secret, 1)], &[], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("enter a code instead"), "{text}");
    // Another token, holding none of alice's keys, is no key either.
    let other = dir.path().join("other.softtoken");
    let svc = with_helper(
        &d,
        "otherkey",
        &soft_helper(dir.path(), "o", Some(&other)),
        "",
    );
    let (ok, text) = login(&svc, &[GOOD_PW, "000000"], &[], &[]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    assert!(
        text.contains("none of the account's security keys answered"),
        "{text}"
    );
}

#[test]
fn a_remote_login_never_runs_the_key_helper() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let token = dir.path().join("alice.softtoken");
    let codes = add_key(&d, &token);
    let helper = soft_helper(dir.path(), "h", Some(&token));
    let svc = with_helper(&d, "remote", &helper, "");
    let (ok, text) = login(&svc, &[GOOD_PW, &codes[0]], &["-I", "rhost=192.0.2.9"], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("cannot be used for a remote login"), "{text}");
    // sudo inside an ssh session: the environment says so.
    let ssh = [("SSH_CONNECTION", "192.0.2.9 50000 192.0.2.1 22")];
    let (ok, text) = login(&svc, &[GOOD_PW, &codes[1]], &[], &ssh);
    assert!(ok, "{text}");
    assert!(text.contains("cannot be used for a remote login"), "{text}");
    assert!(!ran(&helper), "the helper ran for a remote login");
}

#[test]
fn a_helper_that_never_answers_is_killed_at_key_timeout() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let (secret, _) = enrol(&d, "alice");
    add_key(&d, &dir.path().join("alice.softtoken"));
    // A unique command line, to look for it afterwards.
    let marker = format!("{}", 7_000_000 + std::process::id());
    let helper = helper(dir.path(), "slow", &format!("exec sleep {marker}"));
    let svc = with_helper(&d, "slow", &helper, "key_timeout=1");
    let (ok, text) = login(&svc, &[GOOD_PW, &oathtool(&secret, 1)], &[], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("did not answer in time"), "{text}");
    let left = Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .unwrap();
    assert!(!left.status.success(), "the helper outlived the login");
}

/// A helper that asks for the PIN and is gone when it comes: the module must not die of
/// SIGPIPE (pamtester, like sshd, keeps SIGPIPE's default action), and a code follows.
#[test]
fn a_helper_gone_before_the_pin_is_sent_does_not_kill_the_application() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let codes = add_key(&d, &dir.path().join("alice.softtoken"));
    let helper = helper(dir.path(), "gone", "read x; echo pin; exit 0");
    let svc = with_helper(&d, "gone", &helper, "");
    let (ok, text) = login(&svc, &[GOOD_PW, "1234", &codes[0]], &[], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("Security key PIN"), "{text}");
    assert!(text.contains("the key helper stopped"), "{text}");
}

#[test]
fn a_helper_others_could_change_is_not_run() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let token = dir.path().join("alice.softtoken");
    let codes = add_key(&d, &token);
    let helper = soft_helper(dir.path(), "h", Some(&token));
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o757)).unwrap();
    let svc = with_helper(&d, "unsafe", &helper, "");
    let (ok, text) = login(&svc, &[GOOD_PW, &codes[0]], &[], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("writable by group or others"), "{text}");
    assert!(!ran(&helper), "an unsafe helper ran");
}

#[test]
fn a_key_only_account_without_its_key_fails_closed() {
    let Some((d, dir)) = relying_party() else {
        return;
    };
    let codes = add_key(&d, &dir.path().join("alice.softtoken"));
    // A helper that answers garbage, and no helper at all: never a login.
    let forged = helper(dir.path(), "forged", "read x; echo 'ok {\"id\":\"AAAA\"}'");
    let svc = with_helper(&d, "forged", &forged, "");
    let (ok, text) = login(&svc, &[GOOD_PW], &[], &[]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    let missing = dir.path().join("missing");
    let svc = with_helper(&d, "missing", &missing, "");
    let (ok, text) = login(&svc, &[GOOD_PW, "000000"], &[], &[]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    // The recovery code still lets the owner in.
    let (ok, text) = login(&svc, &[GOOD_PW, &codes[0]], &[], &[]);
    assert!(ok, "{text}");
}
