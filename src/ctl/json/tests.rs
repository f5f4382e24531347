//! Every object authctl prints against authctl(1) JSON OUTPUT, without a daemon: each
//! result built as the commands build it, printed through `outcome`, and checked to have
//! exactly the fields the page documents. Against a real daemon:
//! `tests/integration/json_output.rs`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use super::manual::{check, objects};
use super::*;
use crate::ctl::import::ImportSummary;
use authd_proto::protocol::{
    AccountInfo, AccountSummary, AuditEntry, FactorState, KeyInfo, Lifecycle, OutboxEntry,
    SecondFactor, SessionInfo, StatusInfo,
};

const PAGE: &str = include_str!("../../../man/authctl.1");
const T: u64 = 1_800_000_000;

fn key() -> KeyInfo {
    KeyInfo {
        id: "3fa2b1c0".into(),
        name: "yk".into(),
        created: T,
        last_used: Some(T),
        counter: 3,
        transports: vec!["usb".into()],
    }
}

fn account() -> Outcome {
    let info = AccountInfo {
        name: "alice".into(),
        email: Some("alice@example.org".into()),
        phone: None,
        sso: None,
        password_set: true,
        totp: FactorState::On,
        sms: FactorState::Off,
        recovery_codes_left: 10,
        sms_number: None,
        locked_until: Some(T),
        failures: 5,
        created: T,
    };
    let lifecycle = Lifecycle {
        name: "alice".into(),
        disabled: false,
        disabled_reason: None,
        disabled_since: None,
        expires: Some(T),
        expired: false,
        must_change_password: false,
        password_changed: Some(T),
        max_password_age_days: Some(90),
        password_expires: Some(T),
        password_change_required: false,
        last_login: None,
        last_login_service: None,
    };
    Outcome::Account(info, vec![key()], Box::new(lifecycle))
}

fn status(metrics: Option<String>) -> Outcome {
    let info = StatusInfo {
        server_version: "0.1.0".into(),
        protocol: 2,
        uptime_secs: 1,
        accounts: 1,
        schema_version: 1,
        outbox_queued: 0,
        outbox_failed: 0,
        hash_workers: 2,
        hashes: 7,
    };
    Outcome::Status(info, metrics)
}

const EXPOSITION: &str = "# TYPE a counter\na_total{method=\"totp\"} 2\n";

