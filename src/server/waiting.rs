//! Start-up on a database that does not answer yet (the PostgreSQL store): instead of
//! exiting, the daemon retries with backoff — 1 s, doubling up to 30 s — and reports that
//! it is not ready: a warning per attempt in the log, and to systemd a STATUS line and an
//! extension of its start timeout, so the unit stays "activating" rather than failing.
//! Its socket is bound, and between attempts each client is told `busy` ("not ready")
//! and closed, as a daemon at its connection limit does: authctl exits 69 and PAM
//! answers AUTHINFO_UNAVAIL (fail closed), at once rather than after their timeout.
//! SIGTERM or SIGINT end the wait cleanly. A refusal (a newer schema, another key) is
//! not retried: it exits 78 at once.

use std::time::Duration;

use tokio::signal::unix::Signal;

use super::connection::busy_frame;
use super::listener::Listener;
use super::{open_service, ServerError, Started};
use crate::config::Config;

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(30);

/// What a client is told meanwhile, with code `busy`.
const NOT_READY: &str = "authd is not ready: it is waiting for its database (see its log)";

/// `open_service`, waiting out an unreachable database; `None` when a signal ended the
/// wait.
pub(super) async fn open_when_ready(
    config: Config,
    listener: &Listener,
    terminate: &mut Signal,
    interrupt: &mut Signal,
) -> Result<Option<Started>, ServerError> {
    let mut wait = FIRST;
    loop {
        match open_service(config.clone()) {
            Err(ServerError::Database(e)) if e.is_unreachable() => {
                tracing::warn!(
                    error = %crate::error::DisplayChain(&e),
                    retry_in_secs = wait.as_secs(),
                    "the database does not answer: not ready, retrying"
                );
                let extend = u32::try_from((wait + LONGEST).as_micros()).unwrap_or(u32::MAX);
                let _ = sd_notify::notify(
                    false,
                    &[
                        sd_notify::NotifyState::Status("waiting for the database"),
                        sd_notify::NotifyState::ExtendTimeoutUsec(extend),
                    ],
                );
                let sleep = tokio::time::sleep(wait);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        _ = &mut sleep => break,
                        _ = terminate.recv() => return Ok(None),
                        _ = interrupt.recv() => return Ok(None),
                        accepted = listener.socket.accept() => {
                            if let Ok((stream, _)) = accepted {
                                let _ = stream.try_write(&busy_frame(NOT_READY.into()));
                            }
                        }
                    }
                }
                wait = (wait * 2).min(LONGEST);
            }
            other => return other.map(Some),
        }
    }
}
