//! Security events: what happened to which account, who asked, and how it ended.
//!
//! Every event goes to two places: a tracing event with target `audit` (for the system
//! log) and the account's bounded history in the store (for `authctl log`). An event
//! carries names, outcomes and peer identities only, never a password, code or token.

use crate::authz::Caller;

/// Longest detail text kept in an event.
pub const MAX_DETAIL: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    AccountAdded,
    AccountRemoved,
    AccountChanged,
    PasswordSet,
    PasswordChanged,
    Verify,
    LockedOut,
    Unlocked,
    TotpEnrolled,
    TotpConfirmed,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    TwoFactorDisabled,
    TwoFactorReset,
    ResetRequested,
    PasswordReset,
    MailDelivered,
    MailFailed,
    SmsEnrolled,
    SmsConfirmed,
    SmsCodeSent,
    SmsDelivered,
    SmsFailed,
    PortalSignIn,
    PortalSessionEnded,
    KeyRegistered,
    KeyRemoved,
    /// A key's signature counter went backwards: possibly a cloned key.
    KeyCloneSuspected,
    /// The authenticator app enrolled from a pam_google_authenticator file.
    TotpImported,
    /// An admin put an outbox message back in the queue (or dropped an expired SMS code).
    OutboxRetried,
    /// An admin removed an outbox message.
    OutboxPurged,
    AccountDisabled,
    AccountEnabled,
    /// Expiry date or password-change policy changed.
    PolicyChanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::AccountAdded => "account-added",
            Action::AccountRemoved => "account-removed",
            Action::AccountChanged => "account-changed",
            Action::PasswordSet => "password-set",
            Action::PasswordChanged => "password-changed",
            Action::Verify => "verify",
            Action::LockedOut => "locked-out",
            Action::Unlocked => "unlocked",
            Action::TotpEnrolled => "totp-enrolled",
            Action::TotpConfirmed => "totp-confirmed",
            Action::RecoveryCodeUsed => "recovery-code-used",
            Action::RecoveryCodesRegenerated => "recovery-codes-regenerated",
            Action::TwoFactorDisabled => "2fa-disabled",
            Action::TwoFactorReset => "2fa-reset",
            Action::ResetRequested => "reset-requested",
            Action::PasswordReset => "password-reset",
            Action::MailDelivered => "mail-delivered",
            Action::MailFailed => "mail-failed",
            Action::SmsEnrolled => "sms-enrolled",
            Action::SmsConfirmed => "sms-confirmed",
            Action::SmsCodeSent => "sms-code-sent",
            Action::SmsDelivered => "sms-delivered",
            Action::SmsFailed => "sms-failed",
            Action::PortalSignIn => "portal-sign-in",
            Action::PortalSessionEnded => "portal-session-ended",
            Action::KeyRegistered => "key-registered",
            Action::KeyRemoved => "key-removed",
            Action::KeyCloneSuspected => "key-clone-suspected",
            Action::TotpImported => "totp-imported",
            Action::OutboxRetried => "outbox-retried",
            Action::OutboxPurged => "outbox-purged",
            Action::AccountDisabled => "account-disabled",
            Action::AccountEnabled => "account-enabled",
            Action::PolicyChanged => "policy-changed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Denied,
    Locked,
    /// A one-time code that was already used.
    Replayed,
    /// The password was right; a second factor is still needed.
    Challenged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Locked => "locked",
            Outcome::Replayed => "replayed",
            Outcome::Challenged => "second-factor-required",
        }
    }
}

/// One security event, before the store gives it a sequence number and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub action: Action,
    pub outcome: Outcome,
    /// Who asked, e.g. `uid 1000 (alice) pid 4242`.
    pub actor: String,
    /// Free text without secrets: which fields changed, the PAM service, the lock end.
    pub detail: String,
}

impl Event {
    /// `detail` is cut to `MAX_DETAIL` characters, so history pages stay small.
    pub fn new(action: Action, outcome: Outcome, actor: &str, detail: String) -> Event {
        Event {
            action,
            outcome,
            actor: actor.to_string(),
            detail: detail.chars().take(MAX_DETAIL).collect(),
        }
    }

    pub fn by(caller: &Caller, action: Action, outcome: Outcome, detail: String) -> Event {
        Event::new(action, outcome, &caller.describe(), detail)
    }

    /// Send the event to the log (target `audit`). Called once the change is durable.
    pub fn log(&self, account: &str) {
        crate::metrics::record_event(self);
        tracing::info!(
            target: "audit",
            account,
            action = self.action.as_str(),
            outcome = self.outcome.as_str(),
            actor = %self.actor,
            detail = %self.detail,
        );
    }
}
