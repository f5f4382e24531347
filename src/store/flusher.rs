//! Group commit: one thread makes every waiting writer's changes durable with one flush,
//! and advances the store's generation as it goes.
//!
//! A writer applies its change to sled, then calls `Flusher::durable` and waits. The
//! flusher thread takes every waiter queued so far, bumps the generation in the `meta`
//! tree, calls `Db::flush` once, and releases them all. Any change made before a waiter
//! queued is covered by the flush that releases it. This is the only caller of `flush`
//! while the daemon serves: sled 0.34.7's `flush_async`, called from many requests at
//! once, deadlocks.
//!
//! Once the daemon has checked the store at start, the same thread keeps the sentinel
//! (see `sentinel`) current: at most every `SENTINEL_INTERVAL`, when asked to at
//! shutdown, and when it stops. It writes a generation only after the flush that made it
//! durable returned, so the sentinel is never ahead of the database and a crash at any
//! moment leaves a store that its sentinel accepts.

use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::sentinel::{self, Sentinel};
use crate::error::Error;

/// How stale the sentinel may get while writes go on.
pub const SENTINEL_INTERVAL: Duration = Duration::from_secs(2);

struct Waiter {
    reply: oneshot::Sender<Result<(), String>>,
    /// Also bring the sentinel up to date before replying.
    record: bool,
}

/// Where and for which store the sentinel is kept, and what it last said.
pub struct Keeper {
    pub state_dir: PathBuf,
    pub store_id: String,
    pub written: u64,
    pub written_at: Instant,
}

impl Keeper {
    /// When the sentinel should next be written, if it lags behind `durable`.
    fn due(&self, durable: u64) -> Option<Instant> {
        (durable > self.written).then(|| self.written_at + SENTINEL_INTERVAL)
    }
}

type Slot = Arc<Mutex<Option<Keeper>>>;

fn lock(slot: &Slot) -> MutexGuard<'_, Option<Keeper>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Flusher {
    queue: Option<mpsc::Sender<Waiter>>,
    thread: Option<std::thread::JoinHandle<()>>,
    keeper: Slot,
}

/// What the flusher thread works on.
struct Work {
    db: sled::Db,
    meta: sled::Tree,
    /// The generation last written to `meta`.
    generation: u64,
    /// The newest generation known to be on disk.
    durable: u64,
    keeper: Slot,
}

impl Flusher {
    /// Start the flusher thread for `db`, whose `meta` tree holds `generation` (on disk);
    /// dropping the `Flusher` stops it and waits, so the database is closed (and its lock
    /// released) once the store is dropped.
    pub fn start(db: sled::Db, meta: sled::Tree, generation: u64) -> std::io::Result<Flusher> {
        let (queue, waiting) = mpsc::channel::<Waiter>();
        let keeper = Slot::default();
        let work = Work {
            db,
            meta,
            generation,
            durable: generation,
            keeper: Arc::clone(&keeper),
        };
        let thread = std::thread::Builder::new()
            .name("authd-flusher".into())
            .spawn(move || work.run(waiting))?;
        Ok(Flusher {
            queue: Some(queue),
            thread: Some(thread),
            keeper,
        })
    }

    /// From now on keep the sentinel described by `keeper` current.
    pub fn keep_sentinel(&self, keeper: Keeper) {
        *lock(&self.keeper) = Some(keeper);
    }

    /// Resolves once every change made before this call is on disk.
    pub async fn durable(&self) -> Result<(), Error> {
        self.wait(false).await
    }

    /// `durable`, and the sentinel (when kept) records the generation that made it so.
    pub async fn durable_and_recorded(&self) -> Result<(), Error> {
        self.wait(true).await
    }

    async fn wait(&self, record: bool) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.queue
            .as_ref()
            .and_then(|q| q.send(Waiter { reply, record }).ok())
            .ok_or_else(|| Error::Internal("flusher has stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("flusher has stopped".into()))?
            .map_err(|e| Error::Internal(format!("flush failed: {e}")))
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Work {
    fn run(mut self, waiting: mpsc::Receiver<Waiter>) {
        loop {
            let due = lock(&self.keeper)
                .as_ref()
                .and_then(|k| k.due(self.durable));
            let first = match due {
                None => match waiting.recv() {
                    Ok(waiter) => waiter,
                    Err(_) => break,
                },
                Some(at) => {
                    match waiting.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(waiter) => waiter,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            self.record();
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            let mut batch = vec![first];
            batch.extend(waiting.try_iter());
            let result = self.flush();
            let (record, plain): (Vec<_>, Vec<_>) = batch.into_iter().partition(|w| w.record);
            for waiter in plain {
                // A waiter that gave up (its connection closed) is fine to skip.
                let _ = waiter.reply.send(result.clone());
            }
            let due_now = lock(&self.keeper)
                .as_ref()
                .and_then(|k| k.due(self.durable))
                .is_some_and(|at| at <= Instant::now());
            if due_now || !record.is_empty() {
                self.record();
            }
            for waiter in record {
                let _ = waiter.reply.send(result.clone());
            }
        }
        // Stopping (the store is being closed): leave the sentinel current.
        self.record();
    }

    /// Advance the generation and make it, and everything before it, durable.
    fn flush(&mut self) -> Result<(), String> {
        self.generation += 1;
        let result = self
            .meta
            .insert(
                super::integrity::META_GENERATION,
                &self.generation.to_be_bytes(),
            )
            .and_then(|_| self.db.flush())
            .map(|_| ())
            .map_err(|e| e.to_string());
        match &result {
            Ok(()) => self.durable = self.generation,
            Err(e) => tracing::error!(error = %e, "flushing the store failed"),
        }
        result
    }

    /// Write the sentinel if it lags behind the durable generation. A failure is logged
    /// and tried again after the interval: the sentinel lagging is always safe.
    fn record(&self) {
        let mut slot = lock(&self.keeper);
        let Some(keeper) = slot.as_mut().filter(|k| self.durable > k.written) else {
            return;
        };
        let accounts = super::read_u64(self.meta.get(super::META_ACCOUNTS).ok().flatten());
        let sentinel = Sentinel {
            store_id: keeper.store_id.clone(),
            generation: self.durable,
            accounts,
        };
        keeper.written_at = Instant::now();
        match sentinel::write(&keeper.state_dir, &sentinel) {
            Ok(()) => keeper.written = self.durable,
            Err(e) => tracing::warn!(
                error = %e,
                sentinel = %keeper.state_dir.join(sentinel::FILE).display(),
                "cannot update the store sentinel; will retry"
            ),
        }
    }
}
