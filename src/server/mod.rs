//! The daemon: open the state, listen, serve each connection in its own task (bounded by
//! connection slots, per uid and in all), and on SIGTERM/SIGINT stop accepting, let
//! in-flight requests finish, remove the socket and exit cleanly.
//!
//! `Listener::run`-style flow as in mini-redis: accept -> `connection::serve` ->
//! `dispatch` -> `Service`. This module owns process-level concerns only.

mod connection;
mod dispatch;
mod entry;
mod listener;
mod rights;
mod slots;
mod waiting;

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::{Arc, Weak};

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, ConfigError, StoreBackend};
use crate::error::Error;
use crate::outbox::{Outbox, Settings};
use crate::password::Hasher;
use crate::service::Service;
use crate::store::{Backend, Store};
use crate::vault::Vault;
use connection::Shared;
use listener::Listener;
use rights::Rights;
use slots::Slots;

pub use entry::{check_config, serve};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("another authd is already listening on {}", .path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("{} exists and is not a socket; refusing to replace it", .path.display())]
    NotASocket { path: PathBuf },
    #[error(
        "socket directory {} must be owned by this user or root and not writable by group or others",
        .path.display()
    )]
    UntrustedDir { path: PathBuf },
    #[error("cannot set up socket {}", .path.display())]
    Socket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create state directory {}", .path.display())]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store in {}", .path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: Error,
    },
    #[error("cannot start")]
    Start(#[source] Error),
    #[error("unusable secret key")]
    Key(#[source] crate::vault::VaultError),
    #[error("refusing to open the store")]
    Integrity(#[source] crate::store::integrity::IntegrityError),
    #[error("cannot open the PostgreSQL store")]
    Database(#[source] crate::store::postgres::PgError),
    #[error("message transport")]
    Mail(#[source] crate::config::ConfigError),
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
}

/// Threads for blocking work (user/group lookups, mail delivery). Bounded, so a flood of
/// connections cannot grow hundreds of threads and their memory.
const BLOCKING_THREADS: usize = 16;

/// The tokio runtime the daemon runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
}

/// glibc gives threads that contend for the heap arenas of their own, up to 8 per CPU, and
/// memory freed in one arena serves only that arena: the page cache's churn spread over
/// them added 30 MiB to the peak RSS of a 64-client `show` at a million accounts
/// (docs/PERFORMANCE.md). One arena per CPU (one tokio worker each) is enough.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = i32::try_from(cpus).unwrap_or(i32::MAX);
        // SAFETY: mallopt only sets a tunable of the allocator, before the runtime's
        // threads exist; an unknown value is refused by returning 0.
        unsafe { nix::libc::mallopt(nix::libc::M_ARENA_MAX, arenas) };
    }
}

/// Let the daemon hold as many connections as the hard limit allows.
fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}

/// The state directory, made private if it is new.
fn make_state_dir(config: &Config) -> Result<(), ServerError> {
    let dir = &config.state_dir;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| ServerError::StateDir {
            path: dir.clone(),
            source,
        })?;
    if let Ok(meta) = std::fs::metadata(dir) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(state_dir = %dir.display(), "state directory is accessible to other users");
        }
    }
    Ok(())
}

fn open_state(config: &Config) -> Result<Store, ServerError> {
    make_state_dir(config)?;
    let dir = &config.state_dir;
    Store::open(dir, config.cache_capacity_mib).map_err(|source| ServerError::Store {
        path: dir.clone(),
        source,
    })
}

