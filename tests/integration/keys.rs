//! Security keys through authctl, against the real daemon: authctl runs the key helper
//! `authd-key`, whose test build (its `softtoken` feature) answers with
//! webauthn-authenticator-rs's SoftToken (a real CTAP2 authenticator in software) kept in
//! the file `$AUTHD_SOFTTOKEN`, and can be told to present another origin or rp_id
//! (`AUTHD_SOFTTOKEN_ORIGIN`, `..._RP_ID`).
//! The raw-protocol cases (a replayed assertion, another account's key) are in
//! `keys_wire`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::daemon::*;

/// authd as the relying party `login.example.test`.
pub const WEBAUTHN: &str =
    "[webauthn]\nrp_id = \"login.example.test\"\norigin = \"https://login.example.test\"\n";

pub fn start(extra: &str) -> Daemon {
    Daemon::start_with_config(&format!("{TEST_CONFIG}{WEBAUTHN}{extra}"))
}

/// A soft token file for `who` (created at its first use).
pub fn token(d: &Daemon, who: &str) -> PathBuf {
    d.dir.path().join(format!("{who}.softtoken"))
}

/// authctl with the soft token in `token` and `env` set; `input` on stdin.
pub fn with_token(
    d: &Daemon,
    token: &Path,
    env: &[(&str, &str)],
    input: &str,
    args: &[&str],
) -> Output {
    soft_helper();
    let mut all = vec![("AUTHD_SOFTTOKEN", token.to_str().unwrap())];
    all.extend_from_slice(env);
    run_ctl_env(&built("authctl"), &d.socket, None, &all, input, args)
}

/// The key helper beside authctl, and its test build: these tests fail (never skip)
/// without it.
pub fn soft_helper() -> PathBuf {
    let path = built("authd-key");
    let version = std::process::Command::new(&path).arg("--version").output();
    let ok = matches!(&version, Ok(out) if String::from_utf8_lossy(&out.stdout).contains("software token"));
    assert!(
        ok,
        "{} must be authd-key's test build: cargo build -p authd-key --features softtoken \
         (make test does); got {version:?}",
        path.display()
    );
    path
}

