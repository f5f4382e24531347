//! Security keys through the portal role (what authd-web will call), with raw requests
//! as the portal uid (`nobody`; needs root for setpriv) and the test holding the soft
//! tokens itself: a sign-in finished by a key opens a session, and a session lists,
//! adds (fresh proof) and removes (fresh proof) keys; a stale session proves again by
//! password and key (`PortalProveKeyStart`, `PortalProveKey`), where a forged answer, a
//! spent challenge and another account's challenge are refused.

use std::fs::OpenOptions;

use authd::protocol::{
    ErrorCode, KeyAssertion, KeyLoginFinish, KeyLoginStart, Origin, PortalAction, PortalProveKey,
    PortalProveKeyStart, Request, Response, SecondFactor, Secret,
};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};
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

/// The challenge a password step answered with.
#[track_caller]
fn challenge_of(answer: Response) -> Secret {
    match answer {
        Response::SecondFactorRequired {
            methods,
            challenge: Some(c),
            ..
        } => {
            assert!(methods.contains(&SecondFactor::SecurityKey), "{methods:?}");
            c
        }
        other => panic!("{other:?}"),
    }
}

/// The assertion options for `name`'s challenge, answered by the soft token `t`.
fn key_answer(s: &mut UnixStream, name: &str, challenge: &Secret, t: &Path) -> KeyAssertion {
    let start = KeyLoginStart {
        name: name.into(),
        challenge: challenge.clone(),
    };
    let options = match ask(s, Request::PortalKeyStart(start)) {
        Response::KeyAssertionOptions { options, .. } => serde_json::from_str(&options).unwrap(),
        other => panic!("{other:?}"),
    };
    KeyAssertion {
        challenge: challenge.clone(),
        assertion: answer(t, options),
    }
}

fn prove_start(session: &Secret, password: &str) -> Request {
    Request::PortalProveKeyStart(PortalProveKeyStart {
        session: session.clone(),
        password: Secret::new(password),
        origin: Origin::default(),
    })
}

fn prove_key(session: &Secret, key: KeyAssertion) -> Request {
    Request::PortalProveKey(PortalProveKey {
        session: session.clone(),
        key,
    })
}

/// Start a key registration: a harmless act that needs a fresh proof.
fn fresh_act(s: &mut UnixStream, session: &Secret) -> Response {
    let add = PortalAction::AddKey {
        key_name: "probe".into(),
    };
    ask(s, act(session, add))
}

#[test]
fn a_stale_session_proves_again_with_the_password_and_a_touch_of_the_key() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start_with_config(&format!(
        "portal_users = [\"nobody\"]\n{TEST_CONFIG}{WEBAUTHN}[web]\nfresh_proof = 1\n"
    ));
    d.user_with_password("alice");
    d.user_with_password("bob");
    d.user_with_password("carol");
    let (ta, tb) = (token(&d, "alice"), token(&d, "bob"));
    add_key(&d, "alice", &ta);
    add_key(&d, "bob", &tb);
    let mut s = connect_as(NOBODY, &d);
    let challenge = challenge_of(ask(&mut s, sign_in("alice", GOOD_PW)));
    let key = key_answer(&mut s, "alice", &challenge, &ta);
    let finish = KeyLoginFinish {
        name: "alice".into(),
        key,
        origin: Origin::default(),
    };
    let session = match ask(&mut s, Request::PortalKey(finish)) {
        Response::SessionIssued { token, .. } => token,
        other => panic!("{other:?}"),
    };
    // fresh_proof = 1: the sign-in stops being a fresh proof a moment later.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match fresh_act(&mut s, &session) {
            Response::Error(e) if e.code == ErrorCode::FreshProofRequired => break,
            Response::KeyRegistration { .. } => {}
            other => panic!("{other:?}"),
        }
        assert!(Instant::now() < deadline, "the sign-in stayed fresh");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A wrong password is refused and counted, before any key is asked.
    let wrong = ask(&mut s, prove_start(&session, "not-the-password"));
    assert_eq!(error_code(wrong), ErrorCode::Denied);
    assert_eq!(show(&d, "alice")["failures"], 1);

    // A forged answer (its signature changed) is refused, counted, and spends the challenge.
    let challenge = challenge_of(ask(&mut s, prove_start(&session, GOOD_PW)));
    let mut forged = key_answer(&mut s, "alice", &challenge, &ta);
    let mut json: serde_json::Value = serde_json::from_str(forged.assertion.expose()).unwrap();
    let signature = json["response"]["signature"].as_str().unwrap().to_string();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    json["response"]["signature"] = format!("{flipped}{}", &signature[1..]).into();
    forged.assertion = Secret::new(json.to_string());
    let refused = ask(&mut s, prove_key(&session, forged.clone()));
    assert_eq!(error_code(refused), ErrorCode::Denied);
    assert_eq!(show(&d, "alice")["failures"], 2);
    let spent = ask(&mut s, prove_key(&session, forged));
    assert_eq!(error_code(spent), ErrorCode::Denied);
    let start = KeyLoginStart {
        name: "alice".into(),
        challenge,
    };
    let gone = ask(&mut s, Request::PortalKeyStart(start));
    assert_eq!(error_code(gone), ErrorCode::Denied);
    assert_eq!(
        show(&d, "alice")["failures"],
        2,
        "a spent challenge decides nothing"
    );
    assert_eq!(
        error_code(fresh_act(&mut s, &session)),
        ErrorCode::FreshProofRequired
    );

    // Bob's challenge and bob's key answer do not prove alice.
    let bobs = challenge_of(ask(&mut s, sign_in("bob", GOOD_PW)));
    let bobs = key_answer(&mut s, "bob", &bobs, &tb);
    let foreign = ask(&mut s, prove_key(&session, bobs));
    assert_eq!(error_code(foreign), ErrorCode::Denied);
    assert_eq!(show(&d, "alice")["failures"], 2);
    assert_eq!(
        error_code(fresh_act(&mut s, &session)),
        ErrorCode::FreshProofRequired
    );

    // The password and alice's own key: a fresh proof; the same answer again is spent.
    let challenge = challenge_of(ask(&mut s, prove_start(&session, GOOD_PW)));
    let key = key_answer(&mut s, "alice", &challenge, &ta);
    assert_eq!(
        ask(&mut s, prove_key(&session, key.clone())),
        Response::Done
    );
    assert!(matches!(
        fresh_act(&mut s, &session),
        Response::KeyRegistration { .. }
    ));
    assert_eq!(show(&d, "alice")["failures"], 0);
    let replayed = ask(&mut s, prove_key(&session, key));
    assert_eq!(error_code(replayed), ErrorCode::Denied);
    assert!(!d.events("alice", "verify").is_empty());

    // An account without a key cannot prove by key.
    let carol = match ask(&mut s, sign_in("carol", GOOD_PW)) {
        Response::SessionIssued { token, .. } => token,
        other => panic!("{other:?}"),
    };
    let none = ask(&mut s, prove_start(&carol, GOOD_PW));
    assert_eq!(error_code(none), ErrorCode::NotEnrolled);
}
