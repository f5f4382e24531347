//! A small in-memory limit on POSTs: at most `limit` in each minute per key (a fixed
//! window per key). Keyed by client address (every POST) and by account name (sign-in
//! and reset-mail POSTs, so that many addresses cannot take turns at one account). It
//! sits in front of authd's own lockout and rate limits, so nobody can hammer the
//! daemon through the web.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, finished windows are dropped.
const PRUNE_ABOVE: usize = 10_000;

pub struct RateLimit<K> {
    limit: u32,
    seen: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq> RateLimit<K> {
    pub fn new(limit: u32) -> RateLimit<K> {
        RateLimit {
            limit,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Count one POST for `key` at `now`: `Ok`, or `Err(seconds)` until it may try again.
    pub fn allow(&self, key: K, now: Instant) -> Result<(), u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > PRUNE_ABOVE {
            seen.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = seen.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn each_address_gets_its_limit_per_minute() {
        let r = RateLimit::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Instant::now();
        assert!(r.allow(a, t).is_ok());
        assert!(r.allow(a, t).is_ok());
        assert_eq!(r.allow(a, t + Duration::from_secs(20)), Err(40));
        assert!(r.allow(b, t).is_ok(), "another address has its own count");
        assert!(r.allow(a, t + WINDOW).is_ok(), "a new minute, a new count");
    }

    #[test]
    fn each_account_name_gets_its_limit_whatever_the_address() {
        let r: RateLimit<String> = RateLimit::new(3);
        let t = Instant::now();
        for _ in 0..3 {
            assert!(r.allow("alice".into(), t).is_ok());
        }
        assert_eq!(r.allow("alice".into(), t + Duration::from_secs(59)), Err(1));
        assert!(r.allow("bob".into(), t).is_ok(), "bob has his own count");
        assert!(r.allow("alice".into(), t + WINDOW).is_ok());
    }
}
