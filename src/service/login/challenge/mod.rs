//! Login challenges: after a right password on a 2FA account, a short-lived single-use
//! token lets the client send just the code, so the password is hashed only once (PAM
//! prompts in two steps). Held in memory only: a restart simply means "start again".
//!
//! Nobody can push anyone else's challenge out: each account holds at most
//! `PER_ACCOUNT` (a new one replaces that account's oldest), each ordinary uid at most
//! `PER_UID` (a new one replaces that uid's oldest), and when the whole table is full a
//! new challenge is refused rather than evicting another's. A challenge also carries the
//! account's credential stamp: once the password, SSO state or second factors change
//! (or the account is removed and created again), it no longer redeems.
//!
//! A challenge may also carry a security key's ceremony (`keys::Ceremony`: the
//! webauthn-rs state of a registration or an assertion under way), under the same
//! rules: single use, bound to account and uid, the same expiry. At most
//! `MAX_CEREMONIES` carry one at a time (the states hold the account's credentials and
//! are larger than a challenge).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::super::keys::Ceremony;
use crate::error::Error;
use crate::protocol::Secret;
use crate::vault::random_bytes;

/// How long a challenge stays valid.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(180);
/// Outstanding challenges per account.
pub const PER_ACCOUNT: usize = 4;
/// Outstanding challenges per ordinary uid (admins, root running PAM for everyone, and
/// the portal signing in everyone through the web are bounded per account only).
pub const PER_UID: usize = 8;
/// Outstanding challenges at most: a memory bound, never a reason to evict.
const MAX_PENDING: usize = 100_000;
/// Challenges carrying a key ceremony at most (a few KiB each).
const MAX_CEREMONIES: usize = 10_000;

struct Pending {
    token: [u8; 32],
    account: String,
    uid: u32,
    /// Counted against the uid's quota.
    limited: bool,
    stamp: [u8; 32],
    expires: Instant,
    ceremony: Option<Ceremony>,
}

impl Pending {
    /// Is this the caller's challenge (`token`, account, uid), still in time?
    fn holds(&self, token: &[u8; 32], account: &str, uid: u32, now: Instant) -> bool {
        bool::from(self.token.ct_eq(token))
            && self.account == account
            && self.uid == uid
            && self.expires > now
    }
}

#[derive(Default)]
struct Table {
    /// How many pending challenges carry a ceremony.
    ceremonies: usize,
    pending: HashMap<u64, Pending>,
    /// Ids in the order issued, which is the order they expire in (one fixed TTL).
    order: VecDeque<u64>,
    by_account: HashMap<String, VecDeque<u64>>,
    by_uid: HashMap<u32, VecDeque<u64>>,
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
        if p.ceremony.is_some() {
            self.ceremonies -= 1;
        }
        unlist(&mut self.by_account, &p.account, id);
        if p.limited {
            unlist(&mut self.by_uid, &p.uid, id);
        }
        Some(p)
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&id) = self.order.front() {
            match self.pending.get(&id) {
                Some(p) if p.expires > now => break,
                Some(_) => {
                    self.remove(id);
                }
                None => {}
            }
            self.order.pop_front();
        }
    }

    /// The oldest id in `list` when it already holds `quota` of them.
    fn over<K: std::hash::Hash + Eq>(
        index: &HashMap<K, VecDeque<u64>>,
        key: &K,
        quota: usize,
    ) -> Option<u64> {
        index
            .get(key)
            .filter(|ids| ids.len() >= quota)
            .and_then(|ids| ids.front().copied())
    }
}

fn unlist<K: std::hash::Hash + Eq + Clone>(
    index: &mut HashMap<K, VecDeque<u64>>,
    key: &K,
    id: u64,
) {
    if let Some(ids) = index.get_mut(key) {
        ids.retain(|&i| i != id);
        if ids.is_empty() {
            index.remove(key);
        }
    }
}

pub struct Challenges {
    table: Mutex<Table>,
    /// `MAX_PENDING`, or less in tests.
    max_pending: usize,
}

impl Default for Challenges {
    fn default() -> Self {
        Challenges {
            table: Mutex::default(),
            max_pending: MAX_PENDING,
        }
    }
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

/// A challenge's id and token, from its wire form.
fn parse(challenge: &Secret) -> Option<(u64, [u8; 32])> {
    let bytes = unhex(challenge.expose())?;
    let (id, token) = bytes.split_at(8);
    Some((
        u64::from_be_bytes(id.try_into().ok()?),
        token.try_into().ok()?,
    ))
}

/// Who asks for a challenge, and for which state of the account.
pub struct Holder<'a> {
    pub account: &'a str,
    pub uid: u32,
    /// An ordinary uid, counted against `PER_UID`.
    pub limited: bool,
    /// The account's credential stamp when the password was found right.
    pub stamp: [u8; 32],
}

