//! The key step against a scripted key: a touch finishes the login through authd; no
//! key, a failed key or a remote session asks for a code for the same challenge.

use super::*;
use crate::key::{KeyOutcome, Keys};

/// A scripted key: its one outcome, and what it was asked.
struct Key {
    outcome: Option<KeyOutcome>,
    asked: Vec<(String, String)>,
}

impl Keys for Key {
    fn assert(&mut self, _: &mut dyn Pam, origin: &str, options: &str) -> KeyOutcome {
        self.asked.push((origin.into(), options.into()));
        self.outcome.take().expect("the key is asked once")
    }
}

fn key(outcome: KeyOutcome) -> Key {
    Key {
        outcome: Some(outcome),
        asked: Vec::new(),
    }
}

fn key_required() -> Result<Response, ClientError> {
    Ok(Response::SecondFactorRequired {
        methods: vec![SecondFactor::Totp, SecondFactor::SecurityKey],
        challenge: Some(Secret::new("ch")),
        sms_sent_to: None,
    })
}

fn assertion_options() -> Result<Response, ClientError> {
    Ok(Response::KeyAssertionOptions {
        options: "{\"publicKey\":{}}".into(),
        origin: "https://host.example".into(),
    })
}

fn local(answers: &[&'static str]) -> Script {
    Script {
        local: true,
        ..script(answers)
    }
}

#[test]
fn a_touch_finishes_the_login_through_authd() {
    let mut pam = local(&["pw-right"]);
    let mut d = daemon(vec![key_required(), assertion_options(), verified()]);
    let mut k = key(KeyOutcome::Answer(Secret::new("{\"id\":\"x\"}")));
    let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut k);
    assert_eq!(code, Code::PAM_SUCCESS);
    assert_eq!(
        k.asked,
        [("https://host.example".into(), "{\"publicKey\":{}}".into())]
    );
    assert_eq!(pam.prompts, ["Password: "], "no code is asked for");
    match &d.seen[2] {
        Request::KeyLoginFinish(f) => {
            assert_eq!(f.key.challenge.expose(), "ch");
            assert_eq!(f.key.assertion.expose(), "{\"id\":\"x\"}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_answer_authd_refuses_fails_the_login() {
    let mut pam = local(&["pw-right"]);
    let mut d = daemon(vec![
        key_required(),
        assertion_options(),
        remote(ErrorCode::Denied),
    ]);
    let mut k = key(KeyOutcome::Answer(Secret::new("forged")));
    let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut k);
    assert_eq!(code, Code::PAM_AUTH_ERR);
}

#[test]
fn no_key_or_a_failed_key_asks_for_a_code_for_the_same_challenge() {
    for outcome in [
        KeyOutcome::NoKey("no security key was found".into()),
        KeyOutcome::Failed("the key helper stopped".into()),
    ] {
        let mut pam = local(&["pw-right", "123456"]);
        let mut d = daemon(vec![key_required(), assertion_options(), verified()]);
        let mut k = key(outcome);
        let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut k);
        assert_eq!(code, Code::PAM_SUCCESS);
        assert!(pam.shown[0].ends_with("enter a code instead (app, SMS or recovery code)."));
        match &d.seen[2] {
            Request::VerifyCode(v) => assert_eq!(v.challenge.expose(), "ch"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_remote_login_never_runs_the_key_and_asks_for_a_code() {
    let mut pam = script(&["pw-right", "123456"]);
    let mut d = daemon(vec![key_required(), verified()]);
    let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless);
    assert_eq!(code, Code::PAM_SUCCESS);
    assert!(pam.shown[0].starts_with("A security key cannot be used for a remote login"));
}

#[test]
fn a_wrong_code_after_no_key_fails_closed() {
    let mut pam = local(&["pw-right", "000000"]);
    let mut d = daemon(vec![
        key_required(),
        assertion_options(),
        remote(ErrorCode::Denied),
    ]);
    let mut k = key(KeyOutcome::NoKey("none".into()));
    let code = authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut k);
    assert_eq!(code, Code::PAM_AUTH_ERR);
}
