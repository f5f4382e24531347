//! What the module does, written against two traits — `Pam` (items and the conversation)
//! and `Authd` (the daemon) — so tests drive it with a scripted conversation and a
//! scripted daemon, and the FFI glue stays thin.
//!
//! The password is sent once: when a second factor is due, the daemon's challenge is
//! answered with just the code. Nothing here logs a password or code.

use authd_proto::client::ClientError;
use authd_proto::protocol::{
    ChangePassword, ErrorCode, Origin, Request, Response, SecondFactor, Secret, ShowLifecycle,
    ShowUser, Verify, VerifyCode,
};
use pam::constants::PamResultCode as Code;

use crate::key::Keys;
use crate::options::Options;

mod key_step;
mod lifecycle;

/// The PAM side: items and the conversation.
pub trait Pam {
    fn user(&mut self) -> Result<String, Code>;
    fn authtok(&self) -> Option<Secret>;
    fn old_authtok(&self) -> Option<Secret>;
    fn set_authtok(&mut self, value: &Secret) -> Result<(), Code>;
    fn set_old_authtok(&mut self, value: &Secret) -> Result<(), Code>;
    fn service(&self) -> Option<String>;
    fn remote_host(&self) -> Option<String>;
    /// The application runs inside an ssh session (its environment says so).
    fn in_ssh_session(&self) -> bool;
    /// Ask without echo; `Ok(None)` when the application gives no answer.
    fn prompt(&mut self, prompt: &str) -> Result<Option<Secret>, Code>;
    fn info(&mut self, text: &str);
    fn error(&mut self, text: &str);
}

/// The daemon side.
pub trait Authd {
    fn call(&mut self, request: &Request) -> Result<Response, ClientError>;
}

/// PAM's answer for a failure authd reported.
fn code_for(error: &ClientError, options: &Options) -> Code {
    let ClientError::Remote(wire) = error else {
        return Code::PAM_AUTHINFO_UNAVAIL;
    };
    match wire.code {
        // SSO accounts authenticate at their provider. Failing is the safe default: with
        // PAM_IGNORE, a stack whose later module succeeds (pam_permit, a keyring
        // module) would let an SSO account in with any password.
        ErrorCode::SsoAccount if options.sso_ignore => Code::PAM_IGNORE,
        ErrorCode::Denied
        | ErrorCode::SecondFactorRequired
        | ErrorCode::PermissionDenied
        | ErrorCode::SsoAccount
        | ErrorCode::SessionInvalid
        | ErrorCode::FreshProofRequired
        | ErrorCode::Disabled
        | ErrorCode::Expired => Code::PAM_AUTH_ERR,
        ErrorCode::Locked | ErrorCode::RateLimited => Code::PAM_MAXTRIES,
        // A name authd cannot hold is a user it does not know.
        ErrorCode::NoSuchUser | ErrorCode::InvalidInput if options.ignore_unknown_user => {
            Code::PAM_IGNORE
        }
        ErrorCode::NoSuchUser | ErrorCode::InvalidInput => Code::PAM_USER_UNKNOWN,
        ErrorCode::WeakPassword => Code::PAM_AUTHTOK_ERR,
        ErrorCode::Busy => Code::PAM_AUTHINFO_UNAVAIL,
        ErrorCode::BadRequest
        | ErrorCode::VersionMismatch
        | ErrorCode::Exists
        | ErrorCode::NotEnrolled
        | ErrorCode::SmsUnavailable
        | ErrorCode::HotpUnsupported
        | ErrorCode::Internal => Code::PAM_SYSTEM_ERR,
    }
}

/// Show the daemon's message for failures the user can act on.
fn explain(pam: &mut impl Pam, error: &ClientError, options: &Options) {
    if let ClientError::Remote(wire) = error {
        match wire.code {
            // Shown on the user's terminal: escaped like everything authctl prints.
            ErrorCode::Locked | ErrorCode::RateLimited | ErrorCode::WeakPassword => {
                pam.error(&authd_proto::escape::escaped(&wire.message))
            }
            ErrorCode::SsoAccount if !options.sso_ignore => {
                pam.error("This is a single sign-on account: sign in at your SSO provider.")
            }
            ErrorCode::Disabled | ErrorCode::Expired => {
                pam.error(&authd_proto::escape::escaped(&wire.message))
            }
            _ => {}
        }
    }
}

