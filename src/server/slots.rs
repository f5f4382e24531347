//! Connection slots: how many connections authd serves at once, and how many of them one
//! ordinary uid may hold, so that no local user can take every slot and stop everyone's
//! logins (PAM connects as root).
//!
//! - Every connection needs one of `max_connections` slots.
//! - An ordinary uid holds at most `max_connections_per_uid` of them, and ordinary uids
//!   together at most three quarters: the last quarter is kept for root, the daemon's
//!   uid and admins, who have no per-uid quota.
//!
//! A slot is held for the connection's life and given back when its `Slot` drops. This
//! module only counts; the accept loop tells a refused connection `busy`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::rights::Rights;
use crate::authz::Peer;

/// Why a connection got no slot (the message sent with `busy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The uid already holds its quota.
    UidQuota(usize),
    /// The daemon is at its limit (for this kind of caller).
    Full,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::UidQuota(n) => format!(
                "this user already holds {n} connections to authd (max_connections_per_uid); \
                 close one or try again shortly"
            ),
            Refusal::Full => {
                "authd is serving its maximum number of connections; try again shortly".into()
            }
        }
    }
}

type PerUid = Arc<Mutex<HashMap<u32, usize>>>;

pub struct Slots {
    all: Arc<Semaphore>,
    ordinary: Arc<Semaphore>,
    per_uid: PerUid,
    quota: usize,
}

/// One admitted connection's slot; dropping it gives the slot back.
pub struct Slot {
    _all: OwnedSemaphorePermit,
    ordinary: Option<(OwnedSemaphorePermit, u32, PerUid)>,
}

impl Slot {
    /// Every admitted connection is counted here and in `drop` (`metrics`).
    fn new(
        all: OwnedSemaphorePermit,
        ordinary: Option<(OwnedSemaphorePermit, u32, PerUid)>,
    ) -> Slot {
        crate::metrics::connection(true);
        Slot {
            _all: all,
            ordinary,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        crate::metrics::connection(false);
        if let Some((_, uid, per_uid)) = &self.ordinary {
            release(per_uid, *uid);
        }
    }
}

fn release(per_uid: &PerUid, uid: u32) {
    let mut held = per_uid.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = held.get_mut(&uid) {
        *n -= 1;
        if *n == 0 {
            held.remove(&uid);
        }
    }
}

impl Slots {
    /// `max` connections in all, `quota` for each ordinary uid.
    pub fn new(max: usize, quota: usize) -> Slots {
        let reserved = max / 4;
        Slots {
            all: Arc::new(Semaphore::new(max)),
            ordinary: Arc::new(Semaphore::new(max - reserved)),
            per_uid: Arc::default(),
            quota,
        }
    }

    /// A slot for `peer`. The user database is asked (through the rights cache) only
    /// when a uid would be refused, to see whether it is an exempt admin.
    pub async fn admit(&self, peer: Peer, rights: &Rights) -> Result<Slot, Refusal> {
        if rights.exempt_by_uid(peer.uid) {
            return self.exempt().ok_or(Refusal::Full);
        }
        match self.ordinary(peer.uid) {
            Ok(slot) => Ok(slot),
            Err(refusal) if rights.exempt(peer).await => self.exempt().ok_or(refusal),
            Err(refusal) => Err(refusal),
        }
    }

    /// Root, the daemon's uid, an admin: only the overall limit applies.
    fn exempt(&self) -> Option<Slot> {
        let all = Arc::clone(&self.all).try_acquire_owned().ok()?;
        Some(Slot::new(all, None))
    }

    /// The uid's quota, then the ordinary uids' share, then the overall limit.
    fn ordinary(&self, uid: u32) -> Result<Slot, Refusal> {
        {
            let mut held = self.per_uid.lock().unwrap_or_else(|e| e.into_inner());
            let n = held.entry(uid).or_insert(0);
            if *n >= self.quota {
                return Err(Refusal::UidQuota(self.quota));
            }
            *n += 1;
        }
        let permits = Arc::clone(&self.ordinary)
            .try_acquire_owned()
            .ok()
            .zip(Arc::clone(&self.all).try_acquire_owned().ok());
        match permits {
            Some((ordinary, all)) => Ok(Slot::new(
                all,
                Some((ordinary, uid, Arc::clone(&self.per_uid))),
            )),
            None => {
                release(&self.per_uid, uid);
                Err(Refusal::Full)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_uid_gets_its_quota_and_no_more() {
        let slots = Slots::new(100, 3);
        let held: Vec<_> = (0..3).map(|_| slots.ordinary(1000).unwrap()).collect();
        assert_eq!(slots.ordinary(1000).err(), Some(Refusal::UidQuota(3)));
        assert!(
            slots.ordinary(1001).is_ok(),
            "another uid has its own quota"
        );
        drop(held);
        assert!(
            slots.ordinary(1000).is_ok(),
            "closed connections give slots back"
        );
    }

    #[test]
    fn ordinary_uids_together_leave_a_quarter_for_exempt_callers() {
        let slots = Slots::new(8, 100);
        let held: Vec<_> = (0..6).map(|i| slots.ordinary(1000 + i).unwrap()).collect();
        assert_eq!(slots.ordinary(2000).err(), Some(Refusal::Full));
        let root: Vec<_> = (0..2).map(|_| slots.exempt().unwrap()).collect();
        assert!(slots.exempt().is_none(), "max_connections still holds");
        drop((held, root));
        assert_eq!(slots.per_uid.lock().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn root_is_admitted_beyond_any_quota() {
        let slots = Slots::new(100, 1);
        let rights = Rights::new(
            crate::authz::Roles {
                admin_group: "no-such-group-here".into(),
                portal_users: Vec::new(),
            },
            4321,
        );
        let peer = |uid| Peer {
            uid,
            gid: uid,
            pid: None,
        };
        let _a = slots.admit(peer(0), &rights).await.unwrap();
        let _b = slots.admit(peer(0), &rights).await.unwrap();
        let _c = slots.admit(peer(4322), &rights).await.unwrap();
        assert!(slots.admit(peer(4322), &rights).await.is_err());
        assert!(
            slots.per_uid.lock().unwrap().get(&0).is_none(),
            "root uses no quota"
        );
    }
}
