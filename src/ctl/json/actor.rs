//! The audit actor as fields. authd stores who asked as one line of text
//! (`authz::Caller::describe`: `uid 1000 (alice) pid 4242`, `uid 0 (root)`,
//! `uid 33 (www-data, portal) pid 7`, or `authd` for the daemon's own deliveries) and the
//! PAM service at the head of a login's detail (`service::login::origin_detail`:
//! `service=sshd rhost=h; ...`). This module reads both back; its tests hold it to the
//! functions that write them, so the two cannot drift.

use serde::Serialize;

/// `log --json`'s `actor` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The caller's uid; `None` for the daemon's own events.
    pub uid: Option<u32>,
    /// The caller's login name, when the uid has one.
    pub user: Option<String>,
    pub pid: Option<i32>,
    /// The PAM service (or `authd-web`) a login came through, when it named one.
    pub service: Option<String>,
    /// The portal role (authd-web) made the request.
    pub portal: bool,
    /// The stored text, as `log` prints it.
    pub text: String,
}

impl Actor {
    /// Fields of the stored `actor` and `detail` of one audit entry. Read from the end,
    /// so a login name holding `) pid 1` is still taken whole.
    pub fn parse(actor: &str, detail: &str) -> Actor {
        let mut found = Actor {
            uid: None,
            user: None,
            pid: None,
            service: service(detail),
            portal: false,
            text: actor.to_string(),
        };
        let Some(rest) = actor.strip_prefix("uid ") else {
            return found;
        };
        let mut rest = rest;
        if let Some((head, pid)) = rest.rsplit_once(" pid ") {
            if let Ok(pid) = pid.parse() {
                found.pid = Some(pid);
                rest = head;
            }
        }
        let (uid, name) = match rest.split_once(" (") {
            Some((uid, name)) => match name.strip_suffix(')') {
                Some(name) => (uid, Some(name)),
                None => return found,
            },
            None => (rest, None),
        };
        let Ok(uid) = uid.parse() else {
            return found;
        };
        found.uid = Some(uid);
        match name {
            Some("portal") => found.portal = true,
            Some(name) => match name.strip_suffix(", portal") {
                Some(login) => {
                    found.user = Some(login.to_string());
                    found.portal = true;
                }
                None => found.user = Some(name.to_string()),
            },
            None => {}
        }
        found
    }
}

/// `service=NAME` at the head of a detail, up to the remote host or the `; ` before
/// what happened.
fn service(detail: &str) -> Option<String> {
    let rest = detail.strip_prefix("service=")?;
    let end = [rest.find(" rhost="), rest.find("; ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{Caller, Peer};
    use authd_proto::protocol::Origin;

    fn peer(uid: u32, pid: Option<i32>) -> Peer {
        Peer { uid, gid: uid, pid }
    }

    fn parsed(caller: &Caller) -> Actor {
        Actor::parse(&caller.describe(), "")
    }

    #[test]
    fn every_caller_describe_writes_reads_back() {
        let alice = Caller::SelfService {
            peer: peer(1000, Some(4242)),
            login: "alice".into(),
        };
        let a = parsed(&alice);
        assert_eq!(
            (a.uid, a.user.as_deref(), a.pid, a.portal),
            (Some(1000), Some("alice"), Some(4242), false)
        );
        let root = Caller::Admin {
            peer: peer(0, None),
            login: Some("root".into()),
        };
        let r = parsed(&root);
        assert_eq!(
            (r.uid, r.user.as_deref(), r.pid),
            (Some(0), Some("root"), None)
        );
        let nameless = Caller::Admin {
            peer: peer(999, Some(1)),
            login: None,
        };
        let n = parsed(&nameless);
        assert_eq!((n.uid, n.user, n.pid), (Some(999), None, Some(1)));
        let anon = Caller::Anonymous {
            peer: peer(4242, Some(7)),
        };
        assert_eq!(parsed(&anon).uid, Some(4242));
        let portal = Caller::Portal {
            peer: peer(33, Some(9)),
            login: Some("www-data".into()),
        };
        let p = parsed(&portal);
        assert_eq!(
            (p.uid, p.user.as_deref(), p.pid, p.portal),
            (Some(33), Some("www-data"), Some(9), true)
        );
        let unnamed_portal = Caller::Portal {
            peer: peer(33, None),
            login: None,
        };
        let u = parsed(&unnamed_portal);
        assert_eq!((u.uid, u.user, u.portal), (Some(33), None, true));
    }

    #[test]
    fn a_hostile_login_name_is_taken_whole() {
        for login in ["x) pid 5", "a (b) c", "evil, portal)", ""] {
            let caller = Caller::SelfService {
                peer: peer(1000, Some(12)),
                login: login.into(),
            };
            let a = parsed(&caller);
            assert_eq!(
                (a.user.as_deref(), a.pid),
                (Some(login), Some(12)),
                "{login}"
            );
        }
    }

    #[test]
    fn the_daemon_itself_has_no_uid() {
        let a = Actor::parse("authd", "");
        assert_eq!((a.uid, a.user, a.pid, a.service), (None, None, None, None));
        assert_eq!(a.text, "authd");
    }

    #[test]
    fn the_service_comes_from_the_login_detail() {
        let origin = |service: Option<&str>, host: Option<&str>| Origin {
            service: service.map(Into::into),
            remote_host: host.map(Into::into),
        };
        let detail = |o: &Origin| {
            crate::service::login::detail_with(
                &crate::service::login::origin_detail(o),
                "password and totp code",
            )
        };
        let both = detail(&origin(Some("sshd"), Some("10.0.0.1")));
        assert_eq!(service(&both).as_deref(), Some("sshd"));
        let alone = detail(&origin(Some("login"), None));
        assert_eq!(service(&alone).as_deref(), Some("login"));
        assert_eq!(service(&detail(&origin(None, Some("h")))), None);
        assert_eq!(service("password"), None);
    }
}
