//! The access table and role resolution, against fixed peers and the system's `root`
//! group.

use super::*;
use crate::protocol::{Secret, SetPassword, ShowUser, Verify};

fn peer(uid: u32) -> Peer {
    Peer {
        uid,
        gid: uid,
        pid: Some(1),
    }
}

fn roles(admin_group: &str, portal_users: &[&str]) -> Roles {
    Roles {
        admin_group: admin_group.into(),
        portal_users: portal_users.iter().map(|u| u.to_string()).collect(),
    }
}

fn portal() -> Caller {
    Caller::Portal {
        peer: peer(998),
        login: Some("authd-web".into()),
    }
}

fn alice() -> Caller {
    Caller::SelfService {
        peer: peer(1000),
        login: "alice".into(),
    }
}

fn verify(name: &str) -> Request {
    Request::Verify(Verify {
        name: name.into(),
        password: Secret::new("x"),
        code: None,
        origin: Default::default(),
    })
}

#[test]
fn self_service_reaches_only_its_own_account() {
    assert!(alice().authorize(&verify("alice")).is_ok());
    assert!(alice().authorize(&verify("bob")).is_err());
    let show = Request::ShowUser(ShowUser {
        name: "alice".into(),
    });
    assert!(alice().authorize(&show).is_ok());
}

#[test]
fn admin_only_requests_refuse_self_service_even_on_its_own_account() {
    let set = Request::SetPassword(SetPassword {
        name: "alice".into(),
        password: Secret::new("x"),
    });
    assert!(matches!(
        alice().authorize(&set),
        Err(Error::PermissionDenied(_))
    ));
    let admin = Caller::Admin {
        peer: peer(0),
        login: Some("root".into()),
    };
    assert!(admin.authorize(&set).is_ok());
}

#[test]
fn anyone_may_ask_status_but_nothing_else() {
    let anon = Caller::Anonymous { peer: peer(4242) };
    assert!(anon.authorize(&Request::Status).is_ok());
    assert!(anon.authorize(&verify("alice")).is_err());
}

#[test]
fn root_and_the_daemon_uid_are_admins() {
    assert!(Caller::identify(peer(0), 999, &roles("no-such-group-here", &[])).is_admin());
    assert!(Caller::identify(peer(999), 999, &roles("no-such-group-here", &[])).is_admin());
}

#[test]
fn a_uid_that_is_not_root_nor_the_daemon_is_not_an_admin_by_uid() {
    assert!(!Standing::admin_by_uid(4242, 999));
    let nobody = Caller::identify(peer(4242), 999, &roles("no-such-group-here", &[]));
    assert!(!nobody.is_admin());
    assert_eq!(nobody, Caller::Anonymous { peer: peer(4242) });
    assert!(!alice().is_admin());
}

fn group(gid: u32, members: &[&str]) -> Group {
    Group {
        name: "authd-admin".into(),
        passwd: Default::default(),
        gid: Gid::from_raw(gid),
        mem: members.iter().map(|m| m.to_string()).collect(),
    }
}

fn user(name: &str, gid: u32) -> User {
    User {
        name: name.into(),
        passwd: Default::default(),
        uid: Uid::from_raw(1000),
        gid: Gid::from_raw(gid),
        gecos: Default::default(),
        dir: "/home/x".into(),
        shell: "/bin/sh".into(),
    }
}

#[test]
fn group_membership_by_peer_gid_primary_gid_or_member_list() {
    let admins = group(50, &["carol"]);
    let p = |gid| Peer {
        uid: 1000,
        gid,
        pid: None,
    };
    assert!(member(&admins, &p(50), None), "the peer's own gid");
    assert!(member(&admins, &p(50), Some(&user("alice", 1000))));
    assert!(
        member(&admins, &p(7), Some(&user("alice", 50))),
        "primary gid"
    );
    assert!(
        member(&admins, &p(7), Some(&user("carol", 1000))),
        "member list"
    );
    assert!(!member(&admins, &p(7), Some(&user("alice", 1000))));
    assert!(!member(&admins, &p(7), None));
    assert!(!member(&group(50, &[]), &p(7), Some(&user("carol", 1000))));
}

