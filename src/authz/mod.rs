//! Who is calling, and what they may do: peer credentials -> `Caller`, and the one table
//! that says which requests need an admin.
//!
//! Roles: root and the daemon's own uid are admins, always. A uid that `portal_users`
//! names (by name, number or `@group`) is the portal (authd-web): it may do what anyone
//! may and nothing else, not even self-service on an account named like its own login,
//! and it is never an admin, also when it is in `admin_group` (the front end facing the
//! network gets the narrowest rights, whatever groups it ends up in). Everyone else is an
//! admin by `admin_group`, self for the account named like their login, or anonymous.
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
    /// A uid `portal_users` names (authd-web): what anyone may, and no account of its own.
    Portal { peer: Peer, login: Option<String> },
    /// A uid with no entry in the user database.
    Anonymous { peer: Peer },
}

/// Who holds a role beyond self-service, as the configuration names them (`admin_group`,
/// `portal_users`); changed by a reload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub admin_group: String,
    /// User names, numeric uids, or `@group` for a group's members.
    pub portal_users: Vec<String>,
}

/// What the user database says about a uid: is it an admin or the portal, and its login
/// name. It does not depend on the connection, so it may be cached per uid and gid
/// (briefly: group membership changes while connections stay open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub admin: bool,
    pub portal: bool,
    pub login: Option<String>,
}

impl Standing {
    /// Ask the user database (NSS) about `peer`'s uid and gid. Root and the daemon's uid
    /// are admins and never the portal; a uid `portal_users` names is never an admin.
    pub fn lookup(peer: Peer, daemon_uid: u32, roles: &Roles) -> Standing {
        let user = User::from_uid(Uid::from_raw(peer.uid)).ok().flatten();
        let by_uid = Standing::admin_by_uid(peer.uid, daemon_uid);
        let portal = !by_uid && in_portal_users(&peer, user.as_ref(), &roles.portal_users);
        let admin = by_uid || (!portal && in_admin_group(&peer, user.as_ref(), &roles.admin_group));
        Standing {
            admin,
            portal,
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
    /// Only a portal uid; the account is then decided by the portal's credentials or
    /// session (`service::portal`), never by the uid.
    Portal,
}

/// The authorization table: one arm per request.
pub fn required(request: &Request) -> Access {
    match request {
        Request::Hello(_)
        | Request::Status
        | Request::ResetPassword(_)
        | Request::CheckResetToken(_) => Access::Anyone,
        Request::Metrics => Access::Admin,
        Request::ShowUser(_)
        | Request::ChangePassword(_)
        | Request::Verify(_)
        | Request::VerifyCode(_)
        | Request::EnableTotp(_)
        | Request::ConfirmTotp(_)
        | Request::DisableTwoFactor(_)
        | Request::RegenerateRecoveryCodes(_)
        | Request::SendReset(_)
        | Request::EnableSms(_)
        | Request::ConfirmSms(_)
        | Request::SendCode(_)
        | Request::Log(_)
        | Request::ListSessions(_)
        | Request::Logout(_)
        | Request::KeyRegisterStart(_)
        | Request::KeyRegisterFinish(_)
        | Request::ListKeys(_)
        | Request::RemoveKey(_)
        | Request::KeyLoginStart(_)
        | Request::KeyLoginFinish(_)
        | Request::ShowLifecycle(_) => Access::AdminOrSelf,
        Request::AddUser(_)
        | Request::RemoveUser(_)
        | Request::ListUsers(_)
        | Request::SetUser(_)
        | Request::SetPassword(_)
        | Request::ResetTwoFactor(_)
        | Request::Outbox(_)
        | Request::Backup(_)
        | Request::Unlock(_)
        | Request::ImportGoogleAuthenticator(_)
        | Request::OutboxRetry(_)
        | Request::OutboxPurge(_)
        | Request::Import(_)
        | Request::Disable(_)
        | Request::Enable(_)
        | Request::SetLifecycle(_)
        | Request::ListAccounts(_) => Access::Admin,
        Request::PortalSignIn(_)
        | Request::PortalCode(_)
        | Request::PortalProve(_)
        | Request::PortalAct(_)
        | Request::PortalSendCode(_)
        | Request::PortalForgot(_)
        | Request::PortalKeyStart(_)
        | Request::PortalKey(_)
        | Request::PortalProveKeyStart(_)
        | Request::PortalProveKey(_) => Access::Portal,
    }
}

impl Caller {
    /// Resolve a peer into a caller: admin by uid, the portal, admin by group, otherwise
    /// by login name. Asks the user database (NSS): call it off the async runtime.
    pub fn identify(peer: Peer, daemon_uid: u32, roles: &Roles) -> Caller {
        Caller::with(peer, Standing::lookup(peer, daemon_uid, roles))
    }

    /// The caller `peer` is, given its standing (looked up earlier, perhaps cached).
    pub fn with(peer: Peer, standing: Standing) -> Caller {
        match standing {
            Standing {
                admin: true, login, ..
            } => Caller::Admin { peer, login },
            Standing {
                portal: true,
                login,
                ..
            } => Caller::Portal { peer, login },
            Standing {
                login: Some(login), ..
            } => Caller::SelfService { peer, login },
            Standing { .. } => Caller::Anonymous { peer },
        }
    }

    pub fn peer(&self) -> Peer {
        match self {
            Caller::Admin { peer, .. }
            | Caller::SelfService { peer, .. }
            | Caller::Portal { peer, .. }
            | Caller::Anonymous { peer } => *peer,
        }
    }

    /// For audit records: `uid 1000 (alice) pid 4242`, `uid 998 (authd-web, portal)`.
    pub fn describe(&self) -> String {
        let peer = self.peer();
        let mut s = format!("uid {}", peer.uid);
        match self {
            Caller::Admin {
                login: Some(login), ..
            }
            | Caller::SelfService { login, .. } => s.push_str(&format!(" ({login})")),
            Caller::Portal {
                login: Some(login), ..
            } => s.push_str(&format!(" ({login}, portal)")),
            Caller::Portal { login: None, .. } => s.push_str(" (portal)"),
            Caller::Admin { login: None, .. } | Caller::Anonymous { .. } => {}
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
            (Access::Anyone, _) | (Access::Portal, Caller::Portal { .. }) => true,
            // Admins may do anything but speak for the portal.
            (Access::Portal, _) => false,
            (_, Caller::Admin { .. }) => true,
            (Access::AdminOrSelf, Caller::SelfService { login, .. }) => {
                request.account() == Some(login.as_str())
            }
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::PermissionDenied(match (self, request.account()) {
                (Caller::Portal { .. }, Some(name)) => format!(
                    "{} acts for account `{name}` only inside a portal session",
                    self.describe()
                ),
                (_, Some(name)) => {
                    format!("{} may not do this to account `{name}`", self.describe())
                }
                (_, None) if required(request) == Access::Portal => {
                    format!("{} is not a portal (`portal_users`)", self.describe())
                }
                (_, None) => format!("{} is not an authd admin", self.describe()),
            }))
        }
    }
}

/// Does an entry of `portal_users` name `peer`: its uid as a number, its user's name, or
/// (`@group`) a group it is in?
fn in_portal_users(peer: &Peer, user: Option<&User>, entries: &[String]) -> bool {
    entries.iter().any(|entry| match entry.strip_prefix('@') {
        Some(group) => matches!(Group::from_name(group), Ok(Some(g)) if member(&g, peer, user)),
        None => entry.parse::<u32>() == Ok(peer.uid) || user.is_some_and(|u| u.name == *entry),
    })
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
mod tests;