/// What `authd --check-config` finds wrong on disk for this config (the config text
/// itself was validated when it was loaded): an exposed or unreadable key file, a state
/// directory others can write, a socket directory others control.
pub fn problems(config: &Config) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    if let Ok(meta) = std::fs::metadata(&config.state_dir) {
        if meta.mode() & 0o022 != 0 {
            found.push(format!(
                "state_dir {} is writable by group or others",
                config.state_dir.display()
            ));
        }
    }
    if let Some(problem) = password_file_problem(config) {
        found.push(problem);
    }
    if config.store.backend == StoreBackend::Postgres {
        found.extend(crate::store::postgres::tls::problems(&config.store));
    }
    let key = Vault::key_path(&config.state_dir);
    if !key.exists() && config.state_dir.join("db").exists() {
        found.push(format!(
            "secret key {} is missing but the state directory holds a database; restore the key",
            key.display()
        ));
    }
    let vault = match key.exists().then(|| Vault::open_or_create(&key, false)) {
        Some(Err(e)) => {
            found.push(crate::error::DisplayChain(&e).to_string());
            None
        }
        Some(Ok(vault)) => Some(vault),
        None => None,
    };
    found.extend(crate::store::inspect::problems(
        &config.state_dir,
        vault.as_ref().map(|v| (v, key.as_path())),
    ));
    if let Some(dir) = config.socket.parent().filter(|d| d.exists()) {
        // Run as root, the check cannot know which user the daemon will be: it then
        // only insists that the directory is not writable by group or others.
        let root = nix::unistd::geteuid().is_root();
        let open = std::fs::metadata(dir).is_ok_and(|m| m.mode() & 0o022 != 0);
        if open || (!root && !crate::config::dir_is_trusted(dir)) {
            found.push(format!(
                "socket directory {} must be owned by this user or root and not writable by group or others",
                dir.display()
            ));
        }
    }
    found
}

/// The PostgreSQL store's password file, if it is set and cannot be read or is open to
/// every user.
fn password_file_problem(config: &Config) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let file = config.store.password_file.as_ref()?;
    if config.store.backend != StoreBackend::Postgres {
        return None;
    }
    let shown = file.display();
    match std::fs::File::open(file).and_then(|f| f.metadata()) {
        Err(e) => Some(format!("store.password_file {shown} cannot be read: {e}")),
        Ok(meta) if meta.mode() & 0o007 != 0 => Some(format!(
            "store.password_file {shown} is accessible to every user; run: chmod o= {shown}"
        )),
        Ok(_) => None,
    }
}

/// The store and its key, once both pass their checks (see `store::integrity`): the
/// sentinel's before anything is written, then the key's; then the sentinel is written
/// anew and kept current.
fn open_checked(config: &Config) -> Result<(Store, Vault), ServerError> {
    use crate::store::integrity;
    let store = open_state(config)?;
    let dir = &config.state_dir;
    integrity::check_store(&store, dir, config.force_open).map_err(ServerError::Integrity)?;
    let fresh = integrity::may_create_key(&store).map_err(ServerError::Start)?;
    let key = Vault::key_path(dir);
    let vault = Vault::open_or_create(&key, fresh).map_err(ServerError::Key)?;
    integrity::check_key(&store, &vault, &key, dir, config.force_open)
        .map_err(ServerError::Integrity)?;
    integrity::seal(&store, dir).map_err(ServerError::Integrity)?;
    Ok((store, vault))
}

/// The backend `[store]` names, with its key checked; for sled also a weak handle on
/// the store, to know when it is closed.
type Opened = (Arc<dyn Backend>, Vault, Option<Weak<Store>>);

fn open_backend(config: &Config) -> Result<Opened, ServerError> {
    match config.store.backend {
        StoreBackend::Sled => {
            let (store, vault) = open_checked(config)?;
            let store = Arc::new(store);
            let closed = Arc::downgrade(&store);
            Ok((store, vault, Some(closed)))
        }
        StoreBackend::Postgres => {
            use crate::store::postgres;
            make_state_dir(config)?;
            let store = postgres::PgStore::open(config).map_err(ServerError::Database)?;
            let vault = postgres::check_key(&store, config).map_err(ServerError::Database)?;
            tracing::info!(database = %store.url(), sslmode = store.sslmode(), "store: PostgreSQL");
            Ok((Arc::new(store), vault, None))
        }
    }
}

/// Everything the service needs from disk: the store, the secret key, the hash pool,
/// and the outbox with its transports (its couriers are started by `run`).
/// Also a weak handle on a sled store, to know when it is closed.
pub(super) type Started = (Service, Arc<Outbox>, Option<Weak<Store>>);

fn open_service(config: Config) -> Result<Started, ServerError> {
    let (store, vault, closed) = open_backend(&config)?;
    let vault = Arc::new(vault);
    let settings = Settings::from_config(&config).map_err(ServerError::Mail)?;
    let outbox = Arc::new(Outbox::new(
        Arc::clone(&store),
        Arc::clone(&vault),
        settings,
    ));
    let hasher =
        Hasher::start(&config.password, config.hash_workers()).map_err(ServerError::Start)?;
    let service = Service::new(config, store, hasher, vault, Arc::clone(&outbox));
    Ok((service, outbox, closed))
}

