//! How authctl shows results: plain text for people, one JSON object with `--json`.
//!
//! Text output is for a terminal, so every string that came from the daemon or the
//! store (names, addresses, numbers, provider names, gateway and SMTP errors, audit
//! actors and details, versions, messages) goes through `escape::escaped` on its way
//! out; `--json` carries the exact strings (serde_json escapes controls itself).

use std::path::PathBuf;

use super::render::{
    imported_text, key_text, log_text, outbox_changed_text, outbox_text, session_text,
};
use super::CtlError;
use authd_proto::escape::escaped;
use authd_proto::protocol::{
    AccountInfo, AuditEntry, KeyInfo, Lifecycle, OutboxEntry, SessionInfo, StatusInfo,
};
use authd_proto::time;

/// What a command produced, before it is rendered.
pub enum Outcome {
    /// A change took effect; the text says what.
    Done(String),
    /// The result itself went to standard output (`backup --output -`); the text is
    /// for standard error.
    Streamed(String),
    /// The result went to standard output page by page (`list-users --long`).
    Printed,
    /// The account name, and why its password must be changed now, if it must.
    Verified(String, Option<String>),
    /// With the metrics' exposition text for `--json`, when the caller may see it.
    Status(StatusInfo, Option<String>),
    /// `metrics`: the exposition text.
    Metrics(String),
    /// `show`: the account, its security keys and its lifecycle state.
    Account(AccountInfo, Vec<KeyInfo>, Box<Lifecycle>),
    Users(Vec<String>),
    Log(String, Vec<AuditEntry>),
    TotpEnrolment {
        name: String,
        secret: String,
        uri: String,
        /// The QR code as terminal text.
        qr: String,
        png: Option<PathBuf>,
    },
    /// Codes to show once (possibly none), after `message`.
    RecoveryCodes {
        message: String,
        codes: Vec<String>,
    },
    Outbox(Vec<OutboxEntry>),
    /// An account's portal sessions.
    Sessions(String, Vec<SessionInfo>),
    /// An account's security keys.
    Keys(String, Vec<KeyInfo>),
    /// `import-google-authenticator`: the app is on with the file's secret.
    TotpImported {
        name: String,
        recovery_codes: u32,
        replaced: bool,
        ignored: Vec<String>,
    },
    /// `outbox retry` or `outbox purge` (`action`): how many messages it changed.
    OutboxChanged {
        action: &'static str,
        count: u32,
        dropped: u32,
    },
    /// What `import` did, or would do.
    Imported(super::import::ImportSummary),
    /// `backup --output FILE`: the file and how many records it holds.
    Backup {
        message: String,
        path: PathBuf,
        records: u64,
    },
    /// A reset mail is queued; its link expires at `expires` (unix seconds).
    ResetMailed {
        message: String,
        expires: u64,
    },
    /// An SMS code went to `to` (masked); it expires at `expires` (unix seconds).
    SmsSent {
        message: String,
        to: String,
        expires: u64,
    },
    /// `logout`: how many portal sessions ended.
    SessionsEnded {
        message: String,
        count: u32,
    },
}

const KEEP_SAFE: &str = "Store these recovery codes somewhere safe, away from your phone. \
Each one logs you in once if you lose your device; they are not shown again.";

fn optional(v: &Option<String>) -> std::borrow::Cow<'_, str> {
    v.as_deref().map_or("-".into(), escaped)
}

/// `show`'s text: the account, then `lifecycle` (lines of its own), then the keys last,
/// one indented line each.
fn account_text(a: &AccountInfo, keys: &[KeyInfo], lifecycle: &str) -> String {
    let locked = a
        .locked_until
        .map_or("no".into(), |t| format!("until {}", time::format(t)));
    let mut keys_text = match keys.len() {
        0 => "none".to_string(),
        n => n.to_string(),
    };
    for k in keys {
        keys_text.push_str("\n  ");
        keys_text.push_str(&key_text(k));
    }
    format!(
        "name:                {}\nemail:               {}\nphone:               {}\n\
         sso:                 {}\npassword set:        {}\ntotp:                {}\n\
         sms:                 {}\nrecovery codes left: {}\nlocked:              {}\n\
         failures:            {}\ncreated:             {}\n{lifecycle}\n\
         security keys:       {}",
        escaped(&a.name),
        optional(&a.email),
        optional(&a.phone),
        optional(&a.sso),
        if a.password_set { "yes" } else { "no" },
        a.totp.as_str(),
        match &a.sms_number {
            Some(n) => format!("{} ({})", a.sms.as_str(), escaped(n)),
            None => a.sms.as_str().to_string(),
        },
        a.recovery_codes_left,
        locked,
        a.failures,
        time::format(a.created),
        keys_text,
    )
}

