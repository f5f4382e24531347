//! The portal role (authd-web): a uid named in `portal_users` acts for an account only
//! inside a session that authd issued after that account's password and second factor.
//! Each test calls authd as the portal uid directly, with raw requests, the way an
//! attacker who took over the web front end would. Needs root, for setpriv.

use std::os::unix::net::UnixStream;

use authd::protocol::{
    AccountInfo, ErrorCode, FactorState, Origin, PortalAct, PortalAction, PortalCode, PortalProve,
    PortalSignIn, Proof, Request, Response, Secret,
};

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;
use crate::oath::{enrol, oathtool};
use crate::other_uids::{call, connections_as, hello};

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

/// A uid (and gid) with no entry in the user database: not the portal.
pub(crate) const STRANGER: (u32, u32) = (54_329, 54_329);

/// A daemon whose portal is `nobody` (and, by number, `also`).
pub(crate) fn daemon_with_portal(also: &[u32]) -> Daemon {
    let mut users = vec!["\"nobody\"".to_string()];
    users.extend(also.iter().map(|uid| format!("\"{uid}\"")));
    Daemon::start_with(&format!("portal_users = [{}]", users.join(", ")))
}

/// A connection as `ids`, past the handshake.
pub(crate) fn connect_as(ids: (u32, u32), d: &Daemon) -> UnixStream {
    let mut s = connections_as(ids, d, 1).pop().unwrap();
    assert!(matches!(
        call(&mut s, &hello()),
        Some(Response::Welcome { .. })
    ));
    s
}

pub(crate) fn ask(s: &mut UnixStream, request: Request) -> Response {
    call(s, &request).expect("the daemon answered")
}

