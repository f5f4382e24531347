//! Accounts through authctl: the README story, validation, editing, removal, paging.

use authd::protocol::{AddUser, ListUsers, Request, Response};

use crate::daemon::*;

#[test]
fn readme_story_add_set_verify_show_log() {
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "alice"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
    assert_error(
        &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "alice"]),
        1,
        "denied",
    );

    let show = json(&d.ctl(&["--json", "show", "alice"]));
    assert_eq!(show["name"], "alice");
    assert_eq!(show["email"], "alice@example.org");
    assert_eq!(show["password_set"], true);
    assert_eq!(show["totp"], "off");
    assert_eq!(show["sms"], "off");
    assert_eq!(show["failures"], 1);
    assert_eq!(show["locked_until"], serde_json::Value::Null);
    for key in ["phone", "sso", "recovery_codes_left"] {
        assert!(show.get(key).is_some(), "show lacks {key}: {show}");
    }

    let log = json(&d.ctl(&["--json", "log", "alice"]));
    let actions: Vec<(String, String)> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        // Mail delivery events (the password-changed notice) arrive asynchronously.
        .filter(|e| !e["action"].as_str().unwrap().starts_with("mail-"))
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("account-added", "ok"),
        ("password-set", "ok"),
        ("verify", "ok"),
        ("verify", "denied"),
    ];
    assert_eq!(
        actions,
        want.map(|(a, o)| (a.to_string(), o.to_string())).to_vec()
    );
    let text = stdout(&d.ctl(&["log", "alice"]));
    assert!(
        text.contains("password-set") && text.contains("uid "),
        "{text}"
    );
    assert!(!text.contains(GOOD_PW) && !d.log().contains(GOOD_PW));
}

#[test]
fn invalid_input_is_refused_with_65_and_nothing_is_written() {
    let d = Daemon::start();
    for args in [
        vec!["add-user", "No Spaces!"],
        vec!["add-user", ""],
        vec!["add-user", "--", "-dash"],
        vec!["add-user", &"a".repeat(65)],
        vec!["add-user", "bob", "--email", "not-an-address"],
        vec!["add-user", "bob", "--phone", "12345"],
        vec!["add-user", "bob", "--phone", "+44 1"],
        vec!["add-user", "bob", "--sso", "bad provider!"],
    ] {
        let out = d.ctl(&[&["--json"][..], &args].concat());
        assert_error(&out, 65, "invalid_input");
        assert!(stderr(&out).contains("invalid"), "{}", stderr(&out));
    }
    let status = json(&d.ctl(&["--json", "status"]));
    assert_eq!(status["accounts"], 0);
    assert_eq!(stdout(&d.ctl(&["list-users"])).trim(), "");

    let usage = d.ctl(&["--json", "add-user"]);
    assert_exit(&usage, 2);
    assert_eq!(json(&usage)["error"]["code"], "usage");

    assert_ok(&d.ctl(&["add-user", "bob"]));
    let again = d.ctl(&["--json", "add-user", "bob"]);
    assert_exit(&again, 65);
    assert_eq!(json(&again)["error"]["code"], "exists");
}

#[test]
fn phone_is_stored_in_e164_and_set_user_edits_fields() {
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "carol", "--phone", "+44 7911 123456"]));
    assert_eq!(
        json(&d.ctl(&["--json", "show", "carol"]))["phone"],
        "+447911123456"
    );

    assert_ok(&d.ctl(&[
        "set-user",
        "carol",
        "--email",
        "c@example.org",
        "--no-phone",
    ]));
    let show = json(&d.ctl(&["--json", "show", "carol"]));
    assert_eq!(show["email"], "c@example.org");
    assert_eq!(show["phone"], serde_json::Value::Null);

    assert_exit(&d.ctl(&["set-user", "carol"]), 2);
    assert_error(
        &d.ctl(&["--json", "set-user", "carol", "--email", "nope"]),
        65,
        "invalid_input",
    );
    assert_exit(&d.ctl(&["set-user", "nobody-here", "--no-email"]), 67);
    assert_eq!(
        json(&d.ctl(&["--json", "show", "carol"]))["email"],
        "c@example.org"
    );
}

