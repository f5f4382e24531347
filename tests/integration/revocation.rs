//! What was granted on the way to a login dies with the credentials it was granted for:
//! a challenge (password right, code to come) after a password change or a re-created
//! account, a reset link after the account turned SSO; and one account's half-way logins
//! cannot push out another account's challenge.

use authd::client::{Client, ClientError};
use authd::protocol::{ErrorCode, Origin, Request, Response, Secret, VerifyCode};

use crate::daemon::*;
use crate::mail::{parse, token_in, wait_for_mails};
use crate::two_factor::{enrol, oathtool};

/// The challenge a right password gets on a 2FA account.
fn challenge(client: &mut Client, name: &str) -> Secret {
    match client.call(&verify_request(name, GOOD_PW)).unwrap() {
        Response::SecondFactorRequired {
            challenge: Some(c), ..
        } => c,
        other => panic!("no challenge: {other:?}"),
    }
}

fn redeem(
    client: &mut Client,
    name: &str,
    challenge: Secret,
    code: String,
) -> Result<Response, ClientError> {
    client.call(&Request::VerifyCode(VerifyCode {
        name: name.into(),
        challenge,
        code: Secret::new(code),
        origin: Origin::default(),
    }))
}

#[track_caller]
fn assert_refused(result: Result<Response, ClientError>) {
    match result {
        Err(e) => assert_eq!(e.remote_code(), Some(ErrorCode::Denied), "{e}"),
        Ok(r) => panic!("the old challenge still logs in: {r:?}"),
    }
}

#[test]
fn a_challenge_dies_with_an_admin_set_password() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let (secret, _) = enrol(&d, "alice");
    let mut client = d.client();
    let old = challenge(&mut client, "alice");
    assert_ok(&d.ctl_stdin("Another-Horse-Battery-7\n", &["set-password", "alice"]));
    assert_refused(redeem(&mut client, "alice", old, oathtool(&secret, 1)));
    // A fresh login with the new password still works.
    let fresh = match client
        .call(&verify_request("alice", "Another-Horse-Battery-7"))
        .unwrap()
    {
        Response::SecondFactorRequired {
            challenge: Some(c), ..
        } => c,
        other => panic!("{other:?}"),
    };
    let ok = redeem(&mut client, "alice", fresh, oathtool(&secret, 1)).unwrap();
    assert_eq!(
        ok,
        Response::Verified {
            name: "alice".into()
        }
    );
}

#[test]
fn a_challenge_does_not_redeem_on_a_recreated_account() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    enrol(&d, "alice");
    let mut client = d.client();
    let old = challenge(&mut client, "alice");
    assert_ok(&d.ctl(&["remove-user", "alice"]));
    d.user_with_password("alice");
    let (secret, _) = enrol(&d, "alice");
    assert_refused(redeem(&mut client, "alice", old, oathtool(&secret, 1)));
}

#[test]
fn a_challenge_dies_when_the_second_factor_is_reset() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    enrol(&d, "alice");
    let mut client = d.client();
    let old = challenge(&mut client, "alice");
    assert_ok(&d.ctl(&["reset-2fa", "alice"]));
    let (secret, _) = enrol(&d, "alice");
    assert_refused(redeem(&mut client, "alice", old, oathtool(&secret, 1)));
}

#[test]
fn a_reset_link_dies_when_the_account_turns_sso() {
    let d = Daemon::start();
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "bob", "--email", "bob@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "bob"]));
    let token = token_in(&parse(&wait_for_mails(&maildir, 1)[0]).body);
    assert_ok(&d.ctl(&["set-user", "bob", "--sso", "corp"]));
    assert_ok(&d.ctl(&["set-user", "bob", "--no-sso"]));
    let used = d.ctl_stdin(
        "Another-Horse-Battery-7\n",
        &["--json", "reset-password", "--token", &token],
    );
    assert_exit(&used, 1);
    assert_eq!(json(&used)["error"]["code"], "denied");
    assert_eq!(
        json(&d.ctl(&["--json", "show", "bob"]))["password_set"],
        false
    );
}

/// Far more half-way logins than the old global table held (10,000), all on one account
/// whose password the attacker knows: the victim's challenge, issued first, survives.
#[test]
fn a_flood_of_half_way_logins_evicts_no_one_elses_challenge() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("victim");
    let (victim_secret, _) = enrol(&d, "victim");
    d.user_with_password("mallory");
    enrol(&d, "mallory");
    let mut client = d.client();
    let victims = challenge(&mut client, "victim");
    let floods: Vec<_> = (0..4)
        .map(|_| {
            let mut c = d.client();
            std::thread::spawn(move || {
                for _ in 0..2_600 {
                    challenge(&mut c, "mallory");
                }
            })
        })
        .collect();
    for f in floods {
        f.join().unwrap();
    }
    let ok = redeem(&mut client, "victim", victims, oathtool(&victim_secret, 1)).unwrap();
    assert_eq!(
        ok,
        Response::Verified {
            name: "victim".into()
        }
    );
}
