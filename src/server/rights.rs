//! Rights decided per request: a caller's `Standing` (admin? login name?) looked up in
//! the user database, cached for at most `FRESH_FOR` per uid and gid.
//!
//! A uid removed from `admin_group` (or added to `portal_users`) therefore loses admin
//! rights on its open connections within a second. Lookups run on the blocking pool, one at a time per uid and gid
//! however many connections ask, so a flood of connections from one uid costs at most one
//! lookup per second and never queues other callers' lookups behind it. This module
//! never decides what a standing allows; `crate::authz` does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::authz::{Caller, Peer, Roles, Standing};

/// How long a looked-up standing is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Keep the cache small: above this many (uid, gid) entries, stale ones are dropped.
const PRUNE_ABOVE: usize = 1024;

type Entry = Arc<tokio::sync::Mutex<Option<(Instant, Standing)>>>;

pub struct Rights {
    /// Changed by a configuration reload; the cache is emptied with it.
    roles: Mutex<Roles>,
    daemon_uid: u32,
    cache: Mutex<HashMap<(u32, u32), Entry>>,
}

impl Rights {
    pub fn new(roles: Roles, daemon_uid: u32) -> Rights {
        Rights {
            roles: Mutex::new(roles),
            daemon_uid,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A reload changed `admin_group` or `portal_users`: decide everyone's standing
    /// afresh.
    pub fn set_roles(&self, roles: Roles) {
        let mut current = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        if *current != roles {
            *current = roles;
            drop(current);
            self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    /// Who `peer` is for the request about to be served.
    pub async fn caller(&self, peer: Peer) -> Caller {
        Caller::with(peer, self.standing(peer).await)
    }

    /// Is `peer` exempt from the per-uid limits: root, the daemon's uid or an admin?
    pub async fn exempt(&self, peer: Peer) -> bool {
        self.exempt_by_uid(peer.uid) || self.standing(peer).await.admin
    }

    /// Root or the daemon's uid: exempt without asking the user database.
    pub fn exempt_by_uid(&self, uid: u32) -> bool {
        Standing::admin_by_uid(uid, self.daemon_uid)
    }

    fn entry(&self, peer: Peer) -> Entry {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > PRUNE_ABOVE {
            cache.retain(|_, entry| {
                entry.try_lock().map_or(true, |cached| {
                    cached
                        .as_ref()
                        .is_some_and(|(at, _)| at.elapsed() < FRESH_FOR)
                })
            });
        }
        Arc::clone(cache.entry((peer.uid, peer.gid)).or_default())
    }

    async fn standing(&self, peer: Peer) -> Standing {
        let entry = self.entry(peer);
        let mut cached = entry.lock().await;
        if let Some((at, standing)) = cached.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return standing.clone();
            }
        }
        let roles = self.roles.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let daemon_uid = self.daemon_uid;
        let looked_up =
            tokio::task::spawn_blocking(move || Standing::lookup(peer, daemon_uid, &roles)).await;
        match looked_up {
            Ok(standing) => {
                *cached = Some((Instant::now(), standing.clone()));
                standing
            }
            // The lookup died: no rights beyond those the uid alone gives, not cached.
            Err(_) => Standing {
                admin: Standing::admin_by_uid(peer.uid, daemon_uid),
                portal: false,
                login: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(uid: u32) -> Peer {
        Peer {
            uid,
            gid: uid,
            pid: None,
        }
    }

    fn nobody() -> Roles {
        Roles {
            admin_group: "no-such-group-here".into(),
            portal_users: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_reload_that_names_a_portal_takes_effect_at_once() {
        let rights = Rights::new(nobody(), 4321);
        assert!(!matches!(
            rights.caller(peer(4322)).await,
            Caller::Portal { .. }
        ));
        rights.set_roles(Roles {
            portal_users: vec!["4322".into()],
            ..nobody()
        });
        assert!(matches!(
            rights.caller(peer(4322)).await,
            Caller::Portal { .. }
        ));
    }

    #[tokio::test]
    async fn root_and_the_daemon_uid_are_exempt_others_are_not() {
        let rights = Rights::new(nobody(), 4321);
        assert!(rights.exempt(peer(0)).await);
        assert!(rights.exempt(peer(4321)).await);
        assert!(!rights.exempt(peer(4322)).await);
        assert!(rights.caller(peer(0)).await.is_admin());
        assert!(!rights.caller(peer(4322)).await.is_admin());
    }

    #[tokio::test]
    async fn the_cache_stays_bounded() {
        let rights = Rights::new(nobody(), 4321);
        for uid in 0..3 * PRUNE_ABOVE as u32 {
            let _ = rights.entry(peer(100_000 + uid));
        }
        let len = rights.cache.lock().unwrap().len();
        assert!(len <= PRUNE_ABOVE + 1, "{len} entries");
    }
}
