//! What PAM answers for logins through a real authd: the password (also one whose hash
//! came from /etc/shadow), then an app code or a recovery code; lockout, unknown and SSO
//! users; password changes; a screen locker running as its user.

use std::path::Path;

use crate::daemon::*;
use crate::oath::{enrol, oathtool};
use crate::stack::*;

#[test]
fn the_right_password_logs_in_and_a_wrong_one_is_auth_err() {
    let Some((d, svc)) = daemon_and_stack("password") else {
        return;
    };
    d.user_with_password("alice");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW]);
    assert!(ok, "{text}");
    assert!(!text.contains("Verification code"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &["wrong-password-1"]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
}

#[test]
fn a_yescrypt_hash_imported_from_shadow_logs_in_with_its_password() {
    let Some((d, svc)) = daemon_and_stack("shadow") else {
        return;
    };
    if !have("mkpasswd") {
        return;
    }
    let made = std::process::Command::new("mkpasswd")
        .args(["-m", "yescrypt", "Yes-Crypt-Pass-99"])
        .output()
        .unwrap();
    let hash = String::from_utf8(made.stdout).unwrap();
    assert!(hash.starts_with("$y$"), "{hash}");
    assert_ok(&d.ctl_stdin(&format!("carol:{}", hash.trim()), &["import", "-e"]));
    let (ok, text) = pamtester(&svc, "carol", "authenticate", &["Yes-Crypt-Pass-98"]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    for _ in 0..2 {
        // The first login replaces the hash with argon2id; the second checks that one.
        let (ok, text) = pamtester(&svc, "carol", "authenticate", &["Yes-Crypt-Pass-99"]);
        assert!(ok, "{text}");
    }
}

#[test]
fn an_app_code_follows_the_password_and_a_wrong_code_fails() {
    let Some((d, svc)) = daemon_and_stack("totp") else {
        return;
    };
    d.user_with_password("alice");
    let (secret, _) = enrol(&d, "alice");
    let (ok, text) = pamtester(
        &svc,
        "alice",
        "authenticate",
        &[GOOD_PW, &oathtool(&secret, 1)],
    );
    assert!(ok, "{text}");
    assert!(text.contains("Verification code"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW, "000000"]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    // The PAM service is in the account's audit trail.
    let log = stdout(&d.ctl(&["log", "alice"]));
    assert!(log.contains(&format!("service={}", svc.name)), "{log}");
}

#[test]
fn a_recovery_code_logs_in_once() {
    let Some((d, svc)) = daemon_and_stack("recovery") else {
        return;
    };
    d.user_with_password("alice");
    let (_, codes) = enrol(&d, "alice");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW, &codes[0]]);
    assert!(ok, "recovery code: {text}");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW, &codes[0]]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
}

