//! The wire protocol between authd and its clients: one closed `Request`/`Response` pair.
//!
//! ```text
//!   client                                   authd
//!   ──────                                   ─────
//!   [u32 BE len][bincode Request::Hello] ──▶
//!                                        ◀── [u32 BE len][bincode Response::Welcome]
//!                                            (or Error(VersionMismatch), then close)
//!   [len][Request] ──▶                   ◀── [len][Response]      (any number, in order)
//! ```
//!
//! A client may send its first request right behind the `Hello`, without waiting for the
//! `Welcome` (`Client::open` does, saving a round trip): authd answers the `Hello` first
//! and reads nothing further on a mismatch, so no request reaches a daemon of another
//! protocol.
//!
//! Payloads are bincode 2 (`config::standard()`, serde); framing lives in `codec`.
//! Every secret travels as a [`Secret`], whose `Debug` is `<redacted>`, so a derived
//! `Debug` of `Request` can be logged without ever showing a password, code or token.
//! This module owns the types only: it never touches sockets, the store or policy.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub mod import;
pub mod keys;
pub mod lifecycle;
pub mod maintenance;
pub mod portal;
pub mod request;

pub use request::{
    AddUser, Backup, Change, ChangePassword, CheckResetToken, ConfirmSms, ConfirmTotp,
    DisableTwoFactor, EnableSms, EnableTotp, FactorChoice, Hello, ListUsers, Log, Origin, Outbox,
    Proof, RegenerateRecoveryCodes, RemoveUser, Request, ResetPassword, ResetTwoFactor, SendCode,
    SendReset, SetPassword, SetUser, ShowUser, Unlock, Verify, VerifyCode,
};

pub use keys::{
    FactorProof, KeyAssertion, KeyInfo, KeyLoginFinish, KeyLoginStart, KeyRegisterFinish,
    KeyRegisterStart, ListKeys, RemoveKey,
};

pub use import::{Import, ImportEntry, ImportPassword, ImportReport, ImportStep, MAX_IMPORT_LINES};
pub use lifecycle::{
    AccountSummary, Disable, Enable, Lifecycle, PasswordAge, SetLifecycle, ShowLifecycle,
};
pub use maintenance::{
    ImportGoogleAuthenticator, OutboxPurge, OutboxRetry, OutboxTarget,
    MAX_GOOGLE_AUTHENTICATOR_FILE,
};

pub use portal::{
    ListSessions, Logout, PortalAct, PortalAction, PortalCode, PortalForgot, PortalProve,
    PortalProveKey, PortalProveKeyStart, PortalSendCode, PortalSignIn, SessionInfo,
};

/// Bumped on any incompatible change to `Request` or `Response`.
pub const PROTOCOL_VERSION: u32 = 2;

/// Largest frame either side sends or accepts (payload bytes, excluding the length prefix).
pub const MAX_FRAME: usize = 64 * 1024;

/// Largest backup chunk in one response; leaves room for the framing.
pub const BACKUP_CHUNK: usize = 60 * 1024;

/// Largest page a list request may ask for; keeps every response under `MAX_FRAME`.
pub const MAX_PAGE: u32 = 100;

/// Most security keys one account may register; keeps the assertion options and the
/// key list far under `MAX_FRAME`.
pub const MAX_KEYS: usize = 16;

/// A password, one-time code or token. Zeroed on drop, never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: call only where it is hashed, compared or sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A second authentication factor an account may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecondFactor {
    Totp,
    Sms,
    // Appended after protocol 2's factors.
    /// A FIDO2/WebAuthn security key (`keys`).
    SecurityKey,
}