/// Where SIGHUP gets the configuration from: the same file and command-line overrides
/// the daemon started with.
pub type ConfigSource = Box<dyn Fn() -> Result<Config, ConfigError> + Send + Sync>;

/// SIGHUP: re-read the configuration and apply what can change at run time. A file that
/// does not load keeps the running configuration, and says why.
fn reload(shared: &Shared, source: &ConfigSource) {
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Reloading]);
    let service = &shared.service;
    match source().and_then(|loaded| service.reload(loaded)) {
        Err(e) => tracing::error!(
            error = %crate::error::DisplayChain(&e),
            "configuration not reloaded; the running configuration stays in force"
        ),
        Ok(outcome) => {
            shared.rights.set_roles(service.config().roles());
            tracing::info!(
                applied = %outcome.applied.join(", "),
                "configuration reloaded{}",
                if outcome.applied.is_empty() { ": nothing to change" } else { "" }
            );
            if !outcome.need_restart.is_empty() {
                tracing::warn!(
                    keys = %outcome.need_restart.join(", "),
                    "changed in the configuration file, but they take effect only after a restart"
                );
            }
        }
    }
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
}

/// Run the daemon until SIGTERM or SIGINT; SIGHUP reloads from `source`.
pub async fn run(config: Config, source: ConfigSource) -> Result<(), ServerError> {
    raise_fd_limit();
    for note in &config.overridden {
        tracing::warn!("{note}");
    }
    // Everything authd writes (store, key, queued mail and SMS files) is private;
    // the socket and its directory get their modes explicitly.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let mut terminate = signal(SignalKind::terminate()).map_err(ServerError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServerError::Signals)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(ServerError::Signals)?;
    // The socket first: a second daemon is told so before it touches the locked store.
    let listener = Listener::open(&config.socket)?;
    let slots = Slots::new(config.max_connections, config.max_connections_per_uid);
    let rights = Rights::new(config.roles(), nix::unistd::geteuid().as_raw());
    let (service, outbox, store) =
        match waiting::open_when_ready(config, &listener, &mut terminate, &mut interrupt).await {
            Ok(Some((service, outbox, store))) => {
                service.remove_stale_backups();
                (Arc::new(service), outbox, store)
            }
            Ok(None) => {
                listener.remove();
                tracing::info!("authd stopped before it was ready");
                return Ok(());
            }
            Err(e) => {
                listener.remove();
                return Err(e);
            }
        };
    let shared = Arc::new(Shared {
        service: Arc::clone(&service),
        rights,
        slots,
    });
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    outbox.start(&tasks, &shutdown);
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "authd ready");
    service.prepare();

    loop {
        let accepted = tokio::select! {
            accepted = listener.socket.accept() => accepted,
            _ = hangup.recv() => {
                reload(&shared, &source);
                continue;
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // Slots are taken (or refused with `busy`) in the connection's task: deciding
        // whether an ordinary uid is an exempt admin may ask the user database.
        tasks.spawn(connection::serve(
            stream,
            Arc::clone(&shared),
            shutdown.clone(),
        ));
    }

    tracing::info!("shutting down: finishing requests in flight");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    listener.remove();
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    if let Err(e) = service.flush().await {
        tracing::error!(error = %e, "final flush failed");
    }
    let state_dir = service.config().state_dir.clone();
    drop((shared, service, outbox));
    if let Some(store) = &store {
        snapshot_store(&state_dir, store);
    }
    tracing::info!("authd stopped");
    Ok(())
}

/// Once the store is closed, have sled snapshot its whole log so the next start replays
/// next to nothing (see `store::snapshot_closed`).
fn snapshot_store(state_dir: &std::path::Path, store: &Weak<Store>) {
    if store.strong_count() > 0 {
        tracing::warn!("the store is still in use at shutdown; the next start replays its log");
        return;
    }
    let started = std::time::Instant::now();
    match crate::store::snapshot_closed(state_dir) {
        Ok(()) => tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "store log snapshotted for the next start"
        ),
        Err(e) => tracing::warn!(
            error = %crate::error::DisplayChain(&e),
            "cannot snapshot the store's log; the next start replays it"
        ),
    }
}
