//! What one local user can make authd write to its log: requests naming other accounts
//! with huge names full of control bytes, refused requests and unknown reset tokens in a
//! flood, PAM origins of any size. Each used to cost the log (or the audit history) in
//! proportion to what the attacker sent; now a few short lines per minute.

use std::os::unix::net::UnixStream;

use authd::protocol::{
    ErrorCode, Origin, Request, ResetPassword, Response, Secret, ShowUser, Verify,
};

use crate::daemon::*;
use crate::other_uids::{call, can_connect_as_others, connections_as, hello};

/// One connection as nobody, past the handshake.
fn as_nobody(d: &Daemon) -> UnixStream {
    let mut conn = connections_as(crate::authz::NOBODY, d, 1).pop().unwrap();
    assert!(matches!(
        call(&mut conn, &hello()),
        Some(Response::Welcome { .. })
    ));
    conn
}

fn code_of(answer: Option<Response>) -> ErrorCode {
    match answer {
        Some(Response::Error(e)) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn log_len(d: &Daemon) -> usize {
    d.log().len()
}

#[test]
fn huge_names_full_of_control_bytes_are_refused_before_anything_logs_them() {
    if !can_connect_as_others() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let mut conn = as_nobody(&d);
    let name = "\u{1b}".repeat(60_000);
    let before = log_len(&d);
    for _ in 0..50 {
        let code = code_of(call(
            &mut conn,
            &Request::ShowUser(ShowUser { name: name.clone() }),
        ));
        assert_eq!(code, ErrorCode::InvalidInput);
    }
    // Make sure the daemon has written whatever it was going to: one more request that
    // it logs, and the log must hold it.
    assert_ok(&d.ctl(&["unlock", "alice"]));
    let grown = log_len(&d) - before;
    assert!(
        grown < 4096,
        "50 requests with 60 KB names grew the log by {grown} bytes"
    );
}

#[test]
fn a_flood_of_refused_requests_is_logged_a_burst_a_minute() {
    if !can_connect_as_others() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let mut conn = as_nobody(&d);
    for _ in 0..500 {
        let show = Request::ShowUser(ShowUser {
            name: "alice".into(),
        });
        assert_eq!(code_of(call(&mut conn, &show)), ErrorCode::PermissionDenied);
    }
    for i in 0..200 {
        let reset = Request::ResetPassword(ResetPassword {
            token: Secret::new(format!("no-such-token-{i}")),
            password: Secret::new(GOOD_PW),
        });
        assert_eq!(code_of(call(&mut conn, &reset)), ErrorCode::Denied);
    }
    // A logged request after the flood proves the log is written up to here.
    assert_ok(&d.ctl(&["unlock", "alice"]));
    let log = d.log();
    let refused = log.matches("permission-denied").count();
    let tokens = log.matches("unknown token").count();
    assert_eq!(refused + tokens, authd::log_limit::BURST as usize, "{log}");
}

#[test]
fn a_huge_pam_service_does_not_push_the_remote_host_out_of_the_audit_detail() {
    let d = Daemon::start();
    d.user_with_password("alice");
    let mut client = d.client();
    let verify = Request::Verify(Verify {
        name: "alice".into(),
        password: Secret::new(GOOD_PW),
        code: None,
        origin: Origin {
            service: Some("\u{1b}[2J".repeat(5_000)),
            remote_host: Some("h".repeat(30_000)),
        },
    });
    assert!(matches!(
        client.call(&verify).unwrap(),
        Response::Verified { .. }
    ));
    let log = json(&d.ctl(&["--json", "log", "alice"]));
    let last = log["events"].as_array().unwrap().last().unwrap().clone();
    let detail = last["detail"].as_str().unwrap();
    // Both fields stay visible, each clipped, neither with a raw control byte.
    assert!(detail.contains("service=\\x1b[2J"), "{detail}");
    assert!(detail.contains("rhost=hhh"), "{detail}");
    assert!(detail.contains("more bytes"), "{detail}");
    assert!(!detail.contains('\u{1b}'), "{detail}");
}
