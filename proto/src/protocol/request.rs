//! What a client may ask: the closed `Request` enum, one named struct per request that
//! carries fields, and the small types those structs share.
//!
//! Each variant is a newtype over its struct, and the daemon hands the struct whole to
//! its handler: fields are read by name, so two secrets (a current and a new password, a
//! challenge and a code) can never be swapped by position. bincode encodes a newtype
//! variant over a struct exactly like a struct variant (the variant index, then the
//! fields in order); `golden` holds the bytes.

use serde::{Deserialize, Serialize};

use super::import::Import;
use super::keys::{
    KeyLoginFinish, KeyLoginStart, KeyRegisterFinish, KeyRegisterStart, ListKeys, RemoveKey,
};
use super::lifecycle::{Disable, Enable, SetLifecycle, ShowLifecycle};
use super::maintenance::{ImportGoogleAuthenticator, OutboxPurge, OutboxRetry};
use super::portal::{
    ListSessions, Logout, PortalAct, PortalCode, PortalForgot, PortalProve, PortalProveKey,
    PortalProveKeyStart, PortalSendCode, PortalSignIn,
};
use super::Secret;

/// An edit to an optional account field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change<T> {
    #[default]
    Keep,
    Set(T),
    Clear,
}

/// Which second factor(s) `disable-2fa` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorChoice {
    Totp,
    Sms,
    All,
    // Appended after protocol 2's choices.
    /// Every security key.
    SecurityKey,
}

/// Proof that the caller is the account holder: the password and a current code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub password: Secret,
    /// A TOTP, SMS or recovery code.
    pub code: Option<Secret>,
}

/// Where a PAM or other front end sits, recorded in the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub service: Option<String>,
    pub remote_host: Option<String>,
}

