//! Two-factor authentication against real peers: oathtool computes the codes for our
//! secrets (the QR code against zbarimg is in `qr_codes`, the key file in `secret_key`).

use authd::protocol::{
    ChangePassword, ErrorCode, Origin, Request, Response, Secret, Verify, VerifyCode,
};

use crate::daemon::*;

// Where the other tests have always imported them from.
pub(crate) use crate::oath::{enrol, oathtool};

#[test]
fn enrol_with_oathtool_log_in_with_a_code_and_a_replay_is_refused() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let enrolment = json(&d.ctl(&["--json", "enable-totp", "alice"]));
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160-bit secret in base32");
    assert_eq!(
        enrolment["otpauth_uri"],
        format!(
            "otpauth://totp/authd:alice?secret={secret}&issuer=authd&algorithm=SHA1&digits=6&period=30"
        )
    );
    assert_eq!(show(&d, "alice")["totp"], "pending");
    // Pending: a login still needs only the password.
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));

    let wrong = format!(
        "{:06}",
        (oathtool(&secret, 0).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    assert_error(
        &d.ctl(&["--json", "confirm-totp", "alice", &wrong]),
        1,
        "denied",
    );
    assert_eq!(show(&d, "alice")["totp"], "pending");

    let confirmed = d.ctl(&["--json", "confirm-totp", "alice", &oathtool(&secret, 0)]);
    assert_ok(&confirmed);
    assert_eq!(
        json(&confirmed)["recovery_codes"].as_array().unwrap().len(),
        10
    );
    let text = show(&d, "alice");
    assert_eq!(
        (text["totp"].as_str(), text["recovery_codes_left"].as_u64()),
        (Some("on"), Some(10))
    );

    // The password alone is no longer enough.
    let needs = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
    assert_exit(&needs, 1);
    assert_eq!(json(&needs)["error"]["code"], "second_factor_required");

    // The confirmation used the current step; the next step's code logs in, once.
    let next = oathtool(&secret, 1);
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &next]));
    let replay = d.ctl_stdin(&pw(), &["--json", "verify", "alice", "--code", &next]);
    assert_error(&replay, 1, "denied");
    assert!(
        stderr(&replay).contains("already used"),
        "{}",
        stderr(&replay)
    );
    let log = stdout(&d.ctl(&["log", "alice"]));
    for want in [
        "totp-enrolled",
        "totp-confirmed",
        "replayed",
        "password and totp code",
    ] {
        assert!(log.contains(want), "log lacks {want}: {log}");
    }
    assert!(!log.contains(&next) && !d.log().contains(&secret));
}

#[test]
fn two_step_login_uses_a_single_use_challenge() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("bob");
    let (secret, recovery) = enrol(&d, "bob");
    // authctl: password, then the code as the next line, answered through the challenge.
    let both = format!("{GOOD_PW}\n{}\n", oathtool(&secret, 1));
    assert_ok(&d.ctl_stdin(&both, &["verify", "bob"]));

    let mut client = d.client();
    let verify = Request::Verify(Verify {
        name: "bob".into(),
        password: Secret::new(GOOD_PW),
        code: None,
        origin: Origin::default(),
    });
    let Response::SecondFactorRequired {
        methods,
        challenge: Some(challenge),
        sms_sent_to: None,
    } = client.call(&verify).unwrap()
    else {
        panic!("expected a challenge")
    };
    assert_eq!(methods, [authd::protocol::SecondFactor::Totp]);
    let wrong_account = Request::VerifyCode(VerifyCode {
        name: "alice".into(),
        challenge: challenge.clone(),
        code: Secret::new("000000"),
        origin: Origin::default(),
    });
    assert_eq!(
        client.call(&wrong_account).unwrap_err().remote_code(),
        Some(ErrorCode::Denied)
    );
    // A challenge that failed once is spent, even with the right account and code.
    let retry = Request::VerifyCode(VerifyCode {
        name: "bob".into(),
        challenge,
        code: Secret::new(recovery[0].clone()),
        origin: Origin::default(),
    });
    let spent = client.call(&retry).unwrap_err();
    assert_eq!(spent.remote_code(), Some(ErrorCode::Denied), "{spent}");
    assert!(spent.to_string().contains("challenge"), "{spent}");
    // The same code still works through a fresh challenge: the refusal was the challenge's.
    let Response::SecondFactorRequired {
        challenge: Some(fresh),
        ..
    } = client.call(&verify).unwrap()
    else {
        panic!("expected a challenge")
    };
    let with_fresh = Request::VerifyCode(VerifyCode {
        name: "bob".into(),
        challenge: fresh,
        code: Secret::new(recovery[0].clone()),
        origin: Origin::default(),
    });
    assert_eq!(
        client.call(&with_fresh).unwrap(),
        Response::Verified { name: "bob".into() }
    );
    let codes = enrol_codes_after_reset(&d, "bob");
    let Response::SecondFactorRequired {
        challenge: Some(challenge),
        ..
    } = client.call(&verify).unwrap()
    else {
        panic!("expected a challenge")
    };
    let answer = Request::VerifyCode(VerifyCode {
        name: "bob".into(),
        challenge,
        code: Secret::new(codes[0].clone()),
        origin: Origin::default(),
    });
    assert_eq!(
        client.call(&answer).unwrap(),
        Response::Verified { name: "bob".into() }
    );
    assert_eq!(
        client.call(&answer).unwrap_err().remote_code(),
        Some(ErrorCode::Denied),
        "a challenge is single use"
    );
}

