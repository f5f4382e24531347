//! What the module does, written against two traits — `Pam` (items and the conversation)
//! and `Authd` (the daemon) — so tests drive it with a scripted conversation and a
//! scripted daemon, and the FFI glue stays thin.
//!
//! The password is sent once: when a second factor is due, the daemon's challenge is
//! answered with just the code. Nothing here logs a password or code.

use authd_proto::client::ClientError;
use authd_proto::protocol::{
    ChangePassword, ErrorCode, Origin, Request, Response, Secret, ShowUser, Verify, VerifyCode,
};
use pam::constants::PamResultCode as Code;

use crate::options::Options;

/// The PAM side: items and the conversation.
pub trait Pam {
    fn user(&mut self) -> Result<String, Code>;
    fn authtok(&self) -> Option<Secret>;
    fn old_authtok(&self) -> Option<Secret>;
    fn set_authtok(&mut self, value: &Secret) -> Result<(), Code>;
    fn set_old_authtok(&mut self, value: &Secret) -> Result<(), Code>;
    fn service(&self) -> Option<String>;
    fn remote_host(&self) -> Option<String>;
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
        | ErrorCode::SsoAccount => Code::PAM_AUTH_ERR,
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

/// `pam_sm_authenticate`: password, then a code when the account has 2FA.
pub fn authenticate<A: Authd>(
    pam: &mut impl Pam,
    connect: impl FnOnce() -> Result<A, ClientError>,
    options: &Options,
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
            ..
        }) => {
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
    match outcome {
        Ok(Response::Verified { .. }) => {
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

/// `pam_sm_acct_mgmt`: a locked account may not log in.
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
    match authd.call(&Request::ShowUser(ShowUser { name: user })) {
        Ok(Response::Account(info)) => match info.locked_until {
            Some(until) => {
                pam.error(&format!(
                    "Account locked until {} after failed attempts.",
                    authd_proto::time::format(until)
                ));
                Code::PAM_PERM_DENIED
            }
            None => Code::PAM_SUCCESS,
        },
        Ok(_) => Code::PAM_SYSTEM_ERR,
        Err(error) => code_for(&error, options),
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
mod tests {
    use std::collections::VecDeque;

    use authd_proto::protocol::{
        AccountInfo, ChangePassword, FactorState, SecondFactor, Verify, VerifyCode, WireError,
    };

    use super::*;

    /// A scripted conversation: answers in order, and a record of what was shown.
    #[derive(Default)]
    struct Script {
        user: String,
        authtok: Option<Secret>,
        answers: VecDeque<&'static str>,
        prompts: Vec<String>,
        shown: Vec<String>,
        stored: Option<Secret>,
    }

    impl Pam for Script {
        fn user(&mut self) -> Result<String, Code> {
            Ok(self.user.clone())
        }
        fn authtok(&self) -> Option<Secret> {
            self.authtok.clone()
        }
        fn old_authtok(&self) -> Option<Secret> {
            None
        }
        fn set_authtok(&mut self, value: &Secret) -> Result<(), Code> {
            self.stored = Some(value.clone());
            Ok(())
        }
        fn set_old_authtok(&mut self, _: &Secret) -> Result<(), Code> {
            Ok(())
        }
        fn service(&self) -> Option<String> {
            Some("sshd".into())
        }
        fn remote_host(&self) -> Option<String> {
            Some("192.0.2.7".into())
        }
        fn prompt(&mut self, prompt: &str) -> Result<Option<Secret>, Code> {
            self.prompts.push(prompt.into());
            Ok(self.answers.pop_front().map(Secret::new))
        }
        fn info(&mut self, text: &str) {
            self.shown.push(text.into());
        }
        fn error(&mut self, text: &str) {
            self.shown.push(text.into());
        }
    }

    /// A scripted daemon: one answer per request, and the requests it saw. A request
    /// the script did not expect fails the test.
    struct Daemon {
        answers: VecDeque<Result<Response, ClientError>>,
        seen: Vec<Request>,
    }

    impl Authd for &mut Daemon {
        fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
            self.seen.push(request.clone());
            match self.answers.pop_front() {
                Some(answer) => answer,
                None => panic!("unscripted request to the daemon: {request:?}"),
            }
        }
    }

    /// Every scripted answer must have been asked for.
    impl Drop for Daemon {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                assert!(
                    self.answers.is_empty(),
                    "scripted answers never asked for: {:?} (requests seen: {:?})",
                    self.answers,
                    self.seen
                );
            }
        }
    }

    fn daemon(answers: Vec<Result<Response, ClientError>>) -> Daemon {
        Daemon {
            answers: answers.into(),
            seen: Vec::new(),
        }
    }

    fn remote(code: ErrorCode) -> Result<Response, ClientError> {
        Err(ClientError::Remote(WireError {
            code,
            message: format!("{code:?} message"),
            retry_at: None,
        }))
    }

    fn script(answers: &[&'static str]) -> Script {
        Script {
            user: "alice".into(),
            answers: answers.iter().copied().collect(),
            ..Script::default()
        }
    }

    fn verified() -> Result<Response, ClientError> {
        Ok(Response::Verified {
            name: "alice".into(),
        })
    }

    #[test]
    fn password_only_success_stores_the_authtok() {
        let mut pam = script(&["pw-right"]);
        let mut d = daemon(vec![verified()]);
        let code = authenticate(&mut pam, || Ok(&mut d), &Options::default());
        assert_eq!(code, Code::PAM_SUCCESS);
        assert_eq!(pam.prompts, ["Password: "]);
        assert_eq!(pam.stored.as_ref().map(Secret::expose), Some("pw-right"));
        let Request::Verify(Verify { origin, .. }) = &d.seen[0] else {
            panic!("not a verify")
        };
        assert_eq!(origin.service.as_deref(), Some("sshd"));
        assert_eq!(origin.remote_host.as_deref(), Some("192.0.2.7"));
    }

    #[test]
    fn a_second_factor_is_asked_for_and_the_password_sent_once() {
        let mut pam = script(&["pw-right", "123456"]);
        let mut d = daemon(vec![
            Ok(Response::SecondFactorRequired {
                methods: vec![SecondFactor::Sms],
                challenge: Some(Secret::new("ch")),
                sms_sent_to: Some("+49*****820".into()),
            }),
            verified(),
        ]);
        let code = authenticate(&mut pam, || Ok(&mut d), &Options::default());
        assert_eq!(code, Code::PAM_SUCCESS);
        assert_eq!(pam.prompts, ["Password: ", "Verification code: "]);
        assert!(pam.shown[0].contains("sent by SMS to +49*****820"));
        assert_eq!(d.seen.len(), 2);
        assert!(
            matches!(&d.seen[1], Request::VerifyCode(VerifyCode { code, .. }) if code.expose() == "123456")
        );
    }

    #[test]
    fn what_the_daemon_sends_is_shown_escaped() {
        let mut pam = script(&["pw"]);
        let mut d = daemon(vec![Err(ClientError::Remote(WireError {
            code: ErrorCode::Locked,
            message: "account `a\u{1b}[2J` is locked\u{202e}".into(),
            retry_at: None,
        }))]);
        authenticate(&mut pam, || Ok(&mut d), &Options::default());
        assert_eq!(pam.shown, ["account `a\\x1b[2J` is locked\\u{202e}"]);

        let mut pam = script(&["pw", "123456"]);
        let mut d = daemon(vec![
            Ok(Response::SecondFactorRequired {
                methods: vec![SecondFactor::Sms],
                challenge: Some(Secret::new("ch")),
                sms_sent_to: Some("+49\u{9b}2J".into()),
            }),
            verified(),
        ]);
        authenticate(&mut pam, || Ok(&mut d), &Options::default());
        assert!(pam.shown[0].contains("to +49\\x9b2J."), "{:?}", pam.shown);
    }

    #[test]
    fn failures_map_to_pam_codes() {
        let cases = [
            (ErrorCode::Denied, false, Code::PAM_AUTH_ERR),
            (ErrorCode::Locked, false, Code::PAM_MAXTRIES),
            (ErrorCode::NoSuchUser, false, Code::PAM_USER_UNKNOWN),
            (ErrorCode::NoSuchUser, true, Code::PAM_IGNORE),
            (ErrorCode::SsoAccount, false, Code::PAM_AUTH_ERR),
            (ErrorCode::SsoAccount, true, Code::PAM_IGNORE),
            (ErrorCode::Internal, false, Code::PAM_SYSTEM_ERR),
        ];
        // `ignore`: nullok for unknown users, sso=ignore for SSO accounts.
        for (error, ignore, want) in cases {
            let mut pam = script(&["pw"]);
            let mut d = daemon(vec![remote(error)]);
            let options = Options {
                ignore_unknown_user: ignore && error != ErrorCode::SsoAccount,
                sso_ignore: ignore && error == ErrorCode::SsoAccount,
                ..Options::default()
            };
            assert_eq!(
                authenticate(&mut pam, || Ok(&mut d), &options),
                want,
                "{error:?}"
            );
            assert!(pam.stored.is_none(), "authtok stored on failure");
        }
    }

    #[test]
    fn an_unreachable_daemon_is_authinfo_unavail_never_success() {
        let mut pam = script(&["pw"]);
        let connect = || -> Result<&mut Daemon, ClientError> {
            Err(ClientError::NotRunning {
                path: "/nowhere".into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
        };
        assert_eq!(
            authenticate(&mut pam, connect, &Options::default()),
            Code::PAM_AUTHINFO_UNAVAIL
        );
    }

    #[test]
    fn a_daemon_at_its_connection_limit_is_authinfo_unavail() {
        // authd answers the hello with `busy` (pam_authd(8), RETURN VALUES).
        let mut pam = script(&["pw"]);
        let connect =
            || -> Result<&mut Daemon, ClientError> { Err(remote(ErrorCode::Busy).unwrap_err()) };
        assert_eq!(
            authenticate(&mut pam, connect, &Options::default()),
            Code::PAM_AUTHINFO_UNAVAIL
        );
    }

    #[test]
    fn first_pass_options_use_the_stacked_password() {
        let mut d = daemon(vec![verified(), verified()]);
        let mut pam = script(&[]);
        pam.authtok = Some(Secret::new("from-earlier-module"));
        let options = Options {
            use_first_pass: true,
            ..Options::default()
        };
        assert_eq!(
            authenticate(&mut pam, || Ok(&mut d), &options),
            Code::PAM_SUCCESS
        );
        assert!(pam.prompts.is_empty());
        let mut pam = script(&[]);
        assert_eq!(
            authenticate(&mut pam, || Ok(&mut d), &options),
            Code::PAM_AUTH_ERR
        );
        let try_first = Options {
            try_first_pass: true,
            ..Options::default()
        };
        let mut pam = script(&["typed"]);
        assert_eq!(
            authenticate(&mut pam, || Ok(&mut d), &try_first),
            Code::PAM_SUCCESS
        );
        assert_eq!(pam.prompts, ["Password: "]);
    }

    #[test]
    fn a_missing_answer_is_a_conversation_error() {
        let mut pam = script(&["pw"]);
        let mut d = daemon(vec![Ok(Response::SecondFactorRequired {
            methods: vec![SecondFactor::Totp],
            challenge: Some(Secret::new("ch")),
            sms_sent_to: None,
        })]);
        assert_eq!(
            authenticate(&mut pam, || Ok(&mut d), &Options::default()),
            Code::PAM_CONV_ERR
        );
    }

    #[test]
    fn locked_accounts_fail_account_management() {
        let info = |locked_until| AccountInfo {
            name: "alice".into(),
            email: None,
            phone: None,
            sso: None,
            password_set: true,
            totp: FactorState::Off,
            sms: FactorState::Off,
            recovery_codes_left: 0,
            sms_number: None,
            locked_until,
            failures: 5,
            created: 0,
        };
        let mut pam = script(&[]);
        let mut d = daemon(vec![Ok(Response::Account(info(Some(4_000_000_000))))]);
        assert_eq!(
            account(&mut pam, || Ok(&mut d), &Options::default()),
            Code::PAM_PERM_DENIED
        );
        assert!(pam.shown[0].contains("locked until"));
        let mut d = daemon(vec![Ok(Response::Account(info(None)))]);
        assert_eq!(
            account(&mut pam, || Ok(&mut d), &Options::default()),
            Code::PAM_SUCCESS
        );
    }

    #[test]
    fn chauthtok_asks_current_new_twice_and_a_code_when_due() {
        let mut pam = script(&["old", "new-Pass-1", "new-Pass-1", "654321"]);
        let mut d = daemon(vec![
            Ok(Response::SecondFactorRequired {
                methods: vec![SecondFactor::Totp],
                challenge: None,
                sms_sent_to: None,
            }),
            Ok(Response::Done),
        ]);
        let code = change_password(&mut pam, || Ok(&mut d), &Options::default(), 0x2000);
        assert_eq!(code, Code::PAM_SUCCESS);
        assert_eq!(
            pam.prompts,
            [
                "Current password: ",
                "New password: ",
                "Retype new password: ",
                "Verification code: "
            ]
        );
        assert!(
            matches!(&d.seen[1], Request::ChangePassword(ChangePassword { code: Some(c), .. }) if c.expose() == "654321")
        );

        let mut pam = script(&["old", "a", "b"]);
        let mut d = daemon(vec![]);
        let code = change_password(&mut pam, || Ok(&mut d), &Options::default(), 0x2000);
        assert_eq!(code, Code::PAM_AUTHTOK_ERR);
        assert!(d.seen.is_empty());
    }
}
