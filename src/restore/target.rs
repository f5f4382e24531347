//! Where `authd restore` writes: `--state-dir DIR` alone is a sled state directory (no
//! configuration is read, as before restores into a database existed); `--config FILE`
//! is the store the configuration's `[store]` names: its `state_dir` for sled (or
//! `--state-dir`, which replaces it as it does for the daemon), its database for
//! postgres. Neither is a usage error; so is `--state-dir` with a postgres
//! configuration, which would otherwise restore somewhere no daemon reads.

use std::path::{Path, PathBuf};

use super::{Options, RestoreError};
use crate::config::{Config, StoreBackend};

pub(super) enum Target {
    Dir(PathBuf),
    /// The database of this configuration (`[store] backend = "postgres"`).
    Database(Box<Config>),
}

impl Target {
    pub(super) fn of(options: &Options) -> Result<Target, RestoreError> {
        let Some(file) = &options.config else {
            return match &options.state_dir {
                Some(dir) => Ok(Target::Dir(dir.clone())),
                None => Err(RestoreError::Usage(
                    "restore needs a target: --state-dir DIR (a sled state directory) or \
                     --config FILE (the store the configuration names, a sled state \
                     directory or a PostgreSQL database)"
                        .into(),
                )),
            };
        };
        let mut config = Config::load(Some(file))?;
        config.override_paths(None, options.state_dir.as_deref());
        config.validate()?;
        match config.store.backend {
            StoreBackend::Sled => Ok(Target::Dir(config.state_dir)),
            StoreBackend::Postgres if options.state_dir.is_some() => {
                Err(RestoreError::Usage(format!(
                    "{} names a PostgreSQL store ([store] backend = \"postgres\"): leave out \
                     --state-dir to restore into its database, or leave out --config to \
                     restore into a sled state directory",
                    file.display()
                )))
            }
            StoreBackend::Postgres => Ok(Target::Database(Box::new(config))),
        }
    }

    /// Where the default key is looked for: the state directory (a daemon on the
    /// database keeps its key in its own).
    pub(super) fn key_dir(&self) -> &Path {
        match self {
            Target::Dir(dir) => dir,
            Target::Database(config) => &config.state_dir,
        }
    }
}