#[test]
fn the_admin_group_is_looked_up_by_name() {
    // Group `root` (gid 0) exists on every Linux system.
    let p = Peer {
        uid: 4242,
        gid: 0,
        pid: None,
    };
    assert!(in_admin_group(&p, None, "root"));
    assert!(!in_admin_group(&p, None, "no-such-group-here"));
    let other = Peer { gid: 4242, ..p };
    assert!(!in_admin_group(&other, None, "root"));
    assert!(Caller::identify(p, 999, &roles("root", &[])).is_admin());
    assert!(!Caller::identify(p, 999, &roles("no-such-group-here", &[])).is_admin());
}

#[test]
fn describe_names_uid_login_and_pid() {
    assert_eq!(alice().describe(), "uid 1000 (alice) pid 1");
    let root = Caller::Admin {
        peer: Peer {
            uid: 0,
            gid: 0,
            pid: None,
        },
        login: Some("root".into()),
    };
    assert_eq!(root.describe(), "uid 0 (root)");
    let nameless = Caller::Admin {
        peer: peer(999),
        login: None,
    };
    assert_eq!(nameless.describe(), "uid 999 pid 1");
    let anon = Caller::Anonymous { peer: peer(4242) };
    assert_eq!(anon.describe(), "uid 4242 pid 1");
    let err = alice().authorize(&verify("bob")).unwrap_err().to_string();
    assert!(
        err.contains("uid 1000 (alice)") && err.contains("`bob`"),
        "{err}"
    );
}

#[test]
fn only_admins_are_uncapped_in_the_hash_pool() {
    let root = Caller::identify(peer(0), 999, &roles("no-such-group-here", &[]));
    assert_eq!(root.hash_share(), Share::exempt(0));
    assert_eq!(alice().hash_share(), Share::ordinary(1000));
    let anon = Caller::Anonymous { peer: peer(4242) };
    assert_eq!(anon.hash_share(), Share::ordinary(4242));
}

