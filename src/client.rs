//! Blocking client over `std::os::unix::net::UnixStream`, with timeouts and no async
//! runtime, so authctl, the PAM module and tests can all use it.
//!
//! `Client::connect` performs the `Hello`/`Welcome` handshake; `Client::call` sends one
//! request and returns its response, with `Response::Error` turned into `Err`.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::codec::{self, CodecError};
use crate::protocol::{ErrorCode, Request, Response, WireError, PROTOCOL_VERSION};

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
    #[error("{}", .0.message)]
    Remote(WireError),
}

impl ClientError {
    /// The authctl exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::NotRunning { .. } | ClientError::Connect { .. } => 69,
            ClientError::TooLarge(_) => 65,
            ClientError::Codec(_) | ClientError::Unexpected(_) => 70,
            ClientError::Remote(e) => e.code.exit_code(),
        }
    }

    /// The stable code shown in `--json` error objects.
    pub fn code_name(&self) -> &'static str {
        match self {
            ClientError::NotRunning { .. } | ClientError::Connect { .. } => "unreachable",
            ClientError::TooLarge(_) => "invalid_input",
            ClientError::Codec(_) | ClientError::Unexpected(_) => "protocol",
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
    server_version: String,
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

impl Client {
    /// Connect to `path` and handshake, naming ourselves `client` (e.g. "authctl 0.1.0").
    pub fn connect(
        path: &Path,
        client_name: &str,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let mut client = Client {
            stream: open(path, timeout)?,
            server_version: String::new(),
            path: path.into(),
            name: client_name.chars().take(64).collect(),
            timeout,
        };
        client.handshake()?;
        Ok(client)
    }

    fn handshake(&mut self) -> Result<(), ClientError> {
        let hello = Request::Hello {
            protocol: PROTOCOL_VERSION,
            client: self.name.clone(),
        };
        match self.exchange(&hello)? {
            Response::Welcome { server_version, .. } => {
                self.server_version = server_version;
                Ok(())
            }
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
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

    /// Send one request and wait for its response. If the daemon had closed the
    /// connection meanwhile (idle timeout, restart) — so it never saw the request — the
    /// client reconnects and sends it once more: a user may take a while to type a code.
    pub fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        match self.exchange(request) {
            Err(ClientError::Codec(CodecError::Closed)) => {
                self.stream = open(&self.path, self.timeout)?;
                self.handshake()?;
                self.exchange(request)
            }
            other => other,
        }
    }

    fn exchange(&mut self, request: &Request) -> Result<Response, ClientError> {
        let frame = codec::encode(request).map_err(|e| match e {
            CodecError::TooLarge { .. } => ClientError::TooLarge(e.to_string()),
            other => ClientError::Codec(other),
        })?;
        codec::write_frame_blocking(&mut self.stream, &frame).map_err(ClientError::Codec)?;
        let payload = codec::read_frame_blocking(&mut self.stream).map_err(ClientError::Codec)?;
        match codec::decode::<Response>(&payload).map_err(ClientError::Codec)? {
            Response::Error(e) => Err(ClientError::Remote(e)),
            response => Ok(response),
        }
    }
}
