//! An account's lifecycle as a sysadmin runs it with authctl: disable with a reason and
//! enable again, an expiry date, a password an admin wants changed, a maximum password
//! age; `show` reports each, logins and the account's own requests answer the documented
//! error codes.

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;

const NEW_PW: &str = "Another-Staple-Horse-42";

#[test]
fn a_disabled_account_refuses_every_login_and_request_of_its_own_until_enabled() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    d.user_with_password("nobody");
    assert_ok(&d.ctl(&["disable", "alice", "--reason", "left the company"]));
    let out = d.ctl(&["--json", "disable", "nobody"]);
    assert_ok(&out);
    assert_eq!(json(&out)["message"], "disabled nobody");

    // The right password is refused, and is not counted as a failure.
    let refused = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
    assert_error(&refused, 1, "disabled");
    assert!(
        stderr(&refused).contains("disabled"),
        "{}",
        stderr(&refused)
    );
    let shown = show(&d, "alice");
    assert_eq!(
        (
            &shown["disabled"],
            &shown["disabled_reason"],
            &shown["failures"]
        ),
        (&true.into(), &"left the company".into(), &0.into()),
        "{shown}"
    );
    assert!(shown["disabled_since"].is_string(), "{shown}");
    let text = stdout(&d.ctl(&["show", "alice"]));
    assert!(
        text.contains("disabled:            yes (since ") && text.contains("left the company"),
        "{text}"
    );

    // Its owner can do nothing with it: not show, not the log, not a password change.
    for args in [
        vec!["--json", "show", "nobody"],
        vec!["--json", "log", "nobody"],
        vec!["--json", "verify", "nobody"],
        vec!["--json", "change-password", "nobody"],
        vec!["--json", "send-reset", "nobody"],
    ] {
        let input = format!("{GOOD_PW}\n{NEW_PW}\n");
        assert_error(&d.ctl_as(NOBODY, &input, &args), 1, "disabled");
    }
    // Only admins disable and enable.
    d.user_with_password("carol");
    assert_error(
        &d.ctl_as(NOBODY, "", &["--json", "disable", "carol"]),
        77,
        "permission_denied",
    );
    assert_error(&d.ctl(&["--json", "disable", "ghost"]), 67, "no_such_user");

    // unlock stays what it is: it clears failures and does not enable.
    assert_ok(&d.ctl(&["unlock", "alice"]));
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "alice"]),
        1,
        "disabled",
    );

    // Audited with the reason; enable lets the account in again.
    let disabled = d.events("alice", "account-disabled");
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0]["detail"], "reason: left the company");
    assert!(d
        .events("alice", "verify")
        .iter()
        .any(|e| e["outcome"] == "denied"
            && e["detail"].as_str().unwrap().contains("account disabled")));
    assert_ok(&d.ctl(&["enable", "alice"]));
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
    assert_eq!(show(&d, "alice")["disabled"], false);
    assert_eq!(d.events("alice", "account-enabled").len(), 1);
    assert_ok(&d.ctl(&["enable", "nobody"]));
    assert_ok(&d.ctl_as(NOBODY, "", &["show", "nobody"]));
}

#[test]
fn an_account_expires_at_its_date_and_never_clears_it() {
    let d = Daemon::start();
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["set-user", "alice", "--expires", "2000-01-01"]));
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "alice"]),
        1,
        "expired",
    );
    let shown = show(&d, "alice");
    assert_eq!(
        (&shown["expires"], &shown["expired"]),
        (&"2000-01-01T00:00:00Z".into(), &true.into()),
        "{shown}"
    );
    assert!(stdout(&d.ctl(&["show", "alice"]))
        .contains("expires:             2000-01-01T00:00:00Z (expired)"));

    assert_ok(&d.ctl(&["set-user", "alice", "--expires", "never"]));
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
    assert_eq!(show(&d, "alice")["expires"], serde_json::Value::Null);

    // An RFC 3339 time with an offset is stored as that instant.
    assert_ok(&d.ctl(&[
        "set-user",
        "alice",
        "--expires",
        "2999-12-31T23:00:00+01:00",
    ]));
    assert_eq!(show(&d, "alice")["expires"], "2999-12-31T22:00:00Z");
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));

    // A date a moment ahead: logins work until it comes, then not.
    let at = authd::time::now() + 2;
    let when = authd::time::format(at);
    assert_ok(&d.ctl(&["set-user", "alice", "--expires", &when]));
    wait_for_clock(at);
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "alice"]),
        1,
        "expired",
    );
    let policy = d.events("alice", "policy-changed");
    assert!(
        policy
            .iter()
            .any(|e| e["detail"] == format!("expires {when}")),
        "{policy:?}"
    );

    // A date authctl cannot read is a usage error; nothing changes.
    for bad in ["2027-02-30", "tomorrow", "31.12.2027", "2027-12-31T10:00"] {
        let out = d.ctl(&["--json", "set-user", "alice", "--expires", bad]);
        assert_error(&out, 2, "usage");
    }
    assert_eq!(show(&d, "alice")["expires"], when.as_str());
}

