//! Hostile and broken clients on the raw socket: each gets a clear error or a closed
//! connection, memory stays bounded, and other clients carry on.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use authd::codec;
use authd::protocol::{ErrorCode, Hello, Request, Response, ShowUser, Verify, PROTOCOL_VERSION};
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};

use crate::daemon::*;

fn raw(d: &Daemon) -> UnixStream {
    let s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn hello() -> Vec<u8> {
    codec::encode(&Request::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "raw".into(),
    }))
    .unwrap()
    .to_vec()
}

/// Read frames until EOF; returns the responses seen.
fn responses_until_close(s: &mut UnixStream) -> Vec<Response> {
    let mut seen = Vec::new();
    loop {
        match codec::read_frame_blocking(s) {
            Ok(payload) => seen.push(codec::decode::<Response>(&payload).unwrap()),
            Err(
                codec::CodecError::Truncated
                | codec::CodecError::Closed
                | codec::CodecError::Unread,
            ) => return seen,
            Err(codec::CodecError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return seen
            }
            Err(e) => panic!("expected a close, got {e:?}"),
        }
    }
}

fn error_code(r: &Response) -> Option<ErrorCode> {
    match r {
        Response::Error(e) => Some(e.code),
        _ => None,
    }
}

/// Another client is served normally.
fn still_serving(d: &Daemon) {
    assert_ok(&d.ctl(&["status"]));
}

#[test]
fn garbage_bytes_get_an_error_and_a_close() {
    let d = Daemon::start();
    let mut s = raw(&d);
    s.write_all(&[0, 0, 0, 5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb])
        .unwrap();
    let seen = responses_until_close(&mut s);
    assert_eq!(
        seen.iter().map(error_code).collect::<Vec<_>>(),
        [Some(ErrorCode::BadRequest)]
    );
    still_serving(&d);
}

#[test]
fn a_4_gib_length_prefix_is_refused_without_allocating() {
    let d = Daemon::start();
    let before = d.rss_kib();
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut s = raw(&d);
        s.write_all(&u32::MAX.to_be_bytes()).unwrap();
        streams.push(s);
    }
    for s in &mut streams {
        let seen = responses_until_close(s);
        assert_eq!(
            seen.iter().map(error_code).collect::<Vec<_>>(),
            [Some(ErrorCode::BadRequest)]
        );
    }
    let after = d.rss_kib();
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    still_serving(&d);
}

#[test]
fn a_truncated_frame_or_a_mid_request_disconnect_is_just_closed() {
    let d = Daemon::start();
    let mut s = raw(&d);
    s.write_all(&hello()).unwrap();
    let frame = codec::encode(&Request::Status).unwrap();
    s.write_all(&frame[..frame.len() - 1]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let seen = responses_until_close(&mut s);
    assert!(
        matches!(seen.as_slice(), [Response::Welcome { .. }]),
        "{seen:?}"
    );

    // A client that sends a verify and vanishes before the answer.
    let mut gone = raw(&d);
    gone.write_all(&hello()).unwrap();
    let verify = codec::encode(&Request::Verify(Verify {
        name: "nobody-here".into(),
        password: authd::protocol::Secret::new("pw"),
        code: None,
        origin: Default::default(),
    }))
    .unwrap();
    gone.write_all(&verify).unwrap();
    drop(gone);
    still_serving(&d);
}

#[test]
fn a_frame_dribbled_slower_than_the_timeout_is_cut_off() {
    // A frame must arrive whole within `frame_timeout` of its first byte: a byte every
    // 200 ms, each gap well inside the timeout, does not keep the connection. The idle
    // timeout is far off, so a close can only be the frame timeout's.
    let d = Daemon::start_with("frame_timeout = \"1s\"\nidle_timeout = \"600s\"");
    let mut s = raw(&d);
    s.write_all(&hello()).unwrap();
    let welcome = codec::decode::<Response>(&codec::read_frame_blocking(&mut s).unwrap());
    assert!(
        matches!(welcome, Ok(Response::Welcome { .. })),
        "{welcome:?}"
    );

    // A request announcing 1000 bytes, sent a byte at a time until the daemon closes the
    // connection; the pause between two bytes is a wait for that close.
    let mut frame = 1000u32.to_be_bytes().to_vec();
    frame.resize(4 + 1000, 0);
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    for byte in &frame {
        assert!(
            Instant::now() < deadline,
            "a dribbled frame was never cut off"
        );
        if s.write_all(std::slice::from_ref(byte)).is_err() {
            break;
        }
        let mut peek = [0u8; 1];
        match recv(s.as_raw_fd(), &mut peek, MsgFlags::MSG_PEEK) {
            // Nothing within 200 ms: still open, the next byte.
            Err(Errno::EAGAIN) => continue,
            // An answer, an end of stream or a reset: the daemon is closing.
            _ => break,
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let seen = responses_until_close(&mut s);
    assert!(
        seen.iter()
            .all(|r| error_code(r) == Some(ErrorCode::BadRequest)),
        "{seen:?}"
    );
    still_serving(&d);
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let d = Daemon::start_with("idle_timeout = \"1s\"");
    let mut s = raw(&d);
    s.write_all(&hello()).unwrap();
    let seen = responses_until_close(&mut s);
    // The welcome, then the close: no frame that a client sending a request just then
    // could take for its answer.
    assert!(
        matches!(seen.as_slice(), [Response::Welcome { .. }]),
        "{seen:?}"
    );
    still_serving(&d);
}

#[test]
fn a_client_left_idle_past_the_timeout_reconnects_transparently() {
    let d = Daemon::start_with("idle_timeout = \"1s\"");
    let mut client = d.client();
    wait_until("the daemon to close the idle connection", || {
        client.closed_by_daemon().then_some(())
    });
    // The daemon closed the idle connection; the request is sent again on a new one.
    assert!(matches!(
        client.call(&Request::Status),
        Ok(Response::Status(_))
    ));
}

#[test]
fn a_wrong_protocol_version_is_told_and_closed() {
    let d = Daemon::start();
    let mut s = raw(&d);
    let old = codec::encode(&Request::Hello(Hello {
        protocol: PROTOCOL_VERSION + 1,
        client: "future".into(),
    }))
    .unwrap();
    s.write_all(&old).unwrap();
    let seen = responses_until_close(&mut s);
    assert_eq!(
        seen.iter().map(error_code).collect::<Vec<_>>(),
        [Some(ErrorCode::VersionMismatch)]
    );
}

#[test]
fn a_request_before_hello_or_a_second_hello_is_a_bad_request() {
    let d = Daemon::start();
    let mut s = raw(&d);
    s.write_all(&codec::encode(&Request::Status).unwrap())
        .unwrap();
    let seen = responses_until_close(&mut s);
    assert_eq!(
        seen.iter().map(error_code).collect::<Vec<_>>(),
        [Some(ErrorCode::BadRequest)]
    );

    let mut client = d.client();
    let again = client.call(&Request::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "x".into(),
    }));
    assert_eq!(
        again.unwrap_err().remote_code(),
        Some(ErrorCode::BadRequest)
    );
    // The connection is still usable afterwards.
    assert!(matches!(
        client.call(&Request::Status),
        Ok(Response::Status(_))
    ));
}

fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
}

