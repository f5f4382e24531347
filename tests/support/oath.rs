//! TOTP against the real peer: oathtool computes the codes for the secrets authd hands
//! out, and an enrolment is confirmed with one.
//!
//! Shared by the integration tests and the PAM tests (`#[path]`-included, beside the
//! `daemon` support module at the crate root).

#![allow(dead_code)]

use std::process::Command;

use crate::daemon::{assert_ok, json, pw, stderr, stdout, Daemon};

/// The TOTP code oathtool computes for `secret`, `steps` periods from now.
pub fn oathtool(secret: &str, steps: i64) -> String {
    let at = authd::time::now() as i64 + 30 * steps;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, &format!("--now=@{at}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Enrol `name` (which has GOOD_PW) and confirm with the current code; returns the base32
/// secret and the recovery codes.
pub fn enrol(d: &Daemon, name: &str) -> (String, Vec<String>) {
    // The password goes unread for someone else's account; our own (root's, for the
    // self-service tests) needs it.
    let enrolment = json(&d.ctl_stdin(&pw(), &["--json", "enable-totp", name]));
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let confirmed = d.ctl(&["--json", "confirm-totp", name, &oathtool(&secret, 0)]);
    assert_ok(&confirmed);
    let codes = serde_json::from_value(json(&confirmed)["recovery_codes"].clone()).unwrap();
    (secret, codes)
}
