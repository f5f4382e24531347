//! `authd restore`: a backup into a new store, offline. Reads the whole file, opens the
//! secret key, checks the backup's MAC and then every record (`store::restore::check`),
//! and only then writes the store: a new sled state directory, or the empty PostgreSQL
//! database a configuration names (`database`). A refusal at any step writes nothing.
//!
//! The target (`target`): `--state-dir DIR` alone is a sled state directory and reads no
//! configuration; `--config FILE` is the store FILE's `[store]` names (its `state_dir`,
//! or `--state-dir` instead, for sled).
//!
//! The key is `--key FILE`, else `DIR/secret.key` when it is already in place (DIR: the
//! state directory, also where a daemon on the database keeps its key), else
//! `$CREDENTIALS_DIRECTORY/authd.key` (a restore run as a systemd unit with the key as a
//! credential). `run` never prints; `main` is the `authd restore` command: it prints
//! the outcome and returns the status `exit::for_restore` gives.

mod database;
mod target;

use std::path::{Path, PathBuf};

use crate::backup_file::{self, BackupError, Signature};
use crate::config::ConfigError;
use crate::error::DisplayChain;
use crate::exit::{self, Exit};
use crate::store::postgres::{FillError, PgError, TableCounts};
use crate::store::restore::{check, other_key, BadRecord};
use crate::store::{Store, SCHEMA_VERSION};
use crate::vault::{Vault, VaultError};
use target::Target;

/// The one file a state directory may hold before a restore: the key, copied in first.
const KEY_FILE: &str = "secret.key";

pub struct Options {
    /// `--state-dir DIR`: a sled state directory (alone), or the one that replaces the
    /// configuration's `state_dir`.
    pub state_dir: Option<PathBuf>,
    /// `--config FILE`: restore into the store the configuration names.
    pub config: Option<PathBuf>,
    pub file: PathBuf,
    /// `--key FILE`; `None`: see `default_key`.
    pub key: Option<PathBuf>,
    /// Restore a backup without a MAC, or whose MAC does not verify (every record is
    /// still checked).
    pub trust_unsigned: bool,
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub records: u64,
    pub accounts: usize,
    /// The key the backup was checked with.
    pub key: PathBuf,
    /// What the MAC said (anything but `Verified` needed `--trust-unsigned`).
    pub signature: Signature,
    /// The key is already `DIR/secret.key`, where the daemon looks for it.
    pub key_in_place: bool,
    /// Where the records went.
    pub place: Place,
}

/// Where a restore wrote.
#[derive(Debug)]
pub enum Place {
    /// A sled state directory.
    Dir(PathBuf),
    /// A PostgreSQL database (its URL, password redacted).
    Database(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{}: {}", .file.display(), DisplayChain(.source))]
    Backup { file: PathBuf, source: BackupError },
    #[error(
        "{}: the backup has no MAC (it was written by an authd from before backups were \
         signed), so nothing shows it is the file authd wrote; if you trust it, restore it \
         with --trust-unsigned (every record is still checked)",
        .file.display()
    )]
    Unsigned { file: PathBuf },
    #[error(
        "{}: the backup was made with another secret key than {} (its key check value \
         differs); give the key of the store it was taken from with --key FILE",
        .file.display(),
        .key.display()
    )]
    OtherKey { file: PathBuf, key: PathBuf },
    #[error(
        "{}: the backup's MAC does not verify with the key {}: the file was changed since \
         authd wrote it (or made with another key)",
        .file.display(),
        .key.display()
    )]
    Mismatch { file: PathBuf, key: PathBuf },
    #[error("{}: refused, nothing written: {source}", .file.display())]
    Record { file: PathBuf, source: BadRecord },
    #[error(
        "no secret key to check the backup with: {} does not exist{}; give the key of the \
         store the backup was taken from with --key FILE",
        .looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and "),
        if .looked.len() > 1 { " either" } else { "" }
    )]
    NoKey { looked: Vec<PathBuf> },
    #[error("{}", DisplayChain(.0))]
    Key(#[from] VaultError),
    #[error(
        "{} is not empty; restore only into a new or empty state directory (it may hold \
         the key, {KEY_FILE}, and nothing else)",
        .0.display()
    )]
    Occupied(PathBuf),
    #[error("cannot create {}: {source}", .path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("restore failed: {}; empty the state directory before trying again", DisplayChain(.0))]
    Store(crate::error::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{}", DisplayChain(.0))]
    Config(#[from] ConfigError),
    #[error("{}", DisplayChain(.0))]
    Database(PgError),
    #[error(
        "the database {url} is not empty ({} accounts, {} history entries, {} reset tokens, \
         {} outbox messages); restore only into a new or empty database",
        .found.accounts, .found.audit, .found.tokens, .found.outbox
    )]
    DatabaseOccupied { url: String, found: TableCounts },
    #[error("restore into the database {url} failed, nothing written: {}", DisplayChain(.source))]
    Fill { url: String, source: FillError },
}