#[test]
fn a_password_an_admin_wants_changed_verifies_with_a_warning_until_its_owner_changes_it() {
    let d = Daemon::start();
    d.user_with_password("alice");
    let fresh = show(&d, "alice");
    assert_eq!(
        (
            &fresh["must_change_password"],
            &fresh["password_change_required"]
        ),
        (&false.into(), &false.into())
    );
    assert!(fresh["password_changed"].is_string(), "{fresh}");

    assert_ok(&d.ctl(&["set-user", "alice", "--must-change-password"]));
    let out = d.ctl_stdin(&pw(), &["verify", "alice"]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("authctl: warning: password_change_required: alice must change"),
        "{}",
        stderr(&out)
    );
    let out = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
    assert_ok(&out);
    let answer = json(&out);
    assert_eq!(
        (&answer["verified"], &answer["password_change_required"]),
        (&true.into(), &true.into()),
        "{answer}"
    );
    assert!(answer["password_change_reason"].is_string(), "{answer}");
    let shown = show(&d, "alice");
    assert_eq!(
        (
            &shown["must_change_password"],
            &shown["password_change_required"]
        ),
        (&true.into(), &true.into())
    );

    // An admin setting a (temporary) password leaves the demand in place.
    assert_ok(&d.ctl_stdin(&pw(), &["set-password", "alice"]));
    assert_eq!(show(&d, "alice")["must_change_password"], true);

    // The owner's own change meets it.
    let input = format!("{GOOD_PW}\n{NEW_PW}\n");
    assert_ok(&d.ctl_stdin(&input, &["change-password", "alice"]));
    let out = d.ctl_stdin(&format!("{NEW_PW}\n"), &["--json", "verify", "alice"]);
    assert_ok(&out);
    assert_eq!(json(&out)["password_change_required"], false);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert_eq!(show(&d, "alice")["must_change_password"], false);

    // Withdrawn by an admin, too.
    assert_ok(&d.ctl(&["set-user", "alice", "--must-change-password"]));
    assert_ok(&d.ctl(&["set-user", "alice", "--no-must-change-password"]));
    assert_eq!(show(&d, "alice")["password_change_required"], false);
    assert_error(&d.ctl(&["--json", "set-user", "alice"]), 2, "usage");
}

