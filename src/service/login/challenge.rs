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

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

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

struct Pending {
    token: [u8; 32],
    account: String,
    uid: u32,
    /// Counted against the uid's quota.
    limited: bool,
    stamp: [u8; 32],
    expires: Instant,
}

#[derive(Default)]
struct Table {
    pending: HashMap<u64, Pending>,
    /// Ids in the order issued, which is the order they expire in (one fixed TTL).
    order: VecDeque<u64>,
    by_account: HashMap<String, VecDeque<u64>>,
    by_uid: HashMap<u32, VecDeque<u64>>,
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Pending> {
        let p = self.pending.remove(&id)?;
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
        if table.pending.len() >= self.max_pending {
            return Err(Error::RateLimited {
                until: crate::time::now() + CHALLENGE_TTL.as_secs(),
            });
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
            },
        );
        let mut wire = id.to_be_bytes().to_vec();
        wire.extend_from_slice(&token);
        Ok(Secret::new(hex(&wire)))
    }

    /// Redeem a challenge: once, for the same account and uid, before it expires. Gives
    /// the credential stamp it was issued for; the caller compares it with the account's
    /// current one.
    pub fn take(
        &self,
        challenge: &Secret,
        account: &str,
        uid: u32,
        now: Instant,
    ) -> Option<[u8; 32]> {
        self.check(challenge, account, uid, now, true)
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
        self.check(challenge, account, uid, now, false)
    }

    fn check(
        &self,
        challenge: &Secret,
        account: &str,
        uid: u32,
        now: Instant,
        spend: bool,
    ) -> Option<[u8; 32]> {
        let bytes = unhex(challenge.expose())?;
        let (id, token) = bytes.split_at(8);
        let id = u64::from_be_bytes(id.try_into().ok()?);
        let mut table = self.table().ok()?;
        let p = table.pending.get(&id)?;
        let valid = bool::from(p.token.ct_eq(token))
            && p.account == account
            && p.uid == uid
            && p.expires > now;
        let stamp = p.stamp;
        if spend || !valid {
            table.remove(id);
        }
        valid.then_some(stamp)
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
mod tests {
    use super::*;

    const STAMP: [u8; 32] = [7; 32];

    fn holder(account: &str, uid: u32) -> Holder<'_> {
        Holder {
            account,
            uid,
            limited: uid != 0,
            stamp: STAMP,
        }
    }

    #[test]
    fn a_challenge_is_single_use_and_bound_to_account_and_uid() {
        let c = Challenges::default();
        let now = Instant::now();
        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.take(&t, "alice", 1000, now), Some(STAMP));
        assert_eq!(c.take(&t, "alice", 1000, now), None, "second use");

        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.take(&t, "bob", 1000, now), None);
        assert_eq!(
            c.take(&t, "alice", 1000, now),
            None,
            "a failed try burns it"
        );

        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.take(&t, "alice", 1001, now), None);

        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.take(&t, "alice", 1000, now + CHALLENGE_TTL), None);

        assert_eq!(c.take(&Secret::new("zz"), "alice", 1000, now), None);
    }

    #[test]
    fn a_peek_spends_nothing_but_a_failed_one_burns_it() {
        let c = Challenges::default();
        let now = Instant::now();
        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.peek(&t, "alice", 1000, now), Some(STAMP));
        assert_eq!(c.peek(&t, "alice", 1000, now), Some(STAMP), "still there");
        assert_eq!(c.take(&t, "alice", 1000, now), Some(STAMP));
        assert_eq!(c.peek(&t, "alice", 1000, now), None, "spent by take");

        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.peek(&t, "bob", 1000, now), None, "another account's");
        assert_eq!(
            c.take(&t, "alice", 1000, now),
            None,
            "a failed peek burns it"
        );
        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.peek(&t, "alice", 1001, now), None, "another uid");
        let t = c.issue(holder("alice", 1000), now).unwrap();
        assert_eq!(c.peek(&t, "alice", 1000, now + CHALLENGE_TTL), None);
    }

    #[test]
    fn malformed_challenges_are_refused_without_panicking() {
        let c = Challenges::default();
        let now = Instant::now();
        let t = c.issue(holder("alice", 1000), now).unwrap();
        let wire = t.expose();
        let mut inputs = vec![
            String::new(),
            "00".into(),
            wire[..78].to_string(),
            format!("{wire}00"),
            format!("{}zz", &wire[..78]),
        ];
        // 80 bytes, not ASCII, with a two-byte character across a pair of hex digits.
        inputs.push(format!("0\u{e9}{}", &wire[3..]));
        for input in inputs {
            assert_eq!(c.take(&Secret::new(input), "alice", 1000, now), None);
        }
        assert!(c.take(&t, "alice", 1000, now).is_some(), "still there");
    }

    #[test]
    fn one_account_replaces_only_its_own_oldest() {
        let c = Challenges::default();
        let now = Instant::now();
        let bobs = c.issue(holder("bob", 0), now).unwrap();
        let first = c.issue(holder("alice", 0), now).unwrap();
        let mut last = None;
        for _ in 0..1000 {
            last = Some(c.issue(holder("alice", 0), now).unwrap());
        }
        assert_eq!(c.len(), PER_ACCOUNT + 1);
        assert_eq!(c.take(&first, "alice", 0, now), None, "replaced");
        assert!(c.take(&last.unwrap(), "alice", 0, now).is_some());
        assert!(c.take(&bobs, "bob", 0, now).is_some(), "bob's survives");
    }

    #[test]
    fn an_ordinary_uid_holds_a_handful_whatever_the_accounts() {
        let c = Challenges::default();
        let now = Instant::now();
        let names: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
        for name in &names {
            c.issue(holder(name, 1000), now).unwrap();
        }
        assert_eq!(c.len(), PER_UID);
    }

    #[test]
    fn a_full_table_refuses_rather_than_evicting() {
        assert_eq!(Challenges::default().max_pending, MAX_PENDING);
        let c = Challenges::with_max_pending(20);
        let now = Instant::now();
        for i in 0..20 {
            c.issue(holder(&format!("a{i}"), 0), now).unwrap();
        }
        let before = crate::time::now();
        let refused = c.issue(holder("late", 0), now);
        let after = crate::time::now();
        match refused {
            Err(Error::RateLimited { until }) => {
                let ttl = CHALLENGE_TTL.as_secs();
                assert!((before + ttl..=after + ttl).contains(&until), "{until}");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(c.len(), 20, "nobody's challenge was pushed out");
        c.issue(holder("late", 0), now + CHALLENGE_TTL).unwrap();
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn expired_challenges_make_room() {
        let c = Challenges::default();
        let now = Instant::now();
        for i in 0..10 {
            c.issue(holder(&format!("a{i}"), 0), now).unwrap();
        }
        c.issue(holder("late", 0), now + CHALLENGE_TTL).unwrap();
        assert_eq!(c.len(), 1);
    }
}
