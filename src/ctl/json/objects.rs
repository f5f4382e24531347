//! The command results: each struct is one object of authctl(1) JSON OUTPUT, its name
//! in the page the struct's in snake case (`ResetMailed` is `reset_mailed`).

use serde::Serialize;

use super::items::Key;
use super::{at, at_opt};
use crate::ctl::metrics::Sample;
use authd_proto::protocol::{AccountInfo, KeyInfo, Lifecycle, StatusInfo};

/// A change took effect.
#[derive(Debug, Serialize)]
pub struct Done<'a> {
    pub ok: bool,
    pub message: &'a str,
}

impl<'a> Done<'a> {
    pub fn new(message: &'a str) -> Self {
        Done { ok: true, message }
    }
}

/// `send-reset`, `change-password --email-link`: the mail is queued.
#[derive(Debug, Serialize)]
pub struct ResetMailed<'a> {
    pub ok: bool,
    pub message: &'a str,
    /// When the link's token expires.
    pub expires: String,
}

/// `backup --output FILE`.
#[derive(Debug, Serialize)]
pub struct Backup<'a> {
    pub ok: bool,
    pub message: &'a str,
    pub path: String,
    /// Records in the backup (accounts, history, outbox, ...).
    pub records: u64,
}

/// `enable-sms`, `send-code`.
#[derive(Debug, Serialize)]
pub struct SmsSent<'a> {
    pub ok: bool,
    pub message: &'a str,
    /// The masked number.
    pub to: &'a str,
    /// When the code expires.
    pub expires: String,
}

/// `logout`.
#[derive(Debug, Serialize)]
pub struct SessionsEnded<'a> {
    pub ok: bool,
    pub message: &'a str,
    pub count: u32,
}

/// `verify`.
#[derive(Debug, Serialize)]
pub struct Verified<'a> {
    pub ok: bool,
    pub verified: bool,
    pub name: &'a str,
    pub password_change_required: bool,
    pub password_change_reason: Option<&'a str>,
}

impl<'a> Verified<'a> {
    pub fn new(name: &'a str, reason: Option<&'a str>) -> Self {
        Verified {
            ok: true,
            verified: true,
            name,
            password_change_required: reason.is_some(),
            password_change_reason: reason,
        }
    }
}

/// `enable-totp`.
#[derive(Debug, Serialize)]
pub struct TotpEnrolment<'a> {
    pub name: &'a str,
    pub secret: &'a str,
    pub otpauth_uri: &'a str,
    pub qr_png: Option<String>,
}

/// `confirm-totp`, `confirm-sms`, `recovery-codes`, `add-key`.
#[derive(Debug, Serialize)]
pub struct RecoveryCodes<'a> {
    pub ok: bool,
    pub message: &'a str,
    pub recovery_codes: &'a [String],
}

/// `list-users`.
#[derive(Debug, Serialize)]
pub struct Users<'a> {
    pub users: &'a [String],
}

/// `show`: the account, its security keys and its lifecycle, in one object.
#[derive(Debug, Serialize)]
pub struct Account<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub sso: Option<&'a str>,
    pub password_set: bool,
    pub totp: &'static str,
    pub sms: &'static str,
    pub recovery_codes_left: u32,
    pub sms_number: Option<&'a str>,
    pub locked_until: Option<String>,
    pub failures: u32,
    pub created: String,
    pub security_keys: Vec<Key<'a>>,
    pub disabled: bool,
    pub disabled_reason: Option<&'a str>,
    pub disabled_since: Option<String>,
    pub expires: Option<String>,
    pub expired: bool,
    pub must_change_password: bool,
    pub password_changed: Option<String>,
    pub max_password_age_days: Option<u32>,
    pub password_expires: Option<String>,
    pub password_change_required: bool,
    pub last_login: Option<String>,
    pub last_login_service: Option<&'a str>,
}

impl<'a> Account<'a> {
    pub fn new(a: &'a AccountInfo, keys: &'a [KeyInfo], l: &'a Lifecycle) -> Self {
        Account {
            name: &a.name,
            email: a.email.as_deref(),
            phone: a.phone.as_deref(),
            sso: a.sso.as_deref(),
            password_set: a.password_set,
            totp: a.totp.as_str(),
            sms: a.sms.as_str(),
            recovery_codes_left: a.recovery_codes_left,
            sms_number: a.sms_number.as_deref(),
            locked_until: at_opt(a.locked_until),
            failures: a.failures,
            created: at(a.created),
            security_keys: keys.iter().map(Key::from).collect(),
            disabled: l.disabled,
            disabled_reason: l.disabled_reason.as_deref(),
            disabled_since: at_opt(l.disabled_since),
            expires: at_opt(l.expires),
            expired: l.expired,
            must_change_password: l.must_change_password,
            password_changed: at_opt(l.password_changed),
            max_password_age_days: l.max_password_age_days,
            password_expires: at_opt(l.password_expires),
            password_change_required: l.password_change_required,
            last_login: at_opt(l.last_login),
            last_login_service: l.last_login_service.as_deref(),
        }
    }
}

/// `log`.
#[derive(Debug, Serialize)]
pub struct Log<'a> {
    pub name: &'a str,
    pub events: Vec<super::Event<'a>>,
}

/// `status`; `metrics` only for admins.
#[derive(Debug, Serialize)]
pub struct Status<'a> {
    pub server_version: &'a str,
    pub protocol: u32,
    pub uptime_secs: u64,
    pub accounts: u64,
    pub schema_version: u32,
    pub outbox_queued: u64,
    pub outbox_failed: u64,
    pub hash_workers: u32,
    pub hashes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Sample>>,
}

impl<'a> Status<'a> {
    pub fn new(s: &'a StatusInfo, metrics: Option<&str>) -> Self {
        Status {
            server_version: &s.server_version,
            protocol: s.protocol,
            uptime_secs: s.uptime_secs,
            accounts: s.accounts,
            schema_version: s.schema_version,
            outbox_queued: s.outbox_queued,
            outbox_failed: s.outbox_failed,
            hash_workers: s.hash_workers,
            hashes: s.hashes,
            metrics: metrics.map(crate::ctl::metrics::samples),
        }
    }
}

/// `metrics`.
#[derive(Debug, Serialize)]
pub struct Metrics {
    pub metrics: Vec<Sample>,
}

/// `outbox`.
#[derive(Debug, Serialize)]
pub struct Outbox<'a> {
    pub messages: Vec<super::Message<'a>>,
}

/// `sessions`.
#[derive(Debug, Serialize)]
pub struct Sessions<'a> {
    pub name: &'a str,
    pub sessions: Vec<super::Session<'a>>,
}

/// `keys`.
#[derive(Debug, Serialize)]
pub struct Keys<'a> {
    pub name: &'a str,
    pub keys: Vec<Key<'a>>,
}

/// `import-google-authenticator`.
#[derive(Debug, Serialize)]
pub struct TotpImported<'a> {
    pub ok: bool,
    pub name: &'a str,
    pub totp: &'static str,
    pub replaced: bool,
    pub recovery_codes_added: u32,
    pub ignored_options: &'a [String],
}

/// `outbox retry`, `outbox purge`.
#[derive(Debug, Serialize)]
pub struct OutboxChanged<'a> {
    pub ok: bool,
    pub action: &'a str,
    pub count: u32,
    pub dropped: u32,
}

/// Any failure: `{"error":{...}}`.
#[derive(Debug, Serialize)]
pub struct Error {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    /// For `locked` and `rate_limited`: when trying again makes sense.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
}
