//! SMS verification through the `command` gateway transport (`crate::sms_gateway`).

use std::time::{Duration, Instant};

use crate::daemon::*;
pub(crate) use crate::sms_gateway::*;

/// A second number, to tell two accounts' messages apart at the gateway.
const OTHER_PHONE: &str = "+33612345678";

#[test]
fn enrol_confirm_and_log_in_with_sms_codes() {
    let (d, gw, _dir) = start("min_interval = \"0s\"", "");
    d.user_with_password("alice");
    let enable = d.ctl(&["enable-sms", "alice", "--phone", "+49 30 901820"]);
    assert_ok(&enable);
    assert!(
        stdout(&enable).contains("+49*****820"),
        "{}",
        stdout(&enable)
    );
    let state = show(&d, "alice");
    assert_eq!(
        (state["sms"].as_str(), state["sms_number"].as_str()),
        (Some("pending"), Some("+49*****820"))
    );
    assert_eq!(state["phone"], PHONE);

    let confirmed = d.ctl(&["--json", "confirm-sms", "alice", &gw.code(1)]);
    assert_ok(&confirmed);
    assert_eq!(
        json(&confirmed)["recovery_codes"].as_array().unwrap().len(),
        10
    );
    assert_eq!(show(&d, "alice")["sms"], "on");

    // The password alone sends a code and asks for it.
    let first = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
    assert_error(&first, 1, "second_factor_required");
    assert!(
        stderr(&first).contains("sent by SMS to +49*****820"),
        "{}",
        stderr(&first)
    );
    let code = gw.code(2);
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &code]));
    // Single use.
    assert_error(
        &d.ctl_stdin(&pw(), &["--json", "verify", "alice", "--code", &code]),
        1,
        "denied",
    );

    // Two steps through the challenge: password, then the code read from the gateway.
    let mut client = d.client();
    let verify = authd::protocol::Request::Verify(authd::protocol::Verify {
        name: "alice".into(),
        password: authd::protocol::Secret::new(GOOD_PW),
        code: None,
        origin: Default::default(),
    });
    let authd::protocol::Response::SecondFactorRequired {
        challenge: Some(challenge),
        sms_sent_to: Some(_),
        ..
    } = client.call(&verify).unwrap()
    else {
        panic!("expected a challenge and a sent code")
    };
    let answer = authd::protocol::Request::VerifyCode(authd::protocol::VerifyCode {
        name: "alice".into(),
        challenge,
        code: authd::protocol::Secret::new(gw.code(3)),
        origin: Default::default(),
    });
    assert!(matches!(
        client.call(&answer),
        Ok(authd::protocol::Response::Verified { .. })
    ));

    // send-code sends one explicitly.
    assert_ok(&d.ctl(&["send-code", "alice"]));
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &gw.code(4)]));

    // The phone cannot be switched under SMS verification.
    assert_error(
        &d.ctl(&["--json", "set-user", "alice", "--phone", "+33612345678"]),
        65,
        "invalid_input",
    );
    let log = stdout(&d.ctl(&["log", "alice"]));
    for want in [
        "sms-enrolled",
        "sms-confirmed",
        "sms-delivered",
        "password and sms code",
    ] {
        assert!(log.contains(want), "log lacks {want}: {log}");
    }
    assert!(!d.log().contains(&code), "code in the daemon log");

    // Disable with password + a fresh code: the attempt without one sends it.
    assert_error(
        &d.ctl_stdin(
            &pw(),
            &["--json", "disable-2fa", "alice", "--method", "sms"],
        ),
        1,
        "second_factor_required",
    );
    let code = gw.code(5);
    assert_ok(&d.ctl_stdin(
        &format!("{GOOD_PW}\n{code}\n"),
        &["disable-2fa", "alice", "--method", "sms"],
    ));
    let state = show(&d, "alice");
    assert_eq!(
        (state["sms"].as_str(), state["recovery_codes_left"].as_u64()),
        (Some("off"), Some(0))
    );
    assert_ok(&d.ctl(&["set-user", "alice", "--phone", "+33612345678"]));
}

#[test]
fn expired_codes_are_refused() {
    let (d, gw, _dir) = start("min_interval = \"0s\"\ncode_ttl = \"1s\"", "");
    d.user_with_password("bob");
    let sent = d.ctl(&["enable-sms", "bob", "--phone", PHONE]);
    assert_ok(&sent);
    let code = gw.code(1);
    // Once the clock has passed the expiry the code was given.
    wait_for_clock(expires_at(&sent));
    let late = d.ctl(&["--json", "confirm-sms", "bob", &code]);
    assert_error(&late, 1, "denied");
    let message = json(&late)["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("expired"), "{message}");
    assert_eq!(show(&d, "bob")["sms"], "pending");
}

#[test]
fn sms_errors_country_number_interval_and_tries() {
    let (d, gw, _dir) = start("countries = [\"DE\", \"FR\"]", "");
    d.user_with_password("carl");
    let us = d.ctl(&["--json", "enable-sms", "carl", "--phone", "+1 202 555 0143"]);
    assert_error(&us, 65, "sms_unavailable");
    assert!(
        stderr(&us).contains("US") && stderr(&us).contains("authenticator app"),
        "{}",
        stderr(&us)
    );
    assert_error(
        &d.ctl(&["--json", "enable-sms", "carl", "--phone", "12345"]),
        65,
        "invalid_input",
    );
    assert_error(
        &d.ctl(&["--json", "enable-sms", "carl"]),
        65,
        "invalid_input",
    ); // no phone at all
    assert_eq!(show(&d, "carl")["sms"], "off");

    assert_ok(&d.ctl(&["enable-sms", "carl", "--phone", PHONE]));
    let again = d.ctl(&["--json", "send-code", "carl"]);
    assert_error(&again, 75, "rate_limited");
    assert!(json(&again)["error"]["retry_at"].is_string());

    let code = gw.code(1);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        assert_error(
            &d.ctl(&["--json", "confirm-sms", "carl", wrong]),
            1,
            "denied",
        );
    }
    // The fourth try finds the code void, right or not.
    assert_error(
        &d.ctl(&["--json", "confirm-sms", "carl", &code]),
        1,
        "denied",
    );
    assert_eq!(show(&d, "carl")["failures"], 4);

    assert_ok(&d.ctl(&["add-user", "sso-user", "--sso", "corp", "--phone", PHONE]));
    assert_error(
        &d.ctl(&["--json", "enable-sms", "sso-user"]),
        65,
        "sso_account",
    );
}