/// Everything a client may ask. Each variant's doc lists the `Response`s it may return;
/// any of them may also return `Response::Error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// First frame of every connection. -> `Welcome`.
    Hello(Hello),
    /// Daemon versions, uptime and counts; anyone may ask. -> `Status`.
    Status,
    /// Create an account (admin). -> `Done`.
    AddUser(AddUser),
    /// Delete an account and everything stored for it (admin). -> `Done`.
    RemoveUser(RemoveUser),
    /// One page of account names in order, after `after` (admin). -> `Users`.
    ListUsers(ListUsers),
    /// An account's public state (admin or self). -> `Account`.
    ShowUser(ShowUser),
    /// Edit an account's contact data or SSO provider (admin). -> `Done`.
    SetUser(SetUser),
    /// Set a password without knowing the old one (admin). -> `Done`.
    SetPassword(SetPassword),
    /// Change one's own password (self): the current one, a code when 2FA is on, the new
    /// one. -> `Done` or `SecondFactorRequired`.
    ChangePassword(ChangePassword),
    /// Check a password, and a second-factor code when the account has one
    /// (admin or self). -> `Verified` or `SecondFactorRequired`.
    Verify(Verify),
    /// Second step of a login: the code for a challenge that `Verify` handed out
    /// (admin or self). -> `Verified`.
    VerifyCode(VerifyCode),
    /// Start (or restart) an authenticator-app enrolment (admin or self).
    /// -> `TotpEnrolment`.
    EnableTotp(EnableTotp),
    /// Activate the pending enrolment with a current code (admin or self).
    /// -> `Confirmed` (with recovery codes when this is the first 2FA method).
    ConfirmTotp(ConfirmTotp),
    /// Start SMS verification: check the number's country, send a code (admin or self).
    /// -> `SmsSent`.
    EnableSms(EnableSms),
    /// Activate SMS verification with the code that was sent (admin or self).
    /// -> `Confirmed` (with recovery codes when this is the first 2FA method).
    ConfirmSms(ConfirmSms),
    /// Send a login code by SMS now (admin or self). -> `SmsSent`.
    SendCode(SendCode),
    /// Remove second factors; needs the password and a current or recovery code, from
    /// admins too (admin or self). -> `Done`.
    DisableTwoFactor(DisableTwoFactor),
    /// Lost device: remove every second factor and the recovery codes (admin). -> `Done`.
    ResetTwoFactor(ResetTwoFactor),
    /// Replace the recovery codes (admin or self). -> `RecoveryCodes`.
    RegenerateRecoveryCodes(RegenerateRecoveryCodes),
    /// Queue a password-reset mail with a single-use token (admin or self).
    /// -> `ResetQueued`.
    SendReset(SendReset),
    /// Set a new password with an emailed token; the token is the proof (anyone).
    /// -> `PasswordReset`.
    ResetPassword(ResetPassword),
    /// One page of the outbox, oldest first (admin). -> `Outbox`.
    Outbox(Outbox),
    /// An online backup, in chunks (admin). -> `BackupChunk`.
    Backup(Backup),
    /// Clear a lockout (admin). -> `Done`.
    Unlock(Unlock),
    /// The account's audit events, newest first (admin or self). -> `Log`.
    Log(Log),
    // Appended after protocol 2's requests, so that their bytes stay as they were.
    /// Portal only: sign in with the password. -> `SessionIssued` or
    /// `SecondFactorRequired`.
    PortalSignIn(PortalSignIn),
    /// Portal only: the code after `PortalSignIn`. -> `SessionIssued`.
    PortalCode(PortalCode),
    /// Portal only: prove again inside a session. -> `Done`.
    PortalProve(PortalProve),
    /// Portal only: act for the session's account. -> see `PortalAction`.
    PortalAct(PortalAct),
    /// An account's portal sessions (admin or self). -> `Sessions`.
    ListSessions(ListSessions),
    /// End an account's portal sessions (admin or self). -> `SessionsEnded`.
    Logout(Logout),
    /// Portal only: text a login code for a pending sign-in (its challenge, not spent).
    /// -> `SmsSent`.
    PortalSendCode(PortalSendCode),
    /// Portal only: "forgot your password?", a reset mail if the account can get one.
    /// -> `Done`, whatever the name (see `PortalForgot`).
    PortalForgot(PortalForgot),
    // Appended: security keys (`keys`).
    /// Start registering a security key (admin or self; self needs proof).
    /// -> `KeyRegistration`.
    KeyRegisterStart(KeyRegisterStart),
    /// Finish a key registration (admin or self). -> `Confirmed`.
    KeyRegisterFinish(KeyRegisterFinish),
    /// An account's security keys (admin or self). -> `Keys`.
    ListKeys(ListKeys),
    /// Remove a security key; needs proof, from admins too (admin or self). -> `Done`.
    RemoveKey(RemoveKey),
    /// Assertion options for a pending login challenge (admin, self or portal).
    /// -> `KeyAssertionOptions`.
    KeyLoginStart(KeyLoginStart),
    /// The key step of a login (admin or self). -> `Verified`.
    KeyLoginFinish(KeyLoginFinish),
    /// Portal only: assertion options for the challenge `PortalSignIn` gave.
    /// -> `KeyAssertionOptions`.
    PortalKeyStart(KeyLoginStart),
    /// Portal only: the key step of a portal sign-in. -> `SessionIssued`.
    PortalKey(KeyLoginFinish),
    // Appended: a fresh proof in a session by password and key.
    /// Portal only: the password of a proof by key. -> `SecondFactorRequired`.
    PortalProveKeyStart(PortalProveKeyStart),
    /// Portal only: the key's answer of a proof by key. -> `Done`.
    PortalProveKey(PortalProveKey),
    // Appended: admin maintenance (`maintenance`).
    /// Enrol the authenticator app from a pam_google_authenticator file (admin).
    /// -> `TotpImported`.
    ImportGoogleAuthenticator(ImportGoogleAuthenticator),
    /// Queue outbox messages again (admin). -> `OutboxChanged`.
    OutboxRetry(OutboxRetry),
    /// Remove outbox messages (admin). -> `OutboxChanged`.
    OutboxPurge(OutboxPurge),
    // Appended: metrics.
    /// Counters and gauges in Prometheus text format (admin). -> `Metrics`.
    Metrics,
    // Appended: bulk import.
    /// One step of a bulk import, all or nothing (admin). -> `Imported`.
    Import(Import),
    // Appended: a reset token checked before the new password is asked for.
    /// Is this reset token still good (anyone: the token is the proof)? -> `Done`, or
    /// `token_invalid`. Nothing is spent or changed.
    CheckResetToken(CheckResetToken),
    // Appended: account lifecycle (`lifecycle`).
    /// Refuse every login and self-service request of the account (admin). -> `Done`.
    Disable(Disable),
    /// Allow the account again (admin). -> `Done`.
    Enable(Enable),
    /// Set the expiry date and password-change policy (admin). -> `Done`.
    SetLifecycle(SetLifecycle),
    /// The account's lifecycle state (admin or self). -> `Lifecycle`.
    ShowLifecycle(ShowLifecycle),
    /// One page of accounts with their status, in name order, after `after` (admin).
    /// -> `Accounts`.
    ListAccounts(ListUsers),
}

