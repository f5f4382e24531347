//! Admin maintenance on the wire: moving an authenticator app over from
//! pam_google_authenticator, and managing the outbox (retry what was given up on, purge).
//!
//! The `~/.google_authenticator` file is read by authctl (the daemon may not be allowed to
//! read it) and travels whole, as a [`Secret`]: its first line is the TOTP secret and the
//! rest holds the scratch codes, so it is never shown by `Debug` and never on a command
//! line. The daemon parses it, so every refusal has one wording and one error code.

use serde::{Deserialize, Serialize};

use super::Secret;

/// Largest `~/.google_authenticator` file accepted: what google-authenticator writes is
/// a few hundred bytes (a secret, five option lines, at most ten scratch codes).
pub const MAX_GOOGLE_AUTHENTICATOR_FILE: usize = 4096;

/// Enrol `name`'s authenticator app with the secret of a pam_google_authenticator file,
/// its scratch codes becoming recovery codes (admin). -> `TotpImported`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportGoogleAuthenticator {
    pub name: String,
    /// The file's whole content (at most `MAX_GOOGLE_AUTHENTICATOR_FILE` bytes).
    pub file: Secret,
    /// Replace an authenticator app that is on already (otherwise refused: `Exists`).
    pub replace: bool,
}

/// Which outbox messages a retry or purge acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxTarget {
    /// One message, by the id `authctl outbox` shows.
    Id(u64),
    /// Every message given up on.
    Failed,
    // Appended: delivered messages are kept (`outbox.keep_delivered`).
    /// Every delivered message delivered before this time (unix seconds); purge only.
    DeliveredBefore(u64),
}

/// Put messages back in the queue, due now (admin). A given-up message gets a new retry
/// period; an SMS login code whose validity has passed is dropped instead (it could no
/// longer be used). -> `OutboxChanged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRetry {
    pub target: OutboxTarget,
}

/// Remove messages from the outbox (admin). -> `OutboxChanged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPurge {
    pub target: OutboxTarget,
}