#[test]
fn a_locked_account_is_maxtries_and_account_management_refuses_it() {
    let Some((d, svc)) = daemon_and_stack("lockout") else {
        return;
    };
    d.user_with_password("alice");
    d.user_with_password("bob");
    for _ in 0..5 {
        let (ok, _) = pamtester(&svc, "bob", "authenticate", &["wrong-password-1"]);
        assert!(!ok);
    }
    let (ok, text) = pamtester(&svc, "bob", "authenticate", &[GOOD_PW]);
    assert!(!ok && text.contains("maximum number of retries"), "{text}");
    let (ok, text) = pamtester(&svc, "bob", "acct_mgmt", &[]);
    assert!(!ok && text.contains("locked until"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "acct_mgmt", &[]);
    assert!(ok, "{text}");
}

#[test]
fn unknown_users_are_user_unknown_or_left_to_the_stack_with_nullok() {
    let Some((d, svc)) = daemon_and_stack("unknown") else {
        return;
    };
    let (ok, text) = pamtester(&svc, "nobody-here", "authenticate", &[GOOD_PW]);
    assert!(!ok && text.contains("User not known"), "{text}");
    let ignoring = service(
        &d,
        "nullok",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET nullok\n\
         auth required pam_deny.so\n",
    );
    let (ok, text) = pamtester(&ignoring, "nobody-here", "authenticate", &[GOOD_PW]);
    assert!(
        !ok && !text.contains("User not known"),
        "ignored, then pam_deny: {text}"
    );
    let permitting = service(
        &d,
        "nullok-permit",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET nullok\n\
         auth required pam_permit.so\n",
    );
    let (ok, text) = pamtester(&permitting, "nobody-here", "authenticate", &[GOOD_PW]);
    assert!(ok, "PAM_IGNORE lets the next module decide: {text}");
}

#[test]
fn chauthtok_changes_the_password_with_a_code_and_refuses_a_wrong_current_one() {
    let Some((d, svc)) = daemon_and_stack("chauthtok") else {
        return;
    };
    d.user_with_password("alice");
    let (_, codes) = enrol(&d, "alice");
    let new = "Purple-Monkey-Dishwasher-42";
    // A wrong current password: PAM_AUTHTOK_RECOVERY_ERR, and nothing changes.
    let (ok, text) = pamtester(
        &svc,
        "alice",
        "chauthtok",
        &["wrong-password-1", new, new, &codes[0]],
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("Authentication information cannot be recovered"),
        "{text}"
    );
    // Current, new twice, and a code (a recovery code here).
    let (ok, text) = pamtester(&svc, "alice", "chauthtok", &[GOOD_PW, new, new, &codes[1]]);
    assert!(ok, "{text}");
    let verify = d.ctl_stdin(
        &format!("{new}\n"),
        &["verify", "alice", "--code", &codes[2]],
    );
    assert!(verify.status.success(), "the new password works");
    let old = d.ctl_stdin(&pw(), &["verify", "alice", "--code", &codes[3]]);
    assert!(!old.status.success(), "the old password no longer does");
}

/// A screen locker runs as the user: it may ask authd about its own account, and a
/// question about another account is PAM_AUTH_ERR (authd refuses it), never success.
#[test]
fn a_screen_locker_may_check_its_own_account_only() {
    use std::os::unix::fs::PermissionsExt;
    if !ready() {
        return;
    }
    let d = Daemon::start();
    // nobody must reach the socket and load a copy of the module.
    let exposed =
        |p: &Path| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    exposed(d.socket.parent().unwrap());
    let lib = tempfile::tempdir().unwrap();
    exposed(lib.path());
    let copy = lib.path().join("pam_authd.so");
    std::fs::copy(module(), &copy).unwrap();
    exposed(&copy);
    let svc = Service::new(
        "locker",
        &format!(
            "auth required {} socket={}\n",
            copy.display(),
            d.socket.display()
        ),
    );
    d.user_with_password("alice");
    d.user_with_password("nobody");
    let as_nobody =
        |user: &str| pamtester_as(Some((65534, 65534)), &svc, user, "authenticate", &[GOOD_PW]);
    let (ok, text) = as_nobody("nobody");
    assert!(ok, "its own account: {text}");
    let (ok, text) = as_nobody("alice");
    assert!(!ok && text.contains("Authentication failure"), "{text}");
}

/// An SSO account authenticates at its provider. With `auth required pam_authd.so`
/// followed by a module that succeeds, PAM_IGNORE would let it in with any password: the
/// default is to fail. `sso=ignore` is for stacks where another module authenticates SSO
/// users, and leaves the decision to it.
#[test]
fn sso_accounts_fail_by_default_and_are_ignored_only_on_request() {
    if !ready() {
        return;
    }
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "carol", "--sso", "corp"]));
    let permissive = service(
        &d,
        "sso-default",
        "auth required MODULE socket=SOCKET\n\
         auth optional pam_permit.so\n",
    );
    let (ok, text) = pamtester(&permissive, "carol", "authenticate", &["any-password"]);
    assert!(!ok, "an SSO account logged in with any password: {text}");
    assert!(text.contains("sign in at your SSO provider"), "{text}");

    // The SSO module's place is taken by pam_permit here: it decides.
    let delegating = service(
        &d,
        "sso-ignore",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET sso=ignore\n\
         auth required pam_permit.so\n",
    );
    let (ok, text) = pamtester(&delegating, "carol", "authenticate", &["any-password"]);
    assert!(ok, "PAM_IGNORE leaves SSO users to the next module: {text}");
    let denying = service(
        &d,
        "sso-ignore-deny",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET sso=ignore\n\
         auth required pam_deny.so\n",
    );
    let (ok, text) = pamtester(&denying, "carol", "authenticate", &["any-password"]);
    assert!(!ok, "{text}");
}
