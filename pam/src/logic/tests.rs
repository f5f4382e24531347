//! The module's logic against a scripted conversation and a scripted daemon.

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
    /// A console login (no remote host).
    local: bool,
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
        (!self.local).then(|| "192.0.2.7".into())
    }
    fn in_ssh_session(&self) -> bool {
        false
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

mod keys;
mod lifecycle;

/// No key step may happen in these tests.
struct Keyless;

impl crate::key::Keys for Keyless {
    fn assert(&mut self, _: &mut dyn Pam, _: &str, _: &str) -> crate::key::KeyOutcome {
        panic!("unexpected key step")
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
    let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless);
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
    let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless);
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
    authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless);
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
    authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless);
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
            authenticate(&mut pam, || Ok(&mut d), &options, &mut Keyless),
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
        authenticate(&mut pam, connect, &Options::default(), &mut Keyless),
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
        authenticate(&mut pam, connect, &Options::default(), &mut Keyless),
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
        authenticate(&mut pam, || Ok(&mut d), &options, &mut Keyless),
        Code::PAM_SUCCESS
    );
    assert!(pam.prompts.is_empty());
    let mut pam = script(&[]);
    assert_eq!(
        authenticate(&mut pam, || Ok(&mut d), &options, &mut Keyless),
        Code::PAM_AUTH_ERR
    );
    let try_first = Options {
        try_first_pass: true,
        ..Options::default()
    };
    let mut pam = script(&["typed"]);
    assert_eq!(
        authenticate(&mut pam, || Ok(&mut d), &try_first, &mut Keyless),
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
        authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless),
        Code::PAM_CONV_ERR
    );
}

fn account_info(locked_until: Option<u64>) -> AccountInfo {
    AccountInfo {
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
    }
}

#[test]
fn locked_accounts_fail_account_management() {
    let info = account_info;
    let mut pam = script(&[]);
    let mut d = daemon(vec![
        Ok(Response::Account(info(Some(4_000_000_000)))),
        Ok(Response::Lifecycle(lifecycle::open())),
    ]);
    assert_eq!(
        account(&mut pam, || Ok(&mut d), &Options::default()),
        Code::PAM_PERM_DENIED
    );
    assert!(pam.shown[0].contains("locked until"));
    let mut d = daemon(vec![
        Ok(Response::Account(info(None))),
        Ok(Response::Lifecycle(lifecycle::open())),
    ]);
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
