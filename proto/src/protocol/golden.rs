//! Golden bytes of one request of every kind, every field set, as `codec::encode` frames
//! them (length prefix included). A change to a request's fields, their order or the
//! order of the variants changes these bytes, and then `PROTOCOL_VERSION` must change
//! too: clients and daemons of one version must understand each other byte for byte.
//!
//! Each secret field holds its own value, so two secrets swapped in a declaration show
//! here as well.

use super::*;
use crate::codec::{decode, encode};

fn s(value: &str) -> Secret {
    Secret::new(value)
}

fn proof() -> Proof {
    Proof {
        password: s("pw"),
        code: Some(s("123456")),
    }
}

fn origin() -> Origin {
    Origin {
        service: Some("sshd".into()),
        remote_host: Some("h".into()),
    }
}

/// The variant's name; exhaustive, so a new variant cannot be left out of `GOLDEN`.
fn kind(request: &Request) -> &'static str {
    match request {
        Request::Hello { .. } => "Hello",
        Request::Status => "Status",
        Request::AddUser { .. } => "AddUser",
        Request::RemoveUser { .. } => "RemoveUser",
        Request::ListUsers { .. } => "ListUsers",
        Request::ShowUser { .. } => "ShowUser",
        Request::SetUser { .. } => "SetUser",
        Request::SetPassword { .. } => "SetPassword",
        Request::ChangePassword { .. } => "ChangePassword",
        Request::Verify { .. } => "Verify",
        Request::VerifyCode { .. } => "VerifyCode",
        Request::EnableTotp { .. } => "EnableTotp",
        Request::ConfirmTotp { .. } => "ConfirmTotp",
        Request::EnableSms { .. } => "EnableSms",
        Request::ConfirmSms { .. } => "ConfirmSms",
        Request::SendCode { .. } => "SendCode",
        Request::DisableTwoFactor { .. } => "DisableTwoFactor",
        Request::ResetTwoFactor { .. } => "ResetTwoFactor",
        Request::RegenerateRecoveryCodes { .. } => "RegenerateRecoveryCodes",
        Request::SendReset { .. } => "SendReset",
        Request::ResetPassword { .. } => "ResetPassword",
        Request::Outbox { .. } => "Outbox",
        Request::Backup { .. } => "Backup",
        Request::Unlock { .. } => "Unlock",
        Request::Log { .. } => "Log",
        Request::PortalSignIn { .. } => "PortalSignIn",
        Request::PortalCode { .. } => "PortalCode",
        Request::PortalProve { .. } => "PortalProve",
        Request::PortalAct { .. } => "PortalAct",
        Request::ListSessions { .. } => "ListSessions",
        Request::Logout { .. } => "Logout",
        Request::PortalSendCode { .. } => "PortalSendCode",
        Request::PortalForgot { .. } => "PortalForgot",
        Request::KeyRegisterStart { .. } => "KeyRegisterStart",
        Request::KeyRegisterFinish { .. } => "KeyRegisterFinish",
        Request::ListKeys { .. } => "ListKeys",
        Request::RemoveKey { .. } => "RemoveKey",
        Request::KeyLoginStart { .. } => "KeyLoginStart",
        Request::KeyLoginFinish { .. } => "KeyLoginFinish",
        Request::PortalKeyStart { .. } => "PortalKeyStart",
        Request::PortalKey { .. } => "PortalKey",
        Request::PortalProveKeyStart { .. } => "PortalProveKeyStart",
        Request::PortalProveKey { .. } => "PortalProveKey",
        Request::ImportGoogleAuthenticator { .. } => "ImportGoogleAuthenticator",
        Request::OutboxRetry { .. } => "OutboxRetry",
        Request::OutboxPurge { .. } => "OutboxPurge",
        Request::Metrics => "Metrics",
        Request::Import { .. } => "Import",
        Request::CheckResetToken { .. } => "CheckResetToken",
        Request::Disable { .. } => "Disable",
        Request::Enable { .. } => "Enable",
        Request::SetLifecycle { .. } => "SetLifecycle",
        Request::ShowLifecycle { .. } => "ShowLifecycle",
        Request::ListAccounts { .. } => "ListAccounts",
    }
}

