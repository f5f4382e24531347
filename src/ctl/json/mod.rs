//! Every `--json` object authctl prints, as typed `Serialize` structs: one struct per
//! object that authctl(1) JSON OUTPUT documents, under the same name (`done`, `account`,
//! `event`, ...), so the page, the structs and the test that holds one to the other
//! (`tests/integration/json_output.rs`) speak of the same things. Times are RFC 3339 in
//! UTC; strings are exact (never escaped for a terminal). Nothing here talks to authd.
//!
//! `objects` holds the command results, `items` the entries of lists, `actor` the audit
//! actor read back from its stored text; `manual` reads the page's objects back, for the
//! tests.

pub mod actor;
mod items;
pub mod manual;
mod objects;

pub use items::{AccountLine, Event, Key, Message, Session};
pub use objects::*;

use super::output::Outcome;
use super::CtlError;
use authd_proto::time;

/// A time as every JSON object shows it.
fn at(secs: u64) -> String {
    time::format(secs)
}

fn at_opt(secs: Option<u64>) -> Option<String> {
    secs.map(time::format)
}

/// One serialized object (a struct of strings, numbers and lists cannot fail to encode;
/// should it, the error object says so rather than printing nothing).
fn encode(object: &impl serde::Serialize) -> String {
    serde_json::to_string(object).unwrap_or_else(|e| {
        format!(r#"{{"error":{{"code":"internal","message":"cannot encode JSON: {e}"}}}}"#)
    })
}

/// The `--json` object of a result.
pub fn outcome(o: &Outcome) -> String {
    match o {
        Outcome::Done(message) | Outcome::Streamed(message) => encode(&Done::new(message)),
        // Already written, page by page.
        Outcome::Printed => String::new(),
        Outcome::Verified(name, reason) => encode(&Verified::new(name, reason.as_deref())),
        Outcome::Status(s, metrics) => encode(&Status::new(s, metrics.as_deref())),
        Outcome::Metrics(text) => encode(&Metrics {
            metrics: super::metrics::samples(text),
        }),
        Outcome::Account(a, keys, lifecycle) => encode(&Account::new(a, keys, lifecycle)),
        Outcome::Users(users) => encode(&Users { users }),
        Outcome::Log(name, events) => encode(&Log {
            name,
            events: events.iter().map(Event::from).collect(),
        }),
        Outcome::TotpEnrolment {
            name,
            secret,
            uri,
            png,
            ..
        } => encode(&TotpEnrolment {
            name,
            secret,
            otpauth_uri: uri,
            qr_png: png.as_ref().map(|p| p.display().to_string()),
        }),
        Outcome::RecoveryCodes { message, codes } => encode(&RecoveryCodes {
            ok: true,
            message,
            recovery_codes: codes,
        }),
        Outcome::Outbox(messages) => encode(&Outbox {
            messages: messages.iter().map(Message::from).collect(),
        }),
        Outcome::Sessions(name, sessions) => encode(&Sessions {
            name,
            sessions: sessions.iter().map(Session::from).collect(),
        }),
        Outcome::Keys(name, keys) => encode(&Keys {
            name,
            keys: keys.iter().map(Key::from).collect(),
        }),
        Outcome::TotpImported {
            name,
            recovery_codes,
            replaced,
            ignored,
        } => encode(&TotpImported {
            ok: true,
            name,
            totp: "on",
            replaced: *replaced,
            recovery_codes_added: *recovery_codes,
            ignored_options: ignored,
        }),
        Outcome::OutboxChanged {
            action,
            count,
            dropped,
        } => encode(&OutboxChanged {
            ok: true,
            action,
            count: *count,
            dropped: *dropped,
        }),
        Outcome::Imported(summary) => encode(summary),
        Outcome::Backup {
            message,
            path,
            records,
        } => encode(&Backup {
            ok: true,
            message,
            path: path.display().to_string(),
            records: *records,
        }),
        Outcome::ResetMailed { message, expires } => encode(&ResetMailed {
            ok: true,
            message,
            expires: at(*expires),
        }),
        Outcome::SmsSent {
            message,
            to,
            expires,
        } => encode(&SmsSent {
            ok: true,
            message,
            to,
            expires: at(*expires),
        }),
        Outcome::SessionsEnded { message, count } => encode(&SessionsEnded {
            ok: true,
            message,
            count: *count,
        }),
    }
}

/// The `--json` object of a failure.
pub fn error(error: &CtlError) -> String {
    encode(&Error {
        error: error_body(error),
    })
}

/// What the `error` member of a failure's object holds.
fn error_body(error: &CtlError) -> ErrorBody {
    ErrorBody {
        code: error.code_name(),
        message: error.to_string(),
        retry_at: at_opt(error.retry_at()),
    }
}

/// The `error` member alone, for an object printed in parts (`list-users --long`).
pub fn error_member(error: &CtlError) -> String {
    encode(&error_body(error))
}

/// The `--json` object of a command line the parser refused (exit 2): `message` is the
/// parser's first line, without its `error: `.
pub fn usage_error(message: &str) -> String {
    encode(&Error {
        error: ErrorBody {
            code: "usage",
            message: message.to_string(),
            retry_at: None,
        },
    })
}

#[cfg(test)]
mod tests;
