//! One client connection: read peer credentials once, take a connection slot, handshake
//! within `hello_timeout`, then request/response in order until the client leaves, idles
//! out, misbehaves, or the daemon shuts down. What the caller may do is decided again for
//! each request (`Rights`), so a uid removed from `admin_group` loses its rights on
//! connections it already holds.
//!
//! A request already being handled is always answered before the connection closes for
//! shutdown; a connection is never left waiting on a malformed frame.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio_util::sync::CancellationToken;

use super::rights::Rights;
use super::slots::Slots;
use crate::authz::Peer;
use crate::codec::{self, CodecError};
use crate::error::Error;
use crate::protocol::{ErrorCode, Hello, Request, Response, WireError, PROTOCOL_VERSION};
use crate::server::dispatch::dispatch;
use crate::service::Service;

fn error(code: ErrorCode, message: impl Into<String>) -> Response {
    Response::Error(WireError {
        code,
        message: message.into(),
        retry_at: None,
    })
}

/// The frame sent to a connection refused for want of a slot (or while the daemon is
/// not ready: `waiting`).
pub(super) fn busy_frame(message: String) -> Vec<u8> {
    codec::encode(&error(ErrorCode::Busy, message))
        .map(|frame| frame.to_vec())
        .unwrap_or_default()
}

struct Connection {
    stream: UnixStream,
    service: Arc<Service>,
}

impl Connection {
    async fn send(&mut self, response: &Response) -> Result<(), CodecError> {
        let frame = match codec::encode(response) {
            Ok(frame) => frame,
            Err(e) => {
                let wire = Error::Internal(format!("response not encodable: {e}")).to_wire();
                codec::encode(&Response::Error(wire))?
            }
        };
        self.stream.write_all(&frame).await.map_err(CodecError::Io)
    }

    /// Next request, or `None` when the connection should close (after telling the
    /// client why, where there is something to tell).
    async fn next_request(&mut self) -> Option<Request> {
        let config = self.service.config();
        let read = codec::read_frame(&mut self.stream, config.idle_timeout, config.frame_timeout);
        let problem = match read.await {
            Ok(None) => return None,
            Ok(Some(payload)) => match codec::decode::<Request>(&payload) {
                Ok(request) => return Some(request),
                Err(e) => e,
            },
            Err(e) => e,
        };
        tracing::debug!(error = %problem, "closing connection");
        // An idle connection is closed without a word: a client that sent a request
        // just as the time ran out must not take a "timed out" frame for its answer
        // (its unread request makes the close a reset, so it knows to send it again).
        let tell = match &problem {
            CodecError::TooLarge { .. } | CodecError::Decode(_) => Some(ErrorCode::BadRequest),
            CodecError::Timeout(_) => Some(ErrorCode::BadRequest),
            _ => None,
        };
        if let Some(code) = tell {
            let _ = self.send(&error(code, problem.to_string())).await;
        }
        None
    }

    /// The first frame must be a matching `Hello`.
    async fn handshake(&mut self) -> bool {
        match self.next_request().await {
            Some(Request::Hello(Hello { protocol, .. })) if protocol == PROTOCOL_VERSION => {
                let welcome = Response::Welcome {
                    protocol: PROTOCOL_VERSION,
                    server_version: env!("CARGO_PKG_VERSION").to_string(),
                };
                self.send(&welcome).await.is_ok()
            }
            Some(Request::Hello(Hello { protocol, .. })) => {
                let message = format!(
                    "client speaks protocol {protocol}, this authd speaks {PROTOCOL_VERSION}"
                );
                let _ = self.send(&error(ErrorCode::VersionMismatch, message)).await;
                false
            }
            Some(_) => {
                let _ = self
                    .send(&error(
                        ErrorCode::BadRequest,
                        "the first frame must be hello",
                    ))
                    .await;
                false
            }
            None => false,
        }
    }
}

fn peer_of(stream: &UnixStream) -> Option<Peer> {
    let cred = stream.peer_cred().ok()?;
    Some(Peer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    })
}

/// What a connection shares with every other: the service, the rights cache, the slots.
pub struct Shared {
    pub service: Arc<Service>,
    pub rights: Rights,
    pub slots: Slots,
}

/// Serve one connection to completion, if it gets a slot.
pub async fn serve(stream: UnixStream, shared: Arc<Shared>, shutdown: CancellationToken) {
    let Some(peer) = peer_of(&stream) else {
        tracing::warn!("dropping a connection whose peer credentials cannot be read");
        return;
    };
    let _slot = match shared.slots.admit(peer, &shared.rights).await {
        Ok(slot) => slot,
        Err(refusal) => {
            tracing::debug!(uid = peer.uid, ?refusal, "connection refused: busy");
            let _ = stream.try_write(&busy_frame(refusal.message()));
            return;
        }
    };
    let service = Arc::clone(&shared.service);
    let hello_timeout = service.config().hello_timeout;
    let mut conn = Connection { stream, service };
    let handshake = tokio::select! {
        ok = tokio::time::timeout(hello_timeout, conn.handshake()) => match ok {
            Ok(ok) => ok,
            Err(_) => {
                let message = format!(
                    "no hello within {} (hello_timeout); closing",
                    humantime::format_duration(hello_timeout)
                );
                let _ = conn.send(&error(ErrorCode::BadRequest, message)).await;
                false
            }
        },
        _ = shutdown.cancelled() => false,
    };
    if !handshake {
        return;
    }
    loop {
        let request = tokio::select! {
            request = conn.next_request() => request,
            _ = shutdown.cancelled() => None,
        };
        let Some(request) = request else { return };
        // Rights as they are now (cached for at most a second), not as they were when
        // the connection opened.
        let caller = shared.rights.caller(peer).await;
        tracing::debug!(?request, caller = %caller.describe(), "request");
        // Boxed: the handler future is large, and only requests in flight should pay for it.
        let response = Box::pin(dispatch(&conn.service, &caller, request)).await;
        if conn.send(&response).await.is_err() {
            return;
        }
    }
}