/// Reset `name`'s 2FA (admin), enrol again, and return the fresh recovery codes.
fn enrol_codes_after_reset(d: &Daemon, name: &str) -> Vec<String> {
    assert_ok(&d.ctl(&["reset-2fa", name]));
    enrol(d, name).1
}

#[test]
fn a_recovery_code_works_once_and_regenerating_voids_the_old_set() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("carol");
    let (_, codes) = enrol(&d, "carol");
    let typed = codes[3].to_lowercase().replace('-', "");
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "carol", "--code", &typed]));
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "carol", "--code", &codes[3]]),
        1,
        "denied",
    );
    assert_eq!(show(&d, "carol")["recovery_codes_left"], 9);
    assert!(stdout(&d.ctl(&["log", "carol"])).contains("9 left"));

    // Self-service regenerate needs password + code; the admin (root) path needs none.
    let fresh = json(&d.ctl(&["--json", "recovery-codes", "carol", "--regenerate"]));
    let fresh: Vec<String> = serde_json::from_value(fresh["recovery_codes"].clone()).unwrap();
    assert_eq!(fresh.len(), 10);
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "carol", "--code", &codes[0]]),
        1,
        "denied",
    );
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "carol", "--code", &fresh[0]]));
    assert_exit(&d.ctl(&["recovery-codes", "carol"]), 2);

    // `log` lines up its columns, `recovery-codes-regenerated` and all.
    let text = stdout(&d.ctl(&["log", "carol"]));
    assert!(text.contains("recovery-codes-regenerated"), "{text}");
    let starts: Vec<_> = text.lines().map(|l| l.find("uid ")).collect();
    assert!(
        starts.iter().all(|s| s.is_some() && *s == starts[0]),
        "{text}"
    );
}

#[test]
fn disabling_needs_proof_and_reset_is_for_admins() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("dave");
    let (secret, codes) = enrol(&d, "dave");
    // Wrong password, or no code, or a wrong code: refused, nothing changes.
    let no_code = d.ctl_stdin(&pw(), &["--json", "disable-2fa", "dave"]);
    assert_error(&no_code, 1, "second_factor_required");
    let wrong_pw = d.ctl_stdin(
        "wrong-password-1\n",
        &["--json", "disable-2fa", "dave", "--code", &codes[0]],
    );
    assert_error(&wrong_pw, 1, "denied");
    assert_error(
        &d.ctl_stdin(
            &pw(),
            &["--json", "disable-2fa", "dave", "--code", "123456"],
        ),
        1,
        "denied",
    );
    assert_error(
        &d.ctl_stdin(
            &pw(),
            &[
                "--json",
                "disable-2fa",
                "dave",
                "--method",
                "sms",
                "--code",
                &codes[0],
            ],
        ),
        65,
        "not_enrolled",
    );
    let state = show(&d, "dave");
    assert_eq!(
        (
            state["totp"].as_str(),
            state["recovery_codes_left"].as_u64()
        ),
        (Some("on"), Some(10))
    );

    let both = format!("{GOOD_PW}\n{}\n", oathtool(&secret, 1));
    assert_ok(&d.ctl_stdin(&both, &["disable-2fa", "dave"]));
    let state = show(&d, "dave");
    assert_eq!(
        (
            state["totp"].as_str(),
            state["recovery_codes_left"].as_u64()
        ),
        (Some("off"), Some(0))
    );
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "dave"]));
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "disable-2fa", "dave"]),
        65,
        "not_enrolled",
    );

    // Lost device: the admin resets; the audit names the admin.
    enrol(&d, "dave");
    assert_ok(&d.ctl(&["reset-2fa", "dave"]));
    let state = show(&d, "dave");
    assert_eq!(
        (
            state["totp"].as_str(),
            state["recovery_codes_left"].as_u64()
        ),
        (Some("off"), Some(0))
    );
    let log = stdout(&d.ctl(&["log", "dave"]));
    let me = format!("uid {}", nix::unistd::geteuid());
    assert!(log.contains("2fa-reset") && log.contains(&me), "{log}");

    if crate::authz::can_switch_uid() {
        d.user_with_password("nobody");
        enrol(&d, "nobody");
        assert_error(
            &d.ctl_as((65534, 65534), "", &["--json", "reset-2fa", "nobody"]),
            77,
            "permission_denied",
        );
        assert_eq!(show(&d, "nobody")["totp"], "on");
    }
}

