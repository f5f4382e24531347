//! Group commit: every staged change (see `staging`) is applied to sled in one
//! transaction and made durable with one flush, and the store's generation advances with
//! it.
//!
//! A writer stages its change, then calls `Flusher::durable` and waits. When no commit is
//! running and no one else waits, it commits inline, in its own thread (a lone writer
//! pays no thread hand-off). Otherwise it queues for the flusher thread, which takes
//! every waiter queued so far, commits once and releases them all. Either way a commit
//! covers every change staged before it started, so a waiter is released only by a
//! flush that followed its change. The committer is the only caller of `flush` while the
//! daemon serves: sled 0.34.7's `flush_async`, called from many requests at once,
//! deadlocks.
//!
//! Once the daemon has checked the store at start, the flusher thread also keeps the
//! sentinel (see `sentinel`) current: at most every `SENTINEL_INTERVAL`, when asked to at
//! shutdown, and when it stops. It writes a generation only after the flush that made it
//! durable returned, so the sentinel is never ahead of the database and a crash at any
//! moment leaves a store that its sentinel accepts.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::sentinel::{self, Sentinel};
use super::staging::Staging;
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Applies the staged changes and flushes; one commit at a time.
pub struct Committer {
    db: sled::Db,
    staging: Arc<Staging>,
    /// The generation last written to `meta`.
    generation: u64,
    /// The newest generation known to be on disk.
    durable: Arc<AtomicU64>,
    /// Why a commit failed, once one has: from then on every commit fails. What a failed
    /// write or flush left on disk is unknown (a full disk, an I/O error), so nothing
    /// more is acknowledged until the daemon restarts and sled recovers its log.
    failed: Option<String>,
}

impl Committer {
    /// Apply everything staged, with the next generation, and make it durable.
    pub fn commit(&mut self) -> Result<(), String> {
        if let Some(first) = &self.failed {
            return Err(format!(
                "an earlier commit failed ({first}); no write is accepted until authd restarts"
            ));
        }
        let next = self.generation + 1;
        let generation = (
            super::integrity::META_GENERATION,
            sled::IVec::from(&next.to_be_bytes()),
        );
        let result = self
            .staging
            .apply(&[generation])
            .map_err(|e| e.to_string())
            .and_then(|_| self.db.flush().map(|_| ()).map_err(|e| e.to_string()));
        match &result {
            Ok(()) => {
                self.generation = next;
                self.durable.store(next, Ordering::Release);
            }
            Err(e) => {
                tracing::error!(
                    error = %e,
                    "committing to the store failed; refusing every write until authd restarts"
                );
                self.failed = Some(e.clone());
            }
        }
        result
    }
}

pub struct Flusher {
    queue: Option<mpsc::Sender<Waiter>>,
    thread: Option<std::thread::JoinHandle<()>>,
    committer: Arc<Mutex<Committer>>,
    /// Waiters queued for the thread and not yet released.
    queued: Arc<AtomicUsize>,
    keeper: Slot,
}

/// What the flusher thread works on.
struct Work {
    committer: Arc<Mutex<Committer>>,
    staging: Arc<Staging>,
    durable: Arc<AtomicU64>,
    queued: Arc<AtomicUsize>,
    keeper: Slot,
}

