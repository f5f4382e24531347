//! The portal's requests (authd-web, the uids `portal_users` names) and the admin/self
//! requests about portal sessions.
//!
//! A portal signs an account in with the account's own password and second factor
//! (`PortalSignIn`, then `PortalCode`), and gets a session token that authd keeps only as
//! a keyed hash. Every later act for that account carries the token (`PortalAct`); the
//! account is the session's, never one the portal names. Sensitive acts need a proof
//! given within the last minutes in that session (at sign-in, or `PortalProve`).

use serde::{Deserialize, Serialize};

use super::keys::KeyAssertion;
use super::request::{FactorChoice, Origin, Proof};
use super::Secret;

/// Sign in through the portal: the password. -> `SessionIssued` (no second factor) or
/// `SecondFactorRequired` with a challenge for `PortalCode`, or (with a security key among
/// the methods) for `PortalKeyStart` and `PortalKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSignIn {
    pub name: String,
    pub password: Secret,
    pub origin: Origin,
}

/// The second step of a portal sign-in: the code for the challenge. -> `SessionIssued`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalCode {
    pub name: String,
    pub challenge: Secret,
    pub code: Secret,
    pub origin: Origin,
}

/// Text a login code for a pending portal sign-in: `challenge` is the one
/// `PortalSignIn` handed out for `name`, still unused (it is checked, not spent, and the
/// code then goes with it in `PortalCode`). Same rate limit as `SendCode`.
/// -> `SmsSent` (the masked number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSendCode {
    pub name: String,
    pub challenge: Secret,
}

/// Prove again inside a session (the password, and a code when 2FA is on), so that
/// sensitive acts are allowed for a few minutes. -> `Done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalProve {
    pub session: Secret,
    pub proof: Proof,
}

/// Start proving again inside a session by password and security key (for an account
/// whose only second factor may be a key): the password, checked in the one login path
/// (a wrong one counts toward the lockout). -> `SecondFactorRequired` with a single-use
/// challenge bound to the session's account and the portal's uid, as `PortalSignIn`
/// gives; `PortalKeyStart` turns it into assertion options and `PortalProveKey` spends
/// it. An account without a key: `not_enrolled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalProveKeyStart {
    pub session: Secret,
    pub password: Secret,
    pub origin: Origin,
}

/// Finish proving by key inside a session: the key's answer for the challenge
/// `PortalProveKeyStart` gave (spent whatever the outcome). Sensitive acts are then
/// allowed for a few minutes, as after `PortalProve`. -> `Done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalProveKey {
    pub session: Secret,
    pub key: KeyAssertion,
}

/// Act for the session's account. -> what `action` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalAct {
    pub session: Secret,
    pub action: PortalAction,
}

/// What the settings pages may do inside a session. Those marked *fresh* need a proof
/// given within the last minutes in this session; without one they answer the error
/// `fresh_proof_required` (ask for the password again, `PortalProve`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PortalAction {
    /// -> `Account`.
    Show,
    /// *fresh*: set a new password; every session of the account ends, this one too.
    /// -> `Done`.
    ChangePassword { new: Secret },
    /// *fresh*: start (or restart) an authenticator-app enrolment. -> `TotpEnrolment`.
    EnableTotp,
    /// Activate the pending enrolment with a current code. -> `Confirmed`.
    ConfirmTotp { code: Secret },
    /// *fresh*: remove second factors. -> `Done`.
    DisableTwoFactor { method: FactorChoice },
    /// *fresh*: a new set of recovery codes. -> `RecoveryCodes`.
    RegenerateRecoveryCodes,
    /// The account's portal sessions. -> `Sessions`.
    Sessions,
    /// End this session (`None`) or another of the account's. -> `SessionsEnded`.
    Logout { id: Option<u64> },
    // Appended: the variants above keep their encodings.
    /// *fresh*: start SMS verification, with a new number or the account's own; a code
    /// is sent to confirm it. Numbers outside `[sms] countries` are refused
    /// (`sms_unavailable`). -> `SmsSent`.
    EnableSms { phone: Option<String> },
    /// Activate the pending SMS enrolment with the code that was sent. -> `Confirmed`.
    ConfirmSms { code: Secret },
    /// Mail the account a password-reset link ("email me a link instead"), under the
    /// reset mails' rate limit. -> `ResetMailed`.
    SendReset,
    // Appended: security keys (`keys`).
    /// *fresh*: start registering a security key named `key_name`; hand the options to
    /// `navigator.credentials.create`. -> `KeyRegistration`.
    AddKey { key_name: String },
    /// Finish it with the browser's `RegisterPublicKeyCredential` JSON and the
    /// challenge `KeyRegistration` gave. -> `Confirmed`.
    FinishKey {
        challenge: Secret,
        credential: String,
    },
    /// The account's security keys. -> `Keys`.
    Keys,
    /// *fresh*: remove the key `id`. -> `Done`.
    RemoveKey { id: String },
}

/// "Forgot your password?": queue the reset mail `SendReset` would, when the account
/// exists, has an email address and is not SSO, and its reset mails are not rate
/// limited. -> `Done` in every one of those cases alike (the portal must not learn which
/// names exist or have an address); what happened goes to that account's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalForgot {
    pub name: String,
    pub origin: Origin,
}

/// The account's portal sessions (admin or self). -> `Sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSessions {
    pub name: String,
}

/// End one (`id`) or all of an account's portal sessions (admin or self).
/// -> `SessionsEnded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logout {
    pub name: String,
    pub id: Option<u64>,
}

/// One portal session as `authctl sessions` shows it (never its token). Times are unix
/// seconds; `expires` is the earlier of the idle and the absolute limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: u64,
    pub created: u64,
    pub last_used: u64,
    pub expires: u64,
    /// Where the sign-in came from, as the portal said (escaped, clipped).
    pub origin: String,
}
