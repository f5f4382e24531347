//! What `Debug` shows of requests and responses (never a secret), and the error codes'
//! names.

use super::*;

const PLANTED: &str = "Hunter2-planted-secret";

fn requests_with_secrets() -> Vec<Request> {
    let s = || Secret::new(PLANTED);
    vec![
        Request::SetPassword(SetPassword {
            name: "alice".into(),
            password: s(),
        }),
        Request::ChangePassword(ChangePassword {
            name: "alice".into(),
            current: s(),
            code: Some(s()),
            new: s(),
        }),
        Request::Verify(Verify {
            name: "alice".into(),
            password: s(),
            code: Some(s()),
            origin: Origin::default(),
        }),
        Request::VerifyCode(VerifyCode {
            name: "alice".into(),
            challenge: s(),
            code: s(),
            origin: Origin::default(),
        }),
        Request::ConfirmTotp(ConfirmTotp {
            name: "alice".into(),
            code: s(),
        }),
        Request::ConfirmSms(ConfirmSms {
            name: "alice".into(),
            code: s(),
        }),
        Request::DisableTwoFactor(DisableTwoFactor {
            name: "alice".into(),
            method: FactorChoice::All,
            proof: Proof {
                password: s(),
                code: Some(s()),
            },
        }),
        Request::RegenerateRecoveryCodes(RegenerateRecoveryCodes {
            name: "alice".into(),
            proof: Some(Proof {
                password: s(),
                code: Some(s()),
            }),
        }),
        Request::SendReset(SendReset {
            name: "alice".into(),
            proof: Some(Proof {
                password: s(),
                code: Some(s()),
            }),
        }),
        Request::ResetPassword(ResetPassword {
            token: s(),
            password: s(),
        }),
        Request::PortalSignIn(PortalSignIn {
            name: "alice".into(),
            password: s(),
            origin: Origin::default(),
        }),
        Request::PortalCode(PortalCode {
            name: "alice".into(),
            challenge: s(),
            code: s(),
            origin: Origin::default(),
        }),
        Request::PortalProve(PortalProve {
            session: s(),
            proof: Proof {
                password: s(),
                code: Some(s()),
            },
        }),
        Request::PortalAct(PortalAct {
            session: s(),
            action: PortalAction::ChangePassword { new: s() },
        }),
        Request::PortalAct(PortalAct {
            session: s(),
            action: PortalAction::ConfirmTotp { code: s() },
        }),
        Request::PortalAct(PortalAct {
            session: s(),
            action: PortalAction::ConfirmSms { code: s() },
        }),
        Request::PortalSendCode(PortalSendCode {
            name: "alice".into(),
            challenge: s(),
        }),
        Request::RemoveKey(RemoveKey {
            name: "alice".into(),
            id: "0a1b2c3d".into(),
            proof: FactorProof::Code(Proof {
                password: s(),
                code: Some(s()),
            }),
        }),
        Request::KeyLoginFinish(KeyLoginFinish {
            name: "alice".into(),
            key: KeyAssertion {
                challenge: s(),
                assertion: s(),
            },
            origin: Origin::default(),
        }),
        Request::Import(Import {
            session: None,
            step: ImportStep::Stage(vec![
                ImportEntry {
                    line: 1,
                    name: "alice".into(),
                    password: Some(ImportPassword::Plain(s())),
                    email: Change::Keep,
                    phone: Change::Keep,
                    sso: Change::Keep,
                    disabled: None,
                },
                ImportEntry {
                    line: 2,
                    name: "bob".into(),
                    password: Some(ImportPassword::Hashed(s())),
                    email: Change::Keep,
                    phone: Change::Keep,
                    sso: Change::Keep,
                    disabled: None,
                },
            ]),
        }),
    ]
}

#[test]
fn debug_output_never_shows_a_secret() {
    for req in requests_with_secrets() {
        for shown in [format!("{req:?}"), format!("{req:#?}")] {
            assert!(!shown.contains(PLANTED), "secret leaked: {shown}");
            assert!(shown.contains("<redacted>"), "no redaction marker: {shown}");
        }
    }
}

#[test]
fn responses_carrying_secrets_redact_them_too() {
    let s = || Secret::new(PLANTED);
    for resp in [
        Response::TotpEnrolment {
            secret: s(),
            otpauth_uri: s(),
        },
        Response::Confirmed {
            recovery_codes: vec![s()],
        },
        Response::RecoveryCodes { codes: vec![s()] },
        Response::SessionIssued {
            name: "alice".into(),
            id: 1,
            token: s(),
            expires: 0,
        },
        Response::SecondFactorRequired {
            methods: vec![SecondFactor::Totp],
            challenge: Some(s()),
            sms_sent_to: None,
        },
    ] {
        assert!(!format!("{resp:?}").contains(PLANTED));
    }
}

#[test]
fn every_error_code_has_a_distinct_name() {
    let all = [
        ErrorCode::Denied,
        ErrorCode::SecondFactorRequired,
        ErrorCode::BadRequest,
        ErrorCode::VersionMismatch,
        ErrorCode::InvalidInput,
        ErrorCode::WeakPassword,
        ErrorCode::Exists,
        ErrorCode::SsoAccount,
        ErrorCode::NotEnrolled,
        ErrorCode::NoSuchUser,
        ErrorCode::Locked,
        ErrorCode::RateLimited,
        ErrorCode::PermissionDenied,
        ErrorCode::Busy,
        ErrorCode::Internal,
        ErrorCode::SessionInvalid,
        ErrorCode::FreshProofRequired,
        ErrorCode::SmsUnavailable,
        ErrorCode::HotpUnsupported,
        ErrorCode::Disabled,
        ErrorCode::Expired,
    ];
    let names: std::collections::HashSet<_> = all.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), all.len());
}
