//! Non-default `[totp]` and `[recovery]` settings take effect (authd.toml(5)): the
//! issuer, digits and period reach the otpauth URI and the codes checked, skew 0 accepts
//! the current step only, and a set holds `codes` recovery codes. oathtool computes the
//! codes, as an authenticator app configured from the URI would.

use std::process::Command;
use std::time::Duration;

use crate::daemon::*;

const PERIOD: u64 = 15;

/// The 8-digit, 15-second code oathtool computes for `secret` at step `step`.
fn code_at(secret: &str, step: u64) -> String {
    let out = Command::new("oathtool")
        .args([
            "--totp",
            "-b",
            secret,
            "--digits=8",
            &format!("--time-step-size={PERIOD}s"),
            &format!("--now=@{}", step * PERIOD),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// The current step, once the clock is at least 3 s away from the next step's start, so
/// that the daemon reads the same step as the test (skew 0 leaves no margin).
fn settled_step() -> u64 {
    loop {
        let now = authd::time::now();
        if now % PERIOD < PERIOD - 3 {
            return now / PERIOD;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn non_default_totp_and_recovery_settings_take_effect() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start_with_config(&format!(
        "[totp]\nissuer = \"ExampleCorp\"\nskew = 0\ndigits = 8\nperiod = {PERIOD}\n\
         [recovery]\ncodes = 3\n{TEST_CONFIG}"
    ));
    d.user_with_password("tess");
    let enrolment = json(&d.ctl(&["--json", "enable-totp", "tess"]));
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    assert_eq!(
        enrolment["otpauth_uri"],
        format!(
            "otpauth://totp/ExampleCorp:tess?secret={secret}&issuer=ExampleCorp\
             &algorithm=SHA1&digits=8&period={PERIOD}"
        )
    );

    // skew = 0: the next step's code is refused (the default skew of 1 would take it).
    let step = settled_step();
    let early = d.ctl(&[
        "--json",
        "confirm-totp",
        "tess",
        &code_at(&secret, step + 1),
    ]);
    assert_exit(&early, 1);
    assert_eq!(json(&early)["error"]["code"], "denied");
    assert_eq!(json(&d.ctl(&["--json", "show", "tess"]))["totp"], "pending");

    let step = settled_step();
    let confirmed = d.ctl(&["--json", "confirm-totp", "tess", &code_at(&secret, step)]);
    assert_ok(&confirmed);
    assert_eq!(
        json(&confirmed)["recovery_codes"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        json(&d.ctl(&["--json", "show", "tess"]))["recovery_codes_left"],
        3
    );

    // A login takes the 8-digit code of a later 15-second step.
    let next = loop {
        let now = settled_step();
        if now > step {
            break now;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ok(&d.ctl_stdin(
        &format!("{GOOD_PW}\n"),
        &["verify", "tess", "--code", &code_at(&secret, next)],
    ));
    let regenerated = d.ctl(&["--json", "recovery-codes", "tess", "--regenerate"]);
    assert_ok(&regenerated);
    assert_eq!(
        json(&regenerated)["recovery_codes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