#[test]
fn a_failing_gateway_is_retried_across_a_restart_and_delivers_once() {
    let (mut d, gw, _dir) = start("", "");
    d.user_with_password("dana");
    std::fs::write(&gw.fail_flag, "").unwrap();
    assert_ok(&d.ctl(&["enable-sms", "dana", "--phone", PHONE]));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let outbox = json(&d.ctl(&["--json", "outbox"]));
        let m = &outbox["messages"][0];
        if m["attempts"].as_u64() >= Some(1) {
            assert_eq!(
                (m["channel"].as_str(), m["to"].as_str()),
                (Some("sms"), Some(PHONE))
            );
            assert!(
                m["last_error"].as_str().unwrap().contains("gateway down"),
                "{m}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no attempt: {outbox}");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.kill9();
    std::fs::remove_file(&gw.fail_flag).unwrap();
    d.spawn();
    let code = gw.code(1);
    // Every send of a message happens before its delivery is recorded (out of the queue,
    // `sms-delivered` in the log); after that it is never sent again. Wait for the
    // record, then for a later SMS through the same courier, and count.
    wait_until("dana's SMS recorded as delivered", || {
        (d.outbox_len() == 0 && !d.events("dana", "sms-delivered").is_empty()).then_some(())
    });
    d.user_with_password("eli");
    assert_ok(&d.ctl(&["enable-sms", "eli", "--phone", OTHER_PHONE]));
    wait_until("the later SMS recorded as delivered", || {
        (d.outbox_len() == 0 && !d.events("eli", "sms-delivered").is_empty()).then_some(())
    });
    let to: Vec<String> = gw
        .messages()
        .iter()
        .map(|m| m.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(to, [PHONE, OTHER_PHONE], "delivered more than once");
    assert_eq!(d.events("dana", "sms-delivered").len(), 1);
    assert_ok(&d.ctl(&["confirm-sms", "dana", &code]));
}

#[test]
fn an_account_with_totp_and_sms_accepts_either() {
    if !have("oathtool") {
        return;
    }
    let (d, gw, _dir) = start("min_interval = \"0s\"", "");
    d.user_with_password("erin");
    let secret = json(&d.ctl(&["--json", "enable-totp", "erin"]))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let totp = |steps: i64| {
        let at = authd::time::now() as i64 + 30 * steps;
        let out = std::process::Command::new("oathtool")
            .args(["--totp", "-b", &secret, &format!("--now=@{at}")])
            .output()
            .unwrap();
        stdout(&out).trim().to_string()
    };
    assert_ok(&d.ctl(&["confirm-totp", "erin", &totp(0)]));
    assert_ok(&d.ctl(&["enable-sms", "erin", "--phone", PHONE]));
    let confirmed = json(&d.ctl(&["--json", "confirm-sms", "erin", &gw.code(1)]));
    assert_eq!(
        confirmed["recovery_codes"].as_array().unwrap().len(),
        0,
        "not the first method"
    );
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "erin", "--code", &totp(1)]));
    // With an app as well, a password alone sends no SMS (the app code is asked for);
    // send-code sends one on request.
    let needs = d.ctl_stdin(&pw(), &["--json", "verify", "erin"]);
    assert_error(&needs, 1, "second_factor_required");
    assert!(
        !stderr(&needs).contains("sent by SMS"),
        "{}",
        stderr(&needs)
    );
    assert_ok(&d.ctl(&["send-code", "erin"]));
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "erin", "--code", &gw.code(2)]));
    assert_eq!(gw.messages().len(), 2);

    // Turning SMS off says what went and what remains.
    assert_ok(&d.ctl(&["send-code", "erin"]));
    let off = d.ctl_stdin(
        &format!("{GOOD_PW}\n{}\n", gw.code(3)),
        &["disable-2fa", "erin", "--method", "sms", "--code", "-"],
    );
    assert_ok(&off);
    assert_eq!(
        stdout(&off).trim(),
        "turned off SMS codes for erin; still on: authenticator app"
    );
    // SMS again: nothing to turn off, said before any password is read (stdin is empty).
    let again = d.ctl_stdin("", &["--json", "disable-2fa", "erin", "--method", "sms"]);
    assert_error(&again, 65, "not_enrolled");
}
