//! The `Hello` may arrive in the same write as the first request (as `Client::open` and
//! pam_authd send it). The daemon answers the `Hello` first and reads on only when the
//! versions match: a pipelined request never reaches a daemon of another protocol.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use authd::codec;
use authd::protocol::{AddUser, ErrorCode, Hello, Request, Response, PROTOCOL_VERSION};

use crate::daemon::*;

/// Hello (of `protocol`) and an add-user of `name`, in one write; every answer until
/// the daemon closes or answers twice.
fn pipelined_add_user(d: &Daemon, protocol: u32, name: &str) -> Vec<Response> {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let hello = Request::Hello(Hello {
        protocol,
        client: "pipelined".into(),
    });
    let add = Request::AddUser(AddUser {
        name: name.into(),
        email: None,
        phone: None,
        sso: None,
    });
    let mut both = codec::encode(&hello).unwrap().to_vec();
    both.extend_from_slice(&codec::encode(&add).unwrap());
    s.write_all(&both).unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match codec::read_frame_blocking(&mut s) {
            Ok(payload) => seen.push(codec::decode::<Response>(&payload).unwrap()),
            Err(codec::CodecError::Closed | codec::CodecError::Unread) => break,
            Err(e) => panic!("reading the answers: {e}"),
        }
    }
    seen
}

#[test]
fn a_request_behind_a_matching_hello_is_served() {
    let d = Daemon::start();
    let seen = pipelined_add_user(&d, PROTOCOL_VERSION, "piped");
    assert!(
        matches!(seen.as_slice(), [Response::Welcome { .. }, Response::Done]),
        "{seen:?}"
    );
    assert_ok(&d.ctl(&["show", "piped"]));
}

#[test]
fn a_request_behind_a_mismatched_hello_is_never_read() {
    let d = Daemon::start();
    let seen = pipelined_add_user(&d, PROTOCOL_VERSION + 1, "piped");
    match seen.as_slice() {
        [Response::Error(e)] => assert_eq!(e.code, ErrorCode::VersionMismatch, "{e:?}"),
        other => panic!("expected one version_mismatch and a close, got {other:?}"),
    }
    assert_error(&d.ctl(&["--json", "show", "piped"]), 67, "no_such_user");
}
