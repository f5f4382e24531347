//! The account commands: create, change, show and remove accounts, and set, change or
//! reset their passwords (secrets asked for through `Session`).

use super::output::Outcome;
use super::secrets::CodeArg;
use super::session::Session;
use super::{unexpected, CtlError};
use authd_proto::protocol::{
    AddUser, Change, ChangePassword, CheckResetToken, Proof, RemoveUser, Request, ResetPassword,
    Response, SendReset, SetLifecycle, SetPassword, SetUser, ShowUser, Unlock,
};

pub fn add_user(s: &mut Session, request: AddUser) -> Result<Outcome, CtlError> {
    let message = format!("added {}", request.name);
    s.done(Request::AddUser(request), message)
}

pub fn remove_user(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let message = format!("removed {name}");
    s.done(Request::RemoveUser(RemoveUser { name }), message)
}

/// The account, then its security keys (`AccountInfo` has no room for them: its
/// encoding is pinned).
pub fn show(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let info = match s.call(Request::ShowUser(ShowUser { name }))? {
        Response::Account(info) => info,
        other => return Err(unexpected(other)),
    };
    let keys = super::keys::list(s, &info.name)?;
    let lifecycle = super::lifecycle::show(s, &info.name)?;
    Ok(Outcome::Account(info, keys, Box::new(lifecycle)))
}

/// `--email`/`--no-email` and the like, as one change of a field.
pub fn change(set: Option<String>, clear: bool) -> Change<String> {
    match (set, clear) {
        (Some(v), _) => Change::Set(v),
        (None, true) => Change::Clear,
        (None, false) => Change::Keep,
    }
}

/// `set-user`: the contact and SSO fields (`SetUser`) and the expiry and password
/// policy (`SetLifecycle`) are two requests; each is sent only when it changes something.
pub fn set_user(
    s: &mut Session,
    contact: SetUser,
    lifecycle: SetLifecycle,
) -> Result<Outcome, CtlError> {
    let contact_changes = [&contact.email, &contact.phone, &contact.sso]
        .iter()
        .any(|c| **c != Change::Keep);
    let lifecycle_changes = lifecycle.expires != Change::Keep
        || lifecycle.must_change_password.is_some()
        || lifecycle.max_password_age != Change::Keep;
    if !contact_changes && !lifecycle_changes {
        return Err(CtlError::Usage(
            "nothing to change: give --email, --phone, --sso, --expires, \
             --must-change-password, --max-password-age or a --no-* flag"
                .into(),
        ));
    }
    let message = format!("updated {}", contact.name);
    if contact_changes {
        s.done(Request::SetUser(contact), message.clone())?;
    }
    if lifecycle_changes {
        s.done(Request::SetLifecycle(lifecycle), message.clone())?;
    }
    Ok(Outcome::Done(message))
}

pub fn set_password(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let password = s.secrets.read_new("New password: ")?;
    let message = format!("password set for {name}");
    s.done(
        Request::SetPassword(SetPassword { name, password }),
        message,
    )
}

/// `change-password`: the current password (and a code) proves it is you, then the new
/// one; with `--email-link`, the proof asks for a reset mail instead.
pub fn change_password(
    s: &mut Session,
    name: String,
    code: Option<String>,
    email_link: bool,
) -> Result<Outcome, CtlError> {
    if email_link {
        let proof = s.proof(&name, CodeArg::new(code), "Password: ")?;
        return send_reset(s, name, Some(proof));
    }
    let Proof {
        password: current,
        code,
    } = s.proof(&name, CodeArg::new(code), "Current password: ")?;
    let new = s.secrets.read_new("New password: ")?;
    let message = format!("password changed for {name}");
    let request = Request::ChangePassword(ChangePassword {
        name,
        current,
        code,
        new,
    });
    s.done(request, message)
}

pub fn send_reset(
    s: &mut Session,
    name: String,
    proof: Option<Proof>,
) -> Result<Outcome, CtlError> {
    match s.call(Request::SendReset(SendReset {
        name: name.clone(),
        proof,
    }))? {
        Response::ResetQueued { expires } => Ok(Outcome::ResetMailed {
            message: format!(
                "a password-reset mail is on its way to {name}'s email address (it may take \
                 a few minutes); it works once and expires at {}",
                authd_proto::time::format(expires)
            ),
            expires,
        }),
        other => Err(unexpected(other)),
    }
}

pub fn reset_password(s: &mut Session, token: String) -> Result<Outcome, CtlError> {
    // `-`: ask for it (or take the first stdin line), out of sight of `ps`.
    let token = s
        .secrets
        .required_code(CodeArg::new(Some(token)), "Reset token: ")?;
    // A used or expired token is said before a new password is asked for (twice).
    s.done(
        Request::CheckResetToken(CheckResetToken {
            token: token.clone(),
        }),
        String::new(),
    )?;
    let password = s.secrets.read_new("New password: ")?;
    let request = Request::ResetPassword(ResetPassword { token, password });
    match s.call(request)? {
        Response::PasswordReset { name } => Ok(Outcome::Done(format!("password reset for {name}"))),
        other => Err(unexpected(other)),
    }
}

pub fn unlock(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let message = format!("unlocked {name}");
    s.done(Request::Unlock(Unlock { name }), message)
}

/// `status`; with `json`, the metrics' samples too when the caller may see them.
pub fn status(s: &mut Session, json: bool) -> Result<Outcome, CtlError> {
    let info = match s.call(Request::Status)? {
        Response::Status(info) => info,
        other => return Err(unexpected(other)),
    };
    let metrics = if json {
        super::metrics::for_status(s)?
    } else {
        None
    };
    Ok(Outcome::Status(info, metrics))
}
