//! Promises about SMS codes (authctl(1) SMS codes, authd.toml(5) `[sms]`, authd(8)
//! TWO-FACTOR LOGINS and OUTBOX), end to end through the `command` gateway: the daily
//! cap and the country list hold at send-code and at a login, and an SMS the gateway
//! keeps refusing is given up once its code has expired, with its audit event.

use std::time::{Duration, Instant};

use crate::daemon::*;
use crate::sms::{start, Gateway, PHONE};

/// Enrol `name` (with GOOD_PW) by SMS and confirm; returns the recovery codes.
fn enrol_sms(d: &Daemon, gateway: &Gateway, name: &str) -> Vec<String> {
    let n = gateway.messages().len() + 1;
    assert_ok(&d.ctl(&["enable-sms", name, "--phone", PHONE]));
    let confirmed = d.ctl(&["--json", "confirm-sms", name, &gateway.code(n)]);
    assert_ok(&confirmed);
    serde_json::from_value(json(&confirmed)["recovery_codes"].clone()).unwrap()
}

/// A login with the right password and no code: exit 1, second_factor_required, no SMS
/// queued or sent (the outbox is empty and the gateway got nothing new, checked in that
/// order so a message delivered in between is still seen), and the attempt is in the
/// account's history (authd(8), LOGGING: kept for accounts with SMS on) with `why`.
#[track_caller]
fn login_sends_no_code(d: &Daemon, gateway: &Gateway, name: &str, why: &str) {
    wait_outbox_empty(d);
    let sent_before = gateway.messages().len();
    let out = d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", name]);
    assert_exit(&out, 1);
    assert_eq!(json(&out)["error"]["code"], "second_factor_required");
    assert!(!stderr(&out).contains("sent by SMS"), "{}", stderr(&out));
    let outbox = crate::outbox::outbox(d);
    assert!(outbox.is_empty(), "{outbox:?}");
    assert_eq!(gateway.messages().len(), sent_before, "a login sent an SMS");
    let events = json(&d.ctl(&["--json", "log", name]))["events"].clone();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "second-factor-required", "{last}");
    // Kept in the history, with the reason no code went out.
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .ends_with(&format!("password ok; no new sms code ({why})")),
        "{last}"
    );
}

/// Wait until every message sent so far is recorded as delivered.
fn wait_outbox_empty(d: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let outbox = crate::outbox::outbox(d);
        if outbox.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "outbox never empty: {outbox:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn past_the_daily_cap_send_code_gets_75_and_a_login_sends_no_code() {
    let (d, gateway, _gw) = start("min_interval = \"0s\"\ndaily_limit = 3", "");
    d.user_with_password("cara");
    enrol_sms(&d, &gateway, "cara"); // SMS 1
    assert_ok(&d.ctl(&["send-code", "cara"])); // SMS 2
                                               // A login on an SMS-only account sends the third.
    let first = d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "cara"]);
    assert_exit(&first, 1);
    assert!(stderr(&first).contains("sent by SMS"), "{}", stderr(&first));
    let third = gateway.code(3);

    let capped = d.ctl(&["--json", "send-code", "cara"]);
    assert_exit(&capped, 75);
    let error = &json(&capped)["error"];
    assert_eq!(error["code"], "rate_limited", "{error}");
    assert!(error["retry_at"].is_string(), "{error}");
    login_sends_no_code(&d, &gateway, "cara", "rate_limited");
    // The code sent before the cap is the one to type.
    assert_ok(&d.ctl_stdin(
        &format!("{GOOD_PW}\n"),
        &["verify", "cara", "--code", &third],
    ));
    assert_eq!(gateway.messages().len(), 3);
}

#[test]
fn a_country_taken_off_the_list_gets_no_more_codes_at_send_code_or_login() {
    let (mut d, gateway, _gw) = start("min_interval = \"0s\"\ncountries = [\"DE\"]", "");
    d.user_with_password("dirk");
    let recovery = enrol_sms(&d, &gateway, "dirk");
    assert_ok(&d.ctl(&["send-code", "dirk"]));
    gateway.code(2);

    // Germany is taken off the list.
    let config = std::fs::read_to_string(&d.config).unwrap();
    assert!(config.contains("countries = [\"DE\"]"));
    std::fs::write(&d.config, config.replace("[\"DE\"]", "[\"FR\"]")).unwrap();
    assert!(d.terminate().success());
    d.spawn();

    let refused = d.ctl(&["--json", "send-code", "dirk"]);
    assert_exit(&refused, 65);
    assert_eq!(json(&refused)["error"]["code"], "sms_unavailable");
    let message = stderr(&refused);
    assert!(
        message.contains("DE") && message.contains("authenticator app"),
        "{message}"
    );
    login_sends_no_code(&d, &gateway, "dirk", "sms_unavailable");
    assert_eq!(show(&d, "dirk")["sms"], "on");
    // A recovery code still logs in.
    assert_ok(&d.ctl_stdin(
        &format!("{GOOD_PW}\n"),
        &["verify", "dirk", "--code", &recovery[0]],
    ));
    assert_eq!(gateway.messages().len(), 2);
}

#[test]
fn an_sms_the_gateway_keeps_refusing_is_given_up_after_code_ttl_with_an_sms_failed_event() {
    // A gateway that always answers "try again later" (EX_TEMPFAIL), and a short code_ttl:
    // the give_up of 24 h is never reached, so only code_ttl can end the retries.
    let d = Daemon::start_with_config(&format!(
        "[sms]\ntransport = \"command\"\n\
         command = [\"/bin/sh\", \"-c\", \"echo gateway busy >&2; exit 75\", \"sh\"]\n\
         code_ttl = \"2s\"\n[outbox]\nretry_first = \"1s\"\n{TEST_CONFIG}"
    ));
    d.user_with_password("gina");
    assert_ok(&d.ctl(&["enable-sms", "gina", "--phone", PHONE]));
    let deadline = Instant::now() + Duration::from_secs(60);
    let message = loop {
        let outbox = json(&d.ctl(&["--json", "outbox"]));
        let m = outbox["messages"][0].clone();
        assert_eq!(m["channel"], "sms", "{outbox}");
        if m["state"] == "failed" {
            break m;
        }
        assert_eq!(m["state"], "queued", "{m}");
        assert!(Instant::now() < deadline, "never given up: {m}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(message["attempts"].as_u64().unwrap() >= 2, "{message}");
    assert!(
        message["last_error"]
            .as_str()
            .unwrap()
            .contains("gateway busy"),
        "{message}"
    );
    assert_eq!(json(&d.ctl(&["--json", "status"]))["outbox_failed"], 1);
    let events = json(&d.ctl(&["--json", "log", "gina"]))["events"].clone();
    let failed = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "sms-failed")
        .unwrap_or_else(|| panic!("no sms-failed event: {events}"))
        .clone();
    assert_eq!(
        (failed["outcome"].as_str(), failed["actor"]["text"].as_str()),
        (Some("denied"), Some("authd")),
        "{failed}"
    );
    assert!(d.log().contains("message failed; giving up"), "{}", d.log());
}