/// How many arms `kind` has: one request of each goes into `GOLDEN`.
const VARIANTS: usize = 54;

fn requests() -> Vec<Request> {
    vec![
        Request::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: "pam".into(),
        }),
        Request::Status,
        Request::AddUser(AddUser {
            name: "al".into(),
            email: Some("a@b".into()),
            phone: Some("+1".into()),
            sso: Some("idp".into()),
        }),
        Request::RemoveUser(RemoveUser { name: "al".into() }),
        Request::ListUsers(ListUsers {
            after: Some("al".into()),
            limit: 300,
        }),
        Request::ShowUser(ShowUser { name: "al".into() }),
        Request::SetUser(SetUser {
            name: "al".into(),
            email: Change::Set("a@b".into()),
            phone: Change::Clear,
            sso: Change::Keep,
        }),
        Request::SetPassword(SetPassword {
            name: "al".into(),
            password: s("pw"),
        }),
        Request::ChangePassword(ChangePassword {
            name: "al".into(),
            current: s("old"),
            code: Some(s("123456")),
            new: s("new"),
        }),
        Request::Verify(Verify {
            name: "al".into(),
            password: s("pw"),
            code: Some(s("123456")),
            origin: origin(),
        }),
        Request::VerifyCode(VerifyCode {
            name: "al".into(),
            challenge: s("ch"),
            code: s("123456"),
            origin: origin(),
        }),
        Request::EnableTotp(EnableTotp {
            name: "al".into(),
            proof: Some(proof()),
        }),
        Request::ConfirmTotp(ConfirmTotp {
            name: "al".into(),
            code: s("123456"),
        }),
        Request::EnableSms(EnableSms {
            name: "al".into(),
            phone: Some("+1".into()),
            proof: Some(proof()),
        }),
        Request::ConfirmSms(ConfirmSms {
            name: "al".into(),
            code: s("123456"),
        }),
        Request::SendCode(SendCode { name: "al".into() }),
        Request::DisableTwoFactor(DisableTwoFactor {
            name: "al".into(),
            method: FactorChoice::Sms,
            proof: proof(),
        }),
        Request::ResetTwoFactor(ResetTwoFactor { name: "al".into() }),
        Request::RegenerateRecoveryCodes(RegenerateRecoveryCodes {
            name: "al".into(),
            proof: Some(proof()),
        }),
        Request::SendReset(SendReset {
            name: "al".into(),
            proof: Some(proof()),
        }),
        Request::ResetPassword(ResetPassword {
            token: s("tok"),
            password: s("pw"),
        }),
        Request::Outbox(Outbox {
            after: Some(70_000),
            limit: 5,
        }),
        Request::Backup(Backup {
            session: Some(u64::MAX),
            offset: 1 << 20,
        }),
        Request::Unlock(Unlock { name: "al".into() }),
        Request::Log(Log {
            name: "al".into(),
            before: Some(9),
            limit: 7,
        }),
        Request::PortalSignIn(PortalSignIn {
            name: "al".into(),
            password: s("pw"),
            origin: origin(),
        }),
        Request::PortalCode(PortalCode {
            name: "al".into(),
            challenge: s("ch"),
            code: s("123456"),
            origin: origin(),
        }),
        Request::PortalProve(PortalProve {
            session: s("se"),
            proof: proof(),
        }),
        Request::PortalAct(PortalAct {
            session: s("se"),
            action: PortalAction::DisableTwoFactor {
                method: FactorChoice::Totp,
            },
        }),
        Request::ListSessions(ListSessions { name: "al".into() }),
        Request::Logout(Logout {
            name: "al".into(),
            id: Some(3),
        }),
        Request::PortalSendCode(PortalSendCode {
            name: "al".into(),
            challenge: s("ch"),
        }),
        Request::PortalForgot(PortalForgot {
            name: "al".into(),
            origin: origin(),
        }),
        // Appended: security keys.
        Request::KeyRegisterStart(KeyRegisterStart {
            name: "al".into(),
            key_name: "yk".into(),
            proof: Some(FactorProof::Key(KeyAssertion {
                challenge: s("ch"),
                assertion: s("{}"),
            })),
        }),
        Request::KeyRegisterFinish(KeyRegisterFinish {
            name: "al".into(),
            challenge: s("ch"),
            credential: "{}".into(),
        }),
        Request::ListKeys(ListKeys { name: "al".into() }),
        Request::RemoveKey(RemoveKey {
            name: "al".into(),
            id: "0a1b2c3d".into(),
            proof: FactorProof::Code(proof()),
        }),
        Request::KeyLoginStart(KeyLoginStart {
            name: "al".into(),
            challenge: s("ch"),
        }),
        Request::KeyLoginFinish(KeyLoginFinish {
            name: "al".into(),
            key: KeyAssertion {
                challenge: s("ch"),
                assertion: s("{}"),
            },
            origin: origin(),
        }),
        Request::PortalKeyStart(KeyLoginStart {
            name: "al".into(),
            challenge: s("ch"),
        }),
        Request::PortalKey(KeyLoginFinish {
            name: "al".into(),
            key: KeyAssertion {
                challenge: s("ch"),
                assertion: s("{}"),
            },
            origin: origin(),
        }),
        Request::PortalProveKeyStart(PortalProveKeyStart {
            session: s("se"),
            password: s("pw"),
            origin: origin(),
        }),
        Request::PortalProveKey(PortalProveKey {
            session: s("se"),
            key: KeyAssertion {
                challenge: s("ch"),
                assertion: s("{}"),
            },
        }),
        Request::ImportGoogleAuthenticator(ImportGoogleAuthenticator {
            name: "al".into(),
            file: s("GA"),
            replace: true,
        }),
        Request::OutboxRetry(OutboxRetry {
            target: OutboxTarget::Id(7),
        }),
        Request::OutboxPurge(OutboxPurge {
            target: OutboxTarget::Failed,
        }),
        Request::Metrics,
        // Appended: bulk import.
        Request::Import(Import {
            session: Some(7),
            step: ImportStep::Stage(vec![ImportEntry {
                line: 3,
                name: "al".into(),
                password: Some(ImportPassword::Hashed(s("$6$x"))),
                email: Change::Set("a@b".into()),
                phone: Change::Clear,
                sso: Change::Keep,
                disabled: Some(false),
            }]),
        }),
        Request::CheckResetToken(CheckResetToken { token: s("tok") }),
        Request::Disable(Disable {
            name: "al".into(),
            reason: Some("left".into()),
        }),
        Request::Enable(Enable { name: "al".into() }),
        Request::SetLifecycle(SetLifecycle {
            name: "al".into(),
            expires: Change::Set(300),
            must_change_password: Some(true),
            max_password_age: Change::Set(PasswordAge::Days(90)),
        }),
        Request::ShowLifecycle(ShowLifecycle { name: "al".into() }),
        Request::ListAccounts(ListUsers {
            after: Some("al".into()),
            limit: 300,
        }),
    ]
}

