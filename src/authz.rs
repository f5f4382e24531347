//! Who is calling, and what they may do: peer credentials -> `Caller`, and the one table
//! that says which requests need an admin.
//!
//! The kernel vouches for the peer's uid/gid/pid (SO_PEERCRED); names and groups come
//! from the system's user database. This module never looks at passwords or the store.

use nix::unistd::{Gid, Group, Uid, User};

use crate::error::Error;
use crate::password::Share;
use crate::protocol::Request;

/// Kernel-reported identity of the process at the other end of the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub gid: u32,
    pub pid: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// uid 0, the daemon's own uid, or a member of `admin_group`.
    Admin { peer: Peer, login: Option<String> },
    /// A user acting on the account named like their Unix login.
    SelfService { peer: Peer, login: String },
    /// A uid with no entry in the user database.
    Anonymous { peer: Peer },
}

/// What the user database says about a uid: is it an admin, and its login name. It does
/// not depend on the connection, so it may be cached per uid and gid (briefly: group
/// membership changes while connections stay open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub admin: bool,
    pub login: Option<String>,
}

impl Standing {
    /// Ask the user database (NSS) about `peer`'s uid and gid.
    pub fn lookup(peer: Peer, daemon_uid: u32, admin_group: &str) -> Standing {
        let user = User::from_uid(Uid::from_raw(peer.uid)).ok().flatten();
        let admin = Standing::admin_by_uid(peer.uid, daemon_uid)
            || in_admin_group(&peer, user.as_ref(), admin_group);
        Standing {
            admin,
            login: user.map(|u| u.name),
        }
    }

    /// uid 0 and the daemon's own uid are admins whatever the user database says.
    pub fn admin_by_uid(uid: u32, daemon_uid: u32) -> bool {
        uid == 0 || uid == daemon_uid
    }
}

/// What a request demands of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    AdminOrSelf,
    Admin,
}

/// The authorization table: one arm per request.
pub fn required(request: &Request) -> Access {
    match request {
        Request::Hello { .. } | Request::Status | Request::ResetPassword { .. } => Access::Anyone,
        Request::ShowUser { .. }
        | Request::ChangePassword { .. }
        | Request::Verify { .. }
        | Request::VerifyCode { .. }
        | Request::EnableTotp { .. }
        | Request::ConfirmTotp { .. }
        | Request::DisableTwoFactor { .. }
        | Request::RegenerateRecoveryCodes { .. }
        | Request::SendReset { .. }
        | Request::EnableSms { .. }
        | Request::ConfirmSms { .. }
        | Request::SendCode { .. }
        | Request::Log { .. } => Access::AdminOrSelf,
        Request::AddUser { .. }
        | Request::RemoveUser { .. }
        | Request::ListUsers { .. }
        | Request::SetUser { .. }
        | Request::SetPassword { .. }
        | Request::ResetTwoFactor { .. }
        | Request::Outbox { .. }
        | Request::Backup { .. }
        | Request::Unlock { .. } => Access::Admin,
    }
}

impl Caller {
    /// Resolve a peer into a caller: admin by uid or group, otherwise by login name.
    /// Asks the user database (NSS): call it off the async runtime.
    pub fn identify(peer: Peer, daemon_uid: u32, admin_group: &str) -> Caller {
        Caller::with(peer, Standing::lookup(peer, daemon_uid, admin_group))
    }

    /// The caller `peer` is, given its standing (looked up earlier, perhaps cached).
    pub fn with(peer: Peer, standing: Standing) -> Caller {
        match standing {
            Standing { admin: true, login } => Caller::Admin { peer, login },
            Standing {
                admin: false,
                login: Some(login),
            } => Caller::SelfService { peer, login },
            Standing { admin: false, .. } => Caller::Anonymous { peer },
        }
    }

    pub fn peer(&self) -> Peer {
        match self {
            Caller::Admin { peer, .. }
            | Caller::SelfService { peer, .. }
            | Caller::Anonymous { peer } => *peer,
        }
    }

    /// For audit records: `uid 1000 (alice) pid 4242`.
    pub fn describe(&self) -> String {
        let peer = self.peer();
        let mut s = format!("uid {}", peer.uid);
        match self {
            Caller::Admin {
                login: Some(login), ..
            }
            | Caller::SelfService { login, .. } => s.push_str(&format!(" ({login})")),
            _ => {}
        }
        if let Some(pid) = peer.pid {
            s.push_str(&format!(" pid {pid}"));
        }
        s
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin { .. })
    }

    /// This caller's turn in the hash pool: admins (root for PAM) are never capped.
    pub fn hash_share(&self) -> Share {
        match self {
            Caller::Admin { peer, .. } => Share::exempt(peer.uid),
            _ => Share::ordinary(self.peer().uid),
        }
    }

    /// Allow or refuse `request` for this caller.
    pub fn authorize(&self, request: &Request) -> Result<(), Error> {
        let allowed = match (required(request), self) {
            (Access::Anyone, _) | (_, Caller::Admin { .. }) => true,
            (Access::AdminOrSelf, Caller::SelfService { login, .. }) => {
                request.account() == Some(login.as_str())
            }
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::PermissionDenied(match request.account() {
                Some(name) => format!("{} may not do this to account `{name}`", self.describe()),
                None => format!("{} is not an authd admin", self.describe()),
            }))
        }
    }
}

fn in_admin_group(peer: &Peer, user: Option<&User>, admin_group: &str) -> bool {
    let Ok(Some(group)) = Group::from_name(admin_group) else {
        return false;
    };
    member(&group, peer, user)
}

/// Is `peer` in `group`: by the peer's gid, its user's primary gid, or the group's
/// supplementary member list?
fn member(group: &Group, peer: &Peer, user: Option<&User>) -> bool {
    group.gid == Gid::from_raw(peer.gid)
        || user.is_some_and(|u| u.gid == group.gid || group.mem.contains(&u.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Secret, SetPassword, ShowUser, Verify};

    fn peer(uid: u32) -> Peer {
        Peer {
            uid,
            gid: uid,
            pid: Some(1),
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
        assert!(Caller::identify(peer(0), 999, "no-such-group-here").is_admin());
        assert!(Caller::identify(peer(999), 999, "no-such-group-here").is_admin());
    }

    #[test]
    fn a_uid_that_is_not_root_nor_the_daemon_is_not_an_admin_by_uid() {
        assert!(!Standing::admin_by_uid(4242, 999));
        let nobody = Caller::identify(peer(4242), 999, "no-such-group-here");
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
        assert!(Caller::identify(p, 999, "root").is_admin());
        assert!(!Caller::identify(p, 999, "no-such-group-here").is_admin());
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
        let root = Caller::identify(peer(0), 999, "no-such-group-here");
        assert_eq!(root.hash_share(), Share::exempt(0));
        assert_eq!(alice().hash_share(), Share::ordinary(1000));
        let anon = Caller::Anonymous { peer: peer(4242) };
        assert_eq!(anon.hash_share(), Share::ordinary(4242));
    }
}