impl Request {
    /// The account a request acts on, if any: what self-service authorization compares.
    pub fn account(&self) -> Option<&str> {
        match self {
            Request::Hello(_)
            | Request::Status
            | Request::ListUsers(_)
            | Request::ListAccounts(_)
            | Request::ResetPassword(_)
            | Request::Outbox(_)
            | Request::Backup(_)
            | Request::PortalProve(_)
            | Request::PortalAct(_)
            | Request::PortalProveKeyStart(_)
            | Request::PortalProveKey(_)
            | Request::OutboxRetry(_)
            | Request::OutboxPurge(_)
            | Request::Metrics
            | Request::Import(_)
            | Request::CheckResetToken(_) => None,
            Request::AddUser(AddUser { name, .. })
            | Request::RemoveUser(RemoveUser { name })
            | Request::ShowUser(ShowUser { name })
            | Request::SetUser(SetUser { name, .. })
            | Request::SetPassword(SetPassword { name, .. })
            | Request::ChangePassword(ChangePassword { name, .. })
            | Request::Verify(Verify { name, .. })
            | Request::VerifyCode(VerifyCode { name, .. })
            | Request::EnableTotp(EnableTotp { name, .. })
            | Request::ConfirmTotp(ConfirmTotp { name, .. })
            | Request::DisableTwoFactor(DisableTwoFactor { name, .. })
            | Request::ResetTwoFactor(ResetTwoFactor { name })
            | Request::RegenerateRecoveryCodes(RegenerateRecoveryCodes { name, .. })
            | Request::SendReset(SendReset { name, .. })
            | Request::EnableSms(EnableSms { name, .. })
            | Request::ConfirmSms(ConfirmSms { name, .. })
            | Request::SendCode(SendCode { name })
            | Request::Unlock(Unlock { name })
            | Request::Log(Log { name, .. })
            | Request::PortalSignIn(PortalSignIn { name, .. })
            | Request::PortalCode(PortalCode { name, .. })
            | Request::PortalSendCode(PortalSendCode { name, .. })
            | Request::ListSessions(ListSessions { name })
            | Request::Logout(Logout { name, .. })
            | Request::PortalForgot(PortalForgot { name, .. })
            | Request::KeyRegisterStart(KeyRegisterStart { name, .. })
            | Request::KeyRegisterFinish(KeyRegisterFinish { name, .. })
            | Request::ListKeys(ListKeys { name })
            | Request::RemoveKey(RemoveKey { name, .. })
            | Request::KeyLoginStart(KeyLoginStart { name, .. })
            | Request::KeyLoginFinish(KeyLoginFinish { name, .. })
            | Request::PortalKeyStart(KeyLoginStart { name, .. })
            | Request::PortalKey(KeyLoginFinish { name, .. })
            | Request::ImportGoogleAuthenticator(ImportGoogleAuthenticator { name, .. })
            | Request::Disable(Disable { name, .. })
            | Request::Enable(Enable { name })
            | Request::SetLifecycle(SetLifecycle { name, .. })
            | Request::ShowLifecycle(ShowLifecycle { name }) => Some(name),
        }
    }
}

/// The opening of a connection: the client's protocol version and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub client: String,
}

/// A new account; `sso` names the provider it authenticates at instead of a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUser {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub sso: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveUser {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUsers {
    /// The last name of the previous page (its `next`).
    pub after: Option<String>,
    /// At most `MAX_PAGE` are answered.
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowUser {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUser {
    pub name: String,
    pub email: Change<String>,
    pub phone: Change<String>,
    pub sso: Change<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPassword {
    pub name: String,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePassword {
    pub name: String,
    /// The password in force now, checked as at login.
    pub current: Secret,
    /// A second-factor code, when the account has one.
    pub code: Option<Secret>,
    pub new: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verify {
    pub name: String,
    pub password: Secret,
    /// A second-factor code, if the client has one already (one step instead of two).
    pub code: Option<Secret>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCode {
    pub name: String,
    /// What `SecondFactorRequired` handed out: single use, for this account and caller.
    pub challenge: Secret,
    pub code: Secret,
    pub origin: Origin,
}

/// Self-service needs `proof` (the password, and a code when a second factor is on
/// already): a session alone must not choose the account's factor. Admins may omit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnableTotp {
    pub name: String,
    pub proof: Option<Proof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmTotp {
    pub name: String,
    pub code: Secret,
}

/// With `phone`, the account's number is set first; `proof` as for `EnableTotp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnableSms {
    pub name: String,
    pub phone: Option<String>,
    pub proof: Option<Proof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmSms {
    pub name: String,
    pub code: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendCode {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisableTwoFactor {
    pub name: String,
    pub method: FactorChoice,
    pub proof: Proof,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetTwoFactor {
    pub name: String,
}

/// Self-service callers must give `proof`; admins may omit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegenerateRecoveryCodes {
    pub name: String,
    pub proof: Option<Proof>,
}

/// With `proof` the password (and code) are checked first, as for change-password
/// --email-link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReset {
    pub name: String,
    pub proof: Option<Proof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResetToken {
    /// From the reset mail.
    pub token: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPassword {
    /// From the reset mail; it names the account.
    pub token: Secret,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// The last id of the previous page (its `next`).
    pub after: Option<u64>,
    pub limit: u32,
}

/// Without `session` the daemon takes a consistent snapshot and answers its first
/// chunk; then ask with the session and the offset reached until
/// `offset + data.len() == total`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub session: Option<u64>,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unlock {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    pub name: String,
    /// Only events with a sequence number below this one (the previous page's `next`).
    pub before: Option<u64>,
    pub limit: u32,
}
