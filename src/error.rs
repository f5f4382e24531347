//! The daemon's error type, and the one place it becomes a wire error.
//!
//! Domain modules return `Error`; `Error::to_wire` is the only conversion to what a
//! client sees, so every failure has a stable code (and authctl exit status) and internal
//! details (paths, sled errors) stay in the daemon's log, never on the wire.

use crate::protocol::{ErrorCode, WireError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("wrong password or code")]
    Denied,
    #[error("{0}")]
    InvalidInput(String),
    #[error("password rejected: {0}")]
    WeakPassword(String),
    #[error("account `{0}` already exists")]
    Exists(String),
    #[error("no such user: `{0}`")]
    NoSuchUser(String),
    #[error("`{0}` is an SSO account: it authenticates at its provider and has no password here")]
    SsoAccount(String),
    #[error("this code was already used; wait for the next one")]
    CodeReused,
    #[error("the login challenge is unknown, used or expired; start again with the password")]
    ChallengeExpired,
    #[error("a current verification code (or a recovery code) is required")]
    CodeRequired,
    #[error(
        "changing your own second factors needs proof: your password, and a current code \
         when two-factor verification is on"
    )]
    ProofRequired,
    #[error(
        "`{0}` is an SSO account: two-factor authentication is configured at the SSO provider"
    )]
    SsoTwoFactor(String),
    #[error("{0}")]
    AlreadyEnrolled(String),
    #[error("{0}")]
    NotEnrolled(String),
    #[error("the security key's answer was refused: {0}")]
    KeyRefused(String),
    #[error("no valid SMS code: it expired or was used up; request a new one")]
    SmsCodeExpired,
    #[error("the reset token is unknown, already used or expired; request a new one")]
    TokenInvalid,
    #[error("the portal session is unknown, ended or expired; sign in again")]
    SessionInvalid,
    #[error("this change needs a fresh proof: give the password (and a code) again")]
    FreshProofRequired,
    /// The number's country is not in `[sms] countries`.
    #[error("{0}")]
    SmsUnavailable(String),
    /// A pam_google_authenticator file in counter (HOTP) mode.
    #[error("{0}")]
    HotpUnsupported(String),
    #[error("too soon: try again after {}", crate::time::format(*.until))]
    RateLimited { until: u64 },
    /// A second SMS code within `[sms] min_interval`: says when the last one went.
    #[error(
        "an SMS code was sent at {}: a new one can be sent after {}",
        crate::time::format(*.last),
        crate::time::format(*.until)
    )]
    SmsTooSoon { last: u64, until: u64 },
    #[error("account `{name}` is locked until {}", crate::time::format(*.until))]
    Locked { name: String, until: u64 },
    /// Disabled by an admin; the reason stays in the audit trail and `show`.
    #[error("account `{name}` is disabled; ask an administrator")]
    Disabled {
        name: String,
        reason: Option<String>,
    },
    #[error("account `{name}` expired at {}; ask an administrator", crate::time::format(*.at))]
    Expired { name: String, at: u64 },
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("storage failure")]
    Store(#[source] sled::Error),
    #[error("stored record `{what}` cannot be read")]
    Corrupt {
        what: String,
        #[source]
        source: bincode::error::DecodeError,
    },
    #[error("internal error: {0}")]
    Internal(String),
    /// The PostgreSQL store's database does not answer (down, restarting, unreachable):
    /// code `internal`, with a message that says so.
    #[error("the database is not available: {0}")]
    Unavailable(String),
    #[error("secret key failure")]
    Vault(#[from] crate::vault::VaultError),
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Store(e)
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Denied
            | Error::CodeReused
            | Error::ChallengeExpired
            | Error::TokenInvalid
            | Error::SmsCodeExpired
            | Error::KeyRefused(_)
            | Error::ProofRequired => ErrorCode::Denied,
            Error::CodeRequired => ErrorCode::SecondFactorRequired,
            Error::SessionInvalid => ErrorCode::SessionInvalid,
            Error::FreshProofRequired => ErrorCode::FreshProofRequired,
            Error::SmsUnavailable(_) => ErrorCode::SmsUnavailable,
            Error::HotpUnsupported(_) => ErrorCode::HotpUnsupported,
            Error::RateLimited { .. } | Error::SmsTooSoon { .. } => ErrorCode::RateLimited,
            Error::SsoTwoFactor(_) => ErrorCode::SsoAccount,
            Error::AlreadyEnrolled(_) => ErrorCode::Exists,
            Error::NotEnrolled(_) => ErrorCode::NotEnrolled,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::WeakPassword(_) => ErrorCode::WeakPassword,
            Error::Exists(_) => ErrorCode::Exists,
            Error::NoSuchUser(_) => ErrorCode::NoSuchUser,
            Error::SsoAccount(_) => ErrorCode::SsoAccount,
            Error::Locked { .. } => ErrorCode::Locked,
            Error::Disabled { .. } => ErrorCode::Disabled,
            Error::Expired { .. } => ErrorCode::Expired,
            Error::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::Store(_)
            | Error::Corrupt { .. }
            | Error::Internal(_)
            | Error::Unavailable(_)
            | Error::Vault(_) => ErrorCode::Internal,
        }
    }

    /// What the client is told. Internal failures are logged in full and reported as a
    /// bare "internal error".
    pub fn to_wire(&self) -> WireError {
        let code = self.code();
        let message = if let Error::Unavailable(_) = self {
            tracing::error!(error = %DisplayChain(self), "request failed");
            "the database is not available; see the authd log".to_string()
        } else if code == ErrorCode::Internal {
            tracing::error!(error = %DisplayChain(self), "request failed");
            "internal error; see the authd log".to_string()
        } else {
            self.to_string()
        };
        let retry_at = match self {
            Error::Locked { until, .. }
            | Error::RateLimited { until }
            | Error::SmsTooSoon { until, .. } => Some(*until),
            _ => None,
        };
        WireError {
            code,
            message,
            retry_at,
        }
    }
}

/// Formats an error with its `source()` chain: "outer: inner: innermost".
pub struct DisplayChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