impl Challenges {
    fn table(&self) -> Result<MutexGuard<'_, Table>, Error> {
        self.table
            .lock()
            .map_err(|_| Error::Internal("challenge table poisoned".into()))
    }

    /// A new challenge for `holder.account`, redeemable only by `holder.uid`.
    pub fn issue(&self, holder: Holder<'_>, now: Instant) -> Result<Secret, Error> {
        self.issue_with(holder, now, None)
    }

    /// A new challenge that carries `ceremony` from the start (a key registration).
    pub fn issue_with(
        &self,
        holder: Holder<'_>,
        now: Instant,
        ceremony: Option<Ceremony>,
    ) -> Result<Secret, Error> {
        let id = u64::from_be_bytes(random_bytes::<8>()?);
        let token = random_bytes::<32>()?;
        let mut table = self.table()?;
        table.expire(now);
        let account = holder.account.to_string();
        if let Some(oldest) = Table::over(&table.by_account, &account, PER_ACCOUNT) {
            table.remove(oldest);
        }
        if holder.limited {
            if let Some(oldest) = Table::over(&table.by_uid, &holder.uid, PER_UID) {
                table.remove(oldest);
            }
        }
        if table.pending.len() >= self.max_pending
            || (ceremony.is_some() && table.ceremonies >= MAX_CEREMONIES)
        {
            return Err(Error::RateLimited {
                until: crate::time::now() + CHALLENGE_TTL.as_secs(),
            });
        }
        if ceremony.is_some() {
            table.ceremonies += 1;
        }
        table.order.push_back(id);
        table
            .by_account
            .entry(account.clone())
            .or_default()
            .push_back(id);
        if holder.limited {
            table.by_uid.entry(holder.uid).or_default().push_back(id);
        }
        table.pending.insert(
            id,
            Pending {
                token,
                account,
                uid: holder.uid,
                limited: holder.limited,
                stamp: holder.stamp,
                expires: now + CHALLENGE_TTL,
                ceremony,
            },
        );
        let mut wire = id.to_be_bytes().to_vec();
        wire.extend_from_slice(&token);
        Ok(Secret::new(hex(&wire)))
    }

    /// Redeem a challenge: once, for the same account and uid, before it expires. Gives
    /// the credential stamp it was issued for; the caller compares it with the account's
    /// current one. A ceremony it carried is dropped.
    pub fn take(
        &self,
        challenge: &Secret,
        account: &str,
        uid: u32,
        now: Instant,
    ) -> Option<[u8; 32]> {
        self.take_with(challenge, account, uid, now)
            .map(|(stamp, _)| stamp)
    }

    /// Redeem a challenge as `take` does, with the ceremony it carries.
    pub fn take_with(
        &self,
        challenge: &Secret,
        account: &str,
        uid: u32,
        now: Instant,
    ) -> Option<([u8; 32], Option<Ceremony>)> {
        let (id, token) = parse(challenge)?;
        let p = self.table().ok()?.remove(id)?;
        p.holds(&token, account, uid, now)
            .then_some((p.stamp, p.ceremony))
    }

    /// Look at a challenge without spending it (sending an SMS code for a pending
    /// sign-in): the same checks as `take`, and the stamp. A challenge that fails them
    /// is spent all the same, as by `take`.
    pub fn peek(
        &self,
        challenge: &Secret,
        account: &str,
        uid: u32,
        now: Instant,
    ) -> Option<[u8; 32]> {
        let (id, token) = parse(challenge)?;
        let mut table = self.table().ok()?;
        let p = table.pending.get(&id)?;
        if p.holds(&token, account, uid, now) {
            return Some(p.stamp);
        }
        table.remove(id);
        None
    }

    /// Let an outstanding challenge carry `ceremony` (replacing one it carried), without
    /// redeeming it: it still redeems once, by `take` or `take_with`. A challenge that is
    /// not the caller's, or expired, is burnt as a failed `take` would burn it. Gives
    /// the stamp it was issued for.
    pub fn attach(
        &self,
        challenge: &Secret,
        account: &str,
        uid: u32,
        now: Instant,
        ceremony: Ceremony,
    ) -> Result<[u8; 32], Error> {
        let (id, token) = parse(challenge).ok_or(Error::ChallengeExpired)?;
        let mut table = self.table()?;
        let Some(p) = table.pending.get(&id) else {
            return Err(Error::ChallengeExpired);
        };
        if !p.holds(&token, account, uid, now) {
            table.remove(id);
            return Err(Error::ChallengeExpired);
        }
        let carries = p.ceremony.is_some();
        if !carries && table.ceremonies >= MAX_CEREMONIES {
            return Err(Error::RateLimited {
                until: crate::time::now() + CHALLENGE_TTL.as_secs(),
            });
        }
        let Some(p) = table.pending.get_mut(&id) else {
            return Err(Error::ChallengeExpired);
        };
        let stamp = p.stamp;
        p.ceremony = Some(ceremony);
        if !carries {
            table.ceremonies += 1;
        }
        Ok(stamp)
    }

    #[cfg(test)]
    fn with_max_pending(max_pending: usize) -> Self {
        Challenges {
            max_pending,
            ..Challenges::default()
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table().map_or(0, |t| t.pending.len())
    }
}

#[cfg(test)]
mod tests;
