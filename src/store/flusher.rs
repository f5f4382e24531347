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

#[derive(Clone)]
pub struct Flusher {
    queue: mpsc::Sender<Waiter>,
}

impl Flusher {
    /// Start the flusher thread for `db`; it ends when the last `Flusher` is dropped.
    pub fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let (queue, waiting) = mpsc::channel::<Waiter>();
        std::thread::Builder::new()
            .name("authd-flusher".into())
            .spawn(move || run(db, waiting))?;
        Ok(Flusher { queue })
    }

    /// Resolves once every change made before this call is on disk.
    pub async fn durable(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(tx)
            .map_err(|_| Error::Internal("flusher has stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("flusher has stopped".into()))?
            .map_err(|e| Error::Internal(format!("flush failed: {e}")))
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