/// Everything the daemon may answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Welcome {
        protocol: u32,
        server_version: String,
    },
    /// The request took effect (and is on disk).
    Done,
    Status(StatusInfo),
    Users {
        names: Vec<String>,
        /// Pass as `after` to get the next page; `None` on the last page.
        next: Option<String>,
    },
    Account(AccountInfo),
    Verified {
        name: String,
    },
    /// The password was right but a code is needed. For `Verify`, `challenge` lets the
    /// client send just the code (`VerifyCode`) without the password being hashed again;
    /// it is single use, bound to the account and caller, and expires in minutes.
    SecondFactorRequired {
        methods: Vec<SecondFactor>,
        challenge: Option<Secret>,
        /// Set when a code was just sent by SMS: the masked number.
        sms_sent_to: Option<String>,
    },
    /// A code is on its way to `to` (masked); it expires at `expires` (unix seconds).
    SmsSent {
        to: String,
        expires: u64,
    },
    /// A pending enrolment: show the QR code of `otpauth_uri` and the base32 secret.
    TotpEnrolment {
        secret: Secret,
        otpauth_uri: Secret,
    },
    /// The enrolment is active; `recovery_codes` is non-empty only when this was the
    /// account's first second factor (show them once).
    Confirmed {
        recovery_codes: Vec<Secret>,
    },
    RecoveryCodes {
        codes: Vec<Secret>,
    },
    /// A reset mail is queued; its token expires at `expires` (unix seconds).
    ResetQueued {
        expires: u64,
    },
    PasswordReset {
        name: String,
    },
    BackupChunk {
        session: u64,
        total: u64,
        offset: u64,
        data: Vec<u8>,
    },
    Outbox {
        messages: Vec<OutboxEntry>,
        /// Pass as `after` for the next page.
        next: Option<u64>,
    },
    Log {
        events: Vec<AuditEntry>,
        /// Pass as `before` for older events; `None` when there are none.
        next: Option<u64>,
    },
    Error(WireError),
    // Appended after protocol 2's responses.
    /// A portal session for `name`: `token` goes with every `PortalAct`; `expires` (unix
    /// seconds) is when it ends if unused (the absolute limit may come first).
    SessionIssued {
        name: String,
        id: u64,
        token: Secret,
        expires: u64,
    },
    /// An account's portal sessions, oldest first (at most a few per account).
    Sessions {
        sessions: Vec<SessionInfo>,
    },
    /// How many sessions `Logout` ended.
    SessionsEnded {
        count: u32,
    },
    /// A reset mail is queued to `to` (masked); its link expires at `expires` (unix
    /// seconds). The answer to `PortalAction::SendReset`.
    ResetMailed {
        to: String,
        expires: u64,
    },
    // Appended: security keys (`keys`).
    /// A key registration under way: hand `options` (`CreationChallengeResponse` JSON)
    /// to the key, presenting `origin` (native clients), then `KeyRegisterFinish` with
    /// `challenge`.
    KeyRegistration {
        challenge: Secret,
        options: String,
        origin: String,
    },
    /// Hand `options` (`RequestChallengeResponse` JSON) to the key, presenting `origin`
    /// (native clients), then `KeyLoginFinish`.
    KeyAssertionOptions {
        options: String,
        origin: String,
    },
    /// An account's security keys, oldest first (at most `MAX_KEYS`).
    Keys {
        keys: Vec<KeyInfo>,
    },
    // Appended: admin maintenance (`maintenance`).
    /// The authenticator app is on with the imported secret; `recovery_codes` scratch
    /// codes were added as recovery codes. `ignored` names the file's options that
    /// authd's own policy replaces (e.g. `RATE_LIMIT`).
    TotpImported {
        recovery_codes: u32,
        replaced: bool,
        ignored: Vec<String>,
    },
    /// How many outbox messages a retry or purge changed; `dropped` counts the SMS login
    /// codes a retry removed because their validity had passed.
    OutboxChanged {
        count: u32,
        dropped: u32,
    },
    // Appended: metrics.
    /// The Prometheus text exposition (format 0.0.4) of the daemon's metrics.
    Metrics {
        text: String,
    },
    // Appended: bulk import (`import`).
    /// Where an import session stands. The answer to every `Import` step.
    Imported(ImportReport),
    // Appended: account lifecycle (`lifecycle`).
    /// What `ShowLifecycle` answers.
    Lifecycle(Lifecycle),
    /// The credentials are right, but the password must be changed now (`reason` says
    /// why: an admin asked for it, or it is older than the maximum age). Answers the
    /// requests that may answer `Verified`.
    VerifiedChangeRequired {
        name: String,
        reason: String,
    },
    /// A page of `ListAccounts`, in name order.
    Accounts {
        accounts: Vec<AccountSummary>,
        /// Pass as `after` to get the next page; `None` on the last page.
        next: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    pub server_version: String,
    pub protocol: u32,
    pub uptime_secs: u64,
    pub accounts: u64,
    pub schema_version: u32,
    /// Messages waiting for delivery.
    pub outbox_queued: u64,
    /// Messages given up on.
    pub outbox_failed: u64,
    /// Threads hashing passwords at once.
    pub hash_workers: u32,
    // Appended: bulk import.
    /// Password hashes computed or checked by the hash pool since the daemon started
    /// (argon2 and crypt(3) alike, the dummy hash included).
    pub hashes: u64,
}

