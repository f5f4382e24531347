//! The PostgreSQL store: one database that several daemons share, behind the same
//! `Backend` trait as the embedded sled store.
//!
//! Tables (`migrations/`, applied by `schema`): `accounts`, `audit`, `reset_tokens` and
//! `outbox` hold the same versioned bincode records as sled's trees, with the key
//! columns the queries need beside them; `counters` holds the account and outbox counts,
//! changed in the transactions that change what they count; `meta` the store id and the
//! secret key's check value (`keycheck`).
//!
//! Guarantees, as sled's: a change is one transaction, and the trait's calls return only
//! once its COMMIT has returned, so `durable` has nothing left to wait for. Each account
//! change locks the account's row (`SELECT … FOR UPDATE`) before the change runs on it,
//! so two daemons serialize on one account: lockout counts, the TOTP replay step and
//! single-use codes and tokens hold across daemons. PostgreSQL's `synchronous_commit` is
//! the server's: with `off`, a change acknowledged to a client can be lost in a crash of
//! the database server (not of authd) — keep it `on` (the default) for authd's database.
//!
//! Threads: the `Backend` trait is mostly synchronous (the service calls it from its
//! async tasks, and sled answers in microseconds). The driver (tokio-postgres, pooled by
//! deadpool-postgres) is async. Its connections live on a runtime of their own, on
//! dedicated threads (`driver`), so they never depend on the daemon's runtime being free;
//! a synchronous call sends its future there and waits for the answer on a std channel,
//! inside `tokio::task::block_in_place` when it is made from a worker of a multi-thread
//! runtime (the daemon's), so the worker's other tasks move to another thread while it
//! waits. The wait cannot deadlock: the connections' runtime needs none of the daemon's
//! threads, so every call returns once the database answers (or the pool's timeouts
//! expire), however many of the daemon's threads are waiting. The login path's reads and
//! its lock-free write (`fetch_account`, `change_retrying`) return futures instead,
//! awaited as tasks: no thread is handed over or parked for them.
//! The couriers of every daemon are woken when any daemon queues a message: NOTIFY in
//! the queuing transaction, LISTEN on a connection of each daemon's own (`listen`).
//!
//! A change whose closure must run on the caller's thread (it is neither `Send` nor
//! `'static`) takes two trips: lock and read, then write and commit (`writes`). A change
//! that may be decided again (a login) is written without the lock, over the record it
//! was decided on only (`optimistic`).
//!
//! TLS: `tls`, as `[store] sslmode` says. Outages: a call that finds no connection (the
//! server down, restarting, unreachable, or failing TLS checks), or loses its connection,
//! fails with `Error::Unavailable` ("the database is not available"); connections the
//! server closed are dropped by the pool's recycling check and new ones opened on the
//! next calls, so the daemon serves again as soon as the server answers.

mod driver;
mod fill;
mod import;
mod keycheck;
mod listen;
mod optimistic;
mod outbox;
mod pipeline;
mod reads;
mod schema;
mod snapshot;
pub mod tls;
mod writes;

use std::path::{Path, PathBuf};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use super::backend::{AccountChange, Backend, Counts, Fetching, Pending, RetriedChange};
use super::import::ImportChange;
use super::records::AuditEntry;
use super::{Account, ChannelKind, OutboxChange, OutboxItem, ResetToken};
use crate::audit::Event;
use crate::config::{redact_url, url_without_sslmode, Config};
use crate::error::Error;
use crate::vault::BackupMac;
use driver::Driver;

pub use fill::{Fill, FillError, TableCounts};
pub use keycheck::{check_key, check_vault};
pub use schema::LATEST as SCHEMA_LATEST;

/// Why the daemon does not start on the database.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot read the database password file {}", .path.display())]
    PasswordFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store.ssl_root_cert {} {reason}", .path.display())]
    RootCert { path: PathBuf, reason: String },
    #[error("cannot start the database connection thread")]
    Thread(#[source] std::io::Error),
    #[error("cannot use the database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error(
        "the database {url} holds authd schema version {found}, newer than version {known} \
         that this authd knows: a newer authd migrated it; upgrade authd on this host"
    )]
    NewerSchema { url: String, found: i32, known: i32 },
    #[error(
        "the secret key {} does not belong to the database {url} (its check value differs \
         from the one recorded there): copy the key file every daemon on this database \
         uses (see authd(8), SECRET KEY, and README, Many hosts)",
        .key.display()
    )]
    WrongKey { key: PathBuf, url: String },
    #[error("the secret key")]
    Key(#[source] crate::vault::VaultError),
}