impl Restored {
    /// What the admin must know about a backup restored on `--trust-unsigned`.
    pub fn warning(&self, file: &Path) -> Option<String> {
        match self.signature {
            Signature::Verified => None,
            Signature::Unsigned => Some(format!(
                "{} has no MAC; restored because of --trust-unsigned (every record was \
                 checked)",
                file.display()
            )),
            Signature::Mismatch => Some(format!(
                "the MAC of {} does not verify; restored because of --trust-unsigned (every \
                 record was checked)",
                file.display()
            )),
        }
    }

    /// What was restored where, and what to do next about the key.
    pub fn summary(&self) -> String {
        let state_dir = match &self.place {
            Place::Dir(dir) => dir,
            Place::Database(url) => return self.database_summary(url),
        };
        let next = if self.key_in_place {
            "the key is in place; start authd on it".to_string()
        } else {
            format!(
                "now copy {} there as secret.key (mode 0600), unless the service gets it as \
                 the authd.key credential",
                self.key.display()
            )
        };
        format!(
            "restored {} records ({} accounts) into {}, checked with the key {}; {next}",
            self.records,
            self.accounts,
            state_dir.display(),
            self.key.display()
        )
    }
}

/// `authd restore`: exit 0 when every record is in place; otherwise the status
/// `exit::for_restore` gives (65 bad backup, 78 no usable key or configuration, 73 bad
/// target, 2 no target).
pub fn main(options: &Options) -> Exit {
    // The restored store is as private as a running daemon's.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    match run(options) {
        Ok(done) => {
            if let Some(warning) = done.warning(&options.file) {
                eprintln!("authd: warning: {warning}");
            }
            println!("{}", done.summary());
            Exit::Success
        }
        Err(e) => {
            eprintln!("authd: {e}");
            exit::for_restore(&e)
        }
    }
}

/// The key when no `--key` is given: `DIR/secret.key` if it is there (copied in before
/// the restore, where the daemon will read it), else the systemd credential.
pub fn default_key(state_dir: &Path) -> Result<PathBuf, RestoreError> {
    let own = state_dir.join(KEY_FILE);
    if own.exists() {
        return Ok(own);
    }
    let mut looked = vec![own];
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) {
        let credential = Path::new(&dir).join("authd.key");
        if credential.exists() {
            return Ok(credential);
        }
        looked.push(credential);
    }
    Err(RestoreError::NoKey { looked })
}

/// Does `dir` hold anything but the key?
fn occupied(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| entries.flatten().any(|e| e.file_name() != KEY_FILE))
}

fn create_dir(dir: &Path) -> Result<(), RestoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|source| RestoreError::Create {
            path: dir.to_path_buf(),
            source,
        })
}

/// Run a restore; see the module header for the order of the checks.
pub fn run(options: &Options) -> Result<Restored, RestoreError> {
    let file = &options.file;
    let backup = std::fs::File::open(file)
        .map_err(BackupError::from)
        .and_then(|f| backup_file::read_all(std::io::BufReader::new(f), SCHEMA_VERSION))
        .map_err(|source| RestoreError::Backup {
            file: file.clone(),
            source,
        })?;
    let target = Target::of(options)?;
    let key = match &options.key {
        Some(key) => key.clone(),
        None => default_key(target.key_dir())?,
    };
    let vault = Vault::open_or_create(&key, false)?;
    let signature = backup.signature(&vault);
    match signature {
        Signature::Verified => {}
        _ if options.trust_unsigned => {}
        Signature::Unsigned => return Err(RestoreError::Unsigned { file: file.clone() }),
        // Another key shows in the key check value; say that rather than "changed".
        Signature::Mismatch if other_key(&backup.records, &vault) => {
            return Err(RestoreError::OtherKey {
                file: file.clone(),
                key,
            })
        }
        Signature::Mismatch => {
            return Err(RestoreError::Mismatch {
                file: file.clone(),
                key,
            })
        }
    }
    let checked = check(backup.records, &vault).map_err(|source| RestoreError::Record {
        file: file.clone(),
        source,
    })?;
    let dir = match target {
        Target::Dir(dir) => dir,
        Target::Database(config) => {
            return database::restore(&config, checked, &vault, key, signature);
        }
    };
    let dir = &dir;
    if occupied(dir) {
        return Err(RestoreError::Occupied(dir.clone()));
    }
    create_dir(dir)?;
    let accounts = checked.accounts();
    let records = Store::restore(dir, checked, &vault).map_err(RestoreError::Store)?;
    let key_in_place = key == dir.join(KEY_FILE);
    Ok(Restored {
        records,
        accounts,
        key,
        signature,
        key_in_place,
        place: Place::Dir(dir.clone()),
    })
}
