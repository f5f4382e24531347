//! Start-up on a database that does not answer yet (the PostgreSQL store): instead of
//! exiting, the daemon retries with backoff — 1 s, doubling up to 30 s — and reports that
//! it is not ready: a warning per attempt in the log, and to systemd a STATUS line and an
//! extension of its start timeout, so the unit stays "activating" rather than failing.
//! Its socket is bound but nothing is accepted meanwhile: clients time out, and PAM
//! answers AUTHINFO_UNAVAIL (fail closed). SIGTERM or SIGINT end the wait cleanly. A
//! refusal (a newer schema, another key) is not retried: it exits 78 at once.

use std::time::Duration;

use tokio::signal::unix::Signal;

use super::{open_service, ServerError, Started};
use crate::config::Config;

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(30);

/// `open_service`, waiting out an unreachable database; `None` when a signal ended the
/// wait.
pub(super) async fn open_when_ready(
    config: Config,
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
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = terminate.recv() => return Ok(None),
                    _ = interrupt.recv() => return Ok(None),
                }
                wait = (wait * 2).min(LONGEST);
            }
            other => return other.map(Some),
        }
    }
}