/// Register `token` to `user` (as admin); its id.
pub fn add_key(d: &Daemon, user: &str, token: &Path) -> String {
    let out = with_token(
        d,
        token,
        &[],
        "",
        &["--json", "add-key", user, "--name", "yk"],
    );
    assert_ok(&out);
    let keys = json(&d.ctl(&["--json", "keys", user]));
    keys["keys"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// alice and bob, each with a password and a key of their own: their tokens.
pub fn two_with_keys(d: &Daemon) -> (PathBuf, PathBuf) {
    d.user_with_password("alice");
    d.user_with_password("bob");
    let (ta, tb) = (token(d, "alice"), token(d, "bob"));
    add_key(d, "alice", &ta);
    add_key(d, "bob", &tb);
    (ta, tb)
}

fn verify(d: &Daemon, token: &Path, env: &[(&str, &str)]) -> Output {
    with_token(d, token, env, &pw(), &["--json", "verify", "alice"])
}

#[test]
fn register_a_key_then_log_in_with_a_touch() {
    let d = start("");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    let out = with_token(
        &d,
        &t,
        &[],
        "",
        &["--json", "add-key", "alice", "--name", "yk"],
    );
    assert_ok(&out);
    let added = json(&out);
    assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 10);
    assert!(added["message"].as_str().unwrap().contains("\"yk\""));

    let keys = json(&d.ctl(&["--json", "keys", "alice"]));
    let key = &keys["keys"][0];
    assert_eq!(
        (key["name"].as_str(), key["last_used"].is_null()),
        (Some("yk"), true)
    );
    assert_eq!(key["id"].as_str().unwrap().len(), 8);
    assert_eq!(show(&d, "alice")["recovery_codes_left"], 10);

    // The password alone is not enough any more; with the key it is.
    let alone = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
    assert_error(&alone, 1, "second_factor_required");
    let out = verify(&d, &t, &[]);
    assert_ok(&out);
    assert_eq!(json(&out)["verified"], true);
    let keys = json(&d.ctl(&["--json", "keys", "alice"]));
    assert!(keys["keys"][0]["counter"].as_u64().unwrap() > 0);
    assert!(!keys["keys"][0]["last_used"].is_null());
    assert_eq!(d.events("alice", "key-registered").len(), 1);
    let log = stdout(&d.ctl(&["log", "alice"]));
    assert!(log.contains("password and security key"), "{log}");
    // Text output names the key.
    assert!(stdout(&d.ctl(&["keys", "alice"])).contains("yk"));
}

#[test]
fn show_lists_the_accounts_keys_in_text_and_json() {
    let d = start("");
    d.user_with_password("alice");
    assert_eq!(show(&d, "alice")["security_keys"], serde_json::json!([]));
    let text = stdout(&d.ctl(&["show", "alice"]));
    assert!(text.contains("\nsecurity keys:       none"), "{text}");

    let t = token(&d, "alice");
    let id = add_key(&d, "alice", &t);
    let shown = show(&d, "alice");
    let keys = shown["security_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{shown}");
    assert_eq!(
        (keys[0]["id"].as_str(), keys[0]["name"].as_str()),
        (Some(id.as_str()), Some("yk"))
    );
    assert!(
        keys[0]["created"].as_str().unwrap().ends_with('Z'),
        "{shown}"
    );
    assert!(keys[0]["last_used"].is_null(), "{shown}");
    let text = stdout(&d.ctl(&["show", "alice"]));
    assert!(text.contains("\nsecurity keys:       1\n"), "{text}");
    let line = text.lines().last().unwrap();
    assert!(
        line.starts_with(&format!("  {id}  yk  registered ")),
        "{text}"
    );
    assert!(line.ends_with("never used"), "{text}");

    // After a login with the key, show says when it was last used.
    assert_ok(&verify(&d, &t, &[]));
    assert!(show(&d, "alice")["security_keys"][0]["last_used"]
        .as_str()
        .is_some());
    let text = stdout(&d.ctl(&["show", "alice"]));
    assert!(
        text.lines().last().unwrap().contains(", last used "),
        "{text}"
    );
    // An unknown account is still exit 67, before any key is asked for.
    assert_error(
        &d.ctl(&["--json", "show", "nobody-here"]),
        67,
        "no_such_user",
    );
}

#[test]
fn a_wrong_origin_or_rp_id_is_refused_and_counted() {
    let d = start("");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    add_key(&d, "alice", &t);
    let evil = [("AUTHD_SOFTTOKEN_ORIGIN", "https://evil.login.example.test")];
    let out = verify(&d, &t, &evil);
    assert_error(&out, 1, "denied");
    assert!(stderr(&out).contains("security key"), "{}", stderr(&out));
    assert_eq!(show(&d, "alice")["failures"], 1);

    // A parent domain the origin allows, but not authd's rp_id.
    let out = verify(&d, &t, &[("AUTHD_SOFTTOKEN_RP_ID", "example.test")]);
    assert_error(&out, 1, "denied");
    assert_eq!(show(&d, "alice")["failures"], 2);
    assert_eq!(
        d.events("alice", "verify")
            .iter()
            .filter(|e| e["outcome"] == "denied")
            .count(),
        2
    );

    // The right one still works, and clears the count.
    assert_ok(&verify(&d, &t, &[]));
    assert_eq!(show(&d, "alice")["failures"], 0);
}

#[test]
fn an_older_copy_of_the_key_is_refused_as_a_clone() {
    let d = start("");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    add_key(&d, "alice", &t);
    assert_ok(&verify(&d, &t, &[]));
    let copy = d.dir.path().join("alice.copy");
    std::fs::copy(&t, &copy).unwrap();
    assert_ok(&verify(&d, &t, &[]));
    // The copy's counter is behind the one authd saw last.
    let out = verify(&d, &copy, &[]);
    assert_error(&out, 1, "denied");
    assert!(stderr(&out).contains("cloned"), "{}", stderr(&out));
    let events = d.events("alice", "key-clone-suspected");
    assert_eq!(events.len(), 1, "audited");
    assert_eq!(show(&d, "alice")["failures"], 1);
    // The original goes on working.
    assert_ok(&verify(&d, &t, &[]));
}

#[test]
fn another_accounts_key_does_not_log_in() {
    let d = start("");
    let (ta, tb) = two_with_keys(&d);
    // alice's token holds none of bob's credentials: no key answers, no code follows.
    let out = with_token(&d, &ta, &[], &pw(), &["--json", "verify", "bob"]);
    assert_error(&out, 1, "second_factor_required");
    assert!(stderr(&out).contains("none of the account's security keys answered"));
    assert_ok(&with_token(&d, &tb, &[], &pw(), &["verify", "bob"]));
}

#[test]
fn removing_a_key_needs_the_password_and_a_touch() {
    let d = start("");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    let id = add_key(&d, "alice", &t);
    let wrong = with_token(
        &d,
        &t,
        &[],
        "Wrong-password-1\n",
        &["--json", "remove-key", "alice", &id],
    );
    assert_error(&wrong, 1, "denied");
    // Without a key to touch and without a code: refused.
    let none = d.dir.path().join("empty.softtoken");
    let out = with_token(
        &d,
        &none,
        &[],
        &pw(),
        &["--json", "remove-key", "alice", &id],
    );
    assert_error(&out, 1, "second_factor_required");
    let unknown = with_token(
        &d,
        &t,
        &[],
        &pw(),
        &["--json", "remove-key", "alice", "00000000"],
    );
    assert_error(&unknown, 65, "not_enrolled");
    assert_eq!(
        json(&d.ctl(&["--json", "keys", "alice"]))["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_ok(&with_token(
        &d,
        &t,
        &[],
        &pw(),
        &["remove-key", "alice", &id],
    ));
    assert_eq!(
        json(&d.ctl(&["--json", "keys", "alice"]))["keys"],
        serde_json::json!([])
    );
    // The last factor gone, the recovery codes go too, and the password is enough.
    assert_eq!(show(&d, "alice")["recovery_codes_left"], 0);
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
    assert_eq!(d.events("alice", "key-removed").len(), 1);

    // reset-2fa (lost device) removes keys as well.
    add_key(&d, "alice", &t);
    assert_ok(&d.ctl(&["reset-2fa", "alice"]));
    assert_eq!(
        json(&d.ctl(&["--json", "keys", "alice"]))["keys"],
        serde_json::json!([])
    );
}

#[test]
fn a_key_as_the_only_factor_falls_back_to_a_recovery_code() {
    let d = start("");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    let out = with_token(&d, &t, &[], "", &["--json", "add-key", "alice"]);
    let codes = json(&out)["recovery_codes"].clone();
    let code = codes[0].as_str().unwrap();
    // No key plugged in: authctl says so and takes a code for the same challenge.
    let none = d.dir.path().join("none.softtoken");
    let input = format!("{GOOD_PW}\n{code}\n");
    let out = with_token(&d, &none, &[], &input, &["--json", "verify", "alice"]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("enter a code instead"),
        "{}",
        stderr(&out)
    );
    assert_eq!(show(&d, "alice")["recovery_codes_left"], 9);
    // Where a request takes no touch, a recovery code stands in: authctl asks for one.
    let input = format!("{GOOD_PW}\n{}\n", codes[1].as_str().unwrap());
    assert_ok(&d.ctl_stdin(&input, &["disable-2fa", "alice", "--method", "key"]));
    assert_eq!(
        json(&d.ctl(&["--json", "keys", "alice"]))["keys"],
        serde_json::json!([])
    );
}

#[test]
fn a_key_beside_the_app_either_one_logs_in() {
    if !crate::peers::program("oathtool", "oathtool") {
        return;
    }
    let d = start("");
    d.user_with_password("alice");
    let (secret, recovery) = crate::two_factor::enrol(&d, "alice");
    let t = token(&d, "alice");
    let out = with_token(&d, &t, &[], "", &["--json", "add-key", "alice"]);
    assert_ok(&out);
    assert_eq!(
        json(&out)["recovery_codes"],
        serde_json::json!([]),
        "not the first factor"
    );
    assert_ok(&verify(&d, &t, &[]));
    let none = d.dir.path().join("none.softtoken");
    let input = format!("{GOOD_PW}\n{}\n", crate::two_factor::oathtool(&secret, 1));
    assert_ok(&with_token(&d, &none, &[], &input, &["verify", "alice"]));
    // disable-2fa --method key leaves the app (the app's next code is spent: a recovery
    // code proves it).
    let input = format!("{GOOD_PW}\n{}\n", recovery[0]);
    assert_ok(&d.ctl_stdin(
        &input,
        &["disable-2fa", "alice", "--method", "key", "--code", "-"],
    ));
    assert_eq!(
        json(&d.ctl(&["--json", "keys", "alice"]))["keys"],
        serde_json::json!([])
    );
    assert_eq!(show(&d, "alice")["totp"], "on");
}

#[test]
fn failed_assertions_count_toward_the_lockout() {
    let d = start("[lockout]\nmax_failures = 3\n");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    add_key(&d, "alice", &t);
    let evil = [("AUTHD_SOFTTOKEN_ORIGIN", "https://evil.login.example.test")];
    for _ in 0..3 {
        assert_error(&verify(&d, &t, &evil), 1, "denied");
    }
    assert!(!show(&d, "alice")["locked_until"].is_null());
    assert_eq!(d.events("alice", "locked-out").len(), 1);
    // Locked: the right key is refused as well.
    assert_error(&verify(&d, &t, &[]), 75, "locked");
    assert_ok(&d.ctl(&["unlock", "alice"]));
    assert_ok(&verify(&d, &t, &[]));
}

#[test]
fn only_the_key_models_allowed_may_register() {
    // The soft token reports webauthn-authenticator-rs's AAGUID.
    let soft = "0fb9bcbc-a0d4-4042-bbb0-559bc1631e28";
    let other = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
    let d = start(&format!("allowed_aaguids = [\"{other}\"]\n"));
    d.user_with_password("alice");
    let t = token(&d, "alice");
    let out = with_token(&d, &t, &[], "", &["--json", "add-key", "alice"]);
    assert_error(&out, 1, "denied");
    assert!(stderr(&out).contains(soft), "{}", stderr(&out));
    assert_eq!(
        json(&d.ctl(&["--json", "keys", "alice"]))["keys"],
        serde_json::json!([])
    );

    let d = start(&format!("allowed_aaguids = [\"{other}\", \"{soft}\"]\n"));
    d.user_with_password("alice");
    add_key(&d, "alice", &token(&d, "alice"));
}
