//! The hash pool's waiting room: who hashes next when a worker comes free.
//!
//! Work waits in one queue per `Share` (a uid), and shares take turns: a worker takes the
//! oldest job of the share whose turn it is, and that share goes to the back of the line.
//! An ordinary uid has at most `ORDINARY_AT_ONCE` hashes running; while it is at that
//! limit it stands aside, and takes its place at the back of the line again when one of
//! its hashes ends. So a uid that floods the daemon with password checks only ever delays
//! someone else by the hash already running, never by its whole backlog; root, the
//! daemon's uid and admins (PAM, authctl as root) are never capped.
//!
//! This module only orders work; it never runs or inspects it. How much work can wait is
//! bounded by the connections (one request in flight per connection, a per-uid quota).

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Hashes one ordinary uid may have running at once.
pub const ORDINARY_AT_ONCE: usize = 1;

/// Whose work a hash is, for taking turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Share {
    uid: u32,
    capped: bool,
}

impl Share {
    /// root, the daemon's uid, an admin: takes turns with everyone, never capped.
    pub const fn exempt(uid: u32) -> Share {
        Share { uid, capped: false }
    }

    /// Any other uid: at most `ORDINARY_AT_ONCE` of its hashes run at once.
    pub const fn ordinary(uid: u32) -> Share {
        Share { uid, capped: true }
    }
}

struct State<J> {
    waiting: HashMap<Share, VecDeque<J>>,
    /// Shares that have waiting work and may start it now, in turn order. Invariant:
    /// a share is here exactly once iff it has waiting work and is below its cap.
    turns: VecDeque<Share>,
    running: HashMap<Share, usize>,
    closed: bool,
}

impl<J> State<J> {
    fn may_start(&self, share: Share) -> bool {
        !share.capped || self.running.get(&share).copied().unwrap_or(0) < ORDINARY_AT_ONCE
    }

    fn has_waiting(&self, share: Share) -> bool {
        self.waiting.get(&share).is_some_and(|q| !q.is_empty())
    }

    /// Put `share` in line if it has work, may start it, and is not in line yet.
    fn line_up(&mut self, share: Share) {
        if self.has_waiting(share) && self.may_start(share) && !self.turns.contains(&share) {
            self.turns.push_back(share);
        }
    }

    fn take(&mut self) -> Option<(Share, J)> {
        let share = self.turns.pop_front()?;
        let queue = self.waiting.get_mut(&share)?;
        let job = queue.pop_front()?;
        crate::metrics::hash_queued(false);
        if queue.is_empty() {
            self.waiting.remove(&share);
        }
        *self.running.entry(share).or_insert(0) += 1;
        self.line_up(share);
        Some((share, job))
    }
}

/// The queue is closed: the pool is shutting down.
#[derive(Debug)]
pub struct Closed;

pub struct FairQueue<J> {
    state: Mutex<State<J>>,
    ready: Condvar,
}

impl<J> Default for FairQueue<J> {
    fn default() -> Self {
        FairQueue {
            state: Mutex::new(State {
                waiting: HashMap::new(),
                turns: VecDeque::new(),
                running: HashMap::new(),
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<J> FairQueue<J> {
    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // The state stays consistent across a panic (no user code runs under the lock).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue `job` behind the earlier work of the same share.
    pub fn push(&self, share: Share, job: J) -> Result<(), Closed> {
        let mut state = self.lock();
        if state.closed {
            return Err(Closed);
        }
        state.waiting.entry(share).or_default().push_back(job);
        crate::metrics::hash_queued(true);
        state.line_up(share);
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// The next job to run, waiting for one; `None` once the queue is closed.
    /// The caller must call `done` with the share when the job has finished.
    pub fn next(&self) -> Option<(Share, J)> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(next) = state.take() {
                return Some(next);
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The next job if one may start now, without waiting.
    #[cfg(test)]
    pub fn try_next(&self) -> Option<(Share, J)> {
        self.lock().take()
    }

    /// A job of `share` has finished: it may start another one.
    pub fn done(&self, share: Share) {
        let mut state = self.lock();
        if let Some(n) = state.running.get_mut(&share) {
            *n -= 1;
            if *n == 0 {
                state.running.remove(&share);
            }
        }
        state.line_up(share);
        drop(state);
        self.ready.notify_one();
    }

    /// Stop handing out work; waiting jobs are dropped.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.waiting.clear();
        state.turns.clear();
        drop(state);
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Share = Share {
        uid: 0,
        capped: false,
    };

    fn nobody() -> Share {
        Share::ordinary(65534)
    }

    fn take(q: &FairQueue<&'static str>) -> Option<&'static str> {
        q.try_next().map(|(_, job)| job)
    }

    #[test]
    fn a_flooding_uid_delays_others_by_at_most_the_hash_it_is_running() {
        let q = FairQueue::default();
        for _ in 0..200 {
            q.push(nobody(), "flood").unwrap();
        }
        // One worker took nobody's first hash; nobody may start no other meanwhile.
        assert_eq!(take(&q), Some("flood"));
        assert_eq!(take(&q), None);
        q.push(ROOT, "pam login").unwrap();
        assert_eq!(take(&q), Some("pam login"));
        q.done(ROOT);
        q.done(nobody());
        assert_eq!(take(&q), Some("flood"));
        // Root arriving while nobody's second hash runs is again next in line.
        q.push(ROOT, "sudo").unwrap();
        q.done(nobody());
        assert_eq!(take(&q), Some("sudo"));
    }

    #[test]
    fn ordinary_uids_take_turns_in_order_of_arrival() {
        let q = FairQueue::default();
        let (a, b, c) = (Share::ordinary(1), Share::ordinary(2), Share::ordinary(3));
        for _ in 0..3 {
            q.push(a, "a").unwrap();
        }
        q.push(b, "b").unwrap();
        q.push(c, "c").unwrap();
        let mut order = Vec::new();
        while let Some((share, job)) = q.try_next() {
            order.push(job);
            q.done(share);
        }
        assert_eq!(order, ["a", "b", "c", "a", "a"]);
    }

    #[test]
    fn exempt_uids_may_use_every_worker() {
        let q = FairQueue::default();
        for _ in 0..3 {
            q.push(ROOT, "root").unwrap();
        }
        q.push(nobody(), "nobody").unwrap();
        q.push(nobody(), "nobody").unwrap();
        // Four workers free: root's three and one of nobody's start, nobody's second waits.
        let started: Vec<_> = std::iter::from_fn(|| take(&q)).collect();
        assert_eq!(started, ["root", "nobody", "root", "root"]);
    }

    #[test]
    fn closing_wakes_waiting_workers_and_refuses_work() {
        let q = std::sync::Arc::new(FairQueue::<u8>::default());
        let worker = {
            let q = std::sync::Arc::clone(&q);
            std::thread::spawn(move || q.next().is_none())
        };
        q.close();
        assert!(worker.join().unwrap());
        assert!(q.push(ROOT, 1).is_err());
    }
}
