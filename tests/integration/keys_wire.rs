//! Security keys on the wire, where authctl would not go: the test holds the soft token
//! itself (webauthn-authenticator-rs, as authctl's test build does) and sends the
//! requests through the client library, to replay an assertion and to present one
//! account's key for another.

use std::fs::OpenOptions;
use std::path::Path;

use authd::protocol::{
    ErrorCode, KeyAssertion, KeyLoginFinish, KeyLoginStart, Origin, Request, Response, Secret,
};
use webauthn_authenticator_rs::prelude::{RequestChallengeResponse, Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softtoken::SoftTokenFile;

use crate::daemon::*;
use crate::keys::{add_key, start, token, two_with_keys};

/// The password step: the challenge for the key step.
fn challenge(client: &mut authd::client::Client, name: &str) -> Secret {
    match client.call(&verify_request(name, GOOD_PW)).unwrap() {
        Response::SecondFactorRequired {
            challenge: Some(c), ..
        } => c,
        other => panic!("{other:?}"),
    }
}

/// Assertion options for `challenge`, as JSON.
fn options(
    client: &mut authd::client::Client,
    name: &str,
    challenge: &Secret,
) -> serde_json::Value {
    let request = Request::KeyLoginStart(KeyLoginStart {
        name: name.into(),
        challenge: challenge.clone(),
    });
    match client.call(&request).unwrap() {
        Response::KeyAssertionOptions { options, origin } => {
            assert_eq!(origin, "https://login.example.test");
            serde_json::from_str(&options).unwrap()
        }
        other => panic!("{other:?}"),
    }
}

/// The soft token in `file` answers `options`.
pub(crate) fn answer(file: &Path, options: serde_json::Value) -> Secret {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let mut token = SoftTokenFile::open(file).unwrap();
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let origin = Url::parse("https://login.example.test").unwrap();
    let credential = token.do_authentication(origin, options).unwrap();
    Secret::new(serde_json::to_string(&credential).unwrap())
}

fn finish(
    client: &mut authd::client::Client,
    name: &str,
    challenge: &Secret,
    assertion: &Secret,
) -> Result<Response, authd::client::ClientError> {
    client.call(&Request::KeyLoginFinish(KeyLoginFinish {
        name: name.into(),
        key: KeyAssertion {
            challenge: challenge.clone(),
            assertion: assertion.clone(),
        },
        origin: Origin::default(),
    }))
}

#[track_caller]
fn refused(result: Result<Response, authd::client::ClientError>, code: ErrorCode) -> String {
    match result {
        Err(authd::client::ClientError::Remote(e)) => {
            assert_eq!(e.code, code, "{}", e.message);
            e.message
        }
        other => panic!("expected {code:?}, got {other:?}"),
    }
}

#[test]
fn a_replayed_assertion_is_refused() {
    let d = start("");
    d.user_with_password("alice");
    let t = token(&d, "alice");
    add_key(&d, "alice", &t);
    let mut client = d.client();
    let first = challenge(&mut client, "alice");
    let assertion = answer(&t, options(&mut client, "alice", &first));
    assert_eq!(
        finish(&mut client, "alice", &first, &assertion).unwrap(),
        Response::Verified {
            name: "alice".into()
        }
    );
    // The same answer again: its challenge is spent.
    let message = refused(
        finish(&mut client, "alice", &first, &assertion),
        ErrorCode::Denied,
    );
    assert!(message.contains("start again"), "{message}");
    // For a fresh challenge: it signed another one.
    let second = challenge(&mut client, "alice");
    options(&mut client, "alice", &second);
    let message = refused(
        finish(&mut client, "alice", &second, &assertion),
        ErrorCode::Denied,
    );
    assert!(message.contains("security key"), "{message}");
    assert_eq!(show(&d, "alice")["failures"], 1, "the replay counted");
}

#[test]
fn a_key_registered_to_another_account_is_refused() {
    let d = start("");
    let (ta, _) = two_with_keys(&d);
    let mut client = d.client();
    // alice's credential, offered for bob's challenge.
    let first = challenge(&mut client, "alice");
    let alices = options(&mut client, "alice", &first);
    let c = challenge(&mut client, "bob");
    let mut bobs = options(&mut client, "bob", &c);
    bobs["publicKey"]["allowCredentials"] = alices["publicKey"]["allowCredentials"].clone();
    let assertion = answer(&ta, bobs);
    let message = refused(
        finish(&mut client, "bob", &c, &assertion),
        ErrorCode::Denied,
    );
    assert!(message.contains("security key"), "{message}");
    assert_eq!(show(&d, "bob")["failures"], 1);
    assert_eq!(show(&d, "alice")["failures"], 0);
}

#[test]
fn the_key_step_needs_the_password_step_first() {
    let d = start("");
    d.user_with_password("alice");
    add_key(&d, "alice", &token(&d, "alice"));
    let mut client = d.client();
    let forged = Secret::new("00".repeat(40));
    let request = Request::KeyLoginStart(KeyLoginStart {
        name: "alice".into(),
        challenge: forged.clone(),
    });
    refused(client.call(&request), ErrorCode::Denied);
    // A challenge for alice does not start bob's key step.
    d.user_with_password("bob");
    add_key(&d, "bob", &token(&d, "bob"));
    let alices = challenge(&mut client, "alice");
    let request = Request::KeyLoginStart(KeyLoginStart {
        name: "bob".into(),
        challenge: alices,
    });
    refused(client.call(&request), ErrorCode::Denied);
}
