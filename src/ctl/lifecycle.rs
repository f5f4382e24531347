//! The lifecycle commands: `disable`, `enable`, and the lifecycle half of `show`
//! (`set-user --expires/--must-change-password/--max-password-age` is in `accounts`).

use super::output::Outcome;
use super::session::Session;
use super::{unexpected, CtlError};
use authd_proto::protocol::{Disable, Enable, Lifecycle, Request, Response, ShowLifecycle};

pub fn disable(s: &mut Session, name: String, reason: Option<String>) -> Result<Outcome, CtlError> {
    let message = format!("disabled {name}");
    s.done(Request::Disable(Disable { name, reason }), message)
}

pub fn enable(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let message = format!("enabled {name}");
    s.done(Request::Enable(Enable { name }), message)
}

/// The account's lifecycle state, for `show`.
pub fn show(s: &mut Session, name: &str) -> Result<Lifecycle, CtlError> {
    let request = Request::ShowLifecycle(ShowLifecycle { name: name.into() });
    match s.call(request)? {
        Response::Lifecycle(lifecycle) => Ok(lifecycle),
        other => Err(unexpected(other)),
    }
}

/// `show`'s lifecycle lines, aligned with the account's.
pub fn text(l: &Lifecycle) -> String {
    use authd_proto::escape::escaped;
    use authd_proto::time::format;
    let disabled = match (l.disabled, &l.disabled_reason, l.disabled_since) {
        (false, ..) => "no".to_string(),
        (true, reason, since) => {
            let mut text = "yes".to_string();
            if let Some(since) = since {
                text.push_str(&format!(" (since {})", format(since)));
            }
            if let Some(reason) = reason {
                text.push_str(&format!(": {}", escaped(reason)));
            }
            text
        }
    };
    let expires = match l.expires {
        None => "never".to_string(),
        Some(at) if l.expired => format!("{} (expired)", format(at)),
        Some(at) => format(at),
    };
    let changed = l.password_changed.map_or("unknown".into(), format);
    let max_age = l
        .max_password_age_days
        .map_or("never".into(), |d| format!("{d} days"));
    let change = match (l.password_change_required, l.must_change_password) {
        (false, _) => "no".to_string(),
        (true, true) => "yes (required by an administrator)".to_string(),
        (true, false) => match l.password_expires {
            Some(at) => format!("yes (the password expired at {})", format(at)),
            None => "yes".to_string(),
        },
    };
    let last = match (l.last_login, &l.last_login_service) {
        (None, _) => "never".to_string(),
        (Some(at), None) => format(at),
        (Some(at), Some(service)) => format!("{} ({})", format(at), escaped(service)),
    };
    format!(
        "disabled:            {disabled}\nexpires:             {expires}\n\
         password changed:    {changed}\nmax password age:    {max_age}\n\
         change password:     {change}\nlast login:          {last}"
    )
}
