//! A store written by an older authd opens with this one and answers: every kind of
//! stored record in `tests/fixtures/store-v1.tar.gz` (made by main at b896e0c with
//! `tests/fixtures/make-store-v1.sh`; see tests/fixtures/README.md) still decodes and
//! still means what it meant. Only the public CLI is used, so the test holds whatever the
//! store becomes inside.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::daemon::*;
use crate::sms::Gateway;
use crate::two_factor::oathtool;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/store-v1.tar.gz"
);

/// When the fixture was made: 2026-11-30T11:48:07Z.
const MADE_AT: u64 = 1_796_039_287;

const ACCOUNTS: [&str; 9] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
];

/// The old store in a fresh directory, authd started on it (mail to files, SMS through
/// the test gateway), and the fixture's test data (`known.txt`).
fn open_old_store() -> (Daemon, Gateway, HashMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    let unpacked = Command::new("tar")
        .arg("-xpzf")
        .arg(FIXTURE)
        .arg("-C")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ok(&unpacked);
    let known = std::fs::read_to_string(dir.path().join("known.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (gateway, sms) = Gateway::new(dir.path());
    let config: PathBuf = dir.path().join("authd.toml");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{sms}\n[mail]\ntransport = \"file\"\n\
             dir = \"{}\"\n{TEST_CONFIG}",
            dir.path().join("authd.sock").display(),
            dir.path().join("state").display(),
            dir.path().join("mail").display(),
        ),
    )
    .unwrap();
    (Daemon::from_existing(dir, config), gateway, known)
}

/// (seq, action, outcome, detail) of each entry of `name`'s history, oldest first.
fn history(d: &Daemon, name: &str) -> Vec<(u64, String, String, String)> {
    let log = json(&d.ctl(&["--json", "log", name]));
    log["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in: {log}"))
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap().to_string();
            (
                e["seq"].as_u64().unwrap(),
                text("action"),
                text("outcome"),
                text("detail"),
            )
        })
        .collect()
}

fn account(name: &str, created: &str, fields: Value) -> Value {
    let mut shown = json!({
        "name": name, "email": null, "phone": null, "sso": null, "password_set": true,
        "totp": "off", "sms": "off", "recovery_codes_left": 0, "sms_number": null,
        "locked_until": null, "failures": 0, "created": created, "security_keys": [],
        // Lifecycle fields: an old store's accounts are enabled, never expire, and their
        // password's age is unknown (so it never ages out).
        "disabled": false, "disabled_reason": null, "disabled_since": null,
        "expires": null, "expired": false, "must_change_password": false,
        "password_changed": null, "max_password_age_days": null, "password_expires": null,
        "password_change_required": false, "last_login": null, "last_login_service": null,
    });
    for (k, v) in fields.as_object().unwrap() {
        shown[k] = v.clone();
    }
    shown
}

#[test]
fn an_old_store_opens_and_shows_every_record_as_it_was() {
    if crate::daemon::sled_only("a sled store from an older authd") {
        return;
    }
    let (d, _gateway, _known) = open_old_store();
    let status = json(&d.ctl(&["--json", "status"]));
    assert_eq!(
        (
            &status["accounts"],
            &status["outbox_queued"],
            &status["outbox_failed"]
        ),
        (&json!(9), &json!(2), &json!(1)),
        "{status}"
    );
    assert_eq!(
        json(&d.ctl(&["--json", "list-users"]))["users"],
        json!(ACCOUNTS)
    );

    let (t5, t6, t7) = (
        "2026-11-30T11:48:05Z",
        "2026-11-30T11:48:06Z",
        "2026-11-30T11:48:07Z",
    );
    let expected = [
        account(
            "alice",
            t5,
            json!({"email": "alice@example.org", "totp": "on", "recovery_codes_left": 9,
                   "failures": 1}),
        ),
        account(
            "bob",
            t5,
            json!({"phone": "+4930901820", "sms": "on", "sms_number": "+49*****820",
                   "recovery_codes_left": 10}),
        ),
        account("carol", t6, json!({"email": "carol@example.org"})),
        account("dave", t6, json!({"totp": "pending"})),
        account(
            "erin",
            t6,
            json!({"password_set": false, "phone": "+33612345678", "sms": "pending",
                   "sms_number": "+33******678"}),
        ),
        account(
            "frank",
            t6,
            json!({"password_set": false, "email": "queued@example.org"}),
        ),
        account("grace", t6, json!({"password_set": false, "sso": "corp"})),
        account(
            "heidi",
            t6,
            json!({"failures": 3, "locked_until": "2126-12-01T11:48:06Z"}),
        ),
        account(
            "ivan",
            t6,
            json!({"password_set": false, "phone": "+4915112345678", "sms": "pending",
                   "sms_number": "+49********678"}),
        ),
    ];
    for want in expected {
        assert_eq!(show(&d, want["name"].as_str().unwrap()), want);
    }

    let entry = |seq, action: &str, outcome: &str, detail: &str| {
        (seq, action.into(), outcome.into(), detail.into())
    };
    assert_eq!(
        history(&d, "alice"),
        [
            entry(1, "account-added", "ok", ""),
            entry(2, "password-set", "ok", ""),
            entry(3, "totp-enrolled", "ok", "pending"),
            entry(
                4,
                "mail-delivered",
                "ok",
                "Your password was changed to a***@example.org"
            ),
            entry(5, "totp-confirmed", "ok", "10 recovery codes issued"),
            entry(6, "recovery-code-used", "ok", "9 left"),
            entry(7, "verify", "denied", "wrong password; failure 1"),
        ]
    );
    assert_eq!(
        history(&d, "heidi").last().unwrap(),
        &entry(
            5,
            "locked-out",
            "denied",
            "wrong password; failure 3; locked until 2126-12-01T11:48:06Z"
        )
    );
    assert_eq!(
        history(&d, "erin").last().unwrap(),
        &entry(
            3,
            "sms-failed",
            "denied",
            "login code to +33******678: refused (permanent failure), not retried"
        )
    );
    let sizes: Vec<usize> = ACCOUNTS.iter().map(|n| history(&d, n).len()).collect();
    assert_eq!(sizes, [7, 7, 5, 3, 3, 2, 1, 5, 2]);
    let log = stdout(&d.ctl(&["log", "grace"]));
    assert!(log.contains("sso corp") && log.contains("uid 0"), "{log}");

    let outbox = json(&d.ctl(&["--json", "outbox"]));
    let messages = outbox["messages"].as_array().unwrap();
    let rows: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!([
                m["id"],
                m["account"],
                m["channel"],
                m["to"],
                m["subject"],
                m["state"],
                m["attempts"],
                m["created"],
                m["next_attempt"]
            ])
        })
        .collect();
    assert_eq!(
        rows,
        [
            json!([
                5,
                "erin",
                "sms",
                "+33612345678",
                "login code",
                "failed",
                1,
                t6,
                t6
            ]),
            json!([
                6,
                "frank",
                "mail",
                "queued@example.org",
                "Reset your password",
                "queued",
                1,
                t6,
                "2126-12-01T11:48:06Z"
            ]),
            json!([
                7,
                "ivan",
                "sms",
                "+4915112345678",
                "login code",
                "queued",
                1,
                t7,
                "2126-12-01T11:48:07Z"
            ]),
        ]
    );
    let errors: Vec<&str> = messages
        .iter()
        .map(|m| m["last_error"].as_str().unwrap())
        .collect();
    assert!(errors[0].ends_with("(exit status: 65, permanent): no such subscriber"));
    assert!(errors[1].ends_with("(exit status: 75): mail server busy"));
    assert!(errors[2].ends_with("(exit status: 75): gateway busy"));
}

