//! Blocking client over `std::os::unix::net::UnixStream`, with timeouts and no async
//! runtime, so authctl, the PAM module and tests can all use it.
//!
//! `Client::connect` performs the `Hello`/`Welcome` handshake; `Client::call` sends one
//! request and returns its response, with `Response::Error` turned into `Err`.
//! `Client::open` connects without waiting: its `Hello` goes out in the same write as the
//! first request, saving a round trip (the PAM module's login). The daemon still answers
//! the `Hello` first and reads nothing further unless the versions match, so a request
//! never reaches a daemon that speaks another protocol.
//!
//! A request is sent again, on a new connection, only when the daemon certainly did not
//! act on it: the connection was already closed before it was sent (a user slow to type
//! a code outlasts the idle timeout), or the daemon closed it without reading the request
//! whole. When the connection breaks after the daemon read the request, the answer is
//! `OutcomeUnknown`, never a second run: a request may have taken effect (a confirmed
//! enrolment whose recovery codes were never shown) and must not run twice.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{recv, send, MsgFlags};
use zeroize::Zeroizing;

use crate::codec::{self, CodecError};
use crate::protocol::{ErrorCode, Hello, Request, Response, WireError, PROTOCOL_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("authd is not running at {}", .path.display())]
    NotRunning {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot connect to authd at {}", .path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("request too large: {0}")]
    TooLarge(String),
    #[error("talking to authd failed")]
    Codec(#[source] CodecError),
    #[error("authd sent an unexpected answer: {0}")]
    Unexpected(String),
    /// authd closed the connection without reading the request, twice: it did nothing.
    #[error("authd closed the connection without reading the request (it was not carried out)")]
    Dropped(#[source] CodecError),
    /// The request was sent whole, but no answer came back.
    #[error(
        "the connection to authd broke after the request was sent: it may or may not have \
         taken effect; check before running it again"
    )]
    OutcomeUnknown(#[source] CodecError),
    #[error("{}", .0.message)]
    Remote(WireError),
}

impl ClientError {
    /// The stable code shown in `--json` error objects.
    pub fn code_name(&self) -> &'static str {
        match self {
            ClientError::NotRunning { .. }
            | ClientError::Connect { .. }
            | ClientError::Dropped(_) => "unreachable",
            ClientError::TooLarge(_) => "invalid_input",
            ClientError::Codec(_) | ClientError::Unexpected(_) => "protocol",
            ClientError::OutcomeUnknown(_) => "outcome_unknown",
            ClientError::Remote(e) => e.code.as_str(),
        }
    }

    pub fn remote_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Remote(e) => Some(e.code),
            _ => None,
        }
    }
}

pub struct Client {
    stream: UnixStream,
    /// Empty until the daemon's `Welcome` has been read.
    server_version: String,
    /// The `Hello` has not been sent yet: it goes out with the first request.
    greet_first: bool,
    path: PathBuf,
    name: String,
    timeout: Duration,
}

/// Longer than any work the daemon does for one request (a password hash, a queue write).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect and set timeouts.
fn open(path: &Path, timeout: Duration) -> Result<UnixStream, ClientError> {
    let stream = UnixStream::connect(path).map_err(|source| {
        let path = path.into();
        match source.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning { path, source }
            }
            _ => ClientError::Connect { path, source },
        }
    })?;
    let set = |r: io::Result<()>| {
        r.map_err(|source| ClientError::Connect {
            path: path.into(),
            source,
        })
    };
    set(stream.set_read_timeout(Some(timeout)))?;
    set(stream.set_write_timeout(Some(timeout)))?;
    Ok(stream)
}

/// Why an exchange failed, as far as the daemon's having acted on the request goes.
enum Failure {
    /// The daemon did not read the request whole, so it did not act on it: safe to send
    /// again on a new connection.
    Unread(CodecError),
    /// Not sent whole for another reason (a write timeout): not acted on, not retried.
    NotSent(CodecError),
    /// Sent whole, no whole answer: it may have been carried out.
    Unknown(CodecError),
}

