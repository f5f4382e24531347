//! `authd restore` into the PostgreSQL database a configuration names: the checked
//! records go in through the same fill as `authd migrate` (`PgStore::fill`), in one
//! transaction that finds the tables empty under its locks, records the key's check
//! value (or finds it already recorded), and counts the tables again before it commits.
//! As for a sled state directory, the target must hold nothing: a database with any
//! account, history entry, reset token or queued message is refused (73), and one that
//! has another key's check value recorded too (78); the empty tables and the key check
//! value a daemon records at its first start are the database's equivalent of the key
//! a state directory may hold. Daemons may run on the database meanwhile (they find it
//! filled at once), but a restore is meant for a stopped fleet.

use std::path::PathBuf;

use super::{Place, RestoreError, Restored};
use crate::backup_file::Signature;
use crate::config::{redact_url, Config};
use crate::store::postgres::{Fill, FillError, PgError, PgStore};
use crate::store::restore::Checked;
use crate::vault::Vault;

pub(super) fn restore(
    config: &Config,
    checked: Checked,
    vault: &Vault,
    key: PathBuf,
    signature: Signature,
) -> Result<Restored, RestoreError> {
    let mut config = config.clone();
    config.store.pool_size = 1;
    let url = redact_url(config.store.url.as_deref().unwrap_or_default());
    let store = PgStore::open(&config).map_err(RestoreError::Database)?;
    let accounts = checked.accounts();
    let (records, _) = checked.into_trees();
    let fill = Fill {
        records,
        key_check: vault.check_value().to_vec(),
        migrated_from: None,
    };
    let written = match store.fill(fill) {
        Ok(written) => written,
        Err(FillError::NotEmpty(found)) => {
            return Err(RestoreError::DatabaseOccupied { url, found })
        }
        Err(FillError::WrongKey) => {
            return Err(RestoreError::Database(PgError::WrongKey { key, url }))
        }
        Err(source) => return Err(RestoreError::Fill { url, source }),
    };
    let key_in_place = key == Vault::key_path(&config.state_dir);
    Ok(Restored {
        records: written.accounts + written.audit + written.tokens + written.outbox,
        accounts,
        key,
        signature,
        key_in_place,
        place: Place::Database(url),
    })
}

impl Restored {
    /// What was restored into the database at `url`, and what to do next about the key.
    pub(super) fn database_summary(&self, url: &str) -> String {
        let next = if self.key_in_place {
            "the key is in place for this host"
        } else {
            "give this host's daemon a copy of it as secret.key (mode 0600) or the \
             authd.key credential"
        };
        format!(
            "restored {} records ({} accounts) into the database {url}, checked with the \
             key {}; {next}, and every other daemon on the database a copy too; start them",
            self.records,
            self.accounts,
            self.key.display()
        )
    }
}