#[test]
fn wrong_codes_count_toward_the_lockout() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("erin");
    enrol(&d, "erin");
    for _ in 0..5 {
        let wrong = d.ctl_stdin(&pw(), &["--json", "verify", "erin", "--code", "000000"]);
        assert_exit(&wrong, 1);
        assert_eq!(json(&wrong)["error"]["code"], "denied");
    }
    let locked = d.ctl_stdin(&pw(), &["--json", "verify", "erin", "--code", "000000"]);
    assert_exit(&locked, 75);
    assert_eq!(json(&locked)["error"]["code"], "locked");
    assert!(stdout(&d.ctl(&["log", "erin"])).contains("locked-out"));
}

#[test]
fn enrolment_rules_sso_and_active() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "sso-user", "--sso", "corp"]));
    let sso = d.ctl(&["--json", "enable-totp", "sso-user"]);
    assert_error(&sso, 65, "sso_account");
    assert!(stderr(&sso).contains("SSO provider"), "{}", stderr(&sso));
    d.user_with_password("frank");
    let first = json(&d.ctl(&["--json", "enable-totp", "frank"]));
    let second = json(&d.ctl(&["--json", "enable-totp", "frank"]));
    assert_ne!(first["secret"], second["secret"]);
    // Only the newest pending secret confirms.
    let old = first["secret"].as_str().unwrap();
    assert_error(
        &d.ctl(&["--json", "confirm-totp", "frank", &oathtool(old, 0)]),
        1,
        "denied",
    );
    let new = second["secret"].as_str().unwrap();
    assert_ok(&d.ctl(&["confirm-totp", "frank", &oathtool(new, 0)]));
    assert_error(&d.ctl(&["--json", "enable-totp", "frank"]), 65, "exists");
    assert_error(
        &d.ctl(&["--json", "confirm-totp", "frank", "123456"]),
        65,
        "exists",
    );
    assert_exit(&d.ctl(&["confirm-totp", "nobody-here", "123456"]), 67);
}

#[test]
fn a_sealed_secret_moved_to_another_account_does_not_decrypt() {
    if crate::daemon::sled_only("moves a sealed record in the sled store offline") {
        return;
    }
    if !have("oathtool") {
        return;
    }
    let mut d = Daemon::start();
    d.user_with_password("hank");
    d.user_with_password("ivy");
    let (hank_secret, _) = enrol(&d, "hank");
    enrol(&d, "ivy");
    d.terminate();
    {
        let store = authd::store::Store::open(&d.state_dir(), 8).unwrap();
        let hank = store.account("hank").unwrap().unwrap().totp.unwrap();
        (&store as &dyn authd::store::Backend)
            .update_with("ivy", 0, |acc, _| {
                let t = acc.totp.as_mut().unwrap();
                t.sealed_secret = hank.sealed_secret.clone();
                t.last_step = None;
                let event = authd::audit::Event::new(
                    authd::audit::Action::AccountChanged,
                    authd::audit::Outcome::Ok,
                    "test tampering",
                    String::new(),
                );
                Ok(event.into())
            })
            .unwrap();
        store.flush_offline().unwrap();
    }
    d.spawn();
    let out = d.ctl_stdin(
        &pw(),
        &["verify", "ivy", "--code", &oathtool(&hank_secret, 1)],
    );
    assert_exit(&out, 70);
    assert!(d.log().contains("does not decrypt"), "{}", d.log());
}

#[test]
fn change_password_on_a_2fa_account_needs_the_code_too() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("jack");
    let (secret, codes) = enrol(&d, "jack");
    let new = "Purple-Monkey-Dishwasher-42";
    // Without a code: the daemon asks for one and changes nothing.
    let mut client = d.client();
    let no_code = Request::ChangePassword(ChangePassword {
        name: "jack".into(),
        current: Secret::new(GOOD_PW),
        code: None,
        new: Secret::new(new),
    });
    assert!(matches!(
        client.call(&no_code).unwrap(),
        Response::SecondFactorRequired {
            challenge: None,
            ..
        }
    ));
    // A wrong code: denied, nothing changes.
    let wrong = d.ctl_stdin(
        &format!("{GOOD_PW}\n000000\n{new}\n"),
        &["--json", "change-password", "jack"],
    );
    assert_exit(&wrong, 1);
    assert_eq!(json(&wrong)["error"]["code"], "denied");
    let still = d.ctl_stdin(&format!("{GOOD_PW}\n{}\n", codes[0]), &["verify", "jack"]);
    assert_ok(&still);
    // The right code: changed. The new password works, the old one does not.
    let right = format!("{GOOD_PW}\n{}\n{new}\n", oathtool(&secret, 1));
    assert_ok(&d.ctl_stdin(&right, &["change-password", "jack"]));
    assert_ok(&d.ctl_stdin(&format!("{new}\n{}\n", codes[1]), &["verify", "jack"]));
    let old = d.ctl_stdin(
        &format!("{GOOD_PW}\n{}\n", codes[2]),
        &["--json", "verify", "jack"],
    );
    assert_exit(&old, 1);
    assert_eq!(json(&old)["error"]["code"], "denied");
    assert!(stdout(&d.ctl(&["log", "jack"])).contains("password-changed"));
}
