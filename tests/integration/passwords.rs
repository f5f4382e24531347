//! Passwords through authctl: policy, lockout, unlock, change, rehash.

use crate::daemon::*;

#[test]
fn weak_empty_and_huge_passwords_are_refused_with_a_reason() {
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice"]));
    let cases = [
        ("\n".to_string(), "at least 10", "weak_password"),
        ("short\n".to_string(), "at least 10", "weak_password"),
        (
            "password123\n".to_string(),
            "too easy to guess",
            "weak_password",
        ),
        (
            "Xy-alice-Battery-Staple-9\n".to_string(),
            "account name",
            "weak_password",
        ),
        (
            format!("{}\n", "Ab1-".repeat(100)),
            "at most 256",
            "weak_password",
        ),
        // Refused by authctl before anything is sent.
        (
            format!("{}\n", "x".repeat(10 * 1024 * 1024)),
            "too long",
            "invalid_input",
        ),
    ];
    for (input, why, code) in cases {
        let out = d.ctl_stdin(&input, &["--json", "set-password", "alice"]);
        assert_error(&out, 65, code);
        assert!(stderr(&out).contains(why), "want {why:?}: {}", stderr(&out));
    }
    let show = json(&d.ctl(&["--json", "show", "alice"]));
    assert_eq!(show["password_set"], false);
    let out = d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "nobody-here"]);
    assert_exit(&out, 67);
}

#[test]
fn five_failures_lock_the_account_and_unlock_clears_it() {
    let d = Daemon::start();
    d.user_with_password("bob");
    for _ in 0..5 {
        assert_error(
            &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "bob"]),
            1,
            "denied",
        );
    }
    // The sixth try is refused without checking the password, right or wrong.
    for pw in ["wrong-password-1", GOOD_PW] {
        let out = d.ctl_stdin(&format!("{pw}\n"), &["--json", "verify", "bob"]);
        assert_exit(&out, 75);
        let err = &json(&out)["error"];
        assert_eq!(err["code"], "locked");
        assert!(
            err["message"].as_str().unwrap().contains("locked until"),
            "{err}"
        );
        assert!(err["retry_at"].is_string(), "{err}");
    }
    let show = json(&d.ctl(&["--json", "show", "bob"]));
    assert!(show["locked_until"].is_string(), "{show}");
    assert_eq!(show["failures"], 5);
    let log = stdout(&d.ctl(&["log", "bob"]));
    assert!(
        log.contains("locked-out") && log.contains("locked"),
        "{log}"
    );

    assert_ok(&d.ctl(&["unlock", "bob"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "bob"]));
    let show = json(&d.ctl(&["--json", "show", "bob"]));
    assert_eq!(
        (show["failures"].as_u64(), show["locked_until"].is_null()),
        (Some(0), true)
    );
}

#[test]
fn a_success_resets_the_failure_count() {
    let d = Daemon::start();
    d.user_with_password("carl");
    for _ in 0..4 {
        assert_error(
            &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "carl"]),
            1,
            "denied",
        );
    }
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "carl"]));
    for _ in 0..4 {
        assert_error(
            &d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "carl"]),
            1,
            "denied",
        );
    }
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "carl"]));
}

#[test]
fn unknown_users_answer_67_and_a_password_less_account_is_denied() {
    let d = Daemon::start();
    assert_exit(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "ghost"]),
        67,
    );
    assert_ok(&d.ctl(&["add-user", "nopw"]));
    assert_error(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "nopw"]),
        1,
        "denied",
    );
}

#[test]
fn change_password_needs_the_current_one() {
    let d = Daemon::start();
    d.user_with_password("dora");
    let new = "Purple-Monkey-Dishwasher-42";
    let wrong = d.ctl_stdin(
        &format!("wrong-password-1\n{new}\n"),
        &["--json", "change-password", "dora"],
    );
    assert_error(&wrong, 1, "denied");
    let weak = d.ctl_stdin(
        &format!("{GOOD_PW}\nshort\n"),
        &["--json", "change-password", "dora"],
    );
    assert_error(&weak, 65, "weak_password");
    let same = d.ctl_stdin(
        &format!("{GOOD_PW}\n{GOOD_PW}\n"),
        &["--json", "change-password", "dora"],
    );
    assert_error(&same, 65, "weak_password");
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n{new}\n"), &["change-password", "dora"]));
    assert_error(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "dora"]),
        1,
        "denied",
    );
    assert_ok(&d.ctl_stdin(&format!("{new}\n"), &["verify", "dora"]));
    let log = stdout(&d.ctl(&["log", "dora"]));
    assert!(log.contains("password-changed"), "{log}");
    // Missing input on stdin is a usage error, not a crash.
    assert_exit(
        &d.ctl_stdin(&format!("{new}\n"), &["change-password", "dora"]),
        2,
    );
}

#[test]
fn changed_argon2_parameters_rehash_on_the_next_successful_verify() {
    if crate::daemon::sled_only("reads the stored hash from the sled store") {
        return;
    }
    let mut d = Daemon::start();
    d.user_with_password("eve");
    d.terminate();
    let stronger = TEST_CONFIG.replace("argon2_m_kib = 256", "argon2_m_kib = 512");
    let body = std::fs::read_to_string(&d.config)
        .unwrap()
        .replace(TEST_CONFIG, &stronger);
    std::fs::write(&d.config, body).unwrap();
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "eve"]));
    d.terminate();

    let store = authd::store::Store::open(&d.state_dir(), 8).unwrap();
    let hash = store
        .account("eve")
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=512,t=1,p=1$"), "{hash}");
    drop(store);
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "eve"]));
}
