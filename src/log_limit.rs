//! Warnings a caller can cause (a refused request, an unknown reset token) are counted
//! per uid, not all written: each uid gets at most `BURST` such log lines per `WINDOW`;
//! the rest are counted, and the next line that uid causes in a later window says how
//! many were left out. One local user flooding refused requests can so add a few lines a
//! minute to the log, not megabytes a second.
//!
//! Pure bookkeeping: it decides, the caller logs. Time is a parameter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Log lines per uid per window.
pub const BURST: u32 = 10;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many uids tracked, finished windows are forgotten.
const PRUNE_ABOVE: usize = 4096;

struct Window {
    start: Instant,
    logged: u32,
    /// Left out in this window: reported by the first line of the uid's next window
    /// (which is always logged, as it starts with `logged == 0`).
    left_out: u64,
}

impl Window {
    fn new(start: Instant) -> Window {
        Window {
            start,
            logged: 0,
            left_out: 0,
        }
    }
}

#[derive(Default)]
pub struct LogLimit {
    uids: Mutex<HashMap<u32, Window>>,
}

impl LogLimit {
    /// May `uid` cause one more log line now? `Some(n)`: yes, and `n` earlier ones were
    /// left out (say so in the line when `n > 0`); `None`: leave this one out.
    pub fn allow(&self, uid: u32, now: Instant) -> Option<u64> {
        let mut uids = self.uids.lock().unwrap_or_else(|e| e.into_inner());
        if uids.len() > PRUNE_ABOVE {
            // A finished window is kept while it has a count still to report.
            uids.retain(|_, w| now.duration_since(w.start) < WINDOW || w.left_out > 0);
        }
        let w = uids.entry(uid).or_insert_with(|| Window::new(now));
        let mut earlier = 0;
        if now.duration_since(w.start) >= WINDOW {
            earlier = w.left_out;
            *w = Window::new(now);
        }
        if w.logged < BURST {
            w.logged += 1;
            Some(earlier)
        } else {
            w.left_out += 1;
            None
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.uids.lock().map_or(0, |u| u.len())
    }
}

/// The tail of a log line that says how many earlier ones were left out, if any.
pub fn note(left_out: u64) -> String {
    match left_out {
        0 => String::new(),
        n => format!(" ({n} earlier warnings caused by this uid were not logged)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_per_window_then_counted_and_reported_later() {
        let limit = LogLimit::default();
        let t = Instant::now();
        for _ in 0..BURST {
            assert_eq!(limit.allow(7, t), Some(0));
        }
        for _ in 0..1000 {
            assert_eq!(limit.allow(7, t), None);
        }
        // Another uid is not held back by the first.
        assert_eq!(limit.allow(8, t), Some(0));
        let later = t + WINDOW;
        assert_eq!(limit.allow(7, later), Some(1000));
        assert_eq!(limit.allow(7, later), Some(0));
    }

    #[test]
    fn many_uids_forget_finished_windows_but_not_counts_still_to_report() {
        let limit = LogLimit::default();
        let t = Instant::now();
        for uid in 0..PRUNE_ABOVE as u32 {
            assert_eq!(limit.allow(uid, t), Some(0));
        }
        for _ in 0..BURST + 4 {
            limit.allow(0, t);
        }
        let later = t + WINDOW;
        limit.allow(100_000, later);
        assert_eq!(limit.tracked(), PRUNE_ABOVE + 1, "not above the bound yet");
        limit.allow(100_001, later);
        // Kept: uid 0 (5 left out, not yet reported) and the two in their window.
        assert_eq!(limit.tracked(), 3);
        assert_eq!(limit.allow(0, later), Some(5));
        assert_eq!(limit.allow(1, later), Some(0));
    }

    #[test]
    fn the_note_says_how_many_were_left_out() {
        assert_eq!(note(0), "");
        assert_eq!(
            note(3),
            " (3 earlier warnings caused by this uid were not logged)"
        );
    }
}
