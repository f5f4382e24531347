//! authd's exit statuses: the one place a failure of the daemon, `--check-config` or
//! `authd restore` becomes a number. A test holds authd(8)'s EXIT STATUS section to
//! `Exit::ALL`. (authctl's statuses are `ctl::exit`.)
//!
//! The numbers are a contract (service managers and scripts test them): never renumber one.

use crate::config::ConfigError;
use crate::restore::RestoreError;
use crate::server::ServerError;

/// One documented authd exit status (sysexits(3) numbers where one fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A clean shutdown, a valid configuration, a complete restore.
    Success,
    /// A runtime failure (the socket, the state directory, the store).
    Failure,
    /// An invalid command line (clap's own status; also `restore` without a target).
    Usage,
    /// EX_DATAERR: `restore` refused the backup.
    BadBackup,
    /// EX_CANTCREAT: `restore` cannot write into the state directory or database.
    CannotCreate,
    /// EX_CONFIG: what the admin must fix in the setup.
    Config,
}

impl Exit {
    /// Every status, in the order authd(8) lists them.
    pub const ALL: [Exit; 6] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::BadBackup,
        Exit::CannotCreate,
        Exit::Config,
    ];

    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::BadBackup => 65,
            Exit::CannotCreate => 73,
            Exit::Config => 78,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// Any configuration error (also one found by `--check-config`).
pub fn for_config(_: &ConfigError) -> Exit {
    Exit::Config
}

/// The daemon stopped on an error: a setup the admin must fix, or a runtime failure.
pub fn for_server(error: &ServerError) -> Exit {
    match error {
        ServerError::Key(_) | ServerError::Mail(_) => Exit::Config,
        ServerError::Integrity(e) if e.is_refusal() => Exit::Config,
        ServerError::Database(e) if e.is_refusal() => Exit::Config,
        _ => Exit::Failure,
    }
}

/// A refused restore: the backup, the key, the configuration, or the target.
pub fn for_restore(error: &RestoreError) -> Exit {
    match error {
        RestoreError::Backup { .. }
        | RestoreError::Unsigned { .. }
        | RestoreError::OtherKey { .. }
        | RestoreError::Mismatch { .. }
        | RestoreError::Record { .. } => Exit::BadBackup,
        RestoreError::NoKey { .. } | RestoreError::Key(_) | RestoreError::Config(_) => Exit::Config,
        RestoreError::Database(e) if e.is_refusal() => Exit::Config,
        RestoreError::Occupied(_)
        | RestoreError::Create { .. }
        | RestoreError::Store(_)
        | RestoreError::Database(_)
        | RestoreError::DatabaseOccupied { .. }
        | RestoreError::Fill { .. } => Exit::CannotCreate,
        RestoreError::Usage(_) => Exit::Usage,
    }
}

/// The statuses a man page's EXIT STATUS section lists (`.TP` then `.B N`), with the
/// first line of each entry's text, for the tests that hold the pages to the code.
#[cfg(test)]
pub(crate) fn man_page_statuses(page: &str) -> Vec<(u8, String)> {
    let section = page
        .split("\n.SH EXIT STATUS\n")
        .nth(1)
        .and_then(|rest| rest.split("\n.SH ").next())
        .unwrap_or_default();
    let lines: Vec<&str> = section.lines().collect();
    lines
        .windows(3)
        .filter(|w| w[0] == ".TP")
        .filter_map(|w| {
            let code = w[1].strip_prefix(".B ")?.parse().ok()?;
            Some((code, w[2].to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_numbers() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 65, 73, 78]);
        assert_eq!(
            Exit::Usage.code(),
            clap::error::Error::<clap::error::DefaultFormatter>::new(
                clap::error::ErrorKind::UnknownArgument
            )
            .exit_code() as u8
        );
    }

    #[test]
    fn authd_8_lists_every_status_and_no_other() {
        let page = include_str!("../man/authd.8");
        let listed: Vec<u8> = man_page_statuses(page).iter().map(|s| s.0).collect();
        let known: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(listed, known, "authd(8) EXIT STATUS against src/exit.rs");
    }
}