#[test]
fn the_portal_may_reset_with_a_token_and_ask_status_but_act_for_no_account() {
    let reset = Request::ResetPassword(crate::protocol::ResetPassword {
        token: Secret::new("t"),
        password: Secret::new("p"),
    });
    assert!(portal().authorize(&reset).is_ok());
    assert!(portal().authorize(&Request::Status).is_ok());
    for request in [
        verify("alice"),
        verify("authd-web"),
        Request::ShowUser(ShowUser {
            name: "authd-web".into(),
        }),
        Request::ListUsers(crate::protocol::ListUsers {
            after: None,
            limit: 1,
        }),
    ] {
        let refused = portal().authorize(&request);
        assert!(
            matches!(refused, Err(Error::PermissionDenied(_))),
            "{request:?}: {refused:?}"
        );
    }
    let err = portal()
        .authorize(&verify("alice"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("(authd-web, portal)"), "{err}");
    assert!(err.contains("portal session"), "{err}");
}

#[test]
fn portal_users_name_a_uid_by_number_name_or_group() {
    let p = Peer {
        uid: 4242,
        gid: 4242,
        pid: None,
    };
    let web = user("authd-web", 4242);
    let entries = |e: &[&str]| e.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(in_portal_users(&p, None, &entries(&["4242"])));
    assert!(in_portal_users(&p, Some(&web), &entries(&["authd-web"])));
    assert!(!in_portal_users(&p, None, &entries(&["authd-web", "4243"])));
    assert!(!in_portal_users(&p, Some(&web), &entries(&[])));
    // Group `root` (gid 0) exists on every Linux system.
    let in_root = Peer { gid: 0, ..p };
    assert!(in_portal_users(&in_root, None, &entries(&["@root"])));
    assert!(!in_portal_users(&p, None, &entries(&["@root"])));
    assert!(!in_portal_users(
        &p,
        None,
        &entries(&["@no-such-group-here"])
    ));
}

#[test]
fn a_portal_uid_is_never_an_admin_and_root_is_never_the_portal() {
    let web = Peer {
        uid: 4242,
        gid: 0,
        pid: None,
    };
    // In `admin_group` (gid 0 = root) and named a portal: the portal, not an admin.
    let caller = Caller::identify(web, 999, &roles("root", &["4242"]));
    assert_eq!(
        caller,
        Caller::Portal {
            peer: web,
            login: None
        }
    );
    assert!(!caller.is_admin());
    assert!(Caller::identify(web, 999, &roles("root", &[])).is_admin());
    // Root and the daemon's uid stay admins whatever `portal_users` says.
    let all = roles("no-such-group-here", &["0", "999", "@root"]);
    assert!(Caller::identify(peer(0), 999, &all).is_admin());
    assert!(Caller::identify(peer(999), 999, &all).is_admin());
    assert_eq!(portal().hash_share(), Share::ordinary(998));
}

#[test]
fn security_key_requests_are_for_admins_and_the_account_itself() {
    use crate::protocol::{
        FactorProof, KeyAssertion, KeyLoginFinish, KeyLoginStart, KeyRegisterFinish,
        KeyRegisterStart, ListKeys, RemoveKey,
    };
    let key = || KeyAssertion {
        challenge: Secret::new("c"),
        assertion: Secret::new("{}"),
    };
    let requests = |name: &str| {
        vec![
            Request::KeyRegisterStart(KeyRegisterStart {
                name: name.into(),
                key_name: "yk".into(),
                proof: None,
            }),
            Request::KeyRegisterFinish(KeyRegisterFinish {
                name: name.into(),
                challenge: Secret::new("c"),
                credential: "{}".into(),
            }),
            Request::ListKeys(ListKeys { name: name.into() }),
            Request::RemoveKey(RemoveKey {
                name: name.into(),
                id: "0a1b2c3d".into(),
                proof: FactorProof::Key(key()),
            }),
            Request::KeyLoginStart(KeyLoginStart {
                name: name.into(),
                challenge: Secret::new("c"),
            }),
            Request::KeyLoginFinish(KeyLoginFinish {
                name: name.into(),
                key: key(),
                origin: Default::default(),
            }),
        ]
    };
    let admin = Caller::Admin {
        peer: peer(0),
        login: Some("root".into()),
    };
    let anon = Caller::Anonymous { peer: peer(4242) };
    for request in requests("alice") {
        assert_eq!(required(&request), Access::AdminOrSelf, "{request:?}");
        assert!(alice().authorize(&request).is_ok(), "{request:?}");
        assert!(admin.authorize(&request).is_ok(), "{request:?}");
        for refused in [portal(), anon.clone()] {
            assert!(
                matches!(refused.authorize(&request), Err(Error::PermissionDenied(_))),
                "{request:?}"
            );
        }
    }
    for request in requests("bob") {
        assert!(
            matches!(alice().authorize(&request), Err(Error::PermissionDenied(_))),
            "{request:?}"
        );
    }
    // The portal's own key step, and nobody else's.
    let start = KeyLoginStart {
        name: "alice".into(),
        challenge: Secret::new("c"),
    };
    let finish = KeyLoginFinish {
        name: "alice".into(),
        key: key(),
        origin: Default::default(),
    };
    for request in [Request::PortalKeyStart(start), Request::PortalKey(finish)] {
        assert!(portal().authorize(&request).is_ok(), "{request:?}");
        for refused in [alice(), admin.clone(), anon.clone()] {
            assert!(refused.authorize(&request).is_err(), "{request:?}");
        }
    }
}

#[test]
fn importing_an_authenticator_file_and_managing_the_outbox_are_for_admins_only() {
    use crate::protocol::{ImportGoogleAuthenticator, OutboxPurge, OutboxRetry, OutboxTarget};
    let admin = Caller::Admin {
        peer: peer(0),
        login: Some("root".into()),
    };
    let anon = Caller::Anonymous { peer: peer(4242) };
    let requests = [
        // Even for one's own account: the file's secret is the factor itself.
        Request::ImportGoogleAuthenticator(ImportGoogleAuthenticator {
            name: "alice".into(),
            file: Secret::new("x"),
            replace: false,
        }),
        Request::OutboxRetry(OutboxRetry {
            target: OutboxTarget::Failed,
        }),
        Request::OutboxPurge(OutboxPurge {
            target: OutboxTarget::Id(1),
        }),
    ];
    for request in requests {
        assert_eq!(required(&request), Access::Admin, "{request:?}");
        assert!(admin.authorize(&request).is_ok(), "{request:?}");
        for refused in [alice(), portal(), anon.clone()] {
            assert!(
                matches!(refused.authorize(&request), Err(Error::PermissionDenied(_))),
                "{request:?}"
            );
        }
    }
}