impl Outcome {
    /// The `--json` object (`json` builds it from typed structs).
    pub fn to_json(&self) -> String {
        super::json::outcome(self)
    }

    /// A line for standard error beside a success (exit 0): something to act on.
    pub fn warning(&self) -> Option<String> {
        match self {
            Outcome::Verified(name, Some(reason)) => Some(format!(
                "password_change_required: {name} must change the password now ({reason})"
            )),
            _ => None,
        }
    }

    pub fn to_text(&self) -> String {
        match self {
            Outcome::Done(message)
            | Outcome::Streamed(message)
            | Outcome::Backup { message, .. }
            | Outcome::ResetMailed { message, .. }
            | Outcome::SmsSent { message, .. }
            | Outcome::SessionsEnded { message, .. } => escaped(message).into_owned(),
            Outcome::Printed => String::new(),
            Outcome::Verified(name, _) => format!("{}: verified", escaped(name)),
            Outcome::Metrics(text) => text.trim_end().to_string(),
            Outcome::Status(s, _) => format!(
                "authd {} (protocol {}, schema {})\nuptime:   {}s\naccounts: {}\n\
                 outbox:   {} queued, {} failed",
                escaped(&s.server_version),
                s.protocol,
                s.schema_version,
                s.uptime_secs,
                s.accounts,
                s.outbox_queued,
                s.outbox_failed
            ),
            Outcome::Account(a, keys, lifecycle) => {
                account_text(a, keys, &super::lifecycle::text(lifecycle))
            }
            Outcome::Users(names) => names
                .iter()
                .map(|n| escaped(n))
                .collect::<Vec<_>>()
                .join("\n"),
            Outcome::Log(_, events) => log_text(events),
            Outcome::TotpEnrolment {
                name,
                secret,
                uri,
                qr,
                png,
            } => {
                // The QR code is drawn here (its colours are ours); the rest came from
                // the daemon.
                let (name, secret, uri) = (escaped(name), escaped(secret), escaped(uri));
                let mut text = format!(
                    "Scan this QR code with your authenticator app (e.g. Google Authenticator):\n\n\
                     {qr}\nOr enter this secret by hand: {secret}\n\
                     otpauth URI: {uri}\n"
                );
                if let Some(p) = png {
                    text.push_str(&format!("QR code written to {}\n", p.display()));
                }
                text.push_str(&format!(
                    "Then confirm with the code the app shows: authctl confirm-totp {name} CODE"
                ));
                text
            }
            Outcome::Outbox(messages) if messages.is_empty() => "the outbox is empty".into(),
            Outcome::Outbox(messages) => messages
                .iter()
                .map(outbox_text)
                .collect::<Vec<_>>()
                .join("\n"),
            Outcome::Sessions(name, sessions) if sessions.is_empty() => {
                format!("{} has no portal sessions", escaped(name))
            }
            Outcome::Sessions(_, sessions) => sessions
                .iter()
                .map(session_text)
                .collect::<Vec<_>>()
                .join("\n"),
            Outcome::Keys(name, keys) if keys.is_empty() => {
                format!("{} has no security keys", escaped(name))
            }
            Outcome::Keys(_, keys) => keys.iter().map(key_text).collect::<Vec<_>>().join("\n"),
            Outcome::TotpImported {
                name,
                recovery_codes,
                replaced,
                ignored,
            } => imported_text(name, *recovery_codes, *replaced, ignored),
            Outcome::OutboxChanged {
                action,
                count,
                dropped,
            } => outbox_changed_text(action, *count, *dropped),
            Outcome::Imported(summary) => summary.to_text(),
            Outcome::RecoveryCodes { message, codes } => {
                let message = escaped(message);
                if codes.is_empty() {
                    message.into_owned()
                } else {
                    let codes: Vec<_> = codes.iter().map(|c| escaped(c)).collect();
                    format!("{message}\n\n{}\n\n{KEEP_SAFE}", codes.join("\n"))
                }
            }
        }
    }
}

/// The text form of an error, for standard error: the daemon's messages quote input
/// and stored data, so they are escaped like everything else.
pub fn error_text(error: &CtlError) -> String {
    escaped(&crate::error::DisplayChain(error).to_string()).into_owned()
}