fn ask(pam: &mut impl Pam, prompt: &str) -> Result<Secret, Code> {
    pam.prompt(prompt)?.ok_or(Code::PAM_CONV_ERR)
}

/// The password for `auth`: from PAM_AUTHTOK or the user, per the options.
fn password(pam: &mut impl Pam, options: &Options) -> Result<(Secret, bool), Code> {
    if options.use_first_pass || options.try_first_pass {
        if let Some(pw) = pam.authtok() {
            return Ok((pw, false));
        }
        if options.use_first_pass {
            return Err(Code::PAM_AUTH_ERR);
        }
    }
    Ok((ask(pam, "Password: ")?, true))
}

/// Finish a second step: show that an SMS went out, ask for the code.
fn ask_code(pam: &mut impl Pam, sms_sent_to: Option<&str>) -> Result<Secret, Code> {
    if let Some(to) = sms_sent_to {
        let to = authd_proto::escape::escaped(to);
        pam.info(&format!("A verification code was sent by SMS to {to}."));
    }
    ask(pam, "Verification code: ")
}

/// `pam_sm_authenticate`: password, then a touch of a security key or a code when the
/// account has 2FA.
pub fn authenticate<A: Authd>(
    pam: &mut impl Pam,
    connect: impl FnOnce() -> Result<A, ClientError>,
    options: &Options,
    keys: &mut dyn Keys,
) -> Code {
    let user = match pam.user() {
        Ok(user) => user,
        Err(code) => return code,
    };
    let (password, prompted) = match password(pam, options) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Ok(mut authd) = connect() else {
        return Code::PAM_AUTHINFO_UNAVAIL;
    };
    let origin = Origin {
        service: pam.service(),
        remote_host: pam.remote_host(),
    };
    let verify = Request::Verify(Verify {
        name: user.clone(),
        password: password.clone(),
        code: None,
        origin: origin.clone(),
    });
    let outcome = match authd.call(&verify) {
        Ok(Response::SecondFactorRequired {
            challenge: Some(challenge),
            sms_sent_to,
            methods,
        }) => {
            if methods.contains(&SecondFactor::SecurityKey) {
                match key_step::run(pam, &mut authd, keys, &user, &challenge, &origin) {
                    key_step::KeyStep::Finished(outcome) => {
                        return finish(pam, outcome, password, prompted, options)
                    }
                    key_step::KeyStep::Code => {}
                }
            }
            let code = match ask_code(pam, sms_sent_to.as_deref()) {
                Ok(code) => code,
                Err(code) => return code,
            };
            authd.call(&Request::VerifyCode(VerifyCode {
                name: user,
                challenge,
                code,
                origin,
            }))
        }
        other => other,
    };
    finish(pam, outcome, password, prompted, options)
}

/// The login's end: PAM's answer for authd's last word.
fn finish(
    pam: &mut impl Pam,
    outcome: Result<Response, ClientError>,
    password: Secret,
    prompted: bool,
    options: &Options,
) -> Code {
    match outcome {
        Ok(Response::Verified { .. } | Response::VerifiedChangeRequired { .. }) => {
            // A password that must change still authenticates: `account` answers
            // NEW_AUTHTOK_REQD, and the application runs `chauthtok`.
            if prompted {
                // Later modules (try_first_pass) may use it; failing to store is harmless.
                let _ = pam.set_authtok(&password);
            }
            Code::PAM_SUCCESS
        }
        Ok(_) => Code::PAM_SYSTEM_ERR,
        Err(error) => {
            explain(pam, &error, options);
            code_for(&error, options)
        }
    }
}