impl Failure {
    fn into_error(self) -> ClientError {
        match self {
            Failure::Unread(e) => ClientError::Dropped(e),
            Failure::NotSent(e) => ClientError::Codec(e),
            Failure::Unknown(e) => ClientError::OutcomeUnknown(e),
        }
    }
}

/// Writes with `MSG_NOSIGNAL`: a connection the daemon closed is an error (EPIPE), not a
/// SIGPIPE that would kill the program the PAM module is loaded in. Recent std does the
/// same for `UnixStream` (rust-lang/rust#140005); older ones, down to this crate's
/// rust-version, use write(2).
struct NoSignal<'a>(&'a UnixStream);

impl Write for NoSignal<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        send(self.0.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL).map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Client {
    /// Connect to `path` and handshake, naming ourselves `client` (e.g. "authctl 0.1.0").
    pub fn connect(
        path: &Path,
        client_name: &str,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let mut client = Client::open(path, client_name, timeout)?;
        client.handshake()?;
        Ok(client)
    }

    /// Connect to `path` without a round trip: the `Hello` is sent together with the
    /// first request (see `call`), and a version mismatch or a busy daemon is that
    /// call's error.
    pub fn open(path: &Path, client_name: &str, timeout: Duration) -> Result<Client, ClientError> {
        Ok(Client {
            stream: open(path, timeout)?,
            server_version: String::new(),
            greet_first: true,
            path: path.into(),
            name: client_name.chars().take(64).collect(),
            timeout,
        })
    }