impl PgError {
    /// The database did not answer (or failed): worth another try at start.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, PgError::Database { .. })
    }

    /// A refusal the admin must fix (exit 78), not a failure that may pass.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            PgError::PasswordFile { .. }
                | PgError::RootCert { .. }
                | PgError::NewerSchema { .. }
                | PgError::WrongKey { .. }
                | PgError::Key(_)
        )
    }
}

/// A database failure as the service reports it (internal; the details go to the log).
pub(crate) fn db(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("database: {e}"))
}

/// The database does not answer: no connection, a connection lost, a server shutting
/// down or starting up (SQLSTATE class 08, 57P01-57P03).
pub(crate) fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(e.to_string())
}

/// A tokio-postgres error, with the server's message when there is one.
pub(crate) fn pg(e: tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(d) if is_outage(d.code().code()) => {
            unavailable(format!("{}: {}", d.code().code(), d.message()))
        }
        Some(d) => db(format!("{}: {}", d.code().code(), d.message())),
        // No answer from the server: the connection failed or was lost.
        None if e.is_closed() || is_io(&e) => unavailable(crate::error::DisplayChain(&e)),
        None => db(crate::error::DisplayChain(&e)),
    }
}

fn is_outage(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}

/// An I/O failure under the driver's error (a refused or reset connection).
fn is_io(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if err.is::<std::io::Error>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// No pooled connection: the server's own error when it gave one, a failed TLS
/// handshake explained (`tls::explain`).
fn pool_error(e: deadpool_postgres::PoolError, tls: &tls::Used) -> Error {
    match e {
        deadpool_postgres::PoolError::Backend(e) => match tls::explain(&e, tls) {
            Some(why) => unavailable(why),
            None => match pg(e) {
                Error::Internal(what) => unavailable(what.trim_start_matches("database: ")),
                other => other,
            },
        },
        // No connection within the pool's timeouts.
        other => unavailable(other),
    }
}

/// The PostgreSQL store (see the module documentation).
pub struct PgStore {
    pool: Pool,
    /// How long a claimed outbox message stays another daemon's (seconds).
    lease: u64,
    /// Longest a courier waits before it looks at the shared queue again (seconds;
    /// `[store] outbox_poll`), notified or not.
    poll: u64,
    /// How to connect, for the connection that listens for notifications (`listen`).
    pg_config: tokio_postgres::Config,
    /// Its TLS, as the pool's connections have it.
    connector: tls::Connector,
    /// The URL with any password redacted, for messages.
    url: String,
    /// TLS to the database, for messages.
    tls: std::sync::Arc<tls::Used>,
    // Last: the connections' runtime stops once the pool is gone.
    driver: Driver,
}

impl PgStore {
    /// Connect with `config`'s `[store]`, apply the migrations this authd has, and refuse
    /// a database whose schema is newer.
    pub fn open(config: &Config) -> Result<PgStore, PgError> {
        let store = &config.store;
        let url = store.url.clone().unwrap_or_default();
        let shown = redact_url(&url);
        let unusable = |reason: String| PgError::Database {
            url: shown.clone(),
            reason,
        };
        let mut pg_config: tokio_postgres::Config = url_without_sslmode(&url)
            .parse()
            .map_err(|_| unusable("not a valid connection URL".into()))?;
        let sslmode = store.effective_sslmode();
        pg_config.ssl_mode(tls::driver_mode(sslmode));
        let root_cert = store.ssl_root_cert.as_deref();
        let connector = tls::connector(sslmode, root_cert).map_err(|reason| match root_cert {
            Some(path) => PgError::RootCert {
                path: path.to_path_buf(),
                reason,
            },
            None => unusable(reason),
        })?;
        if let Some(path) = &store.password_file {
            pg_config.password(read_password(path)?);
        }
        if pg_config.get_connect_timeout().is_none() {
            pg_config.connect_timeout(Duration::from_secs(10));
        }
        // A server that vanished from the network (no reset) fails the requests waiting
        // on it within this, rather than after the kernel's retransmissions (minutes).
        if pg_config.get_tcp_user_timeout().is_none() {
            pg_config.tcp_user_timeout(Duration::from_secs(30));
        }
        pg_config.application_name("authd");
        let manager = Manager::from_config(
            pg_config.clone(),
            connector.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(store.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(15)))
            .build()
            .map_err(|e| unusable(e.to_string()))?;
        let attempt = config.outbox.attempt_timeout.as_secs().max(1);
        let pg = PgStore {
            pool,
            lease: attempt * 2 + 10,
            poll: store.outbox_poll.as_secs().max(1),
            pg_config,
            connector,
            url: shown,
            tls: std::sync::Arc::new(tls::Used {
                mode: sslmode,
                root_cert: store.ssl_root_cert.clone(),
            }),
            driver: Driver::start().map_err(PgError::Thread)?,
        };
        pg.migrate()?;
        Ok(pg)
    }

    /// The URL, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `sslmode` in force.
    pub fn sslmode(&self) -> &'static str {
        self.tls.mode.as_str()
    }
}

