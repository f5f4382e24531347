//! Login challenges: after a right password on a 2FA account, a short-lived single-use
//! token lets the client send just the code, so the password is hashed only once (PAM
//! prompts in two steps). Held in memory only: a restart simply means "start again".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::protocol::Secret;
use crate::vault::random_bytes;

/// How long a challenge stays valid.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(180);
/// Outstanding challenges at most; the oldest are dropped beyond this.
const MAX_PENDING: usize = 10_000;

struct Pending {
    token: [u8; 32],
    account: String,
    uid: u32,
    expires: Instant,
}

#[derive(Default)]
pub struct Challenges {
    pending: Mutex<HashMap<u64, Pending>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 40]> {
    if s.len() != 80 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 40];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl Challenges {
    /// A new challenge for `account`, redeemable only by `uid`.
    pub fn issue(&self, account: &str, uid: u32, now: Instant) -> Result<Secret, Error> {
        let id = u64::from_be_bytes(random_bytes::<8>()?);
        let token = random_bytes::<32>()?;
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| Error::Internal("challenge table poisoned".into()))?;
        pending.retain(|_, p| p.expires > now);
        if pending.len() >= MAX_PENDING {
            if let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.expires)
                .map(|(k, _)| *k)
            {
                pending.remove(&oldest);
            }
        }
        pending.insert(
            id,
            Pending {
                token,
                account: account.to_string(),
                uid,
                expires: now + CHALLENGE_TTL,
            },
        );
        let mut wire = id.to_be_bytes().to_vec();
        wire.extend_from_slice(&token);
        Ok(Secret::new(hex(&wire)))
    }

    /// Redeem a challenge: true once, for the same account and uid, before it expires.
    pub fn take(&self, challenge: &Secret, account: &str, uid: u32, now: Instant) -> bool {
        let Some(bytes) = unhex(challenge.expose()) else {
            return false;
        };
        let (id, token) = bytes.split_at(8);
        let id = u64::from_be_bytes(id.try_into().unwrap_or_default());
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        let Some(p) = pending.remove(&id) else {
            return false;
        };
        bool::from(p.token.ct_eq(token)) && p.account == account && p.uid == uid && p.expires > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_single_use_and_bound_to_account_and_uid() {
        let c = Challenges::default();
        let now = Instant::now();
        let t = c.issue("alice", 1000, now).unwrap();
        assert!(c.take(&t, "alice", 1000, now));
        assert!(!c.take(&t, "alice", 1000, now), "second use");

        let t = c.issue("alice", 1000, now).unwrap();
        assert!(!c.take(&t, "bob", 1000, now));
        assert!(!c.take(&t, "alice", 1000, now), "a failed try burns it");

        let t = c.issue("alice", 1000, now).unwrap();
        assert!(!c.take(&t, "alice", 1001, now));

        let t = c.issue("alice", 1000, now).unwrap();
        assert!(!c.take(&t, "alice", 1000, now + CHALLENGE_TTL));

        assert!(!c.take(&Secret::new("zz"), "alice", 1000, now));
    }
}
