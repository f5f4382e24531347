//! No secret needs the command line, where every local user can read it (`ps`,
//! /proc/PID/cmdline): a code given as `-` is read like a password, here as the next line
//! of standard input with --password-stdin, recovery codes included.

use crate::daemon::*;
use crate::two_factor::oathtool;

fn lines(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Enrol the authenticator app for `name` with the code on stdin (`confirm-totp NAME -`);
/// returns the secret and the recovery codes.
fn enrol_with_stdin_code(d: &Daemon, name: &str) -> (String, Vec<String>) {
    // Our own account: enrolling needs the password first.
    let enabled = d.ctl_stdin(&lines(&[GOOD_PW]), &["--json", "enable-totp", name]);
    assert_ok(&enabled);
    let secret = json(&enabled)["secret"].as_str().unwrap().to_string();
    let confirmed = d.ctl_stdin(
        &lines(&[&oathtool(&secret, 0)]),
        &["--json", "confirm-totp", name, "-"],
    );
    assert_ok(&confirmed);
    let codes: Vec<String> =
        serde_json::from_value(json(&confirmed)["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// The self-service commands need the caller's own account: we run as root, so the
/// account is `root`.
#[test]
fn codes_and_recovery_codes_come_from_stdin_with_code_dash() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("root");
    let (secret, codes) = enrol_with_stdin_code(&d, "root");
    assert_eq!(show(&d, "root")["totp"], "on");

    // verify: the password line, then the code line; a recovery code is a code.
    assert_ok(&d.ctl_stdin(
        &lines(&[GOOD_PW, &codes[0]]),
        &["verify", "root", "--code", "-"],
    ));
    assert_eq!(show(&d, "root")["recovery_codes_left"], 9);
    assert_ok(&d.ctl_stdin(
        &lines(&[GOOD_PW, &oathtool(&secret, 1)]),
        &["verify", "root", "--code", "-"],
    ));
    let wrong = d.ctl_stdin(
        &lines(&[GOOD_PW, "000000"]),
        &["--json", "verify", "root", "--code", "-"],
    );
    assert_exit(&wrong, 1);
    assert_eq!(json(&wrong)["error"]["code"], "denied");
    // `-` needs its line: input that ends early is a usage error, not a guess.
    let missing = d.ctl_stdin(
        &lines(&[GOOD_PW]),
        &["--json", "verify", "root", "--code", "-"],
    );
    assert_exit(&missing, 2);
    assert_eq!(json(&missing)["error"]["code"], "usage");

    // change-password: current password, code, new password.
    let new = "Purple-Monkey-Dishwasher-42";
    assert_ok(&d.ctl_stdin(
        &lines(&[GOOD_PW, &codes[1], new]),
        &["change-password", "root", "--code", "-"],
    ));
    assert_ok(&d.ctl_stdin(
        &lines(&[new, &codes[2]]),
        &["verify", "root", "--code", "-"],
    ));

    // recovery-codes --regenerate for your own account: password, code.
    let fresh = d.ctl_stdin(
        &lines(&[new, &codes[3]]),
        &[
            "--json",
            "recovery-codes",
            "root",
            "--regenerate",
            "--code",
            "-",
        ],
    );
    assert_ok(&fresh);
    let fresh: Vec<String> =
        serde_json::from_value(json(&fresh)["recovery_codes"].clone()).unwrap();
    assert_error(
        &d.ctl_stdin(
            &lines(&[new, &codes[4]]),
            &["--json", "verify", "root", "--code", "-"],
        ),
        1,
        "denied",
    );

    // disable-2fa: password, code.
    assert_ok(&d.ctl_stdin(
        &lines(&[new, &fresh[0]]),
        &["disable-2fa", "root", "--code", "-"],
    ));
    assert_eq!(show(&d, "root")["totp"], "off");
}

#[test]
fn code_dash_keeps_the_stdin_order_on_an_account_without_a_second_factor() {
    // Without 2FA the code line is still consumed, so the next line stays the new
    // password and never becomes the code.
    let d = Daemon::start();
    d.user_with_password("root");
    let new = "Purple-Monkey-Dishwasher-42";
    assert_ok(&d.ctl_stdin(
        &lines(&[GOOD_PW, "123456", new]),
        &["change-password", "root", "--code", "-"],
    ));
    assert_ok(&d.ctl_stdin(&lines(&[new]), &["verify", "root"]));
}

#[test]
fn confirm_sms_takes_its_code_from_stdin() {
    let spool = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_config(&format!(
        "[sms]\ntransport = \"file\"\ndir = \"{}\"\n{TEST_CONFIG}",
        spool.path().display()
    ));
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["enable-sms", "alice", "--phone", "+4930901820"]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let text = loop {
        let sent: Vec<_> = std::fs::read_dir(spool.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "sms"))
            .collect();
        if let Some(path) = sent.first() {
            break std::fs::read_to_string(path).unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "no SMS written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let code = crate::sms::code_in(&text);
    let confirmed = d.ctl_stdin(&lines(&[&code]), &["--json", "confirm-sms", "alice", "-"]);
    assert_ok(&confirmed);
    assert_eq!(show(&d, "alice")["sms"], "on");
}
