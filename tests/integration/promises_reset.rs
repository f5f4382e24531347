//! Promises about reset links (authctl(1) PASSWORD RESET, `set-user`): `--no-email`
//! voids them, and an account keeps at most 5 outstanding (a sixth request voids the
//! oldest). Through the default file transport, tokens read from the `.eml` files.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::daemon::*;

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

/// Every token in the reset mails in `maildir` (the raw message's body is 7-bit text, so
/// the token's line stands whole).
fn tokens_in(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|raw| crate::mailbox::reset_token_in(&raw))
        .collect()
}

/// Wait for the reset mail with a token not in `known`; remember and return it.
pub(crate) fn next_token(maildir: &Path, known: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(new) = tokens_in(maildir).into_iter().find(|t| !known.contains(t)) {
            known.push(new.clone());
            return new;
        }
        assert!(
            Instant::now() < deadline,
            "no new reset mail in {maildir:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `reset-password --token -`, token and new password on stdin.
pub(crate) fn reset_with(d: &Daemon, token: &str, password: &str) -> std::process::Output {
    d.ctl_stdin(
        &format!("{token}\n{password}\n"),
        &["--json", "reset-password", "--token", "-"],
    )
}

#[track_caller]
fn assert_denied(out: &std::process::Output) {
    assert_exit(out, 1);
    assert_eq!(json(out)["error"]["code"], "denied", "{}", stdout(out));
}

#[test]
fn removing_the_email_address_voids_the_reset_links_already_mailed() {
    let d = Daemon::start_with_config(&format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"));
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "nora", "--email", "nora@example.org"]));
    let mut known = Vec::new();
    assert_ok(&d.ctl(&["send-reset", "nora"]));
    let token = next_token(&maildir, &mut known);

    assert_ok(&d.ctl(&["set-user", "nora", "--no-email"]));
    assert_eq!(
        json(&d.ctl(&["--json", "show", "nora"]))["email"],
        serde_json::Value::Null
    );
    assert_denied(&reset_with(&d, &token, NEW_PW));
    assert_eq!(
        json(&d.ctl(&["--json", "show", "nora"]))["password_set"],
        false
    );
    let log = stdout(&d.ctl(&["log", "nora"]));
    assert!(log.contains("reset links voided"), "{log}");
    // With no address, no new link can be asked for either.
    let none = d.ctl(&["--json", "send-reset", "nora"]);
    assert_exit(&none, 65);
    assert_eq!(json(&none)["error"]["code"], "invalid_input");
}

#[test]
fn an_account_keeps_at_most_five_reset_links_and_a_sixth_voids_the_oldest() {
    let d = Daemon::start_with_config(&format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"));
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "otto", "--email", "otto@example.org"]));
    let mut known = Vec::new();

    // Five links: all of them stay valid, the oldest included.
    let five: Vec<String> = (0..5)
        .map(|_| {
            assert_ok(&d.ctl(&["send-reset", "otto"]));
            next_token(&maildir, &mut known)
        })
        .collect();
    assert_ok(&reset_with(&d, &five[0], NEW_PW));
    // Any password change voids the others.
    assert_denied(&reset_with(&d, &five[4], "Another-Fine-Password-7"));

    // Six links: the first is voided by the sixth, the second still works.
    let six: Vec<String> = (0..6)
        .map(|_| {
            assert_ok(&d.ctl(&["send-reset", "otto"]));
            next_token(&maildir, &mut known)
        })
        .collect();
    assert_denied(&reset_with(&d, &six[0], "Another-Fine-Password-7"));
    assert_ok(&reset_with(&d, &six[1], "Another-Fine-Password-7"));
    assert_ok(&d.ctl_stdin("Another-Fine-Password-7\n", &["verify", "otto"]));
}

/// `reset-password --token -` checks the token before asking for a new password: a used
/// or unknown token is refused with only the token read (no password on stdin needed).
#[test]
fn a_spent_token_is_refused_before_the_new_password_is_asked_for() {
    let d = Daemon::start_with_config(&format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"));
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "olga", "--email", "olga@example.org"]));
    let mut known = Vec::new();
    assert_ok(&d.ctl(&["send-reset", "olga"]));
    let token = next_token(&maildir, &mut known);
    assert_ok(&reset_with(&d, &token, NEW_PW));
    for spent in [token.as_str(), "not-a-token"] {
        let out = d.ctl_stdin(
            &format!("{spent}\n"),
            &["--json", "reset-password", "--token", "-"],
        );
        assert_denied(&out);
    }
}
