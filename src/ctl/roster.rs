//! `list-users --long`: one line per account with its status, second factors, password
//! age and last login, like `passwd -S -a`. Printed page by page as authd answers, so a
//! million accounts never sit in memory; with `--json` the pages form one object,
//! `{"accounts":[...]}`, written as they come.

use std::io::Write;

use super::output::Outcome;
use super::session::Session;
use super::{unexpected, CtlError};
use authd_proto::escape::escaped;
use authd_proto::protocol::{AccountSummary, ListUsers, Request, Response, SecondFactor, MAX_PAGE};
use authd_proto::time;

const DAY: u64 = 86_400;

/// The status word(s): the first that applies of disabled, expired, locked, must change
/// password; else active.
pub fn status(a: &AccountSummary) -> String {
    if a.disabled {
        "disabled".into()
    } else if a.expired {
        "expired".into()
    } else if let Some(until) = a.locked_until {
        format!("locked until {}", time::format(until))
    } else if a.password_change_required {
        "must change password".into()
    } else {
        "active".into()
    }
}

fn factor_name(f: &SecondFactor) -> &'static str {
    match f {
        SecondFactor::Totp => "totp",
        SecondFactor::Sms => "sms",
        SecondFactor::SecurityKey => "key",
    }
}

/// The password's age in whole days at `now`, when known.
fn age_days(a: &AccountSummary, now: u64) -> Option<u64> {
    a.password_changed.map(|t| now.saturating_sub(t) / DAY)
}

fn line_json(a: &AccountSummary, now: u64) -> Result<String, CtlError> {
    let factors = a.factors.iter().map(factor_name).collect();
    let line = super::json::AccountLine::new(a, status(a), factors, age_days(a, now));
    serde_json::to_string(&line).map_err(|e| CtlError::Local(format!("cannot encode JSON: {e}")))
}

fn line_text(a: &AccountSummary, now: u64) -> String {
    let factors = match (&a.sso, a.factors.is_empty()) {
        (Some(p), _) => format!("sso:{}", escaped(p)),
        (None, true) => "-".into(),
        (None, false) => a
            .factors
            .iter()
            .map(factor_name)
            .collect::<Vec<_>>()
            .join(","),
    };
    let password = match (a.password_set, age_days(a, now)) {
        (false, _) => "no password".to_string(),
        (true, Some(days)) => format!("password {days}d old"),
        (true, None) => "password age unknown".to_string(),
    };
    let last = match (a.last_login, &a.last_login_service) {
        (None, _) => "never logged in".to_string(),
        (Some(t), None) => format!("last login {}", time::format(t)),
        (Some(t), Some(s)) => format!("last login {} ({})", time::format(t), escaped(s)),
    };
    format!(
        "{:<20} {:<36} {:<14} {:<22} {last}",
        escaped(&a.name),
        status(a),
        factors,
        password
    )
}

/// True the first time only.
fn after_first_page(first: &mut bool) -> bool {
    std::mem::replace(first, false)
}

/// Every account, a page at a time, each page printed before the next is asked for.
pub fn list_long(s: &mut Session, json: bool) -> Result<Outcome, CtlError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut opened = false;
    let listed = pages(s, json, &mut out, &mut opened);
    match opened {
        true => close_json(&mut out, listed),
        false => listed.map(|()| Outcome::Printed),
    }
}

/// Close the `--json` object the first page opened. A failure that cut the listing
/// short becomes its `error` member, so the output stays one JSON object.
fn close_json(out: &mut impl Write, listed: Result<(), CtlError>) -> Result<Outcome, CtlError> {
    match listed {
        Ok(()) => {
            writeln!(out, "]}}").map_err(CtlError::Io)?;
            Ok(Outcome::Printed)
        }
        Err(e) => {
            let closed = writeln!(out, "],\"error\":{}}}", super::json::error_member(&e));
            match closed {
                Ok(()) => Err(CtlError::Printed(Box::new(e))),
                Err(_) => Err(e),
            }
        }
    }
}

/// The pages, as text lines or as the members of a `--json` object's `accounts` array
/// (`opened` once its start is printed).
fn pages(
    s: &mut Session,
    json: bool,
    out: &mut impl Write,
    opened: &mut bool,
) -> Result<(), CtlError> {
    let io = CtlError::Io;
    let (mut after, mut first, mut written) = (None, true, false);
    loop {
        let request = Request::ListAccounts(ListUsers {
            after: after.take(),
            limit: MAX_PAGE,
        });
        let (accounts, next) = match s.call(request)? {
            Response::Accounts { accounts, next } => (accounts, next),
            other => return Err(unexpected(other)),
        };
        let now = time::now();
        if json && after_first_page(&mut first) {
            // Opened once the first page is in: a refusal is then the only output.
            write!(out, "{{\"accounts\":[").map_err(io)?;
            *opened = true;
        }
        for a in &accounts {
            if json {
                let sep = if written { "," } else { "" };
                write!(out, "{sep}{}", line_json(a, now)?).map_err(io)?;
                written = true;
            } else {
                writeln!(out, "{}", line_text(a, now)).map_err(io)?;
            }
        }
        out.flush().map_err(io)?;
        match next {
            Some(name) => after = Some(name),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(listed: Result<(), CtlError>) -> (serde_json::Value, Result<Outcome, CtlError>) {
        let mut out = br#"{"accounts":[{"name":"alice"}"#.to_vec();
        let result = close_json(&mut out, listed);
        (
            serde_json::from_slice(&out).expect("one JSON object"),
            result,
        )
    }

    #[test]
    fn a_listing_cut_short_is_still_one_json_object_with_its_error() {
        let (object, result) = closed(Err(CtlError::Local("the connection broke".into())));
        assert_eq!(object["accounts"][0]["name"], "alice");
        assert_eq!(object["error"]["code"], "io");
        assert_eq!(object["error"]["message"], "the connection broke");
        // Printed already: authctl prints no second object, and exits as for the error.
        let error = result.err().unwrap();
        assert!(matches!(error, CtlError::Printed(_)));
        assert_eq!(error.code_name(), "io");
        assert_eq!(
            super::super::exit::for_error(&error),
            super::super::exit::for_error(&CtlError::Local(String::new()))
        );
    }

    #[test]
    fn a_whole_listing_closes_its_object() {
        let (object, result) = closed(Ok(()));
        assert_eq!(object["accounts"].as_array().unwrap().len(), 1);
        assert!(object.get("error").is_none());
        assert!(matches!(result, Ok(Outcome::Printed)));
    }
}
