//! Group commit: one thread makes every waiting writer's changes durable with one flush.
//!
//! A writer applies its change to sled, then calls `Flusher::durable` and waits. The
//! flusher thread takes every waiter queued so far, calls `Db::flush` once, and releases
//! them all. Any change made before a waiter queued is covered by the flush that releases
//! it. This is the only caller of `flush`: sled 0.34.7's `flush_async`, called from many
//! requests at once, deadlocks.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::error::Error;

type Waiter = oneshot::Sender<Result<(), String>>;

pub struct Flusher {
    queue: Option<mpsc::Sender<Waiter>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flusher {
    /// Start the flusher thread for `db`; dropping the `Flusher` stops it and waits, so
    /// the database is closed (and its lock released) once the store is dropped.
    pub fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let (queue, waiting) = mpsc::channel::<Waiter>();
        let thread = std::thread::Builder::new()
            .name("authd-flusher".into())
            .spawn(move || run(db, waiting))?;
        Ok(Flusher {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Resolves once every change made before this call is on disk.
    pub async fn durable(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .as_ref()
            .and_then(|q| q.send(tx).ok())
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

fn run(db: sled::Db, waiting: mpsc::Receiver<Waiter>) {
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        batch.extend(waiting.try_iter());
        let result = db.flush().map(|_| ()).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, "flushing the store failed");
        }
        for waiter in batch {
            // A waiter that gave up (its connection closed) is fine to skip.
            let _ = waiter.send(result.clone());
        }
    }
}