/// (variant, frame in hex) — never edit a line to make the test pass: a changed line
/// is a protocol change.
const GOLDEN: &[(&str, &str)] = &[
    ("Hello", "0000000600020370616d"),
    ("Status", "0000000101"),
    ("AddUser", "000000120202616c010361406201022b310103696470"),
    ("RemoveUser", "000000040302616c"),
    ("ListUsers", "00000008040102616cfb2c01"),
    ("ShowUser", "000000040502616c"),
    ("SetUser", "0000000b0602616c01036140620200"),
    ("SetPassword", "000000070702616c027077"),
    (
        "ChangePassword",
        "000000140802616c036f6c640106313233343536036e6577",
    ),
    (
        "Verify",
        "000000180902616c0270770106313233343536010473736864010168",
    ),
    (
        "VerifyCode",
        "000000170a02616c02636806313233343536010473736864010168",
    ),
    ("EnableTotp", "000000100b02616c010270770106313233343536"),
    ("ConfirmTotp", "0000000b0c02616c06313233343536"),
    (
        "EnableSms",
        "000000140d02616c01022b31010270770106313233343536",
    ),
    ("ConfirmSms", "0000000b0e02616c06313233343536"),
    ("SendCode", "000000040f02616c"),
    (
        "DisableTwoFactor",
        "000000101002616c010270770106313233343536",
    ),
    ("ResetTwoFactor", "000000041102616c"),
    (
        "RegenerateRecoveryCodes",
        "000000101202616c010270770106313233343536",
    ),
    ("SendReset", "000000101302616c010270770106313233343536"),
    ("ResetPassword", "000000081403746f6b027077"),
    ("Outbox", "000000081501fc7011010005"),
    ("Backup", "000000101601fdfffffffffffffffffc00001000"),
    ("Unlock", "000000041702616c"),
    ("Log", "000000071802616c010907"),
    ("PortalSignIn", "000000101902616c027077010473736864010168"),
    (
        "PortalCode",
        "000000171a02616c02636806313233343536010473736864010168",
    ),
    ("PortalProve", "0000000f1b0273650270770106313233343536"),
    ("PortalAct", "000000061c0273650400"),
    ("ListSessions", "000000041d02616c"),
    ("Logout", "000000061e02616c0103"),
    ("PortalSendCode", "000000071f02616c026368"),
    ("PortalForgot", "0000000d2002616c010473736864010168"),
    ("KeyRegisterStart", "0000000f2102616c02796b0101026368027b7d"),
    ("KeyRegisterFinish", "0000000a2202616c026368027b7d"),
    ("ListKeys", "000000042302616c"),
    (
        "RemoveKey",
        "000000192402616c083061316232633364000270770106313233343536",
    ),
    ("KeyLoginStart", "000000072502616c026368"),
    (
        "KeyLoginFinish",
        "000000132602616c026368027b7d010473736864010168",
    ),
    ("PortalKeyStart", "000000072702616c026368"),
    (
        "PortalKey",
        "000000132802616c026368027b7d010473736864010168",
    ),
    (
        "PortalProveKeyStart",
        "0000001029027365027077010473736864010168",
    ),
    ("PortalProveKey", "0000000a2a027365026368027b7d"),
    ("ImportGoogleAuthenticator", "000000082b02616c02474101"),
    ("OutboxRetry", "000000032c0007"),
    ("OutboxPurge", "000000022d01"),
    ("Metrics", "000000012e"),
    (
        "Import",
        "000000192f010700010302616c01010424362478010361406202000100",
    ),
    ("CheckResetToken", "000000053003746f6b"),
    ("Disable", "0000000a3102616c01046c656674"),
    ("Enable", "000000043202616c"),
    ("SetLifecycle", "0000000d3302616c01fb2c01010101015a"),
    ("ShowLifecycle", "000000043402616c"),
    ("ListAccounts", "00000008350102616cfb2c01"),
];