#[test]
fn the_maximum_password_age_comes_from_the_account_or_the_config_default() {
    let d = Daemon::start_with_config(&format!("{TEST_CONFIG}max_age = 30\n"));
    d.user_with_password("alice");
    let shown = show(&d, "alice");
    assert_eq!(shown["max_password_age_days"], 30, "{shown}");
    let changed = humantime::parse_rfc3339(shown["password_changed"].as_str().unwrap()).unwrap();
    let expires = humantime::parse_rfc3339(shown["password_expires"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires.duration_since(changed).unwrap().as_secs(),
        30 * 86_400
    );
    // Young enough: no warning.
    let out = d.ctl_stdin(&pw(), &["verify", "alice"]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    assert_ok(&d.ctl(&["set-user", "alice", "--max-password-age", "never"]));
    let shown = show(&d, "alice");
    assert_eq!(
        (&shown["max_password_age_days"], &shown["password_expires"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
    assert_ok(&d.ctl(&["set-user", "alice", "--max-password-age", "7"]));
    assert_eq!(show(&d, "alice")["max_password_age_days"], 7);
    assert_ok(&d.ctl(&["set-user", "alice", "--max-password-age", "default"]));
    assert_eq!(show(&d, "alice")["max_password_age_days"], 30);
    for bad in ["0", "-3", "ninety", "36501"] {
        let out = d.ctl(&["--json", "set-user", "alice", "--max-password-age", bad]);
        assert_error(&out, 2, "usage");
    }
    let text = stdout(&d.ctl(&["show", "alice"]));
    assert!(text.contains("max password age:    30 days"), "{text}");

    // Without the default, passwords do not age.
    let plain = Daemon::start();
    plain.user_with_password("bob");
    assert_eq!(
        show(&plain, "bob")["max_password_age_days"],
        serde_json::Value::Null
    );
}

#[test]
fn a_login_is_remembered_with_its_service() {
    let d = Daemon::start();
    d.user_with_password("alice");
    assert_eq!(show(&d, "alice")["last_login"], serde_json::Value::Null);
    let mut client = d.client();
    let request = authd::protocol::Request::Verify(authd::protocol::Verify {
        name: "alice".into(),
        password: authd::protocol::Secret::new(GOOD_PW),
        code: None,
        origin: authd::protocol::Origin {
            service: Some("sshd".into()),
            remote_host: None,
        },
    });
    assert!(matches!(
        client.call(&request),
        Ok(authd::protocol::Response::Verified { .. })
    ));
    let shown = show(&d, "alice");
    assert!(shown["last_login"].is_string(), "{shown}");
    assert_eq!(shown["last_login_service"], "sshd");
}

#[test]
fn list_users_long_shows_each_account_s_status_across_pages() {
    let d = Daemon::start();
    // More accounts than one page holds (100), added straight through the client.
    let mut client = d.client();
    for i in 0..130 {
        let add = authd::protocol::Request::AddUser(authd::protocol::AddUser {
            name: format!("user{i:03}"),
            email: None,
            phone: None,
            sso: None,
        });
        assert_eq!(client.call(&add).unwrap(), authd::protocol::Response::Done);
    }
    d.user_with_password("alice");
    d.user_with_password("bob");
    d.user_with_password("carol");
    d.user_with_password("dave");
    assert_ok(&d.ctl(&["add-user", "erin", "--sso", "corp"]));
    assert_ok(&d.ctl(&["disable", "bob", "--reason", "gone"]));
    assert_ok(&d.ctl(&["set-user", "carol", "--expires", "2001-01-01"]));
    assert_ok(&d.ctl(&["set-user", "dave", "--must-change-password"]));
    for _ in 0..5 {
        let _ = d.ctl_stdin("wrong-password-1\n", &["verify", "user000"]);
    }
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));

    let out = d.ctl(&["--json", "list-users", "--long"]);
    assert_ok(&out);
    let listed = json(&out);
    let accounts = listed["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 135);
    let names: Vec<&str> = accounts
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "in name order");
    let of = |name: &str| accounts.iter().find(|a| a["name"] == name).unwrap().clone();
    assert_eq!(of("alice")["status"], "active");
    assert_eq!(of("alice")["password_age_days"], 0);
    assert!(of("alice")["last_login"].is_string());
    assert_eq!(of("bob")["status"], "disabled");
    assert_eq!(of("carol")["status"], "expired");
    assert_eq!(of("dave")["status"], "must change password");
    assert_eq!(of("erin")["sso"], "corp");
    assert_eq!(of("user001")["password_set"], false);
    let locked = of("user000");
    assert!(
        locked["status"]
            .as_str()
            .unwrap()
            .starts_with("locked until "),
        "{locked}"
    );

    let text = stdout(&d.ctl(&["list-users", "--long"]));
    assert_eq!(text.lines().count(), 135);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap()
            .to_string()
    };
    assert!(line("alice").contains(" active "), "{}", line("alice"));
    assert!(
        line("alice").contains("password 0d old"),
        "{}",
        line("alice")
    );
    assert!(line("bob").contains(" disabled "), "{}", line("bob"));
    assert!(line("erin").contains("sso:corp"), "{}", line("erin"));
    assert!(
        line("user001").contains("never logged in"),
        "{}",
        line("user001")
    );

    // Admins only.
    if crate::authz::can_switch_uid() {
        assert_error(
            &d.ctl_as(NOBODY, "", &["--json", "list-users", "--long"]),
            77,
            "permission_denied",
        );
    }
}
