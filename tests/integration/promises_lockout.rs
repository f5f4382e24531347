//! Promises of authctl(1) LOCKOUT and authd.toml(5) `[lockout]`, end to end: every
//! command that checks a password or code refuses a locked account with 75 (and checks
//! nothing), send-reset still works; a replayed code counts; set-password and
//! reset-password clear the count; non-default settings take effect.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::daemon::*;
use crate::promises_reset::{next_token, reset_with};
use crate::two_factor::{enrol, oathtool};

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

/// The login name of whoever runs the tests: authctl treats the account of that name as
/// the caller's own (recovery-codes then asks for proof, as for any user).
fn own_login() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap()
        .name
}

#[track_caller]
fn assert_locked(out: &Output) {
    assert_exit(out, 75);
    let error = &json(out)["error"];
    assert_eq!(error["code"], "locked", "{}", stdout(out));
    assert!(error["retry_at"].is_string(), "{}", stdout(out));
}

/// `max_failures` wrong passwords; the last one locks and still answers 1 (denied).
fn lock(d: &Daemon, name: &str, max_failures: usize) {
    for i in 1..=max_failures {
        let out = d.ctl_stdin("wrong-password-1\n", &["--json", "verify", name]);
        assert_exit(&out, 1);
        assert_eq!(json(&out)["error"]["code"], "denied", "failure {i}");
    }
    assert!(show(d, name)["locked_until"].is_string());
}

#[test]
fn a_locked_account_gets_75_from_every_command_that_checks_a_secret_but_may_reset_by_mail() {
    if !have("oathtool") {
        return;
    }
    let (d, gateway, _gw) = crate::sms::start("min_interval = \"0s\"", "");
    let maildir = d.state_dir().join("outbox/mail");
    let me = own_login();
    let email = format!("{me}@example.org");
    assert_ok(&d.ctl(&["add-user", &me, "--email", &email]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", &me]));
    let (secret, recovery) = enrol(&d, &me);
    // Our own account, with the app on: the password and a code prove it is us.
    assert_ok(&d.ctl_stdin(
        &format!("{GOOD_PW}\n{}\n", recovery[9]),
        &["enable-sms", &me, "--phone", crate::sms::PHONE],
    ));
    let sms_code = gateway.code(1);
    // A second account with a pending app enrolment, for confirm-totp.
    d.user_with_password("bob");
    let bob_secret = json(&d.ctl(&["--json", "enable-totp", "bob"]))["secret"]
        .as_str()
        .unwrap()
        .to_string();

    lock(&d, &me, 5);
    lock(&d, "bob", 5);

    // The right secrets, every time: the lock is decided before anything is checked.
    let pw_code = || format!("{GOOD_PW}\n{}\n", oathtool(&secret, 1));
    let refused: Vec<(&str, String, Vec<&str>)> = vec![
        ("verify", pw_code(), vec!["verify", &me]),
        (
            "change-password",
            format!("{GOOD_PW}\n{}\n{NEW_PW}\n", oathtool(&secret, 1)),
            vec!["change-password", &me],
        ),
        (
            "change-password --email-link",
            pw_code(),
            vec!["change-password", &me, "--email-link"],
        ),
        ("disable-2fa", pw_code(), vec!["disable-2fa", &me]),
        (
            "recovery-codes",
            pw_code(),
            vec!["recovery-codes", &me, "--regenerate"],
        ),
        (
            "confirm-sms",
            String::new(),
            vec!["confirm-sms", &me, &sms_code],
        ),
        ("send-code", String::new(), vec!["send-code", &me]),
    ];
    for (what, input, args) in &refused {
        let mut full = vec!["--json"];
        full.extend(args);
        let out = d.ctl_stdin(input, &full);
        assert_exit(&out, 75);
        assert_eq!(
            json(&out)["error"]["code"],
            "locked",
            "{what}: {}",
            stdout(&out)
        );
    }
    assert_locked(&d.ctl(&["--json", "confirm-totp", "bob", &oathtool(&bob_secret, 0)]));
    assert_locked(&d.ctl_stdin(
        &format!("{GOOD_PW}\n{}\n", recovery[0]),
        &["--json", "verify", &me],
    ));

    // Nothing was checked, counted, changed or sent.
    let state = show(&d, &me);
    assert_eq!(
        (
            state["failures"].as_u64(),
            state["totp"].as_str(),
            state["sms"].as_str(),
            state["recovery_codes_left"].as_u64()
        ),
        // Nine: one recovery code proved the SMS enrolment above, before the lock.
        (Some(5), Some("on"), Some("pending"), Some(9))
    );
    assert_eq!(show(&d, "bob")["totp"], "pending");
    let outbox = crate::outbox::outbox(&d);
    assert!(outbox.is_empty(), "{outbox:?}");
    assert_eq!(
        gateway.messages().len(),
        1,
        "send-code sent an SMS while locked"
    );
    assert!(
        tokens_mailed(&maildir).is_empty(),
        "--email-link mailed a link"
    );

    // send-reset works on a locked account, and the reset clears the lock.
    let mut known = Vec::new();
    assert_ok(&d.ctl(&["send-reset", &me]));
    let token = next_token(&maildir, &mut known);
    assert_ok(&reset_with(&d, &token, NEW_PW));
    let state = show(&d, &me);
    assert_eq!(
        (state["failures"].as_u64(), &state["locked_until"]),
        (Some(0), &serde_json::Value::Null)
    );
    assert_ok(&d.ctl_stdin(
        &format!("{NEW_PW}\n{}\n", oathtool(&secret, 1)),
        &["verify", &me],
    ));
    // The SMS code the locked confirm-sms never looked at is still good.
    assert_ok(&d.ctl(&["confirm-sms", &me, &sms_code]));
}

fn tokens_mailed(maildir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(maildir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .filter(|m| crate::mailbox::reset_token_in(m).is_some())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_replayed_app_code_counts_toward_the_lockout() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("rita");
    let secret = json(&d.ctl(&["--json", "enable-totp", "rita"]))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    // The code that confirmed the enrolment is spent: a login with it is a replay.
    let confirming = oathtool(&secret, 0);
    assert_ok(&d.ctl(&["confirm-totp", "rita", &confirming]));
    let reused = d.ctl_stdin(
        &format!("{GOOD_PW}\n{confirming}\n"),
        &["--json", "verify", "rita"],
    );
    assert_exit(&reused, 1);
    assert!(
        stderr(&reused).contains("already used"),
        "{}",
        stderr(&reused)
    );
    assert_eq!(show(&d, "rita")["failures"], 1);

    let code = oathtool(&secret, 1);
    let input = format!("{GOOD_PW}\n{code}\n");
    assert_ok(&d.ctl_stdin(&input, &["verify", "rita"]));
    assert_eq!(show(&d, "rita")["failures"], 0);
    for replay in 1..=5 {
        let out = d.ctl_stdin(&input, &["--json", "verify", "rita"]);
        assert_exit(&out, 1);
        assert_eq!(json(&out)["error"]["code"], "denied");
        assert!(stderr(&out).contains("already used"), "{}", stderr(&out));
        if replay < 5 {
            assert_eq!(show(&d, "rita")["failures"], replay);
        }
    }
    assert!(show(&d, "rita")["locked_until"].is_string());
    assert_locked(&d.ctl_stdin(
        &format!("{GOOD_PW}\n{}\n", oathtool(&secret, 1)),
        &["--json", "verify", "rita"],
    ));
    let events = json(&d.ctl(&["--json", "log", "rita", "--limit", "50"]))["events"].clone();
    let outcomes: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .filter(|(_, o)| *o == "replayed")
        .collect();
    assert_eq!(outcomes.len(), 6, "{events}");
    assert_eq!(outcomes[5], ("locked-out", "replayed"), "{events}");
}

#[test]
fn set_password_and_reset_password_clear_the_failure_count() {
    let d = Daemon::start_with_config(&format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"));
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "sam", "--email", "sam@example.org"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "sam"]));
    let wrong = |n: usize| {
        for _ in 0..n {
            assert_exit(&d.ctl_stdin("wrong-password-1\n", &["verify", "sam"]), 1);
        }
    };

    wrong(3);
    assert_eq!(show(&d, "sam")["failures"], 3);
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["set-password", "sam"]));
    assert_eq!(show(&d, "sam")["failures"], 0);

    wrong(5);
    assert!(show(&d, "sam")["locked_until"].is_string());
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "sam"]));
    let state = show(&d, "sam");
    assert_eq!(
        (state["failures"].as_u64(), &state["locked_until"]),
        (Some(0), &serde_json::Value::Null)
    );
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "sam"]));

    // Four failures, then a reset by mail: the fifth failure does not lock.
    wrong(4);
    let mut known = Vec::new();
    assert_ok(&d.ctl(&["send-reset", "sam"]));
    assert_ok(&reset_with(&d, &next_token(&maildir, &mut known), NEW_PW));
    assert_eq!(show(&d, "sam")["failures"], 0);
    wrong(1);
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "sam"]));
}