/// One outgoing message, as `authctl outbox` shows it (never its body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: u64,
    pub account: String,
    /// "mail" (later also "sms").
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub created: u64,
    pub attempts: u32,
    pub next_attempt: u64,
    pub last_error: Option<String>,
    pub failed: bool,
    // Appended: delivered messages are kept (`outbox.keep_delivered`).
    /// When it was delivered (unix seconds); then it is no longer queued.
    pub delivered: Option<u64>,
}

/// How far along a second factor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorState {
    Off,
    Pending,
    On,
}

impl FactorState {
    pub fn as_str(self) -> &'static str {
        match self {
            FactorState::Off => "off",
            FactorState::Pending => "pending",
            FactorState::On => "on",
        }
    }
}

/// What `show` reports: never a hash or secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub sso: Option<String>,
    pub password_set: bool,
    pub totp: FactorState,
    pub sms: FactorState,
    pub recovery_codes_left: u32,
    /// The masked number SMS codes go to, when SMS verification is pending or on.
    pub sms_number: Option<String>,
    /// Unix seconds; `None` when not locked.
    pub locked_until: Option<u64>,
    pub failures: u32,
    pub created: u64,
}

/// One line of an account's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    /// Unix seconds.
    pub at: u64,
    pub action: String,
    pub outcome: String,
    /// Who asked: "uid 0 pid 1234", never a secret.
    pub actor: String,
    pub detail: String,
}

/// Stable error codes; authctl maps each to one exit status (`authd::ctl::exit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// Wrong password or code.
    Denied,
    /// A second factor is needed and none was given.
    SecondFactorRequired,
    /// Malformed or unexpected request.
    BadRequest,
    VersionMismatch,
    InvalidInput,
    WeakPassword,
    Exists,
    SsoAccount,
    NotEnrolled,
    NoSuchUser,
    Locked,
    RateLimited,
    PermissionDenied,
    Busy,
    Internal,
    // Appended after protocol 2's codes.
    /// The portal session is unknown, ended or expired: sign in again.
    SessionInvalid,
    /// A sensitive portal act needs a proof given within the last minutes: `PortalProve`.
    FreshProofRequired,
    /// SMS codes cannot go to that number: its country is not in `[sms] countries`; use
    /// the authenticator app.
    SmsUnavailable,
    // Appended: admin maintenance.
    /// The pam_google_authenticator file is in counter (HOTP) mode, which authd does not
    /// support yet.
    HotpUnsupported,
    // Appended: account lifecycle.
    /// The account is disabled by an admin: every login and self-service request is
    /// refused.
    Disabled,
    /// The account's expiry date has passed: logins are refused.
    Expired,
}

impl ErrorCode {
    /// The snake_case name used in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Denied => "denied",
            ErrorCode::SecondFactorRequired => "second_factor_required",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::Exists => "exists",
            ErrorCode::SsoAccount => "sso_account",
            ErrorCode::NotEnrolled => "not_enrolled",
            ErrorCode::NoSuchUser => "no_such_user",
            ErrorCode::Locked => "locked",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::Busy => "busy",
            ErrorCode::Internal => "internal",
            ErrorCode::SessionInvalid => "session_invalid",
            ErrorCode::FreshProofRequired => "fresh_proof_required",
            ErrorCode::SmsUnavailable => "sms_unavailable",
            ErrorCode::HotpUnsupported => "hotp_unsupported",
            ErrorCode::Disabled => "disabled",
            ErrorCode::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
    /// For `Locked` and `RateLimited`: unix seconds when trying again makes sense.
    pub retry_at: Option<u64>,
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests;