/// `pam_sm_acct_mgmt`: a disabled account is refused (PERM_DENIED), an expired one too
/// (ACCT_EXPIRED), a locked one may not log in (PERM_DENIED), and a password that must
/// change asks the application for `chauthtok` (NEW_AUTHTOK_REQD).
pub fn account<A: Authd>(
    pam: &mut impl Pam,
    connect: impl FnOnce() -> Result<A, ClientError>,
    options: &Options,
) -> Code {
    let user = match pam.user() {
        Ok(user) => user,
        Err(code) => return code,
    };
    let Ok(mut authd) = connect() else {
        return Code::PAM_AUTHINFO_UNAVAIL;
    };
    let info = match authd.call(&Request::ShowUser(ShowUser { name: user.clone() })) {
        Ok(Response::Account(info)) => info,
        Ok(_) => return Code::PAM_SYSTEM_ERR,
        Err(error) => return account_refusal(pam, &error, options),
    };
    let lifecycle = match authd.call(&Request::ShowLifecycle(ShowLifecycle { name: user })) {
        Ok(Response::Lifecycle(lifecycle)) => lifecycle,
        Ok(_) => return Code::PAM_SYSTEM_ERR,
        Err(error) => return account_refusal(pam, &error, options),
    };
    lifecycle::account_step(pam, &info, &lifecycle)
}

/// The `account` step's answer for an error: the account's own request refused.
fn account_refusal(pam: &mut impl Pam, error: &ClientError, options: &Options) -> Code {
    match error {
        ClientError::Remote(wire) if wire.code == ErrorCode::Disabled => {
            pam.error("Your account has been disabled; contact your administrator.");
            Code::PAM_PERM_DENIED
        }
        ClientError::Remote(wire) if wire.code == ErrorCode::Expired => {
            pam.error("Your account has expired; contact your administrator.");
            Code::PAM_ACCT_EXPIRED
        }
        _ => code_for(error, options),
    }
}

/// Linux-PAM's `PAM_PRELIM_CHECK` flag for `pam_sm_chauthtok`.
pub const PAM_PRELIM_CHECK: u32 = 0x4000;

/// `pam_sm_chauthtok`: change the password through authd (current, code, new).
pub fn change_password<A: Authd>(
    pam: &mut impl Pam,
    connect: impl FnOnce() -> Result<A, ClientError>,
    options: &Options,
    flags: u32,
) -> Code {
    let user = match pam.user() {
        Ok(user) => user,
        Err(code) => return code,
    };
    let Ok(mut authd) = connect() else {
        return Code::PAM_AUTHINFO_UNAVAIL;
    };
    if flags & PAM_PRELIM_CHECK != 0 {
        return Code::PAM_SUCCESS;
    }
    let result = (|| -> Result<Code, Code> {
        let current = match pam.old_authtok() {
            Some(pw) => pw,
            None => {
                let pw = ask(pam, "Current password: ")?;
                let _ = pam.set_old_authtok(&pw);
                pw
            }
        };
        let new = match pam
            .authtok()
            .filter(|_| options.use_first_pass || options.try_first_pass)
        {
            Some(pw) => pw,
            None => {
                let new = ask(pam, "New password: ")?;
                if ask(pam, "Retype new password: ")? != new {
                    pam.error("Sorry, passwords do not match.");
                    return Ok(Code::PAM_AUTHTOK_ERR);
                }
                new
            }
        };
        let mut request = Request::ChangePassword(ChangePassword {
            name: user.clone(),
            current: current.clone(),
            code: None,
            new: new.clone(),
        });
        let mut answer = authd.call(&request);
        if let Ok(Response::SecondFactorRequired { sms_sent_to, .. }) = &answer {
            let code = ask_code(pam, sms_sent_to.as_deref())?;
            if let Request::ChangePassword(ChangePassword { code: slot, .. }) = &mut request {
                *slot = Some(code);
            }
            answer = authd.call(&request);
        }
        Ok(match answer {
            Ok(Response::Done) => {
                let _ = pam.set_authtok(&new);
                Code::PAM_SUCCESS
            }
            Ok(_) => Code::PAM_SYSTEM_ERR,
            Err(error) => {
                explain(pam, &error, options);
                match code_for(&error, options) {
                    Code::PAM_AUTH_ERR => Code::PAM_AUTHTOK_RECOVERY_ERR,
                    other => other,
                }
            }
        })
    })();
    result.unwrap_or_else(|code| code)
}

#[cfg(test)]
mod tests;
