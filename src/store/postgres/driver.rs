//! The runtime the connections live on (`Driver`), on threads of its own, and the two
//! ways into it: `with_conn` for the synchronous `Backend` calls, which wait on a std
//! channel (inside `block_in_place` on a worker of a multi-thread runtime), and
//! `with_conn_async` for the login path, which waits as a task, holding no thread.

use std::future::Future;

use deadpool_postgres::Object;

use super::{db, pool_error, PgStore};
use crate::error::Error;

/// Threads the connections' runtime runs on: each connection's I/O (the protocol, rows
/// decoded) is one task, and with one thread a daemon under load waits on it.
const DRIVER_THREADS: usize = 2;

/// The runtime the connections live on, on threads of its own; stopped when dropped.
pub(super) struct Driver {
    pub(super) handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Driver {
    pub(super) fn start() -> std::io::Result<Driver> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(DRIVER_THREADS)
            .thread_name("authd-postgres")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("authd-postgres".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Driver {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Run `future` on the connections' runtime and wait for it (see the module doc).
    pub(super) fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(future.await);
        });
        let wait = || rx.recv().map_err(|_| stopped());
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }

    /// Run `future` on the connections' runtime; the caller awaits it as a task.
    async fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Error> {
        self.handle.spawn(future).await.map_err(|_| stopped())
    }
}

fn stopped() -> Error {
    db("the connection thread stopped")
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl PgStore {
    /// `f` on a pooled connection: a future for the connections' runtime.
    fn on_conn<T, F, Fut>(&self, f: F) -> impl Future<Output = Result<T, Error>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send,
    {
        let pool = self.pool.clone();
        let tls = std::sync::Arc::clone(&self.tls);
        async move {
            let conn = pool.get().await.map_err(|e| pool_error(e, &tls))?;
            f(conn).await
        }
    }

    /// A pooled connection, for one future on the connections' runtime; waits for it.
    pub(super) fn with_conn<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        self.driver.block(self.on_conn(f))?
    }

    /// `with_conn`, awaited as a task.
    pub(super) async fn with_conn_async<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        self.driver.run(self.on_conn(f)).await?
    }
}
