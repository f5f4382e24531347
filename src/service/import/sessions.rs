//! Import sessions: the lines of imports under way, in memory until their commit.
//!
//! Bounded: at most `MAX_SESSIONS` at once (another is `rate_limited`), `MAX_LINES` lines each, and a session idle
//! for `IDLE` is dropped (its client went away). A session belongs to the uid that opened
//! it. A step takes its session out of the table while it runs and puts it back after,
//! so two steps never work on one session at once (the second finds none).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::lines::Line;
use crate::error::Error;

/// Imports under way at once.
pub const MAX_SESSIONS: usize = 4;
/// Lines one import may hold.
pub const MAX_LINES: usize = crate::protocol::MAX_IMPORT_LINES as usize;
/// A session with no step for this long is dropped.
pub const IDLE: Duration = Duration::from_secs(600);

pub struct Session {
    pub id: u64,
    pub owner: u32,
    pub lines: Vec<Line>,
    /// Each name staged, with its line number (duplicates are refused).
    pub names: HashMap<String, u64>,
    /// Plain passwords hashed so far, and still to hash.
    pub hashed: u64,
    pub to_hash: u64,
    /// No plain password before this index of `lines` (where hashing goes on).
    pub cursor: usize,
    /// What the lines would do to the accounts as they were when staged.
    pub tally: Tally,
    touched: Instant,
}

/// How many lines create, update or leave an account.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Session {
    pub fn new(id: u64, owner: u32) -> Session {
        Session {
            id,
            owner,
            lines: Vec::new(),
            names: HashMap::new(),
            hashed: 0,
            to_hash: 0,
            cursor: 0,
            tally: Tally::default(),
            touched: Instant::now(),
        }
    }
}

#[derive(Default)]
pub struct Sessions {
    table: Mutex<HashMap<u64, Session>>,
}

fn unknown() -> Error {
    Error::InvalidInput(
        "the import session is unknown, ended or busy (nothing of it was written); \
         start the import again"
            .into(),
    )
}

impl Sessions {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Session>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take session `id` of `owner` out of the table for one step.
    pub fn take(&self, id: u64, owner: u32) -> Result<Session, Error> {
        let mut table = self.table();
        table.retain(|_, s| s.touched.elapsed() < IDLE);
        match table.remove(&id) {
            Some(session) if session.owner == owner => Ok(session),
            Some(other) => {
                table.insert(id, other);
                Err(unknown())
            }
            None => Err(unknown()),
        }
    }

    /// Room for one more session? Else rate limited (75) for a minute.
    pub fn room(&self, now: u64) -> Result<(), Error> {
        let mut table = self.table();
        table.retain(|_, s| s.touched.elapsed() < IDLE);
        if table.len() >= MAX_SESSIONS {
            return Err(Error::RateLimited { until: now + 60 });
        }
        Ok(())
    }

    /// Put a session back after a step that did not end it.
    pub fn put(&self, mut session: Session) {
        session.touched = Instant::now();
        self.table().insert(session.id, session);
    }
}
