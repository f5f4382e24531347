//! The portal's reset mails: `PortalForgot` ("forgot your password?", from someone not
//! signed in) queues the mail `send-reset` would and answers `Done` whatever the name;
//! `PortalAction::SendReset` mails the session's own account and says where. Only the
//! portal may ask; called as the portal uid directly. Needs root, for setpriv.

use authd::protocol::{ErrorCode, Origin, PortalAction, PortalForgot, Request, Response};

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;
use crate::mail::{mails, wait_for_mails};
use crate::portal::{act, ask, connect_as, daemon_with_portal, error_code, session, STRANGER};

fn forgot(name: &str) -> Request {
    Request::PortalForgot(PortalForgot {
        name: name.into(),
        origin: Origin {
            service: Some("authd-web".into()),
            remote_host: Some("192.0.2.7".into()),
        },
    })
}

fn audit(d: &Daemon, name: &str) -> String {
    let out = d.ctl(&["log", name]);
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn forgot_answers_done_for_every_name_and_mails_only_an_account_with_an_address() {
    if !can_switch_uid() {
        return;
    }
    let d = daemon_with_portal(&[]);
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    d.user_with_password("bob");
    let outbox = d.state_dir().join("outbox/mail");
    let mut web = connect_as(NOBODY, &d);
    assert_eq!(ask(&mut web, forgot("alice")), Response::Done);
    assert_eq!(wait_for_mails(&outbox, 1).len(), 1);
    for name in ["alice", "bob", "nosuchuser"] {
        assert_eq!(ask(&mut web, forgot(name)), Response::Done, "{name}");
    }
    // A name no account can have is said to be one (that tells nothing about accounts).
    let invalid = ask(&mut web, forgot("../etc"));
    assert_eq!(error_code(invalid), ErrorCode::InvalidInput);
    let alice = audit(&d, "alice");
    assert!(
        alice.contains("mail queued to") && alice.contains("rhost=192.0.2.7"),
        "{alice}"
    );
    assert!(alice.contains("no mail sent: too soon"), "{alice}");
    assert!(audit(&d, "bob").contains("no mail sent"));
    // Audited before the answer, so nothing more is on its way.
    assert_eq!(mails(&outbox).len(), 1);

    // Nobody else may ask, not even an admin or the account's own uid.
    let mut stranger = connect_as(STRANGER, &d);
    let mut root = connect_as((0, 0), &d);
    for s in [&mut stranger, &mut root] {
        let refused = ask(s, forgot("alice"));
        assert_eq!(error_code(refused), ErrorCode::PermissionDenied);
    }
}

#[test]
fn send_reset_in_a_session_says_the_masked_address_then_the_rate_limit() {
    if !can_switch_uid() {
        return;
    }
    let d = daemon_with_portal(&[]);
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl_stdin(&pw(), &["set-password", "alice"]));
    d.user_with_password("bob");
    let mut web = connect_as(NOBODY, &d);
    let token = session(&mut web, "alice", GOOD_PW);
    match ask(&mut web, act(&token, PortalAction::SendReset)) {
        Response::ResetMailed { to, expires } => {
            assert!(
                to.ends_with("@example.org") && !to.contains("alice"),
                "{to}"
            );
            assert!(expires > 0);
        }
        other => panic!("{other:?}"),
    }
    let again = ask(&mut web, act(&token, PortalAction::SendReset));
    assert_eq!(error_code(again), ErrorCode::RateLimited);
    let bob = session(&mut web, "bob", GOOD_PW);
    let none = ask(&mut web, act(&bob, PortalAction::SendReset));
    assert_eq!(
        error_code(none),
        ErrorCode::InvalidInput,
        "bob has no address"
    );
}
