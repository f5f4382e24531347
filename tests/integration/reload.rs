//! SIGHUP re-reads the configuration: live keys change for the next request, on the
//! connections already open; a file that does not load changes nothing; keys fixed at
//! start are named as needing a restart. (SIGHUP used to kill the daemon.)

use std::time::{Duration, Instant};

use authd::protocol::{Request, Response};

use crate::daemon::*;

/// Wait until the daemon's log has said `needle` `times` times.
fn wait_for_log(d: &Daemon, needle: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while d.log().matches(needle).count() < times {
        assert!(
            Instant::now() < deadline,
            "the log never said {needle:?}:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn append_config(d: &Daemon, text: &str) {
    let mut config = std::fs::read_to_string(&d.config).unwrap();
    config.push_str(text);
    std::fs::write(&d.config, config).unwrap();
}

fn guess(d: &Daemon, password: &str) -> std::process::Output {
    d.ctl_stdin(&format!("{password}\n"), &["--json", "verify", "alice"])
}

#[test]
fn sighup_applies_a_new_max_failures_on_open_connections() {
    let d = Daemon::start();
    d.user_with_password("alice");
    let mut open = d.client();
    assert!(matches!(
        open.call(&Request::Status).unwrap(),
        Response::Status(_)
    ));

    append_config(&d, "[lockout]\nmax_failures = 2\n");
    signal(d.pid(), "HUP");
    wait_for_log(&d, "configuration reloaded", 1);
    assert!(d.log().contains("lockout"), "{}", d.log());

    // The connection opened before the reload is still served.
    assert!(matches!(
        open.call(&Request::Status).unwrap(),
        Response::Status(_)
    ));
    assert_error(&guess(&d, "wrong-password-1"), 1, "denied");
    assert_error(&guess(&d, "wrong-password-2"), 1, "denied");
    assert_error(&guess(&d, GOOD_PW), 75, "locked");
}

#[test]
fn a_bad_file_on_sighup_keeps_the_running_configuration() {
    let d = Daemon::start();
    d.user_with_password("alice");
    append_config(&d, "[lockout]\nmax_failures = \"two\"\n");
    signal(d.pid(), "HUP");
    wait_for_log(&d, "configuration not reloaded", 1);
    assert!(d.log().contains("max_failures"), "{}", d.log());
    // Still the default of 5: four failures do not lock.
    for i in 0..4 {
        assert_error(&guess(&d, &format!("wrong-password-{i}")), 1, "denied");
    }
    assert_ok(&guess(&d, GOOD_PW));
}

#[test]
fn keys_fixed_at_start_are_reported_and_keep_their_value() {
    let d = Daemon::start();
    let text = std::fs::read_to_string(&d.config)
        .unwrap()
        .replace("argon2_t = 1", "argon2_t = 3");
    std::fs::write(&d.config, format!("max_connections = 3\n{text}")).unwrap();
    signal(d.pid(), "HUP");
    wait_for_log(&d, "only after a restart", 1);
    let log = d.log();
    assert!(log.contains("password.argon2_t"), "{log}");
    assert!(log.contains("max_connections"), "{log}");
    // Still the running limit of 1024 connections, not 3.
    let held: Vec<_> = (0..5).map(|_| d.client()).collect();
    assert_ok(&d.ctl(&["status"]));
    drop(held);
}

#[test]
fn sighup_switches_the_sms_gateway_for_the_next_message() {
    let d = Daemon::start();
    d.user_with_password("alice");
    let dir = tempfile::tempdir().unwrap();
    let (gateway, sms) = crate::sms::Gateway::new(dir.path());
    append_config(&d, &sms);
    signal(d.pid(), "HUP");
    wait_for_log(&d, "configuration reloaded", 1);
    assert!(d.log().contains("sms.transport"), "{}", d.log());
    assert_ok(&d.ctl(&["enable-sms", "alice", "--phone", crate::sms::PHONE]));
    // The code went through the new gateway: confirming with it works.
    assert_ok(&d.ctl(&["confirm-sms", "alice", &gateway.code(1)]));
}

#[test]
fn a_transport_that_cannot_be_set_up_changes_nothing() {
    let d = Daemon::start();
    d.user_with_password("alice");
    // A valid file whose SMS spool directory cannot be created: the whole reload fails.
    append_config(
        &d,
        "[lockout]\nmax_failures = 2\n[sms]\ndir = \"/proc/authd-cannot-create\"\n",
    );
    signal(d.pid(), "HUP");
    wait_for_log(&d, "configuration not reloaded", 1);
    assert!(d.log().contains("authd-cannot-create"), "{}", d.log());
    for i in 0..4 {
        assert_error(&guess(&d, &format!("wrong-password-{i}")), 1, "denied");
    }
    assert_ok(&guess(&d, GOOD_PW));
}