#[test]
fn sso_accounts_have_no_password_here() {
    let d = Daemon::start();
    d.user_with_password("dave");
    assert_ok(&d.ctl(&["set-user", "dave", "--sso", "corp-oidc"]));
    let show = json(&d.ctl(&["--json", "show", "dave"]));
    assert_eq!(
        (show["sso"].as_str(), show["password_set"].as_bool()),
        (Some("corp-oidc"), Some(false))
    );

    let verify = d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "dave"]);
    assert_exit(&verify, 65);
    assert_eq!(json(&verify)["error"]["code"], "sso_account");
    assert_error(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "set-password", "dave"]),
        65,
        "sso_account",
    );

    assert_ok(&d.ctl(&["add-user", "erin", "--sso", "corp-oidc"]));
    assert_error(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "erin"]),
        65,
        "sso_account",
    );

    assert_ok(&d.ctl(&["set-user", "dave", "--no-sso"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "dave"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "dave"]));
}

#[test]
fn removed_accounts_are_gone_with_their_history() {
    let d = Daemon::start();
    d.user_with_password("frank");
    assert_ok(&d.ctl(&["remove-user", "frank"]));
    assert_exit(&d.ctl(&["show", "frank"]), 67);
    assert_exit(&d.ctl(&["log", "frank"]), 67);
    assert_exit(&d.ctl(&["remove-user", "frank"]), 67);
    assert_exit(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "frank"]),
        67,
    );

    assert_ok(&d.ctl(&["add-user", "frank"]));
    let log = json(&d.ctl(&["--json", "log", "frank"]));
    assert_eq!(log["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        json(&d.ctl(&["--json", "show", "frank"]))["password_set"],
        false
    );
}

#[test]
fn list_users_pages_through_every_account_in_order() {
    let d = Daemon::start();
    let mut client = d.client();
    let mut names: Vec<String> = (0..250).map(|i| format!("user{i:03}")).collect();
    names.reverse();
    for name in &names {
        let request = Request::AddUser(AddUser {
            name: name.clone(),
            email: None,
            phone: None,
            sso: None,
        });
        assert_eq!(client.call(&request).unwrap(), Response::Done);
    }
    names.sort();
    let listed = json(&d.ctl(&["--json", "list-users"]));
    let listed: Vec<String> = serde_json::from_value(listed["users"].clone()).unwrap();
    assert_eq!(listed, names);
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 250);

    // One raw page never exceeds the page limit.
    match client
        .call(&Request::ListUsers(ListUsers {
            after: None,
            limit: 100_000,
        }))
        .unwrap()
    {
        Response::Users { names, next } => {
            assert_eq!(names.len(), authd::protocol::MAX_PAGE as usize);
            assert_eq!(next.as_deref(), Some("user099"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn log_limit_returns_the_newest_events_oldest_first() {
    let d = Daemon::start();
    d.user_with_password("gina");
    for _ in 0..3 {
        assert_error(
            &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "gina"]),
            1,
            "denied",
        );
    }
    let log = json(&d.ctl(&["--json", "log", "gina", "--limit", "2"]));
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0]["seq"].as_u64() < events[1]["seq"].as_u64());
    assert_eq!(events[1]["detail"], "wrong password; failure 3");
}

#[test]
fn history_keeps_the_newest_200_entries_as_logins_add_to_it() {
    // Enough failures for all of them to count (each is one entry).
    let d = Daemon::start_with_config("[lockout]\nmax_failures = 1000\n");
    d.user_with_password("hugo");
    // account-added and password-set, then 205 logins, every seventh one refused: the
    // logins write the window's trim along with their own entry.
    for i in 0..205 {
        match i % 7 {
            0 => assert_error(
                &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "hugo"]),
                1,
                "denied",
            ),
            _ => assert_ok(&d.ctl_stdin(&pw(), &["verify", "hugo"])),
        }
    }
    let log = json(&d.ctl(&["--json", "log", "hugo", "--limit", "1000"]));
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 200, "{log}");
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (8..=207).collect::<Vec<u64>>());
    assert!(events.iter().all(|e| e["action"] == "verify"), "{log}");
    assert_eq!(show(&d, "hugo")["failures"], 0);
}
