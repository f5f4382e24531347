//! The blocking client sends a request again only when the daemon certainly did not
//! read it; when the connection breaks after the daemon read it, the outcome is unknown
//! and reported as such (exit 70, `outcome_unknown`), never run a second time. A fake
//! daemon on a Unix socket plays each way a connection can end.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use authd::client::Client;
use authd::codec;
use authd::protocol::{Request, Response, Unlock, PROTOCOL_VERSION};

use crate::daemon::*;

/// What the fake daemon does on one connection, after the handshake.
#[derive(Clone, Copy)]
enum Act {
    /// Read the request, then close without answering (a crash mid-request).
    ReadThenClose,
    /// Read the request and never answer.
    ReadThenHang,
    /// Wait until the request has arrived, then close without reading it.
    CloseUnread,
    /// Close at once, while the client is idle.
    CloseIdle,
    /// Read the request and answer it.
    Answer,
}

struct Fake {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    /// (connection number, request) for every request the fake daemon read.
    seen: Arc<Mutex<Vec<(usize, Request)>>>,
    stop: Arc<AtomicBool>,
    /// One message per connection closed with `CloseIdle`.
    idle_closed: mpsc::Receiver<()>,
    thread: Option<JoinHandle<usize>>,
}

fn send(stream: &mut UnixStream, response: &Response) {
    let frame = codec::encode(response).unwrap();
    let _ = std::io::Write::write_all(stream, &frame);
}

fn read(stream: &mut UnixStream) -> Option<Request> {
    let payload = codec::read_frame_blocking(stream).ok()?;
    Some(codec::decode(&payload).unwrap())
}

fn answer_for(request: &Request) -> Response {
    match request {
        Request::ConfirmTotp { .. } => Response::Confirmed {
            recovery_codes: Vec::new(),
        },
        _ => Response::Done,
    }
}

impl Fake {
    /// Serve connection `i` with `acts[i]` (the last one for any beyond).
    fn start(acts: &[Act]) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("fake.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (idle_tx, idle_closed) = mpsc::channel();
        let acts = acts.to_vec();
        let thread = {
            let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut conns = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut stream = match listener.accept() {
                        Ok((stream, _)) => stream,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    };
                    stream.set_nonblocking(false).unwrap();
                    let i = conns;
                    conns += 1;
                    match read(&mut stream) {
                        Some(Request::Hello { .. }) => send(
                            &mut stream,
                            &Response::Welcome {
                                protocol: PROTOCOL_VERSION,
                                server_version: "fake".into(),
                            },
                        ),
                        _ => continue,
                    }
                    let act = acts[i.min(acts.len() - 1)];
                    let record = |stream: &mut UnixStream| {
                        let request = read(stream);
                        if let Some(r) = &request {
                            seen.lock().unwrap().push((i, r.clone()));
                        }
                        request
                    };
                    match act {
                        Act::ReadThenClose => {
                            record(&mut stream);
                        }
                        Act::ReadThenHang => {
                            record(&mut stream);
                            while !stop.load(Ordering::Relaxed) {
                                std::thread::sleep(Duration::from_millis(5));
                            }
                        }
                        Act::CloseUnread => {
                            // Blocks until the request is there; leaves it unread.
                            let _ = nix::sys::socket::recv(
                                std::os::fd::AsRawFd::as_raw_fd(&stream),
                                &mut [0u8; 1],
                                nix::sys::socket::MsgFlags::MSG_PEEK,
                            );
                        }
                        Act::CloseIdle => {
                            drop(stream);
                            let _ = idle_tx.send(());
                            continue;
                        }
                        Act::Answer => {
                            if let Some(request) = record(&mut stream) {
                                send(&mut stream, &answer_for(&request));
                            }
                        }
                    }
                }
                conns
            })
        };
        Fake {
            _dir: dir,
            socket,
            seen,
            stop,
            idle_closed,
            thread: Some(thread),
        }
    }

    fn client(&self, timeout: Duration) -> Client {
        Client::connect(&self.socket, "test", timeout).unwrap()
    }

    /// Stop serving; returns the number of connections and the requests read.
    fn finish(mut self) -> (usize, Vec<(usize, Request)>) {
        self.stop.store(true, Ordering::Relaxed);
        let conns = self.thread.take().unwrap().join().unwrap();
        let seen = self.seen.lock().unwrap().clone();
        (conns, seen)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn unlock() -> Request {
    Request::Unlock(Unlock {
        name: "alice".into(),
    })
}

#[test]
fn a_request_the_daemon_read_is_never_sent_twice() {
    let fake = Fake::start(&[Act::ReadThenClose, Act::Answer]);
    let mut client = fake.client(Duration::from_secs(30));
    let err = client.call(&unlock()).unwrap_err();
    let code = authd::ctl::exit::for_client(&err).code();
    assert_eq!((err.code_name(), code), ("outcome_unknown", 70));
    assert!(err.to_string().contains("may or may not"), "{err}");
    let (conns, seen) = fake.finish();
    assert_eq!((conns, seen.len()), (1, 1), "{seen:?}");
}

#[test]
fn authctl_reports_an_unknown_outcome_and_does_not_confirm_twice() {
    // A retried confirm-totp would answer "already enrolled", and the recovery codes
    // from the first run would never be shown.
    let fake = Fake::start(&[Act::ReadThenClose, Act::Answer]);
    let out = run_ctl(
        std::path::Path::new(AUTHCTL),
        &fake.socket,
        None,
        "",
        &["--json", "confirm-totp", "alice", "123456"],
    );
    assert_exit(&out, 70);
    assert_eq!(json(&out)["error"]["code"], "outcome_unknown");
    assert!(
        stderr(&out).contains("may or may not have taken effect"),
        "{}",
        stderr(&out)
    );
    let (conns, seen) = fake.finish();
    assert_eq!((conns, seen.len()), (1, 1), "{seen:?}");
}

#[test]
fn no_answer_in_time_is_an_unknown_outcome_too() {
    let fake = Fake::start(&[Act::ReadThenHang, Act::Answer]);
    let mut client = fake.client(Duration::from_millis(500));
    let err = client.call(&unlock()).unwrap_err();
    assert_eq!(err.code_name(), "outcome_unknown");
    let (conns, seen) = fake.finish();
    assert_eq!((conns, seen.len()), (1, 1), "{seen:?}");
}

#[test]
fn a_request_closed_unread_is_sent_again_on_a_new_connection() {
    let fake = Fake::start(&[Act::CloseUnread, Act::Answer]);
    let mut client = fake.client(Duration::from_secs(30));
    assert_eq!(client.call(&unlock()).unwrap(), Response::Done);
    let (conns, seen) = fake.finish();
    assert_eq!(conns, 2);
    assert_eq!(seen, [(1, unlock())]);
}

#[test]
fn a_connection_closed_while_idle_is_replaced_before_the_request_goes_out() {
    // The PAM module and authctl wait for a user typing a code: the daemon's idle
    // timeout closes the connection meanwhile.
    let fake = Fake::start(&[Act::CloseIdle, Act::Answer]);
    let mut client = fake.client(Duration::from_secs(30));
    fake.idle_closed
        .recv_timeout(Duration::from_secs(30))
        .unwrap();
    assert_eq!(client.call(&unlock()).unwrap(), Response::Done);
    let (conns, seen) = fake.finish();
    assert_eq!(conns, 2);
    assert_eq!(seen, [(1, unlock())]);
}