/// The password in `path`: its first line.
fn read_password(path: &Path) -> Result<String, PgError> {
    let text = std::fs::read_to_string(path).map_err(|source| PgError::PasswordFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// Columns hold u64 values (times, sequence numbers, ids) as bigint.
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Backend for PgStore {
    fn account(&self, name: &str) -> Result<Option<Account>, Error> {
        self.read_account(name)
    }
    fn fetch_account<'a>(&'a self, name: &'a str) -> Fetching<'a, Option<Account>> {
        Box::pin(self.fetch_account_now(name))
    }
    fn list(&self, after: Option<&str>, limit: usize) -> Result<(Vec<String>, bool), Error> {
        self.read_list(after, limit)
    }
    fn history(
        &self,
        name: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, bool), Error> {
        self.read_history(name, before, limit)
    }
    fn reset_token(&self, hash: &[u8; 32]) -> Result<Option<ResetToken>, Error> {
        self.read_token(hash)
    }
    fn counts(&self) -> Result<Counts, Error> {
        self.read_counts()
    }
    fn outbox(&self, after: Option<u64>, limit: usize) -> Result<(Vec<OutboxItem>, bool), Error> {
        self.read_outbox(after, limit)
    }
    fn outbox_due(
        &self,
        kind: ChannelKind,
        now: u64,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, Error> {
        self.claim_due(kind, now, limit)
    }
    fn outbox_next_due(&self, kind: ChannelKind) -> Result<Option<u64>, Error> {
        self.read_next_due(kind)
    }
    fn outbox_prune_delivered(&self, before: u64, limit: usize) -> Result<u64, Error> {
        self.prune_delivered(before, limit)
    }
    fn create(&self, account: &Account, event: &Event, now: u64) -> Result<(), Error> {
        self.write_create(account, event, now)
    }
    fn change(&self, name: &str, now: u64, change: &mut AccountChange<'_>) -> Result<(), Error> {
        self.write_change(name, now, change)
    }
    fn change_retrying<'a>(
        &'a self,
        name: &'a str,
        now: u64,
        seen: Option<&'a Account>,
        change: &'a mut RetriedChange<'_>,
    ) -> Pending<'a> {
        Box::pin(self.write_change_retrying(name, now, seen, change))
    }
    fn remove(&self, name: &str) -> Result<(), Error> {
        self.write_remove(name)
    }
    fn import(
        &self,
        names: &[String],
        now: u64,
        decide: &mut ImportChange<'_>,
    ) -> Result<(), Error> {
        self.write_import(names, now, decide)
    }
    fn outbox_change(
        &self,
        id: u64,
        now: u64,
        change: &mut OutboxChange<'_>,
    ) -> Result<bool, Error> {
        self.change_message(id, now, change)
    }
    fn outbox_settle(
        &self,
        id: u64,
        item: Option<&OutboxItem>,
        account: &str,
        event: Option<&Event>,
        now: u64,
    ) -> Result<(), Error> {
        self.settle_message(id, item, account, event, now)
    }
    /// Every change returned after its COMMIT: nothing is left to wait for.
    fn durable(&self) -> Pending<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn settle(&self) -> Pending<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn snapshot(&self, out: &mut dyn std::io::Write, mac: BackupMac) -> Result<u64, Error> {
        self.write_snapshot(out, mac)
    }
    fn watch_outbox(&self, wake: crate::store::OutboxWake) {
        self.listen(wake)
    }
}
