//! `PortalSendCode`: the portal asks authd to text a login code for a sign-in under way.
//! Only the live challenge of that very account's sign-in, through the portal uid,
//! sends anything; the challenge is not spent by it. Called as the portal uid directly,
//! the way an attacker who took over authd-web would. Needs root, for setpriv.

use std::os::unix::net::UnixStream;

use authd::protocol::{
    ErrorCode, Origin, PortalCode, PortalSendCode, PortalSignIn, Request, Response, Secret,
};

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;
use crate::portal::{ask, connect_as, error_code as refused};
use crate::sms_gateway::{Gateway, PHONE};

fn origin() -> Origin {
    Origin {
        service: Some("authd-web".into()),
        remote_host: Some("192.0.2.7".into()),
    }
}

/// Sign `name` in with its password: the challenge for the code.
#[track_caller]
fn challenge(s: &mut UnixStream, name: &str) -> Secret {
    let request = Request::PortalSignIn(PortalSignIn {
        name: name.into(),
        password: Secret::new(GOOD_PW),
        origin: origin(),
    });
    match ask(s, request) {
        Response::SecondFactorRequired {
            challenge: Some(c), ..
        } => c,
        other => panic!("no challenge: {other:?}"),
    }
}

fn send_code(name: &str, challenge: &Secret) -> Request {
    Request::PortalSendCode(PortalSendCode {
        name: name.into(),
        challenge: challenge.clone(),
    })
}

#[test]
fn only_the_live_challenge_of_that_accounts_sign_in_sends_a_code() {
    if !can_switch_uid() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (gw, sms) = Gateway::new(dir.path());
    let d = Daemon::start_with(&format!(
        "portal_users = [\"nobody\"]\n{sms}min_interval = \"0s\"\n"
    ));
    for name in ["alice", "bob"] {
        d.user_with_password(name);
        assert_ok(&d.ctl(&["enable-sms", name, "--phone", PHONE]));
    }
    assert_ok(&d.ctl(&["confirm-sms", "alice", &gw.code(1)]));
    assert_ok(&d.ctl(&["confirm-sms", "bob", &gw.code(2)]));
    d.user_with_password("carol");
    let mut web = connect_as(NOBODY, &d);

    // SMS-only: the password step texts a code (3 for alice, 4 for bob).
    let alices = challenge(&mut web, "alice");
    gw.code(3);
    let bobs = challenge(&mut web, "bob");
    gw.code(4);

    // A forged challenge, bob's challenge for alice, alice's name with a garbled token,
    // and a name that has no sign-in: denied, and nothing is sent.
    let forged = Secret::new("0".repeat(80));
    let mut garbled = alices.expose().to_string();
    garbled.replace_range(70.., "0000000000");
    for (name, c) in [
        ("alice", &forged),
        ("alice", &bobs),
        ("carol", &alices),
        ("alice", &Secret::new(garbled)),
    ] {
        assert_eq!(
            refused(ask(&mut web, send_code(name, c))),
            ErrorCode::Denied
        );
    }
    // A failed try spends the challenge it names, as a failed code does: bob's went with
    // the try in alice's name, alice's with the try in carol's.
    assert_eq!(
        refused(ask(&mut web, send_code("bob", &bobs))),
        ErrorCode::Denied
    );
    assert_eq!(
        refused(ask(&mut web, send_code("alice", &alices))),
        ErrorCode::Denied
    );
    assert_eq!(gw.messages().len(), 4, "nothing was sent");
    let log = d.log();
    assert!(
        log.contains("portal request with an unknown, spent or another account's challenge"),
        "{log}"
    );
    assert!(!log.contains(alices.expose()), "a challenge in the log");

    // A live challenge: a new code, and the challenge still takes it.
    let alices = challenge(&mut web, "alice");
    gw.code(5);
    match ask(&mut web, send_code("alice", &alices)) {
        Response::SmsSent { to, .. } => assert_eq!(to, "+49*****820"),
        other => panic!("no code sent: {other:?}"),
    }
    let code = gw.code(6);
    let signed_in = Request::PortalCode(PortalCode {
        name: "alice".into(),
        challenge: alices.clone(),
        code: Secret::new(code),
        origin: origin(),
    });
    assert!(matches!(
        ask(&mut web, signed_in),
        Response::SessionIssued { .. }
    ));
    // Spent by the sign-in: no more codes for it.
    assert_eq!(
        refused(ask(&mut web, send_code("alice", &alices))),
        ErrorCode::Denied
    );

    // Only the portal may ask (root is an admin, and admins do not speak for it).
    let mut admin = d.client();
    let asked = admin.call(&send_code("alice", &alices));
    assert_eq!(
        asked.unwrap_err().remote_code(),
        Some(ErrorCode::PermissionDenied)
    );
    assert_eq!(gw.messages().len(), 6);
}