/// The lock length recorded by the `locked-out` event with this failure number: its
/// "locked until" minus its own time, both from the daemon's clock.
fn lock_length(d: &Daemon, name: &str, failure: u64) -> u64 {
    let events = json(&d.ctl(&["--json", "log", name, "--limit", "50"]))["events"].clone();
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["action"] == "locked-out"
                && e["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("failure {failure};"))
        })
        .unwrap_or_else(|| panic!("no locked-out event for failure {failure}: {events}"))
        .clone();
    let at = humantime::parse_rfc3339(event["at"].as_str().unwrap()).unwrap();
    let until = event["detail"]
        .as_str()
        .unwrap()
        .split("locked until ")
        .nth(1)
        .unwrap();
    let until = humantime::parse_rfc3339(until.trim()).unwrap();
    until.duration_since(at).unwrap().as_secs()
}

/// Poll until the lock has run out (the daemon says so).
fn wait_unlocked(d: &Daemon, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while show(d, name)["locked_until"].is_string() {
        assert!(Instant::now() < deadline, "still locked");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn non_default_lockout_settings_take_effect() {
    let d = Daemon::start_with_config(&format!(
        "[lockout]\nmax_failures = 2\nbase = \"4s\"\nmax = \"10s\"\n{TEST_CONFIG}"
    ));
    d.user_with_password("lena");
    lock(&d, "lena", 2);
    // The right password within the lock is refused. (The lock is a few seconds long
    // so that a loaded machine still gets this check in before it runs out.)
    assert_locked(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "lena"]));
    assert_eq!(lock_length(&d, "lena", 2), 4);
    // Each further failure doubles the lock, up to `max`: 8 s, then 10 s (not 16).
    wait_unlocked(&d, "lena");
    assert_exit(&d.ctl_stdin("wrong-password-1\n", &["verify", "lena"]), 1);
    assert_eq!(lock_length(&d, "lena", 3), 8);
    wait_unlocked(&d, "lena");
    assert_exit(&d.ctl_stdin("wrong-password-1\n", &["verify", "lena"]), 1);
    assert_eq!(lock_length(&d, "lena", 4), 10);
    wait_unlocked(&d, "lena");
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "lena"]));
    assert_eq!(show(&d, "lena")["failures"], 0);
}
