//! Account lifecycle through the real PAM stack: a disabled account fails `auth` and is
//! PERM_DENIED in `account`; an expired one is ACCT_EXPIRED; a password an admin wants
//! changed authenticates, `account` answers NEW_AUTHTOK_REQD, and `chauthtok` through
//! pam_authd sets the new one (what sshd and login do with that answer).

use crate::daemon::*;
use crate::stack::*;

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

#[test]
fn a_disabled_account_fails_auth_and_is_perm_denied_in_account() {
    let Some((d, svc)) = daemon_and_stack("disabled") else {
        return;
    };
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["disable", "alice", "--reason", "on leave"]));
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    assert!(text.contains("disabled"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "acct_mgmt", &[]);
    assert!(!ok && text.contains("Permission denied"), "{text}");
    assert!(text.contains("has been disabled"), "{text}");

    assert_ok(&d.ctl(&["enable", "alice"]));
    let (ok, text) = pamtester(&svc, "alice", "authenticate acct_mgmt", &[GOOD_PW]);
    assert!(ok, "{text}");
}

#[test]
fn an_expired_account_fails_auth_and_is_acct_expired_in_account() {
    let Some((d, svc)) = daemon_and_stack("expired") else {
        return;
    };
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["set-user", "alice", "--expires", "2001-02-03"]));
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "acct_mgmt", &[]);
    assert!(!ok && text.contains("User account has expired"), "{text}");
}

#[test]
fn a_password_that_must_change_is_changed_through_chauthtok() {
    let Some((d, svc)) = daemon_and_stack("mustchange") else {
        return;
    };
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["set-user", "alice", "--must-change-password"]));
    // The password still authenticates; `account` asks for a new one (pamtester stops
    // there, where sshd and login would run chauthtok).
    let (ok, text) = pamtester(&svc, "alice", "authenticate acct_mgmt", &[GOOD_PW]);
    assert!(!ok, "{text}");
    assert!(text.contains("successfully authenticated"), "{text}");
    assert!(
        text.contains("new one required") && text.contains("administrator enforced"),
        "{text}"
    );

    // One PAM handle: authenticate, chauthtok (current, new twice), then account passes.
    let (ok, text) = pamtester(
        &svc,
        "alice",
        "authenticate chauthtok acct_mgmt",
        &[GOOD_PW, GOOD_PW, NEW_PW, NEW_PW],
    );
    assert!(ok, "{text}");
    let shown = show(&d, "alice");
    assert_eq!(shown["must_change_password"], false, "{shown}");
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "alice"]));
    let (ok, text) = pamtester(&svc, "alice", "authenticate acct_mgmt", &[NEW_PW]);
    assert!(ok, "{text}");

    // A new password the policy refuses leaves the demand in place.
    assert_ok(&d.ctl(&["set-user", "alice", "--must-change-password"]));
    let (ok, text) = pamtester(&svc, "alice", "chauthtok", &[NEW_PW, "short", "short"]);
    assert!(!ok, "{text}");
    assert_eq!(show(&d, "alice")["must_change_password"], true);
}
