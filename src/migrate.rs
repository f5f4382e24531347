//! `authd migrate --from sled:DIR --to postgres:URL`: a host's sled store into a shared
//! PostgreSQL database, so a site can start on one host and grow (README, Many hosts).
//!
//! Offline, like `authd restore`: the daemon on DIR must be stopped (sled holds its lock).
//! The store is read as a backup would take it and every record is checked as a restore
//! checks it; the key (`--key`, else DIR/secret.key) must be the store's own and becomes
//! the database's (a database that has another key recorded is refused). The database
//! must hold nothing: everything is written in one transaction, and the tables are
//! counted again against the store's records. Idempotent: the database records the
//! store's id, so a second run reports the migration done and writes nothing.

use std::path::PathBuf;

use crate::backup_file;
use crate::config::{Config, StoreBackend};
use crate::error::{DisplayChain, Error};
use crate::exit::Exit;
use crate::store::postgres::{self, Fill, FillError, PgError, PgStore, TableCounts};
use crate::store::restore::check;
use crate::store::{Store, SCHEMA_VERSION};
use crate::vault::Vault;

pub struct Options {
    /// `sled:DIR`: the state directory.
    pub from: String,
    /// `postgres:URL`: a libpq-style URL (`postgresql://user@host/db`).
    pub to: String,
    /// The store's secret key [default: DIR/secret.key].
    pub key: Option<PathBuf>,
    /// The database password, if the URL has none.
    pub password_file: Option<PathBuf>,
    /// The CAs that `sslmode=verify-ca`/`verify-full` in the URL trust (`[store]
    /// ssl_root_cert`).
    pub ssl_root_cert: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot open the sled store in {} (is an authd still using it? stop it first)", .0.display())]
    Sled(PathBuf, #[source] Error),
    #[error("the store in {} does not check out", .0.display())]
    Records(PathBuf, #[source] crate::store::restore::BadRecord),
    #[error("the secret key")]
    Key(#[source] crate::vault::VaultError),
    #[error(transparent)]
    Database(#[from] PgError),
    #[error("the database: {0}")]
    Query(#[source] Error),
    #[error(
        "the database {url} already holds data ({} accounts, {} outbox messages) that did \
         not come from this store: migrate only into an empty database",
        .found.accounts, .found.outbox
    )]
    NotEmpty { url: String, found: TableCounts },
    #[error("the migration would leave the database holding {found:?}, not the {want:?} read; nothing written")]
    Counts {
        want: TableCounts,
        found: TableCounts,
    },
}

/// What `run` did.
#[derive(Debug)]
pub enum Migrated {
    Written(TableCounts),
    /// This store was migrated before; `now` is what the database holds now.
    AlreadyDone {
        store: TableCounts,
        now: TableCounts,
    },
}

pub fn main(options: &Options) -> Exit {
    match run(options) {
        Ok(Migrated::Written(c)) => {
            println!(
                "migrated {} accounts, {} history entries, {} reset tokens and {} outbox \
                 messages into {}; start the daemons with [store] backend = \"postgres\" and \
                 this secret key (README, Many hosts)",
                c.accounts,
                c.audit,
                c.tokens,
                c.outbox,
                crate::config::redact_url(database(&options.to).unwrap_or_default())
            );
            Exit::Success
        }
        Ok(Migrated::AlreadyDone { store, now }) => {
            println!(
                "already migrated: the database was filled from this store ({} accounts \
                 then, {} now); nothing written",
                store.accounts, now.accounts
            );
            Exit::Success
        }
        Err(e) => {
            eprintln!("authd migrate: {}", DisplayChain(&e));
            match e {
                MigrateError::Usage(_) => Exit::Usage,
                MigrateError::Records(..) => Exit::BadBackup,
                MigrateError::Key(_) => Exit::Config,
                MigrateError::Database(e) if e.is_refusal() => Exit::Config,
                MigrateError::NotEmpty { .. } => Exit::CannotCreate,
                _ => Exit::Failure,
            }
        }
    }
}

fn database(to: &str) -> Option<&str> {
    to.strip_prefix("postgres:").filter(|url| !url.is_empty())
}

pub fn run(options: &Options) -> Result<Migrated, MigrateError> {
    let usage = |what: &str| MigrateError::Usage(what.to_string());
    let dir = options
        .from
        .strip_prefix("sled:")
        .filter(|d| d.starts_with('/'))
        .map(PathBuf::from)
        .ok_or_else(|| usage("--from takes sled:DIR, an absolute state directory"))?;
    let url = database(&options.to).ok_or_else(|| usage("--to takes postgres:URL"))?;
    let key = options.key.clone().unwrap_or_else(|| Vault::key_path(&dir));
    let vault = Vault::open_or_create(&key, false).map_err(MigrateError::Key)?;

    // The store as a backup takes it, checked as a restore checks it.
    let store = Store::open(&dir, 64).map_err(|e| MigrateError::Sled(dir.clone(), e))?;
    let mut bytes = Vec::new();
    store
        .snapshot(&mut bytes, vault.backup_mac())
        .map_err(|e| MigrateError::Sled(dir.clone(), e))?;
    drop(store);
    let backup = backup_file::read_all(&bytes[..], SCHEMA_VERSION).map_err(|e| {
        MigrateError::Sled(dir.clone(), Error::Internal(DisplayChain(&e).to_string()))
    })?;
    let checked =
        check(backup.records, &vault).map_err(|e| MigrateError::Records(dir.clone(), e))?;
    let (records, id) = checked.into_trees();
    let id = id.unwrap_or_default();
    let want = TableCounts::of(&records);

    let mut config = Config::default();
    config.state_dir = dir.clone();
    config.store.backend = StoreBackend::Postgres;
    config.store.url = Some(url.to_string());
    config.store.password_file = options.password_file.clone();
    config.store.ssl_root_cert = options
        .ssl_root_cert
        .as_ref()
        .map(|path| std::path::absolute(path).unwrap_or_else(|_| path.clone()));
    // The URL's sslmode, and --ssl-root-cert with it, checked as the daemon's config is.
    config
        .store
        .validate_tls()
        .map_err(|e| usage(&e.to_string()))?;
    config.store.pool_size = 2;
    let db = PgStore::open(&config)?;
    postgres::check_vault(&db, &vault, &key)?;
    let found = db.table_counts().map_err(MigrateError::Query)?;
    if db.migrated_from().map_err(MigrateError::Query)?.as_deref() == Some(&id[..]) {
        return Ok(Migrated::AlreadyDone {
            store: want,
            now: found,
        });
    }
    if !found.is_empty() {
        return Err(MigrateError::NotEmpty {
            url: crate::config::redact_url(url),
            found,
        });
    }
    let fill = Fill {
        records,
        key_check: vault.check_value().to_vec(),
        migrated_from: Some(id),
    };
    match db.fill(fill) {
        Ok(written) => Ok(Migrated::Written(written)),
        Err(FillError::NotEmpty(found)) => Err(MigrateError::NotEmpty {
            url: crate::config::redact_url(url),
            found,
        }),
        Err(FillError::WrongKey) => Err(MigrateError::Database(PgError::WrongKey {
            key,
            url: crate::config::redact_url(url),
        })),
        Err(FillError::Counts { want, found }) => Err(MigrateError::Counts { want, found }),
        Err(FillError::Query(e)) => Err(MigrateError::Query(e)),
    }
}