/// Run `f`, which blocks on the disk, without stalling the async runtime's other tasks
/// where the runtime allows it.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Flusher {
    /// Start the flusher thread for `db`, whose `meta` tree holds `generation` (on disk);
    /// dropping the `Flusher` stops it and waits, so the database is closed (and its lock
    /// released) once the store is dropped.
    pub fn start(db: sled::Db, staging: Arc<Staging>, generation: u64) -> std::io::Result<Flusher> {
        let (queue, waiting) = mpsc::channel::<Waiter>();
        let keeper = Slot::default();
        let durable = Arc::new(AtomicU64::new(generation));
        let committer = Arc::new(Mutex::new(Committer {
            db,
            staging: Arc::clone(&staging),
            generation,
            durable: Arc::clone(&durable),
            failed: None,
        }));
        let queued = Arc::new(AtomicUsize::new(0));
        let work = Work {
            committer: Arc::clone(&committer),
            staging,
            durable,
            queued: Arc::clone(&queued),
            keeper: Arc::clone(&keeper),
        };
        let thread = std::thread::Builder::new()
            .name("authd-flusher".into())
            .spawn(move || work.run(waiting))?;
        Ok(Flusher {
            queue: Some(queue),
            thread: Some(thread),
            committer,
            queued,
            keeper,
        })
    }

    /// From now on keep the sentinel described by `keeper` current.
    pub fn keep_sentinel(&self, keeper: Keeper) {
        *lock(&self.keeper) = Some(keeper);
    }

    /// Resolves once every change staged before this call is on disk.
    ///
    /// A lone writer (no one queued, no commit running, at most its own change staged)
    /// commits inline; under load everyone queues, so one flush serves many.
    pub async fn durable(&self) -> Result<(), Error> {
        if self.queued.load(Ordering::Acquire) == 0 {
            if let Ok(mut committer) = self.committer.try_lock() {
                if committer.staging.changes() <= 1 {
                    return blocking(|| committer.commit()).map_err(flush_failed);
                }
            }
        }
        self.wait(false).await
    }

    /// Commit what is staged now, in this thread, or only flush when nothing is
    /// (offline tools and tests; no daemon serving).
    pub fn commit_now(&self) -> Result<(), Error> {
        let mut committer = lock(&self.committer);
        if committer.staging.is_empty() {
            return Ok(committer.db.flush().map(|_| ())?);
        }
        committer.commit().map_err(flush_failed)
    }

    /// Hold off every commit while `f` runs (a consistent snapshot).
    pub fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        let _alone = lock(&self.committer);
        f()
    }

    /// `durable`, and the sentinel (when kept) records the generation that made it so.
    pub async fn durable_and_recorded(&self) -> Result<(), Error> {
        self.wait(true).await
    }

    async fn wait(&self, record: bool) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.queued.fetch_add(1, Ordering::AcqRel);
        let sent = self
            .queue
            .as_ref()
            .and_then(|q| q.send(Waiter { reply, record }).ok());
        if sent.is_none() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::Internal("flusher has stopped".into()));
        }
        rx.await
            .map_err(|_| Error::Internal("flusher has stopped".into()))?
            .map_err(flush_failed)
    }
}

fn flush_failed(e: String) -> Error {
    Error::Internal(format!("flush failed: {e}"))
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
    fn run(self, waiting: mpsc::Receiver<Waiter>) {
        loop {
            // With a sentinel kept, wake now and then: inline commits advance the
            // durable generation without passing through here.
            let timeout = lock(&self.keeper).as_ref().map(|k| {
                k.due(self.durable()).map_or(SENTINEL_INTERVAL, |at| {
                    at.saturating_duration_since(Instant::now())
                })
            });
            let first = match timeout {
                None => match waiting.recv() {
                    Ok(waiter) => waiter,
                    Err(_) => break,
                },
                Some(wait) => match waiting.recv_timeout(wait) {
                    Ok(waiter) => waiter,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.record_if_due();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                },
            };
            let mut batch = vec![first];
            batch.extend(waiting.try_iter());
            let result = lock(&self.committer).commit();
            self.queued.fetch_sub(batch.len(), Ordering::AcqRel);
            let (record, plain): (Vec<_>, Vec<_>) = batch.into_iter().partition(|w| w.record);
            for waiter in plain {
                // A waiter that gave up (its connection closed) is fine to skip.
                let _ = waiter.reply.send(result.clone());
            }
            if !record.is_empty() {
                self.record();
            } else {
                self.record_if_due();
            }
            for waiter in record {
                let _ = waiter.reply.send(result.clone());
            }
        }
        // Stopping (the store is being closed): leave the sentinel current.
        self.record();
    }

    fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }

    fn record_if_due(&self) {
        let due_now = lock(&self.keeper)
            .as_ref()
            .and_then(|k| k.due(self.durable()))
            .is_some_and(|at| at <= Instant::now());
        if due_now {
            self.record();
        }
    }

    /// Write the sentinel if it lags behind the durable generation. A failure is logged
    /// and tried again after the interval: the sentinel lagging is always safe.
    fn record(&self) {
        let durable = self.durable();
        let mut slot = lock(&self.keeper);
        let Some(keeper) = slot.as_mut().filter(|k| durable > k.written) else {
            return;
        };
        let accounts = super::read_u64(
            self.staging
                .trees()
                .meta
                .get(super::META_ACCOUNTS)
                .ok()
                .flatten(),
        );
        let sentinel = Sentinel {
            store_id: keeper.store_id.clone(),
            generation: durable,
            accounts,
        };
        keeper.written_at = Instant::now();
        match sentinel::write(&keeper.state_dir, &sentinel) {
            Ok(()) => keeper.written = durable,
            Err(e) => tracing::warn!(
                error = %e,
                sentinel = %keeper.state_dir.join(sentinel::FILE).display(),
                "cannot update the store sentinel; will retry"
            ),
        }
    }
}