#[test]
fn an_old_store_s_passwords_codes_and_tokens_still_work() {
    if crate::daemon::sled_only("a sled store from an older authd") {
        return;
    }
    if !have("oathtool") {
        return;
    }
    // The fixture's last TOTP step and SMS send are from when it was made: a clock behind
    // that would refuse the fresh code as a replay and the SMS as too soon.
    assert!(
        authd::time::now() > MADE_AT + 60,
        "this machine's clock is before the fixture was made"
    );
    let (mut d, gateway, known) = open_old_store();
    let pw = format!("{}\n", known["password"]);

    // TOTP: a fresh code from the secret the old daemon issued; its step is used once.
    let code = oathtool(&known["alice_totp_secret"], 0);
    assert_ok(&d.ctl_stdin(&pw, &["verify", "alice", "--code", &code]));
    assert_error(
        &d.ctl_stdin(&pw, &["--json", "verify", "alice", "--code", &code]),
        1,
        "denied",
    );
    // A recovery code the old daemon issued, once.
    let recovery = &known["alice_recovery_code"];
    assert_ok(&d.ctl_stdin(&pw, &["verify", "alice", "--code", recovery]));
    assert_eq!(show(&d, "alice")["recovery_codes_left"], 8);
    assert_error(
        &d.ctl_stdin(&pw, &["--json", "verify", "alice", "--code", recovery]),
        1,
        "denied",
    );

    // SMS on: the password sends a code to the stored number.
    assert_error(
        &d.ctl_stdin(&pw, &["--json", "verify", "bob"]),
        1,
        "second_factor_required",
    );
    assert_ok(&d.ctl_stdin(&pw, &["verify", "bob", "--code", &gateway.code(1)]));

    // carol's outstanding reset token sets a new password, once.
    let token = &known["carol_reset_token"];
    let new_pw = "Another-Staple-Horse-42";
    let input = format!("{token}\n{new_pw}\n");
    assert_ok(&d.ctl_stdin(&input, &["reset-password", "--token", "-"]));
    assert_error(
        &d.ctl_stdin(&input, &["--json", "reset-password", "--token", "-"]),
        1,
        "denied",
    );
    assert_ok(&d.ctl_stdin(&format!("{new_pw}\n"), &["verify", "carol"]));

    // heidi is still locked, grace still has no password here.
    assert_error(
        &d.ctl_stdin(&pw, &["--json", "verify", "heidi"]),
        75,
        "locked",
    );
    assert_error(
        &d.ctl_stdin(&pw, &["--json", "verify", "grace"]),
        65,
        "sso_account",
    );

    // What this authd wrote on the old store reads back after a restart.
    assert_eq!(d.terminate().code(), Some(0), "{}", d.log());
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{new_pw}\n"), &["verify", "carol"]));
    assert_eq!(show(&d, "alice")["recovery_codes_left"], 8);
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 9);
}
