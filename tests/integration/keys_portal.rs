//! Security keys through the portal role (what authd-web will call), with raw requests
//! as the portal uid (`nobody`; needs root for setpriv) and the test holding the soft
//! tokens itself: a sign-in finished by a key opens a session, and a session lists,
//! adds (fresh proof) and removes (fresh proof) keys.

use std::fs::OpenOptions;

use authd::protocol::{
    ErrorCode, KeyAssertion, KeyLoginFinish, KeyLoginStart, Origin, PortalAction, Request,
    Response, SecondFactor, Secret,
};
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softtoken::{SoftToken, SoftTokenFile};

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;
use crate::keys::{add_key, token, WEBAUTHN};
use crate::keys_wire::answer;
use crate::portal::{act, ask, connect_as, error_code, sign_in};

fn keys(s: &mut std::os::unix::net::UnixStream, session: &Secret) -> Vec<String> {
    match ask(s, act(session, PortalAction::Keys)) {
        Response::Keys { keys } => keys.into_iter().map(|k| k.id).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_portal_sign_in_finished_by_a_key_manages_the_accounts_keys() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start_with_config(&format!(
        "portal_users = [\"nobody\"]\n{TEST_CONFIG}{WEBAUTHN}"
    ));
    d.user_with_password("alice");
    let t = token(&d, "alice");
    let first = add_key(&d, "alice", &t);
    let mut s = connect_as(NOBODY, &d);

    let challenge = match ask(&mut s, sign_in("alice", GOOD_PW)) {
        Response::SecondFactorRequired {
            methods,
            challenge: Some(c),
            ..
        } => {
            assert_eq!(methods, vec![SecondFactor::SecurityKey]);
            c
        }
        other => panic!("{other:?}"),
    };
    // The ordinary key requests are not the portal's.
    let start = KeyLoginStart {
        name: "alice".into(),
        challenge: challenge.clone(),
    };
    let refused = ask(&mut s, Request::KeyLoginStart(start.clone()));
    assert_eq!(error_code(refused), ErrorCode::PermissionDenied);
    let options = match ask(&mut s, Request::PortalKeyStart(start)) {
        Response::KeyAssertionOptions { options, .. } => serde_json::from_str(&options).unwrap(),
        other => panic!("{other:?}"),
    };
    let finish = KeyLoginFinish {
        name: "alice".into(),
        key: KeyAssertion {
            challenge,
            assertion: answer(&t, options),
        },
        origin: Origin::default(),
    };
    let session = match ask(&mut s, Request::PortalKey(finish)) {
        Response::SessionIssued { token, .. } => token,
        other => panic!("{other:?}"),
    };
    assert_eq!(keys(&mut s, &session), vec![first.clone()]);

    // A second key, registered the way a browser would.
    let add = PortalAction::AddKey {
        key_name: "backup".into(),
    };
    let (challenge, options) = match ask(&mut s, act(&session, add)) {
        Response::KeyRegistration {
            challenge, options, ..
        } => (challenge, options),
        other => panic!("{other:?}"),
    };
    let file = d.dir.path().join("second.softtoken");
    let file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let mut second = SoftTokenFile::new(SoftToken::new(false).unwrap().0, file);
    let options: CreationChallengeResponse = serde_json::from_str(&options).unwrap();
    let origin = Url::parse("https://login.example.test").unwrap();
    let credential = second.do_registration(origin, options).unwrap();
    let finish = PortalAction::FinishKey {
        challenge,
        credential: serde_json::to_string(&credential).unwrap(),
    };
    match ask(&mut s, act(&session, finish)) {
        Response::Confirmed { recovery_codes } => assert!(recovery_codes.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(keys(&mut s, &session).len(), 2);

    let remove = PortalAction::RemoveKey { id: first };
    assert_eq!(ask(&mut s, act(&session, remove)), Response::Done);
    assert_eq!(keys(&mut s, &session).len(), 1);
    assert_eq!(d.events("alice", "key-removed").len(), 1);
}