/// Open `n` connections at once, each sending hello; count welcomes and busy errors.
fn flood(d: &Daemon, n: usize) -> (usize, usize) {
    let mut streams: Vec<UnixStream> = (0..n)
        .map(|_| {
            let mut s = raw(d);
            // A refused connection may be closed before the hello is written (broken
            // pipe); its `busy` answer is still there to read.
            let _ = s.write_all(&hello());
            s
        })
        .collect();
    let (mut welcome, mut busy) = (0, 0);
    for s in &mut streams {
        match codec::read_frame_blocking(s).map(|p| codec::decode::<Response>(&p).unwrap()) {
            Ok(Response::Welcome { .. }) => welcome += 1,
            Ok(Response::Error(e)) if e.code == ErrorCode::Busy => busy += 1,
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    (welcome, busy)
}

#[test]
fn a_thousand_connections_at_once_are_all_served() {
    raise_fd_limit();
    let d = Daemon::start();
    let before = d.rss_kib();
    assert_eq!(flood(&d, 1000), (1000, 0));
    let after = d.rss_kib();
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    still_serving(&d);
}

#[test]
fn connections_beyond_the_limit_are_told_busy() {
    raise_fd_limit();
    let d = Daemon::start_with("max_connections = 10");
    let (welcome, busy) = flood(&d, 200);
    // At most 10 are served; the readiness probe's connection may still hold a slot for
    // a moment, so 9 is fine too. Every other one is told "busy".
    assert_eq!(welcome + busy, 200);
    assert!(
        (9..=10).contains(&welcome),
        "{welcome} served beyond the limit of 10"
    );
}

#[test]
fn a_huge_request_is_refused_by_the_client_before_sending() {
    let d = Daemon::start();
    let mut client = d.client();
    let err = client
        .call(&Request::ShowUser(ShowUser {
            name: "a".repeat(100_000),
        }))
        .unwrap_err();
    assert_eq!(authd::ctl::exit::for_client(&err).code(), 65);
    assert!(matches!(
        client.call(&Request::Status),
        Ok(Response::Status(_))
    ));
    // The daemon says nothing before hello: the first frame back answers it.
    let mut s = raw(&d);
    s.write_all(&hello()).unwrap();
    let first = codec::decode::<Response>(&codec::read_frame_blocking(&mut s).unwrap());
    assert!(
        matches!(first, Ok(Response::Welcome { .. })),
        "server spoke before hello: {first:?}"
    );
}
