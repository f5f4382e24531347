//! Framing: a 4-byte big-endian payload length, then a bincode 2 payload.
//!
//! The length is checked against `MAX_FRAME` before a byte of payload is allocated, on
//! both sides, and bincode decodes with the same limit so a length field inside a valid
//! frame cannot claim a huge allocation either. This module never interprets messages.
//!
//! Frames carry passwords, codes and secrets, so every buffer here is allocated once at
//! its final size (never grown, which would leave copies behind) and zeroed when dropped
//! (`Zeroizing`), on both sides: encoded frames and read payloads.

use std::io::{self, Read, Write};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
#[cfg(feature = "tokio")]
use tokio::io::{AsyncRead, AsyncReadExt};
use zeroize::Zeroizing;

use crate::protocol::MAX_FRAME;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("frame of {len} bytes exceeds the {MAX_FRAME}-byte limit")]
    TooLarge { len: usize },
    #[error("connection closed in the middle of a frame")]
    Truncated,
    /// End of stream where a frame should start: the peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
    /// The peer closed the connection without reading all we had sent (a write got
    /// EPIPE, or a read got ECONNRESET, which Linux reports only when the closing side
    /// left data unread): what we sent was not read whole.
    #[error("connection closed by the peer before it read what was sent")]
    Unread,
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// No frame began within the idle time: nothing is half read.
    #[error("no request within the idle timeout")]
    Idle,
    #[error("malformed message")]
    Decode(#[source] bincode::error::DecodeError),
    #[error("cannot encode message")]
    Encode(#[source] bincode::error::EncodeError),
    #[error("i/o error on the socket")]
    Io(#[source] io::Error),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME>()
}

/// Serialize `msg` into a complete frame (length prefix included). The size is
/// measured first, so the buffer is allocated once, and refused before allocating when
/// too large.
pub fn encode<T: Serialize>(msg: &T) -> Result<Zeroizing<Vec<u8>>, CodecError> {
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(msg, &mut size, config()).map_err(CodecError::Encode)?;
    let len = size.bytes_written;
    if len > MAX_FRAME {
        return Err(CodecError::TooLarge { len });
    }
    let mut frame = Zeroizing::new(vec![0u8; 4 + len]);
    let written = bincode::serde::encode_into_slice(msg, &mut frame[4..], config())
        .map_err(CodecError::Encode)?;
    frame.truncate(4 + written);
    frame[..4].copy_from_slice(&(written as u32).to_be_bytes());
    Ok(frame)
}

/// Decode one payload; trailing bytes are an error, not ignored.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    let (msg, used) =
        bincode::serde::decode_from_slice(payload, config()).map_err(CodecError::Decode)?;
    if used != payload.len() {
        return Err(CodecError::Decode(
            bincode::error::DecodeError::OtherString(format!(
                "{} trailing bytes",
                payload.len() - used
            )),
        ));
    }
    Ok(msg)
}

fn checked_len(prefix: [u8; 4]) -> Result<usize, CodecError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(CodecError::TooLarge { len });
    }
    Ok(len)
}

fn map_eof(e: io::Error) -> CodecError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        CodecError::Truncated
    } else {
        CodecError::Io(e)
    }
}

/// Read one frame's payload (async, with the `tokio` feature). `Ok(None)` is a clean close before the first byte.
/// The first byte may take `idle`; the rest of the frame must follow within `whole`.
#[cfg(feature = "tokio")]
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    idle: Duration,
    whole: Duration,
) -> Result<Option<Zeroizing<Vec<u8>>>, CodecError> {
    let mut prefix = [0u8; 4];
    let first = tokio::time::timeout(idle, r.read(&mut prefix[..1]))
        .await
        .map_err(|_| CodecError::Idle)?
        .map_err(CodecError::Io)?;
    if first == 0 {
        return Ok(None);
    }
    let rest = async {
        r.read_exact(&mut prefix[1..]).await.map_err(map_eof)?;
        let len = checked_len(prefix)?;
        let mut payload = Zeroizing::new(vec![0u8; len]);
        r.read_exact(&mut payload).await.map_err(map_eof)?;
        Ok(payload)
    };
    tokio::time::timeout(whole, rest)
        .await
        .map_err(|_| CodecError::Timeout("the rest of a frame"))?
        .map(Some)
}