/// Each result, with the object of the page it prints.
fn results() -> Vec<(&'static str, Outcome)> {
    let event = AuditEntry {
        seq: 1,
        at: T,
        action: "verify".into(),
        outcome: "ok".into(),
        actor: "uid 0 (root) pid 4242".into(),
        detail: "service=sshd; password".into(),
    };
    let message = OutboxEntry {
        id: 0,
        account: "alice".into(),
        channel: "mail".into(),
        to: "alice@example.org".into(),
        subject: "Reset your password".into(),
        created: T,
        attempts: 1,
        next_attempt: T,
        last_error: Some("refused".into()),
        failed: false,
        delivered: None,
    };
    let session = SessionInfo {
        id: 1,
        created: T,
        last_used: T,
        expires: T,
        origin: "10.0.0.1".into(),
    };
    vec![
        ("done", Outcome::Done("added alice".into())),
        (
            "reset_mailed",
            Outcome::ResetMailed {
                message: "queued".into(),
                expires: T,
            },
        ),
        (
            "backup",
            Outcome::Backup {
                message: "written".into(),
                path: PathBuf::from("/srv/b"),
                records: 12,
            },
        ),
        (
            "sms_sent",
            Outcome::SmsSent {
                message: "sent".into(),
                to: "+49*****820".into(),
                expires: T,
            },
        ),
        (
            "sessions_ended",
            Outcome::SessionsEnded {
                message: "ended".into(),
                count: 2,
            },
        ),
        ("verified", Outcome::Verified("alice".into(), None)),
        (
            "verified",
            Outcome::Verified("alice".into(), Some("too old".into())),
        ),
        (
            "totp_enrolment",
            Outcome::TotpEnrolment {
                name: "alice".into(),
                secret: "GEZD".into(),
                uri: "otpauth://totp/authd:alice?secret=GEZD".into(),
                qr: String::new(),
                png: None,
            },
        ),
        (
            "recovery_codes",
            Outcome::RecoveryCodes {
                message: "on".into(),
                codes: vec!["a".into()],
            },
        ),
        ("users", Outcome::Users(vec!["alice".into()])),
        ("account", account()),
        ("log", Outcome::Log("alice".into(), vec![event])),
        ("status", status(None)),
        ("status", status(Some(EXPOSITION.into()))),
        ("metrics", Outcome::Metrics(EXPOSITION.into())),
        (
            "import",
            Outcome::Imported(ImportSummary {
                ok: true,
                dry_run: false,
                lines: 1,
                created: 1,
                updated: 0,
                unchanged: 0,
                hashed: 1,
            }),
        ),
        ("outbox", Outcome::Outbox(vec![message])),
        (
            "outbox_changed",
            Outcome::OutboxChanged {
                action: "retry",
                count: 1,
                dropped: 0,
            },
        ),
        (
            "totp_imported",
            Outcome::TotpImported {
                name: "alice".into(),
                recovery_codes: 5,
                replaced: false,
                ignored: vec!["RATE_LIMIT".into()],
            },
        ),
        ("sessions", Outcome::Sessions("alice".into(), vec![session])),
        ("keys", Outcome::Keys("alice".into(), vec![key()])),
    ]
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn every_object_has_exactly_the_documented_fields() {
    let page = objects(PAGE);
    let mut seen = BTreeSet::new();
    for (object, result) in results() {
        let printed = parse(&outcome(&result));
        check(&printed, object, &page, &mut seen).unwrap();
    }
    let summary = AccountSummary {
        name: "alice".into(),
        disabled: false,
        expired: false,
        locked_until: None,
        password_set: true,
        password_change_required: false,
        sso: None,
        factors: vec![SecondFactor::Totp],
        password_changed: Some(T),
        last_login: None,
        last_login_service: None,
    };
    let line = AccountLine::new(&summary, "active".into(), vec!["totp"], Some(3));
    // `list-users --long` writes this wrapper itself, page by page.
    let list = serde_json::json!({ "accounts": [line] });
    check(&list, "account_list", &page, &mut seen).unwrap();
    let locked = CtlError::Client(authd_proto::client::ClientError::Remote(
        authd_proto::protocol::WireError {
            code: authd_proto::protocol::ErrorCode::Locked,
            message: "locked".into(),
            retry_at: Some(T),
        },
    ));
    for printed in [
        error(&locked),
        error(&CtlError::Input("bad".into())),
        usage_error("unexpected argument"),
    ] {
        check(&parse(&printed), "error", &page, &mut seen).unwrap();
    }
    let documented: BTreeSet<String> = page.keys().cloned().collect();
    assert_eq!(
        seen, documented,
        "objects authctl(1) documents against those built"
    );
}

#[test]
fn the_optional_fields_are_there_when_they_apply() {
    let with = parse(&outcome(&status(Some(EXPOSITION.into()))));
    assert_eq!(with["metrics"][0]["labels"]["method"], "totp");
    assert!(parse(&outcome(&status(None))).get("metrics").is_none());
    let retry = CtlError::Client(authd_proto::client::ClientError::Remote(
        authd_proto::protocol::WireError {
            code: authd_proto::protocol::ErrorCode::RateLimited,
            message: "later".into(),
            retry_at: Some(T),
        },
    ));
    let printed = parse(&error(&retry));
    assert_eq!(printed["error"]["retry_at"], "2027-01-15T08:00:00Z");
    assert_eq!(printed["error"]["code"], "rate_limited");
}

#[test]
fn times_and_counts_are_fields() {
    let shown = parse(&outcome(&account()));
    assert_eq!(shown["locked_until"], "2027-01-15T08:00:00Z");
    assert_eq!(shown["expires"], "2027-01-15T08:00:00Z");
    assert_eq!(shown["password_expires"], "2027-01-15T08:00:00Z");
    let results = results();
    let backup = parse(&outcome(&results[2].1));
    assert_eq!(
        (backup["path"].as_str(), backup["records"].as_u64()),
        (Some("/srv/b"), Some(12))
    );
    let log = parse(&outcome(&results[11].1));
    let actor = &log["events"][0]["actor"];
    assert_eq!(
        (
            &actor["uid"],
            &actor["user"],
            &actor["pid"],
            &actor["service"]
        ),
        (
            &Value::from(0),
            &Value::from("root"),
            &Value::from(4242),
            &Value::from("sshd")
        )
    );
}

#[test]
fn the_page_parses_as_the_tests_need() {
    let page = objects(PAGE);
    let account = &page["account"];
    let keys = account.iter().find(|f| f.name == "security_keys").unwrap();
    assert_eq!(keys.object.as_deref(), Some("key"));
    let metrics = page["status"].iter().find(|f| f.name == "metrics").unwrap();
    assert!(metrics.optional);
    assert!(page["done"]
        .iter()
        .all(|f| !f.optional && f.object.is_none()));
}
