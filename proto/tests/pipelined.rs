//! `Client::open`: the `Hello` rides with the first request, and whatever ends the
//! exchange before the daemon's `Welcome` leaves the request undone. Each test plays the
//! daemon on a real Unix socket, in a thread, frame by frame.

use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use authd_proto::client::{Client, ClientError};
use authd_proto::codec;
use authd_proto::protocol::{ErrorCode, Hello, Request, Response, WireError, PROTOCOL_VERSION};

const TIMEOUT: Duration = Duration::from_secs(10);

fn listener() -> (tempfile::TempDir, PathBuf, UnixListener) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authd.sock");
    let listener = UnixListener::bind(&path).unwrap();
    (dir, path, listener)
}

fn read(s: &mut UnixStream) -> Request {
    codec::decode(&codec::read_frame_blocking(s).unwrap()).unwrap()
}

fn send(s: &mut UnixStream, response: &Response) {
    s.write_all(&codec::encode(response).unwrap()).unwrap();
}

fn welcome() -> Response {
    Response::Welcome {
        protocol: PROTOCOL_VERSION,
        server_version: "test".into(),
    }
}

fn refusal(code: ErrorCode) -> Response {
    Response::Error(WireError {
        code,
        message: "no".into(),
        retry_at: None,
    })
}

/// Play one connection with `serve`, close it, and let `client` call once: its error,
/// and whether it connected a second time (it has returned by the time this is asked,
/// so any reconnect is already queued on the listener).
fn once_then_call(serve: impl FnOnce(&mut UnixStream) + Send + 'static) -> (ClientError, bool) {
    let (_dir, path, listener) = listener();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let daemon = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        serve(&mut s);
        drop(s);
        rx.recv().unwrap();
        listener.set_nonblocking(true).unwrap();
        listener.accept().is_ok()
    });
    let mut client = Client::open(&path, "pipelined test", TIMEOUT).unwrap();
    let err = client.call(&Request::Status).unwrap_err();
    tx.send(()).unwrap();
    (err, daemon.join().unwrap())
}

/// The daemon reads the `Hello` and the request before it has written a byte: one
/// round trip for both.
#[test]
fn hello_and_first_request_travel_together() {
    let (_dir, path, listener) = listener();
    let daemon = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let hello = read(&mut s);
        let first = read(&mut s);
        send(&mut s, &welcome());
        send(&mut s, &Response::Done);
        // Later requests are plain exchanges on the same connection.
        let second = read(&mut s);
        send(&mut s, &Response::Done);
        (hello, first, second)
    });
    let mut client = Client::open(&path, "pipelined test", TIMEOUT).unwrap();
    assert_eq!(client.server_version(), "", "nothing is exchanged by open");
    assert_eq!(client.call(&Request::Status).unwrap(), Response::Done);
    assert_eq!(client.server_version(), "test");
    assert_eq!(client.call(&Request::Status).unwrap(), Response::Done);
    let (hello, first, second) = daemon.join().unwrap();
    assert_eq!(
        hello,
        Request::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: "pipelined test".into(),
        })
    );
    assert_eq!((first, second), (Request::Status, Request::Status));
}

/// A daemon of another protocol answers the `Hello` and closes without reading on: the
/// call fails with its `version_mismatch`, and no second connection is tried.
#[test]
fn a_version_mismatch_is_the_first_calls_error() {
    let (err, again) = once_then_call(|s| {
        let _hello = read(s);
        send(s, &refusal(ErrorCode::VersionMismatch));
    });
    assert_eq!(
        err.remote_code(),
        Some(ErrorCode::VersionMismatch),
        "{err:?}"
    );
    assert!(!again, "the client connected again");
}

/// A daemon that closes before welcoming (a restart) did nothing: the request is sent
/// once more, on a new connection with its own handshake.
#[test]
fn closed_before_the_welcome_is_sent_again() {
    let (_dir, path, listener) = listener();
    let daemon = thread::spawn(move || {
        let (first, _) = listener.accept().unwrap();
        drop(first);
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        let hello = read(&mut s);
        send(&mut s, &welcome());
        let request = read(&mut s);
        send(&mut s, &Response::Done);
        (hello, request)
    });
    let mut client = Client::open(&path, "pipelined test", TIMEOUT).unwrap();
    assert_eq!(client.call(&Request::Status).unwrap(), Response::Done);
    let (hello, request) = daemon.join().unwrap();
    assert!(matches!(hello, Request::Hello { .. }));
    assert_eq!(request, Request::Status);
}

/// Welcomed, the request read, then the connection breaks: it may have taken effect,
/// so the client says so and does not send it again.
#[test]
fn broken_after_the_welcome_is_an_unknown_outcome() {
    let (err, again) = once_then_call(|s| {
        let _hello = read(s);
        let _request = read(s);
        send(s, &welcome());
    });
    assert!(matches!(err, ClientError::OutcomeUnknown(_)), "{err:?}");
    assert!(!again, "the request was sent again");
}

/// A busy daemon refuses at once, before reading anything; its reason is the error.
#[test]
fn a_busy_refusal_is_read_even_if_the_write_failed() {
    let (_dir, path, listener) = listener();
    let daemon = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        send(&mut s, &refusal(ErrorCode::Busy));
    });
    let mut client = Client::open(&path, "pipelined test", TIMEOUT).unwrap();
    daemon.join().unwrap();
    let err = client.call(&Request::Status).unwrap_err();
    assert_eq!(err.remote_code(), Some(ErrorCode::Busy), "{err:?}");
}
