//! Lockout against guessing: after `max_failures` consecutive failed passwords or codes,
//! the account is locked for `base`, doubling with each further failure up to `max`.
//!
//! Pure arithmetic on an `Account` and `now`; the service decides when to call it and
//! the store persists the result.

use crate::config::LockoutConfig;
use crate::store::Account;

/// When the lock ends, if the account is locked at `now`.
pub fn locked_until(account: &Account, now: u64) -> Option<u64> {
    account.locked_until.filter(|&until| until > now)
}

/// Count one failure; returns the new lock end when this failure locks the account.
pub fn record_failure(account: &mut Account, config: &LockoutConfig, now: u64) -> Option<u64> {
    account.failures = account.failures.saturating_add(1);
    let beyond = account.failures.checked_sub(config.max_failures)?;
    let base = config.base.as_secs().max(1);
    let doubled = base.saturating_mul(1u64 << beyond.min(40));
    let until = now + doubled.min(config.max.as_secs());
    account.locked_until = Some(until);
    Some(until)
}

/// A success (or an admin unlock) clears the count and any lock.
pub fn clear(account: &mut Account) {
    account.failures = 0;
    account.locked_until = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> LockoutConfig {
        LockoutConfig {
            max_failures: 5,
            base: Duration::from_secs(60),
            max: Duration::from_secs(3600),
        }
    }

    #[test]
    fn locks_on_the_fifth_failure_then_doubles_up_to_the_max() {
        let mut acc = Account::new("a".into(), 0);
        let now = 1000;
        for _ in 0..4 {
            assert_eq!(record_failure(&mut acc, &config(), now), None);
            assert_eq!(locked_until(&acc, now), None);
        }
        assert_eq!(record_failure(&mut acc, &config(), now), Some(now + 60));
        assert_eq!(locked_until(&acc, now + 59), Some(now + 60));
        assert_eq!(locked_until(&acc, now + 60), None);
        let lengths: Vec<u64> = (0..8)
            .map(|_| record_failure(&mut acc, &config(), now).unwrap() - now)
            .collect();
        assert_eq!(lengths, [120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }

    #[test]
    fn clear_resets_everything() {
        let mut acc = Account::new("a".into(), 0);
        for _ in 0..6 {
            record_failure(&mut acc, &config(), 0);
        }
        clear(&mut acc);
        assert_eq!((acc.failures, acc.locked_until), (0, None));
        assert_eq!(record_failure(&mut acc, &config(), 0), None);
    }

    #[test]
    fn very_many_failures_do_not_overflow() {
        let mut acc = Account::new("a".into(), 0);
        acc.failures = u32::MAX - 1;
        assert_eq!(record_failure(&mut acc, &config(), 5), Some(5 + 3600));
        assert_eq!(record_failure(&mut acc, &config(), 5), Some(5 + 3600));
    }
}
