//! Portal sessions: what authd-web holds after an account signed in through it with the
//! account's own password and second factor. The rules live here, with time and the
//! limits in force as arguments (`At`): a session ends `Limits::idle` unused or
//! `Limits::lifetime` after sign-in, whichever comes first; a sensitive act needs a proof
//! given within `Limits::fresh`; a session is bound to the portal uid that opened it and
//! to the account's credential stamp, so a password change, a reset or any change of the
//! second factors made elsewhere ends it.
//!
//! The limits come from `[web]` in authd.toml at each decision, not when a session opens:
//! after a `reload`, every session, old or new, is judged by the new ones.
//!
//! The token is 256 random bits, handed out once; the table keeps only its keyed hash
//! (`Vault::keyed_hash`), so a memory dump cannot replay one. Sessions are held in memory:
//! a daemon restart signs everyone out of the portal, which fails closed. This module
//! never touches the store, the wire or the account records.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::Error;
use crate::protocol::{Secret, SessionInfo};
use crate::vault::{random_bytes, Vault};

/// How long sessions and proofs last, in seconds (`[web] session_idle`,
/// `session_lifetime`, `fresh_proof`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A session unused this long is over.
    pub idle: u64,
    /// A session is over this long after its sign-in, used or not.
    pub lifetime: u64,
    /// A proof (sign-in or `PortalProve`) allows sensitive acts this long.
    pub fresh: u64,
}

impl Default for Limits {
    /// 15 minutes idle, 8 hours in all, a proof good for 5 minutes.
    fn default() -> Limits {
        Limits {
            idle: 15 * 60,
            lifetime: 8 * 60 * 60,
            fresh: 5 * 60,
        }
    }
}

/// A decision's instant (unix seconds) and the limits in force at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub now: u64,
    pub limits: Limits,
}

/// Sessions one account may have at once; a new sign-in ends the oldest.
pub const PER_ACCOUNT: usize = 8;
/// Sessions held at most: a memory bound; a sign-in beyond it is refused.
const MAX_SESSIONS: usize = 100_000;

/// The keyed hash a session token is held under.
pub fn token_hash(vault: &Vault, token: &str) -> [u8; 32] {
    vault.keyed_hash(b"portal-session", token.trim().as_bytes())
}

/// One session, as held (never its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Small, unique while the daemon runs: what `authctl logout USER ID` names.
    pub id: u64,
    pub account: String,
    /// The portal uid that opened it; no other uid may use it.
    pub uid: u32,
    /// The account's credential stamp the session was opened (or last changed) under.
    pub stamp: [u8; 32],
    pub created: u64,
    pub last_used: u64,
    /// When the account last proved itself in this session.
    pub proved: u64,
    pub origin: String,
}

impl Session {
    /// When it ends if not used again, under `limits`.
    pub fn expires(&self, limits: &Limits) -> u64 {
        (self.last_used + limits.idle).min(self.created + limits.lifetime)
    }

    pub fn live(&self, at: At) -> bool {
        at.now < self.expires(&at.limits)
    }

    /// May a sensitive act go ahead at `at`?
    pub fn fresh(&self, at: At) -> bool {
        at.now < self.proved + at.limits.fresh
    }

    pub fn info(&self, limits: &Limits) -> SessionInfo {
        SessionInfo {
            id: self.id,
            created: self.created,
            last_used: self.last_used,
            expires: self.expires(limits),
            origin: self.origin.clone(),
        }
    }
}

/// Why a token did not lead to a session; `Gone` carries the session that just ended
/// (for the audit trail).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such token (never issued, logged out, or ended long ago).
    Unknown,
    /// Another portal uid opened it.
    OtherUid,
    /// It expired at `now`, or the account's credentials changed: removed now.
    Gone {
        session: Box<Session>,
        why: &'static str,
    },
}

#[derive(Default)]
struct Table {
    by_hash: HashMap<[u8; 32], Session>,
    next_id: u64,
}

#[derive(Default)]
pub struct Sessions {
    table: Mutex<Table>,
}