/// Blocking counterpart for clients; timeouts are the socket's own read timeout.
/// End of stream before the first byte is `Closed` (a reset there, `Unread`); within a
/// frame, `Truncated`.
pub fn read_frame_blocking<R: Read>(r: &mut R) -> Result<Zeroizing<Vec<u8>>, CodecError> {
    let mut prefix = [0u8; 4];
    r.read_exact(&mut prefix[..1]).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => CodecError::Closed,
        io::ErrorKind::ConnectionReset => CodecError::Unread,
        _ => blocking_err(e),
    })?;
    r.read_exact(&mut prefix[1..]).map_err(blocking_err)?;
    let len = checked_len(prefix)?;
    let mut payload = Zeroizing::new(vec![0u8; len]);
    r.read_exact(&mut payload).map_err(blocking_err)?;
    Ok(payload)
}

fn blocking_err(e: io::Error) -> CodecError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => CodecError::Timeout("the daemon"),
        _ => map_eof(e),
    }
}

/// Write one whole frame. A peer that has closed the connection is `Unread`: it did not
/// read the frame whole.
pub fn write_frame_blocking<W: Write>(w: &mut W, frame: &[u8]) -> Result<(), CodecError> {
    w.write_all(frame).map_err(|e| match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => CodecError::Unread,
        _ => blocking_err(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Request, Secret, SetPassword};

    #[test]
    fn round_trip() {
        let req = Request::SetPassword(SetPassword {
            name: "alice".into(),
            password: Secret::new("pw"),
        });
        let frame = encode(&req).unwrap();
        assert_eq!(
            u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize,
            frame.len() - 4
        );
        let payload = read_frame_blocking(&mut &frame[..]).unwrap();
        assert_eq!(decode::<Request>(&payload).unwrap(), req);
    }

    #[test]
    fn secret_carrying_buffers_are_allocated_once_at_their_final_size() {
        // A buffer that grows leaves its old copies behind, unzeroed.
        let req = Request::SetPassword(SetPassword {
            name: "alice".into(),
            password: Secret::new("p".repeat(5000)),
        });
        let frame = encode(&req).unwrap();
        assert_eq!(frame.capacity(), frame.len());
        let payload = read_frame_blocking(&mut &frame[..]).unwrap();
        assert_eq!(payload.capacity(), payload.len());
        assert_eq!(payload.len() + 4, frame.len());
    }

    #[test]
    fn oversized_length_is_refused_before_reading_the_payload() {
        let prefix = u32::MAX.to_be_bytes();
        let err = read_frame_blocking(&mut &prefix[..]).unwrap_err();
        assert!(matches!(err, CodecError::TooLarge { .. }), "{err:?}");
    }

    #[test]
    fn encoding_more_than_a_frame_is_refused() {
        let req = Request::SetPassword(SetPassword {
            name: "alice".into(),
            password: Secret::new("x".repeat(MAX_FRAME + 1)),
        });
        assert!(matches!(encode(&req), Err(CodecError::TooLarge { .. })));
    }

    #[test]
    fn truncated_frame_and_trailing_bytes_are_errors() {
        let mut frame = encode(&Request::Status).unwrap();
        let whole = frame.len();
        frame.truncate(whole - 1);
        assert!(matches!(
            read_frame_blocking(&mut &frame[..]),
            Err(CodecError::Truncated)
        ));
        let mut payload = encode(&Request::Status).unwrap().split_off(4);
        assert_eq!(decode::<Request>(&payload).unwrap(), Request::Status);
        payload.push(0);
        assert!(decode::<Request>(&payload).is_err());
    }

    #[test]
    fn a_length_claim_inside_a_frame_cannot_exceed_the_limit() {
        // A name claiming 2^40 bytes must be refused, not allocated.
        let mut payload = vec![4u8]; // RemoveUser
        payload.push(253); // bincode varint: u64 follows
        payload.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(decode::<Request>(&payload).is_err());
    }

    /// A request whose payload is exactly `size` bytes (for sizes near `MAX_FRAME`).
    fn request_of_size(size: usize) -> Request {
        let with = |len: usize| {
            Request::SetPassword(SetPassword {
                name: "alice".into(),
                password: Secret::new("x".repeat(len)),
            })
        };
        let base = encode(&with(60_000)).unwrap().len() - 4;
        with(60_000 + size - base)
    }

    #[test]
    fn a_frame_of_exactly_the_limit_passes_both_ways() {
        let at_limit = request_of_size(MAX_FRAME);
        let frame = encode(&at_limit).unwrap();
        assert_eq!(frame.len(), 4 + MAX_FRAME);
        let payload = read_frame_blocking(&mut &frame[..]).unwrap();
        assert_eq!(payload.len(), MAX_FRAME);
        // (Decoding it is another matter: bincode's limit counts the memory a message
        // claims, a little more than its encoded size, so a message this large is refused
        // by `decode`. The largest real ones, backup chunks and list pages, stay below.)
        assert!(matches!(
            encode(&request_of_size(MAX_FRAME + 1)),
            Err(CodecError::TooLarge { len }) if len == MAX_FRAME + 1
        ));
        assert_eq!(
            checked_len((MAX_FRAME as u32).to_be_bytes()).unwrap(),
            MAX_FRAME
        );
        assert!(matches!(
            checked_len((MAX_FRAME as u32 + 1).to_be_bytes()),
            Err(CodecError::TooLarge { len }) if len == MAX_FRAME + 1
        ));
    }

    #[test]
    fn trailing_bytes_are_counted_in_the_error() {
        let mut payload = encode(&Request::Status).unwrap().split_off(4);
        payload.extend_from_slice(&[0, 0]);
        match decode::<Request>(&payload) {
            Err(CodecError::Decode(bincode::error::DecodeError::OtherString(s))) => {
                assert_eq!(s, "2 trailing bytes")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Reads `data`, then fails with `error` (or reports end of stream when `None`).
    struct Failing {
        data: Vec<u8>,
        error: Option<io::ErrorKind>,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() {
                return match self.error {
                    Some(kind) => Err(kind.into()),
                    None => Ok(0),
                };
            }
            let n = buf.len().min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data.drain(..n);
            Ok(n)
        }
    }

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.error.unwrap_or(io::ErrorKind::Other).into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn read_failing(data: &[u8], error: Option<io::ErrorKind>) -> CodecError {
        let mut r = Failing {
            data: data.to_vec(),
            error,
        };
        read_frame_blocking(&mut r).unwrap_err()
    }

    #[test]
    fn blocking_reads_tell_a_close_a_reset_a_timeout_and_a_truncation_apart() {
        use io::ErrorKind::*;
        assert!(matches!(read_failing(&[], None), CodecError::Closed));
        assert!(matches!(
            read_failing(&[], Some(ConnectionReset)),
            CodecError::Unread
        ));
        for kind in [WouldBlock, TimedOut] {
            assert!(matches!(
                read_failing(&[], Some(kind)),
                CodecError::Timeout("the daemon")
            ));
            assert!(matches!(
                read_failing(&[0, 0], Some(kind)),
                CodecError::Timeout("the daemon")
            ));
            assert!(matches!(
                read_failing(&[0, 0, 0, 9, 1], Some(kind)),
                CodecError::Timeout("the daemon")
            ));
        }
        assert!(matches!(read_failing(&[0, 0], None), CodecError::Truncated));
        assert!(matches!(
            read_failing(&[0, 0, 0, 9, 1], None),
            CodecError::Truncated
        ));
        assert!(matches!(
            read_failing(&[0], Some(PermissionDenied)),
            CodecError::Io(_)
        ));
    }

    #[test]
    fn blocking_writes_send_the_frame_and_name_a_closed_peer() {
        let frame = encode(&Request::Status).unwrap();
        let mut sent = Vec::new();
        write_frame_blocking(&mut sent, &frame).unwrap();
        assert_eq!(sent, *frame);
        let write_to = |kind| {
            let mut w = Failing {
                data: Vec::new(),
                error: Some(kind),
            };
            write_frame_blocking(&mut w, &frame).unwrap_err()
        };
        use io::ErrorKind::*;
        assert!(matches!(write_to(BrokenPipe), CodecError::Unread));
        assert!(matches!(write_to(ConnectionReset), CodecError::Unread));
        assert!(matches!(write_to(WouldBlock), CodecError::Timeout(_)));
        assert!(matches!(write_to(PermissionDenied), CodecError::Io(_)));
    }

    #[cfg(feature = "tokio")]
    mod reads {
        use super::*;
        use tokio::io::AsyncWriteExt;

        const LONG: Duration = Duration::from_secs(60);
        /// Only for reads that can never complete: the test waits this long for a timeout.
        const SHORT: Duration = Duration::from_millis(20);

        #[tokio::test]
        async fn a_whole_frame_then_a_clean_close() {
            let frame = encode(&Request::Status).unwrap();
            let mut two = frame.to_vec();
            two.extend_from_slice(&frame);
            let mut r = &two[..];
            for _ in 0..2 {
                let payload = read_frame(&mut r, LONG, LONG).await.unwrap().unwrap();
                assert_eq!(decode::<Request>(&payload).unwrap(), Request::Status);
            }
            assert!(read_frame(&mut r, LONG, LONG).await.unwrap().is_none());
        }

        #[tokio::test]
        async fn a_short_or_oversized_frame_is_an_error() {
            let frame = encode(&Request::Status).unwrap();
            let mut r = &frame[..frame.len() - 1];
            assert!(matches!(
                read_frame(&mut r, LONG, LONG).await,
                Err(CodecError::Truncated)
            ));
            let mut r = &frame[..2];
            assert!(matches!(
                read_frame(&mut r, LONG, LONG).await,
                Err(CodecError::Truncated)
            ));
            let big = (MAX_FRAME as u32 + 1).to_be_bytes();
            assert!(matches!(
                read_frame(&mut &big[..], LONG, LONG).await,
                Err(CodecError::TooLarge { .. })
            ));
        }

        #[tokio::test]
        async fn an_idle_peer_and_a_stalled_frame_time_out_differently() {
            let (mut client, mut server) = tokio::io::duplex(64);
            assert!(matches!(
                read_frame(&mut server, SHORT, LONG).await,
                Err(CodecError::Idle)
            ));
            client.write_all(&[0, 0]).await.unwrap();
            assert!(matches!(
                read_frame(&mut server, LONG, SHORT).await,
                Err(CodecError::Timeout("the rest of a frame"))
            ));
        }
    }

    mod properties {
        use super::*;
        use crate::protocol::{Change, ListUsers, Origin, Response, SetUser, Verify};
        use proptest::prelude::*;

        proptest! {
            /// Whatever arrives, decoding answers Ok or Err: it never panics or hangs.
            #[test]
            fn arbitrary_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = decode::<Request>(&bytes);
                let _ = decode::<Response>(&bytes);
                let mut framed = (bytes.len() as u32).to_be_bytes().to_vec();
                framed.extend_from_slice(&bytes);
                let _ = read_frame_blocking(&mut &framed[..]);
            }

            #[test]
            fn requests_round_trip(name in ".{0,64}", secret in ".{0,300}", code in proptest::option::of("[0-9]{6}"),
                                   email in proptest::option::of(".{0,80}")) {
                let requests = [
                    Request::Verify(Verify {
                        name: name.clone(),
                        password: Secret::new(secret.clone()),
                        code: code.clone().map(Secret::new),
                        origin: Origin { service: email.clone(), remote_host: None },
                    }),
                    Request::SetUser(SetUser {
                        name: name.clone(),
                        email: email.clone().map_or(Change::Clear, Change::Set),
                        phone: Change::Keep,
                        sso: Change::Keep,
                    }),
                    Request::ListUsers(ListUsers { after: email.clone(), limit: name.len() as u32 }),
                ];
                for request in requests {
                    let frame = encode(&request).unwrap();
                    let payload = read_frame_blocking(&mut &frame[..]).unwrap();
                    prop_assert_eq!(decode::<Request>(&payload).unwrap(), request);
                }
            }
        }
    }
}
