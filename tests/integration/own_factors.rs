//! Choosing one's own second factor needs proof, not just a session: someone at a user's
//! unlocked terminal (running as that uid) must not be able to enrol an authenticator
//! app or a phone of their own, and so lock the user out or take the factor over.
//! Admins enrol for others without it.

use authd::protocol::{EnableSms, EnableTotp, ErrorCode, Request, Response};

use crate::authz::NOBODY;
use crate::daemon::*;
use crate::other_uids::{call, can_connect_as_others, connections_as, hello};

#[test]
fn a_session_alone_cannot_enrol_its_own_second_factor() {
    if !can_connect_as_others() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("nobody");
    let mut conn = connections_as(NOBODY, &d, 1).pop().unwrap();
    assert!(matches!(
        call(&mut conn, &hello()),
        Some(Response::Welcome { .. })
    ));
    for request in [
        Request::EnableTotp(EnableTotp {
            name: "nobody".into(),
            proof: None,
        }),
        Request::EnableSms(EnableSms {
            name: "nobody".into(),
            phone: Some("+4930901820".into()),
            proof: None,
        }),
    ] {
        match call(&mut conn, &request) {
            Some(Response::Error(e)) => assert_eq!(e.code, ErrorCode::Denied, "{e:?}"),
            other => panic!("enrolled without proof: {other:?}"),
        }
    }
    let state = json(&d.ctl(&["--json", "show", "nobody"]));
    assert_eq!(
        (&state["totp"], &state["sms"]),
        (&"off".into(), &"off".into())
    );

    // With the password, through authctl as that user: enrolled.
    let wrong = d.ctl_as(
        NOBODY,
        "wrong-password-1\n",
        &["--json", "enable-totp", "nobody"],
    );
    assert_exit(&wrong, 1);
    assert_eq!(json(&wrong)["error"]["code"], "denied");
    let right = d.ctl_as(
        NOBODY,
        &format!("{GOOD_PW}\n"),
        &["--json", "enable-totp", "nobody"],
    );
    assert_ok(&right);
    assert!(json(&right)["secret"].is_string());
    assert_eq!(
        json(&d.ctl(&["--json", "show", "nobody"]))["totp"],
        "pending"
    );
    // The wrong password was a failed guess like any other, in the audit trail.
    let log = stdout(&d.ctl(&["log", "nobody"]));
    assert!(log.contains("enable-totp; wrong password"), "{log}");
}

#[test]
fn an_admin_enrols_another_account_without_its_password() {
    let d = Daemon::start();
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["--json", "enable-totp", "alice"]));
    assert_eq!(
        json(&d.ctl(&["--json", "show", "alice"]))["totp"],
        "pending"
    );
}