    fn hello_frame(&self) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        encode_request(&Request::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: self.name.clone(),
        }))
    }

    fn handshake(&mut self) -> Result<(), ClientError> {
        let frame = self.hello_frame()?;
        self.greet_first = false;
        let payload = match self.exchange(&frame) {
            Ok(payload) => payload,
            // A daemon that refuses the connection (busy) says why before it closes.
            Err(Failure::Unread(e)) => match codec::read_frame_blocking(&mut &self.stream) {
                Ok(payload) => payload,
                Err(_) => return Err(ClientError::Codec(e)),
            },
            Err(Failure::NotSent(e) | Failure::Unknown(e)) => return Err(ClientError::Codec(e)),
        };
        self.welcomed(&payload)
    }

    /// Take the answer to our `Hello`.
    fn welcomed(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        match answer(payload)? {
            Response::Welcome { server_version, .. } => {
                self.server_version = server_version;
                Ok(())
            }
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Send `frame` once more, on a new connection with its own handshake: the daemon
    /// certainly did not act on it the first time. No third try.
    fn again(&mut self, frame: &[u8]) -> Result<Response, ClientError> {
        self.reconnect()?;
        let payload = self.exchange(frame).map_err(Failure::into_error)?;
        answer(&payload)
    }

    fn reconnect(&mut self) -> Result<(), ClientError> {
        self.stream = open(&self.path, self.timeout)?;
        self.handshake()
    }

    /// The first request of an `open`ed client: `Hello` and the request in one write,
    /// then the `Welcome`, then the answer. The daemon acts on the request only after it
    /// has welcomed us, so whatever ends the exchange before the `Welcome` arrives (a
    /// version mismatch, a busy daemon, a close) left the request undone.
    fn greet_with(&mut self, frame: &[u8]) -> Result<Response, ClientError> {
        let hello = self.hello_frame()?;
        self.greet_first = false;
        let mut both = Zeroizing::new(Vec::with_capacity(hello.len() + frame.len()));
        both.extend_from_slice(&hello);
        both.extend_from_slice(frame);
        let sent = codec::write_frame_blocking(&mut NoSignal(&self.stream), &both);
        // Read the daemon's word on the `Hello` even when the write failed: a daemon
        // that refuses the connection (busy) says why before it closes.
        let welcome = codec::read_frame_blocking(&mut &self.stream);
        match (sent, welcome) {
            (_, Ok(payload)) => self.welcomed(&payload)?,
            // The daemon closed without a `Welcome`: it did nothing. Once more on a fresh
            // connection, the plain way (a daemon restarting, say).
            (_, Err(CodecError::Closed | CodecError::Unread)) => {
                return self.again(frame);
            }
            (Err(e), Err(_)) => return Err(ClientError::Codec(e)),
            // Sent whole, and no `Welcome` in time: the daemon may yet read and act on it.
            (Ok(()), Err(e)) => return Err(ClientError::OutcomeUnknown(e)),
        }
        let payload = codec::read_frame_blocking(&mut &self.stream).map_err(|e| match e {
            CodecError::Unread => Failure::Unread(e),
            other => Failure::Unknown(other),
        });
        match payload {
            Ok(payload) => answer(&payload),
            Err(Failure::Unread(_)) => self.again(frame),
            Err(failure) => Err(failure.into_error()),
        }
    }

    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The daemon's pid, as the kernel reports it for this connection.
    pub fn peer_pid(&self) -> Option<i32> {
        use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
        getsockopt(&self.stream, PeerCredentials)
            .ok()
            .map(|c| c.pid())
    }

    /// Send one request and wait for its response. A user may take a while to type a
    /// code: if the daemon has closed the connection meanwhile (idle timeout, restart)
    /// without reading the request, the client connects again and sends it once more.
    /// If the connection breaks after the daemon read it, the answer is
    /// `ClientError::OutcomeUnknown`, and the request is not sent again.
    pub fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        let frame = encode_request(request)?;
        if self.greet_first {
            return self.greet_with(&frame);
        }
        if self.closed_by_daemon() {
            // Nothing was sent on this connection since its last answer: start afresh.
            self.reconnect()?;
        }
        match self.exchange(&frame) {
            Ok(payload) => answer(&payload),
            Err(Failure::Unread(_)) => self.again(&frame),
            Err(failure) => Err(failure.into_error()),
        }
    }

    /// Has the daemon closed (or begun to close) this connection while it sat idle?
    /// Between requests the daemon sends nothing, so anything to read, an end of stream or
    /// an error means the connection is finished (`call` then connects again).
    pub fn closed_by_daemon(&self) -> bool {
        let mut byte = [0u8; 1];
        let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT;
        !matches!(
            recv(self.stream.as_raw_fd(), &mut byte, flags),
            Err(Errno::EAGAIN | Errno::EINTR)
        )
    }

    /// Send one frame and read one back, telling apart whether the daemon read the frame.
    fn exchange(&mut self, frame: &[u8]) -> Result<Zeroizing<Vec<u8>>, Failure> {
        codec::write_frame_blocking(&mut NoSignal(&self.stream), frame).map_err(|e| match e {
            CodecError::Unread => Failure::Unread(e),
            other => Failure::NotSent(other),
        })?;
        codec::read_frame_blocking(&mut &self.stream).map_err(|e| match e {
            // ECONNRESET: the daemon closed with our frame (or part of it) unread, and
            // it acts only on whole frames.
            CodecError::Unread => Failure::Unread(e),
            // End of stream, a timeout, half an answer: it read the frame and may have
            // acted on it.
            other => Failure::Unknown(other),
        })
    }
}

fn encode_request(request: &Request) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    codec::encode(request).map_err(|e| match e {
        CodecError::TooLarge { .. } => ClientError::TooLarge(e.to_string()),
        other => ClientError::Codec(other),
    })
}

fn answer(payload: &[u8]) -> Result<Response, ClientError> {
    match codec::decode::<Response>(payload).map_err(ClientError::Codec)? {
        Response::Error(e) => Err(ClientError::Remote(e)),
        response => Ok(response),
    }
}