#[track_caller]
pub(crate) fn error_code(response: Response) -> ErrorCode {
    match response {
        Response::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

pub(crate) fn sign_in(name: &str, password: &str) -> Request {
    Request::PortalSignIn(PortalSignIn {
        name: name.into(),
        password: Secret::new(password),
        origin: Origin {
            service: Some("authd-web".into()),
            remote_host: Some("192.0.2.7".into()),
        },
    })
}

pub(crate) fn act(token: &Secret, action: PortalAction) -> Request {
    Request::PortalAct(PortalAct {
        session: token.clone(),
        action,
    })
}

/// Sign `name` (no second factor) in: its session token.
#[track_caller]
pub(crate) fn session(s: &mut UnixStream, name: &str, password: &str) -> Secret {
    match ask(s, sign_in(name, password)) {
        Response::SessionIssued { token, .. } => token,
        other => panic!("no session: {other:?}"),
    }
}

#[track_caller]
fn shown(s: &mut UnixStream, token: &Secret) -> AccountInfo {
    match ask(s, act(token, PortalAction::Show)) {
        Response::Account(info) => info,
        other => panic!("no account: {other:?}"),
    }
}

#[test]
fn the_portal_cannot_act_for_an_account_without_that_accounts_credentials() {
    if !can_switch_uid() {
        return;
    }
    let d = daemon_with_portal(&[STRANGER.0 + 1]);
    d.user_with_password("alice");
    d.user_with_password("bob");
    let mut web = connect_as(NOBODY, &d);

    // Nothing an account's owner or an admin may do, not even on "its own" account.
    for request in [
        verify_request("alice", GOOD_PW),
        Request::ShowUser(authd::protocol::ShowUser {
            name: "nobody".into(),
        }),
        Request::ListUsers(authd::protocol::ListUsers {
            after: None,
            limit: 10,
        }),
    ] {
        assert_eq!(
            error_code(ask(&mut web, request)),
            ErrorCode::PermissionDenied
        );
    }
    // A made-up session, a wrong password and an unknown name get it nowhere, and the
    // last two look the same.
    let made_up = Secret::new("A".repeat(52));
    assert_eq!(
        error_code(ask(&mut web, act(&made_up, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    let wrong = error_code(ask(&mut web, sign_in("alice", "not-the-password-1")));
    assert_eq!(wrong, ErrorCode::Denied);
    let unknown = error_code(ask(&mut web, sign_in("no-such-user", GOOD_PW)));
    assert_eq!(unknown, ErrorCode::Denied);
    // An SSO account signs in at its provider, never here.
    assert_ok(&d.ctl(&["add-user", "carol", "--sso", "idp"]));
    let sso = error_code(ask(&mut web, sign_in("carol", GOOD_PW)));
    assert_eq!(sso, ErrorCode::SsoAccount);

    // With alice's password, a session for alice, and it shows alice only.
    let alices = session(&mut web, "alice", GOOD_PW);
    assert_eq!(shown(&mut web, &alices).name, "alice");
    // Another portal uid cannot use the session alice opened through this one.
    let mut other_web = connect_as((STRANGER.0 + 1, STRANGER.1 + 1), &d);
    assert_eq!(
        error_code(ask(&mut other_web, act(&alices, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    assert_eq!(shown(&mut web, &alices).name, "alice", "still alice's");

    // Neither a uid that is not a portal nor an admin may speak for the portal.
    let mut stranger = connect_as(STRANGER, &d);
    let mut admin = d.client();
    for request in [sign_in("alice", GOOD_PW), act(&alices, PortalAction::Show)] {
        assert_eq!(
            error_code(ask(&mut stranger, request.clone())),
            ErrorCode::PermissionDenied
        );
        let refused = admin.call(&request).unwrap_err();
        assert_eq!(refused.remote_code(), Some(ErrorCode::PermissionDenied));
    }
    let denied = d.ctl_as(STRANGER, "", &["--json", "sessions", "alice"]);
    assert_exit(&denied, 77);
    assert!(
        !d.log().contains(alices.expose()),
        "the token is in the log"
    );
}

#[test]
fn password_and_app_code_open_a_session_that_changes_the_password_and_ends() {
    if !can_switch_uid() || !have("oathtool") {
        return;
    }
    let d = daemon_with_portal(&[]);
    d.user_with_password("alice");
    let (secret, recovery) = enrol(&d, "alice");
    let mut web = connect_as(NOBODY, &d);

    let challenge = match ask(&mut web, sign_in("alice", GOOD_PW)) {
        Response::SecondFactorRequired {
            challenge: Some(challenge),
            ..
        } => challenge,
        other => panic!("no challenge: {other:?}"),
    };
    let code = Request::PortalCode(PortalCode {
        name: "alice".into(),
        challenge,
        // The enrolment spent the current step; the next one is within the skew.
        code: Secret::new(oathtool(&secret, 1)),
        origin: Origin::default(),
    });
    let token = match ask(&mut web, code) {
        Response::SessionIssued { name, token, .. } => {
            assert_eq!(name, "alice");
            token
        }
        other => panic!("no session: {other:?}"),
    };
    assert_eq!(shown(&mut web, &token).totp, FactorState::On);
    let listed = json(&d.ctl(&["--json", "sessions", "alice"]));
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "{listed}");

    // Signed in a moment ago: the sign-in is the fresh proof a password change needs.
    let change = act(
        &token,
        PortalAction::ChangePassword {
            new: Secret::new(NEW_PW),
        },
    );
    assert_eq!(ask(&mut web, change), Response::Done);
    // A password change ends every session of the account, this one too.
    assert_eq!(
        error_code(ask(&mut web, act(&token, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    let listed = json(&d.ctl(&["--json", "sessions", "alice"]));
    assert_eq!(listed["sessions"], serde_json::json!([]), "{listed}");
    assert_ok(&d.ctl_stdin(
        &format!("{NEW_PW}\n{}\n", recovery[0]),
        &["verify", "alice", "--code", "-"],
    ));
    assert_eq!(d.events("alice", "portal-sign-in").len(), 1);
    assert!(!d.events("alice", "portal-session-ended").is_empty());
    let log = d.log();
    assert!(!log.contains(token.expose()), "the token is in the log");
    assert!(!log.contains(NEW_PW), "the password is in the log");
}

#[test]
fn authctl_lists_portal_sessions_and_ends_one_or_all() {
    if !can_switch_uid() {
        return;
    }
    let d = daemon_with_portal(&[]);
    d.user_with_password("alice");
    let mut web = connect_as(NOBODY, &d);
    let first = session(&mut web, "alice", GOOD_PW);
    let second = session(&mut web, "alice", GOOD_PW);

    let listed = json(&d.ctl(&["--json", "sessions", "alice"]));
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert!(sessions[0]["origin"]
        .as_str()
        .unwrap()
        .contains("rhost=192.0.2.7"));
    let text = stdout(&d.ctl(&["sessions", "alice"]));
    assert_eq!(text.lines().count(), 2, "{text}");
    let id = sessions[0]["id"].as_u64().unwrap().to_string();

    assert_ok(&d.ctl(&["logout", "alice", &id]));
    assert_eq!(
        error_code(ask(&mut web, act(&first, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    assert_eq!(shown(&mut web, &second).name, "alice");
    assert_error(
        &d.ctl(&["--json", "logout", "alice", &id]),
        65,
        "invalid_input",
    );

    let all = d.ctl(&["--json", "logout", "alice"]);
    assert_ok(&all);
    assert_eq!(
        error_code(ask(&mut web, act(&second, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    assert_eq!(d.events("alice", "portal-session-ended").len(), 2);
    assert_error(
        &d.ctl(&["--json", "sessions", "nobody-here"]),
        67,
        "no_such_user",
    );
}

#[test]
fn a_session_proves_again_enrols_the_app_and_outlives_its_own_change_only() {
    if !can_switch_uid() || !have("oathtool") {
        return;
    }
    let d = daemon_with_portal(&[]);
    d.user_with_password("alice");
    let mut web = connect_as(NOBODY, &d);
    let mine = session(&mut web, "alice", GOOD_PW);
    let other = session(&mut web, "alice", GOOD_PW);
    let prove = |password: &str| {
        Request::PortalProve(PortalProve {
            session: mine.clone(),
            proof: Proof {
                password: Secret::new(password),
                code: None,
            },
        })
    };
    assert_eq!(
        error_code(ask(&mut web, prove("not-the-password-1"))),
        ErrorCode::Denied
    );
    assert_eq!(ask(&mut web, prove(GOOD_PW)), Response::Done);

    let secret = match ask(&mut web, act(&mine, PortalAction::EnableTotp)) {
        Response::TotpEnrolment { secret, .. } => secret,
        other => panic!("no enrolment: {other:?}"),
    };
    let confirm = act(
        &mine,
        PortalAction::ConfirmTotp {
            code: Secret::new(oathtool(secret.expose(), 0)),
        },
    );
    match ask(&mut web, confirm) {
        Response::Confirmed { recovery_codes } => assert!(!recovery_codes.is_empty()),
        other => panic!("not confirmed: {other:?}"),
    }
    // The session that made the change goes on; the account's other one has ended.
    assert_eq!(shown(&mut web, &mine).totp, FactorState::On);
    assert_eq!(
        error_code(ask(&mut web, act(&other, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    // An admin's lost-device reset ends the rest.
    assert_ok(&d.ctl(&["reset-2fa", "alice"]));
    assert_eq!(
        error_code(ask(&mut web, act(&mine, PortalAction::Show))),
        ErrorCode::SessionInvalid
    );
    assert!(
        !d.log().contains(secret.expose()),
        "the TOTP secret is in the log"
    );
}

#[test]
fn a_reload_that_names_the_portal_applies_on_an_open_connection() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let mut web = connect_as(NOBODY, &d);
    assert_eq!(
        error_code(ask(&mut web, sign_in("alice", GOOD_PW))),
        ErrorCode::PermissionDenied
    );
    let config = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(&d.config, format!("portal_users = [\"nobody\"]\n{config}")).unwrap();
    signal(d.pid(), "HUP");
    let answer = wait_until("the reload names nobody the portal", || {
        match ask(&mut web, sign_in("alice", GOOD_PW)) {
            Response::Error(e) if e.code == ErrorCode::PermissionDenied => None,
            other => Some(other),
        }
    });
    assert!(
        matches!(answer, Response::SessionIssued { .. }),
        "{answer:?}"
    );
}
