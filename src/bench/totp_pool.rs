//! Fresh TOTP codes for `verify-totp`, for as long as the run lasts.
//!
//! Replay protection accepts each time step of an account once, in increasing order, and
//! only steps within `skew` of now: an account serves a burst of a few logins, then one
//! per period. So each client owns many accounts and cycles through them, sending each
//! account's next unused step in the window; a client whose accounts have all used their
//! steps waits for the next period (the wait counts against its throughput and is
//! reported: give it more accounts).

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::setup::Enrolled;
use crate::config::TotpConfig;
use crate::totp;

/// Near the end of a period the oldest step of the window is left alone: by the time
/// authd checks it, it may have fallen out (and a wrong code counts toward the lockout).
const MARGIN_SECS: u64 = 2;

/// The steps a code may be sent for at unix time `now` (seconds).
pub fn window(config: &TotpConfig, now: u64) -> RangeInclusive<u64> {
    let current = now / config.period;
    let skew = config.skew as u64;
    let mut first = current.saturating_sub(skew);
    if skew > 0 && now % config.period >= config.period.saturating_sub(MARGIN_SECS) {
        first += 1;
    }
    first..=current + skew
}

/// One client's accounts.
pub struct Pool {
    accounts: Vec<Enrolled>,
    next: usize,
    config: TotpConfig,
    /// How long the client may run (from its first code), to stop waiting in time.
    duration: Option<Duration>,
    started: Option<Instant>,
    /// Shared by all clients: microseconds spent waiting for a fresh step.
    waited_us: Arc<AtomicU64>,
}

impl Pool {
    pub fn new(
        accounts: Vec<Enrolled>,
        duration: Option<Duration>,
        waited_us: Arc<AtomicU64>,
    ) -> Pool {
        Pool {
            accounts,
            next: 0,
            config: TotpConfig::default(),
            duration,
            started: None,
            waited_us,
        }
    }

    /// The next account and a fresh code for it; `None` once the run's time is up while
    /// waiting for one.
    pub fn code(&mut self) -> Option<(&str, String)> {
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.accounts.is_empty() {
            return None;
        }
        loop {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
            let steps = window(&self.config, now.as_secs());
            let count = self.accounts.len();
            for k in 0..count {
                let i = (self.next + k) % count;
                let step = (self.accounts[i].last_step + 1).max(*steps.start());
                if steps.contains(&step) {
                    self.next = i + 1;
                    let account = &mut self.accounts[i];
                    account.last_step = step;
                    let code = totp::code_at_step(&account.secret, &self.config, step);
                    return Some((&account.name, code));
                }
            }
            // Every account has used its window: wait for the next period to open.
            let period = Duration::from_secs(self.config.period);
            let into = Duration::from_nanos((now.as_nanos() % period.as_nanos()) as u64);
            let mut wait = period - into;
            if let Some(d) = self.duration {
                let left = d.checked_sub(started.elapsed())?;
                wait = wait.min(left);
            }
            std::thread::sleep(wait);
            self.waited_us
                .fetch_add(wait.as_micros() as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_drops_its_oldest_step_near_the_end_of_a_period() {
        let config = TotpConfig::default();
        assert_eq!(window(&config, 300), 9..=11);
        assert_eq!(window(&config, 327), 9..=11);
        assert_eq!(window(&config, 328), 10..=11);
        assert_eq!(window(&config, 329), 10..=11);
        assert_eq!(window(&config, 330), 10..=12);
    }

    #[test]
    fn each_account_serves_each_step_once_in_turn() {
        let now = crate::time::now();
        let current = now / 30;
        let enrolled = |name: &str| Enrolled {
            name: name.into(),
            secret: vec![7; 20],
            last_step: current - 1,
        };
        let waited = Arc::new(AtomicU64::new(0));
        let mut pool = Pool::new(
            vec![enrolled("a"), enrolled("b")],
            Some(Duration::ZERO),
            waited,
        );
        let mut seen = Vec::new();
        while let Some((name, _)) = pool.code() {
            seen.push(name.to_string());
        }
        // a and b alternate, each using `current` and `current + 1` (unless the period
        // turned meanwhile, which gives each one more).
        assert!(seen.len() >= 4, "{seen:?}");
        assert_eq!(seen[..4], ["a", "b", "a", "b"]);
        let last: Vec<u64> = pool.accounts.iter().map(|a| a.last_step).collect();
        assert!(last.iter().all(|&s| s > current), "{last:?}");
    }
}