impl Sessions {
    fn table(&self) -> Result<MutexGuard<'_, Table>, Error> {
        self.table
            .lock()
            .map_err(|_| Error::Internal("portal session table poisoned".into()))
    }

    /// Open a session for `account` (its credentials just checked, `stamp` their state),
    /// for portal `uid`. Returns the token (shown once) and the session; the account's
    /// oldest session ends when it already has `PER_ACCOUNT`, and is returned too.
    pub fn open(
        &self,
        vault: &Vault,
        account: &str,
        uid: u32,
        stamp: [u8; 32],
        origin: String,
        at: At,
    ) -> Result<(Secret, Session, Option<Session>), Error> {
        let now = at.now;
        let token = base32::encode(
            base32::Alphabet::Rfc4648 { padding: false },
            &random_bytes::<32>()?,
        );
        let hash = token_hash(vault, &token);
        let mut table = self.table()?;
        table.by_hash.retain(|_, s| s.live(at));
        let mut own: Vec<([u8; 32], u64)> = table
            .by_hash
            .iter()
            .filter(|(_, s)| s.account == account)
            .map(|(h, s)| (*h, s.created))
            .collect();
        let mut pushed_out = None;
        if own.len() >= PER_ACCOUNT {
            own.sort_by_key(|(_, created)| *created);
            pushed_out = table.by_hash.remove(&own[0].0);
        }
        if table.by_hash.len() >= MAX_SESSIONS {
            return Err(Error::RateLimited {
                until: now + at.limits.idle,
            });
        }
        table.next_id += 1;
        let session = Session {
            id: table.next_id,
            account: account.to_string(),
            uid,
            stamp,
            created: now,
            last_used: now,
            proved: now,
            origin,
        };
        table.by_hash.insert(hash, session.clone());
        Ok((Secret::new(token), session, pushed_out))
    }

    /// The session `hash` names, used at `at` by `uid`, if it is live and the account's
    /// credentials are still those it was opened under (`stamp` of the account now, or
    /// `None` when the account is gone). Counts as a use (the idle clock restarts).
    pub fn touch(
        &self,
        hash: &[u8; 32],
        uid: u32,
        stamp: impl FnOnce(&str) -> Option<[u8; 32]>,
        at: At,
    ) -> Result<Result<Session, Refused>, Error> {
        let mut table = self.table()?;
        let Some(session) = table.by_hash.get(hash) else {
            return Ok(Err(Refused::Unknown));
        };
        if session.uid != uid {
            return Ok(Err(Refused::OtherUid));
        }
        let why = if !session.live(at) {
            Some("expired")
        } else if stamp(&session.account) != Some(session.stamp) {
            Some("the account's credentials changed")
        } else {
            None
        };
        if let Some(why) = why {
            let session = table.by_hash.remove(hash).ok_or(Error::SessionInvalid)?;
            return Ok(Err(Refused::Gone {
                session: Box::new(session),
                why,
            }));
        }
        let session = table.by_hash.get_mut(hash).ok_or(Error::SessionInvalid)?;
        session.last_used = at.now;
        Ok(Ok(session.clone()))
    }

    /// A proof was just given in session `hash`: sensitive acts may follow.
    pub fn proved(&self, hash: &[u8; 32], now: u64) -> Result<(), Error> {
        let mut table = self.table()?;
        let session = table.by_hash.get_mut(hash).ok_or(Error::SessionInvalid)?;
        session.proved = now;
        Ok(())
    }

    /// The session itself changed the account's credentials (a factor enrolled or
    /// removed): it goes on under the new `stamp`, while every other session of the
    /// account, opened under the old one, ends when next used.
    pub fn restamp(&self, hash: &[u8; 32], stamp: [u8; 32]) -> Result<(), Error> {
        let mut table = self.table()?;
        if let Some(session) = table.by_hash.get_mut(hash) {
            session.stamp = stamp;
        }
        Ok(())
    }

    /// The account's live sessions under its current `stamp`, oldest first.
    pub fn list(&self, account: &str, stamp: [u8; 32], at: At) -> Result<Vec<Session>, Error> {
        let mut table = self.table()?;
        table.by_hash.retain(|_, s| s.live(at));
        let mut own: Vec<Session> = table
            .by_hash
            .values()
            .filter(|s| s.account == account && s.stamp == stamp)
            .cloned()
            .collect();
        own.sort_by_key(|s| s.id);
        Ok(own)
    }

    /// End the account's session `id`, or all of them; returns those ended.
    pub fn end(&self, account: &str, id: Option<u64>) -> Result<Vec<Session>, Error> {
        let mut table = self.table()?;
        let hashes: Vec<[u8; 32]> = table
            .by_hash
            .iter()
            .filter(|(_, s)| s.account == account && id.is_none_or(|id| s.id == id))
            .map(|(h, _)| *h)
            .collect();
        let mut ended: Vec<Session> = hashes
            .iter()
            .filter_map(|h| table.by_hash.remove(h))
            .collect();
        ended.sort_by_key(|s| s.id);
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: u32 = 998;
    const T0: u64 = 1_000_000;
    // The defaults (`config::web` checks that they are `Limits::default()`).
    const IDLE: u64 = 15 * 60;
    const ABSOLUTE: u64 = 8 * 60 * 60;
    const FRESH: u64 = 5 * 60;

    /// `now` under the default limits.
    fn at(now: u64) -> At {
        at_with(now, Limits::default())
    }

    fn at_with(now: u64, limits: Limits) -> At {
        At { now, limits }
    }

    fn vault() -> Vault {
        Vault::from_key(&[9u8; 32])
    }

    fn open(sessions: &Sessions, account: &str, now: u64) -> (Secret, Session) {
        let (token, session, _) = sessions
            .open(&vault(), account, WEB, [1; 32], "rhost=h".into(), at(now))
            .unwrap();
        (token, session)
    }

    fn touch(sessions: &Sessions, token: &Secret, now: u64) -> Result<Session, Refused> {
        touch_at(sessions, token, at(now))
    }

    fn touch_at(sessions: &Sessions, token: &Secret, at: At) -> Result<Session, Refused> {
        let hash = token_hash(&vault(), token.expose());
        sessions.touch(&hash, WEB, |_| Some([1; 32]), at).unwrap()
    }

    #[test]
    fn the_limits_in_force_at_each_decision_apply_to_every_session() {
        let short = Limits {
            idle: 2,
            lifetime: 5,
            fresh: 1,
        };
        let sessions = Sessions::default();
        let (token, session) = open(&sessions, "alice", T0);
        assert_eq!(session.expires(&short), T0 + 2);
        assert!(session.fresh(at_with(T0, short)));
        assert!(
            !session.fresh(at_with(T0 + 1, short)),
            "the proof went stale"
        );
        for now in T0 + 1..T0 + 5 {
            assert!(touch_at(&sessions, &token, at_with(now, short)).is_ok());
        }
        assert!(
            touch_at(&sessions, &token, at(T0 + 5)).is_ok(),
            "a reload back to the defaults applies to it"
        );
        assert_eq!(
            sessions
                .list("alice", [1; 32], at_with(T0 + 5, short))
                .unwrap(),
            vec![],
            "five seconds after its sign-in, however busy"
        );
        let (token, _) = open(&sessions, "alice", T0);
        assert!(
            matches!(
                touch_at(&sessions, &token, at_with(T0 + 2, short)),
                Err(Refused::Gone { .. })
            ),
            "two idle seconds"
        );
    }

    #[test]
    fn tokens_are_256_bit_and_held_only_as_keyed_hashes() {
        let sessions = Sessions::default();
        let (a, _) = open(&sessions, "alice", T0);
        let (b, _) = open(&sessions, "alice", T0);
        assert_eq!(a.expose().len(), 52, "32 bytes in base32");
        assert_ne!(a, b);
        let table = sessions.table.lock().unwrap();
        assert!(table
            .by_hash
            .contains_key(&token_hash(&vault(), a.expose())));
        let held = format!("{:?}", table.by_hash.values().collect::<Vec<_>>());
        assert!(!held.contains(a.expose()), "{held}");
    }

    #[test]
    fn a_session_ends_after_fifteen_idle_minutes() {
        let sessions = Sessions::default();
        let (token, _) = open(&sessions, "alice", T0);
        let used = touch(&sessions, &token, T0 + IDLE - 1).unwrap();
        assert_eq!(
            used.last_used,
            T0 + IDLE - 1,
            "a use restarts the idle clock"
        );
        assert!(touch(&sessions, &token, T0 + 2 * IDLE - 2).is_ok());
        match touch(&sessions, &token, T0 + 3 * IDLE - 2) {
            Err(Refused::Gone { why, .. }) => assert_eq!(why, "expired"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            touch(&sessions, &token, T0),
            Err(Refused::Unknown),
            "removed"
        );
    }

    #[test]
    fn a_session_ends_eight_hours_after_sign_in_however_busy() {
        let sessions = Sessions::default();
        let (token, _) = open(&sessions, "alice", T0);
        let mut now = T0;
        while now + IDLE / 2 < T0 + ABSOLUTE {
            now += IDLE / 2;
            assert!(touch(&sessions, &token, now).is_ok(), "at {}", now - T0);
        }
        assert!(matches!(
            touch(&sessions, &token, T0 + ABSOLUTE),
            Err(Refused::Gone { .. })
        ));
    }

    #[test]
    fn sensitive_acts_need_a_proof_from_the_last_five_minutes() {
        let sessions = Sessions::default();
        let (token, session) = open(&sessions, "alice", T0);
        assert!(session.fresh(at(T0 + FRESH - 1)), "the sign-in is a proof");
        let later = touch(&sessions, &token, T0 + FRESH).unwrap();
        assert!(!later.fresh(at(T0 + FRESH)), "a use is not a proof");
        let hash = token_hash(&vault(), token.expose());
        sessions.proved(&hash, T0 + FRESH).unwrap();
        assert!(touch(&sessions, &token, T0 + FRESH + 1)
            .unwrap()
            .fresh(at(T0 + FRESH + 1)));
    }

    #[test]
    fn changed_credentials_another_uid_and_a_made_up_token_are_refused() {
        let sessions = Sessions::default();
        let (token, _) = open(&sessions, "alice", T0);
        let hash = token_hash(&vault(), token.expose());
        let other = sessions
            .touch(&hash, WEB + 1, |_| Some([1; 32]), at(T0))
            .unwrap();
        assert_eq!(other, Err(Refused::OtherUid));
        let made_up = token_hash(&vault(), "AAAA");
        let unknown = sessions
            .touch(&made_up, WEB, |_| Some([1; 32]), at(T0))
            .unwrap();
        assert_eq!(unknown, Err(Refused::Unknown));
        let changed = sessions
            .touch(&hash, WEB, |_| Some([2; 32]), at(T0))
            .unwrap();
        assert!(matches!(changed, Err(Refused::Gone { why, .. }) if why.contains("credentials")));
        assert_eq!(touch(&sessions, &token, T0), Err(Refused::Unknown));
        let (token, _) = open(&sessions, "alice", T0);
        let hash = token_hash(&vault(), token.expose());
        let removed = sessions.touch(&hash, WEB, |_| None, at(T0)).unwrap();
        assert!(
            matches!(removed, Err(Refused::Gone { .. })),
            "account removed"
        );
    }

    #[test]
    fn restamping_keeps_this_session_and_lists_only_current_ones() {
        let sessions = Sessions::default();
        let (mine, _) = open(&sessions, "alice", T0);
        let (_, _) = open(&sessions, "alice", T0);
        let (_, _) = open(&sessions, "bob", T0);
        assert_eq!(sessions.list("alice", [1; 32], at(T0)).unwrap().len(), 2);
        sessions
            .restamp(&token_hash(&vault(), mine.expose()), [2; 32])
            .unwrap();
        let listed = sessions.list("alice", [2; 32], at(T0)).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(sessions
            .list("alice", [1; 32], at(T0 + IDLE))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn logout_ends_one_or_all_of_an_accounts_sessions() {
        let sessions = Sessions::default();
        let (_, first) = open(&sessions, "alice", T0);
        let (second, _) = open(&sessions, "alice", T0);
        let (bobs, _) = open(&sessions, "bob", T0);
        let ended = sessions.end("alice", Some(first.id)).unwrap();
        assert_eq!(ended.len(), 1);
        assert!(sessions.end("bob", Some(first.id + 1)).unwrap().is_empty());
        assert!(touch(&sessions, &second, T0).is_ok());
        assert_eq!(sessions.end("alice", None).unwrap().len(), 1);
        assert_eq!(touch(&sessions, &second, T0), Err(Refused::Unknown));
        assert!(touch(&sessions, &bobs, T0).is_ok(), "bob's stays");
    }

    #[test]
    fn an_account_holds_a_bounded_number_of_sessions() {
        let sessions = Sessions::default();
        let (oldest, _) = open(&sessions, "alice", T0);
        for i in 1..PER_ACCOUNT as u64 {
            open(&sessions, "alice", T0 + i);
        }
        let (_, _, pushed) = sessions
            .open(&vault(), "alice", WEB, [1; 32], String::new(), at(T0 + 99))
            .unwrap();
        assert!(pushed.is_some());
        assert_eq!(touch(&sessions, &oldest, T0 + 100), Err(Refused::Unknown));
        assert_eq!(
            sessions.list("alice", [1; 32], at(T0 + 100)).unwrap().len(),
            PER_ACCOUNT
        );
    }
}
