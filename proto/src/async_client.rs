//! Async client over `tokio::net::UnixStream` (the `tokio` feature), for authd-web.
//!
//! `AsyncClient::connect` performs the `Hello`/`Welcome` handshake; `AsyncClient::call`
//! sends one request and returns its response, with `Response::Error` turned into `Err`,
//! as the blocking [`crate::client::Client`] does. Unlike it, this client never sends a
//! request twice: a web front end opens one connection per page it answers, so a broken
//! connection is that page's error (`OutcomeUnknown` once the request went out whole).
//! Every wait (connect, each write, each answer) is bounded by the client's timeout.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use zeroize::Zeroizing;

use crate::client::ClientError;
use crate::codec::{self, CodecError};
use crate::protocol::{Hello, Request, Response, PROTOCOL_VERSION};

pub struct AsyncClient {
    stream: UnixStream,
    server_version: String,
    timeout: Duration,
}

impl AsyncClient {
    /// Connect to `path` and handshake, naming ourselves `client_name`.
    pub async fn connect(
        path: &Path,
        client_name: &str,
        timeout: Duration,
    ) -> Result<AsyncClient, ClientError> {
        let connecting = tokio::time::timeout(timeout, UnixStream::connect(path));
        let stream = match connecting.await {
            Ok(Ok(stream)) => stream,
            Ok(Err(source)) => return Err(connect_error(path, source)),
            Err(_) => {
                return Err(ClientError::Connect {
                    path: path.into(),
                    source: io::ErrorKind::TimedOut.into(),
                })
            }
        };
        let mut client = AsyncClient {
            stream,
            server_version: String::new(),
            timeout,
        };
        let hello = Request::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: client_name.chars().take(64).collect(),
        });
        // The daemon acts on nothing before its `Welcome`: any failure here is a plain
        // connection error.
        match client.exchange(&hello).await {
            Ok(Response::Welcome { server_version, .. }) => {
                client.server_version = server_version;
                Ok(client)
            }
            Ok(other) => Err(ClientError::Unexpected(format!("{other:?}"))),
            Err(ClientError::OutcomeUnknown(e)) => Err(ClientError::Codec(e)),
            Err(e) => Err(e),
        }
    }

    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// Send one request and wait for its response.
    pub async fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.exchange(request).await
    }

    async fn exchange(&mut self, request: &Request) -> Result<Response, ClientError> {
        let frame = codec::encode(request).map_err(|e| match e {
            CodecError::TooLarge { .. } => ClientError::TooLarge(e.to_string()),
            other => ClientError::Codec(other),
        })?;
        self.write(&frame).await.map_err(|e| match e {
            CodecError::Unread => ClientError::Dropped(e),
            other => ClientError::Codec(other),
        })?;
        let read = codec::read_frame(&mut self.stream, self.timeout, self.timeout).await;
        let payload: Zeroizing<Vec<u8>> = match read {
            Ok(Some(payload)) => payload,
            Ok(None) => return Err(ClientError::OutcomeUnknown(CodecError::Closed)),
            Err(CodecError::Idle) => {
                return Err(ClientError::OutcomeUnknown(CodecError::Timeout(
                    "the daemon",
                )))
            }
            Err(e) => return Err(ClientError::OutcomeUnknown(e)),
        };
        match codec::decode::<Response>(&payload).map_err(ClientError::Codec)? {
            Response::Error(e) => Err(ClientError::Remote(e)),
            response => Ok(response),
        }
    }

    async fn write(&mut self, frame: &[u8]) -> Result<(), CodecError> {
        match tokio::time::timeout(self.timeout, self.stream.write_all(frame)).await {
            Err(_) => Err(CodecError::Timeout("the daemon to read")),
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => match e.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    Err(CodecError::Unread)
                }
                _ => Err(CodecError::Io(e)),
            },
        }
    }
}

fn connect_error(path: &Path, source: io::Error) -> ClientError {
    let path: PathBuf = path.into();
    match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            ClientError::NotRunning { path, source }
        }
        _ => ClientError::Connect { path, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ErrorCode, ResetPassword, Secret, WireError};
    use tokio::net::UnixListener;

    const T: Duration = Duration::from_secs(5);

    /// A one-connection daemon that welcomes (or not) and answers each request with
    /// the next of `answers`.
    async fn serve(listener: UnixListener, welcome: bool, answers: Vec<Response>) {
        let (mut conn, _) = listener.accept().await.unwrap();
        let hello = codec::read_frame(&mut conn, T, T).await.unwrap().unwrap();
        assert!(matches!(
            codec::decode::<Request>(&hello).unwrap(),
            Request::Hello(_)
        ));
        let first = if welcome {
            Response::Welcome {
                protocol: PROTOCOL_VERSION,
                server_version: "test 1".into(),
            }
        } else {
            Response::Error(WireError {
                code: ErrorCode::VersionMismatch,
                message: "no".into(),
                retry_at: None,
            })
        };
        conn.write_all(&codec::encode(&first).unwrap())
            .await
            .unwrap();
        for answer in answers {
            let Ok(Some(_)) = codec::read_frame(&mut conn, T, T).await else {
                return;
            };
            conn.write_all(&codec::encode(&answer).unwrap())
                .await
                .unwrap();
        }
    }

    fn reset() -> Request {
        Request::ResetPassword(ResetPassword {
            token: Secret::new("tok"),
            password: Secret::new("pw"),
        })
    }

    #[tokio::test]
    async fn handshake_answers_and_remote_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let listener = UnixListener::bind(&path).unwrap();
        let weak = Response::Error(WireError {
            code: ErrorCode::WeakPassword,
            message: "too short".into(),
            retry_at: None,
        });
        let done = Response::PasswordReset {
            name: "alice".into(),
        };
        let server = tokio::spawn(serve(listener, true, vec![weak, done]));
        let mut client = AsyncClient::connect(&path, "test", T).await.unwrap();
        assert_eq!(client.server_version(), "test 1");
        let err = client.call(&reset()).await.unwrap_err();
        assert_eq!(err.remote_code(), Some(ErrorCode::WeakPassword));
        assert_eq!(err.to_string(), "too short");
        let ok = client.call(&reset()).await.unwrap();
        assert_eq!(
            ok,
            Response::PasswordReset {
                name: "alice".into()
            }
        );
        // The daemon closed the connection: the request was not read, so not acted on.
        server.await.unwrap();
        let gone = client.call(&reset()).await.unwrap_err();
        assert!(matches!(gone, ClientError::Dropped(_)), "{gone:?}");
    }

    #[tokio::test]
    async fn a_refused_hello_and_a_missing_daemon_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(serve(listener, false, vec![]));
        let err = AsyncClient::connect(&path, "test", T).await.err().unwrap();
        assert_eq!(err.remote_code(), Some(ErrorCode::VersionMismatch));
        server.await.unwrap();
        let missing = AsyncClient::connect(&dir.path().join("none"), "test", T)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(missing, ClientError::NotRunning { .. }),
            "{missing:?}"
        );
    }
}