/// The error codes added after protocol 2's, by their variant index on the wire.
const GOLDEN_ERROR_CODES: &[(ErrorCode, u8)] = &[
    (ErrorCode::SessionInvalid, 15),
    (ErrorCode::FreshProofRequired, 16),
    (ErrorCode::SmsUnavailable, 17),
    (ErrorCode::HotpUnsupported, 18),
    (ErrorCode::Disabled, 19),
    (ErrorCode::Expired, 20),
];

#[test]
fn appended_error_codes_keep_their_index() {
    for (code, index) in GOLDEN_ERROR_CODES {
        let bytes = bincode::serde::encode_to_vec(code, bincode::config::standard()).unwrap();
        assert_eq!(bytes, [*index], "{code:?}");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_request_kind_has_golden_bytes() {
    let kinds: Vec<&str> = requests().iter().map(kind).collect();
    let golden: Vec<&str> = GOLDEN.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, golden);
    let distinct: std::collections::HashSet<_> = kinds.iter().collect();
    assert_eq!(distinct.len(), VARIANTS, "one request of each kind");
}

#[test]
fn requests_encode_to_the_golden_bytes_and_back() {
    for (request, (kind, frame)) in requests().into_iter().zip(GOLDEN.iter().copied()) {
        let encoded = encode(&request).unwrap();
        assert_eq!(
            hex(&encoded),
            frame,
            "{kind}: the bytes on the wire changed"
        );
        assert_eq!(decode::<Request>(&encoded[4..]).unwrap(), request, "{kind}");
    }
}

#[test]
#[ignore = "prints the table; run by hand only for a deliberate protocol change"]
fn print_golden() {
    for request in requests() {
        let encoded = encode(&request).unwrap();
        println!("    (\"{}\", \"{}\"),", kind(&request), hex(&encoded));
    }
}
