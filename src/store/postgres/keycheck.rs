//! The secret key every daemon on one database shares: the database records the key's
//! check value (an HMAC of a fixed label, `Vault::check_value`) when the first daemon
//! starts on it, and refuses every daemon whose key gives another value, before it
//! serves anything. A key is made only for a database that has none recorded and holds
//! nothing; every other daemon needs a copy of that key (README, Many hosts).

use deadpool_postgres::GenericClient;
use subtle::ConstantTimeEq;

use super::{pg, PgError, PgStore};
use crate::config::Config;
use crate::error::Error;
use crate::vault::Vault;

const KEY_CHECK: &str = "key_check";
const STORE_ID: &str = "store_id";

/// The daemon's key, checked against (or, on a new database, recorded in) the database.
pub fn check_key(store: &PgStore, config: &Config) -> Result<Vault, PgError> {
    let unusable = |e: Error| PgError::Database {
        url: store.url.clone(),
        reason: crate::error::DisplayChain(&e).to_string(),
    };
    let fresh = store.may_create_key().map_err(unusable)?;
    let key = Vault::key_path(&config.state_dir);
    let vault = Vault::open_or_create(&key, fresh).map_err(PgError::Key)?;
    check_vault(store, &vault, &key)?;
    Ok(vault)
}

/// `vault` (read from `key`) checked against the database's key check value, which is
/// recorded first when the database has none.
pub fn check_vault(store: &PgStore, vault: &Vault, key: &std::path::Path) -> Result<(), PgError> {
    let unusable = |e: Error| PgError::Database {
        url: store.url.clone(),
        reason: crate::error::DisplayChain(&e).to_string(),
    };
    let check = vault.check_value().to_vec();
    let id = crate::vault::random_bytes::<16>()
        .map_err(PgError::Key)?
        .to_vec();
    let recorded = store
        .with_conn(move |conn| async move { record_key(&conn, &check, &id).await })
        .map_err(unusable)?;
    if bool::from(recorded[..].ct_eq(&vault.check_value()[..])) {
        Ok(())
    } else {
        Err(PgError::WrongKey {
            key: key.to_path_buf(),
            url: store.url.clone(),
        })
    }
}

/// Record the store id `id` and the key check value `check` where none is recorded
/// yet; returns the key check value recorded (for the caller to compare with its own).
pub(super) async fn record_key(
    conn: &impl GenericClient,
    check: &[u8],
    id: &[u8],
) -> Result<Vec<u8>, Error> {
    let insert = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    conn.execute(insert, &[&STORE_ID, &id]).await.map_err(pg)?;
    conn.execute(insert, &[&KEY_CHECK, &check])
        .await
        .map_err(pg)?;
    let row = conn
        .query_one("SELECT value FROM meta WHERE key = $1", &[&KEY_CHECK])
        .await
        .map_err(pg)?;
    Ok(row.get::<_, Vec<u8>>(0))
}

impl PgStore {
    /// No key recorded and nothing stored: the first daemon may make the key.
    fn may_create_key(&self) -> Result<bool, Error> {
        self.with_conn(|conn| async move {
            let row = conn
                .query_one(
                    "SELECT NOT EXISTS (SELECT 1 FROM meta WHERE key = $1) \
                     AND NOT EXISTS (SELECT 1 FROM accounts) \
                     AND NOT EXISTS (SELECT 1 FROM outbox)",
                    &[&KEY_CHECK],
                )
                .await
                .map_err(pg)?;
            Ok(row.get::<_, bool>(0))
        })
    }
}
