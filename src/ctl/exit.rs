//! authctl's exit statuses: the one place a failure becomes a number. The `--help` table
//! (`help_table`) is built from `Exit::ALL`, and a test holds authctl(1)'s EXIT STATUS
//! section to the same list, so neither can drift from what authctl returns.
//!
//! The numbers are a contract (scripts test them): never renumber one.

use authd_proto::client::ClientError;
use authd_proto::protocol::ErrorCode;

use super::error::CtlError;

/// One documented authctl exit status (sysexits(3) numbers where one fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// Wrong password or code, a second factor is required, or the account is disabled
    /// or expired.
    Denied,
    Usage,
    /// EX_DATAERR.
    InvalidInput,
    /// EX_NOUSER.
    NoSuchUser,
    /// EX_UNAVAILABLE: nothing was done.
    Unreachable,
    /// EX_SOFTWARE; also an outcome that is unknown.
    Internal,
    /// EX_CANTCREAT: an output file (backup, QR code) could not be written.
    CantCreate,
    /// EX_TEMPFAIL: locked or rate limited.
    TryLater,
    /// EX_NOPERM.
    PermissionDenied,
    /// EX_CONFIG: only authd returns it; listed because the table is shared.
    Config,
}

impl Exit {
    /// Every status, in the order the tables list them.
    pub const ALL: [Exit; 11] = [
        Exit::Success,
        Exit::Denied,
        Exit::Usage,
        Exit::InvalidInput,
        Exit::NoSuchUser,
        Exit::Unreachable,
        Exit::Internal,
        Exit::CantCreate,
        Exit::TryLater,
        Exit::PermissionDenied,
        Exit::Config,
    ];

    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Denied => 1,
            Exit::Usage => 2,
            Exit::InvalidInput => 65,
            Exit::NoSuchUser => 67,
            Exit::Unreachable => 69,
            Exit::Internal => 70,
            Exit::CantCreate => 73,
            Exit::TryLater => 75,
            Exit::PermissionDenied => 77,
            Exit::Config => 78,
        }
    }

    /// The words each table (`--help`, authctl(1)) opens the entry with.
    pub fn title(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Denied => "denied",
            Exit::Usage => "usage error",
            Exit::InvalidInput => "invalid input",
            Exit::NoSuchUser => "no such user",
            Exit::Unreachable => "authd is not reachable",
            Exit::Internal => "internal error",
            Exit::CantCreate => "cannot write the output file",
            Exit::TryLater => "locked",
            Exit::PermissionDenied => "permission denied",
            Exit::Config => "configuration error",
        }
    }

    /// The `--help` entry, wrapped to the help text's width (it starts with `title`).
    fn help(self) -> &'static [&'static str] {
        match self {
            Exit::Success => &["success"],
            Exit::Denied => &[
                "denied: wrong password or code, a second factor is required, or the account is",
                "disabled or expired",
            ],
            Exit::Usage => &["usage error"],
            Exit::InvalidInput => &[
                "invalid input: bad name, email or phone, weak password, account exists, SSO account,",
                "second factor not enrolled or already enrolled, an output FILE that is a symbolic",
                "link or not a regular file, or whose directory does not exist, a",
                "google-authenticator FILE that cannot be read, is malformed or counter-based, an",
                "unknown outbox message id",
            ],
            Exit::NoSuchUser => &["no such user"],
            Exit::Unreachable => &["authd is not reachable (nothing was done)"],
            Exit::Internal => &[
                "internal error; also outcome_unknown: the connection broke after the request was",
                "sent, so it may or may not have taken effect (check before running it again)",
            ],
            Exit::CantCreate => &[
                "cannot write the output file (a backup, a QR code): disk full or an I/O error;",
                "no partial file is left",
            ],
            Exit::TryLater => &["locked or rate limited (the message says until when)"],
            Exit::PermissionDenied => {
                &["permission denied (also: not allowed to write the output FILE)"]
            }
            Exit::Config => &["configuration error (authd; authctl itself never returns it)"],
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// The "Exit status:" table at the end of `authctl --help`.
pub fn help_table() -> String {
    let mut table = String::from("Exit status:");
    for exit in Exit::ALL {
        for (i, line) in exit.help().iter().enumerate() {
            let code = if i == 0 {
                exit.code().to_string()
            } else {
                String::new()
            };
            table.push_str(&format!("\n  {code:<4}{line}"));
        }
    }
    table
}

/// The status for a failure of authctl's.
pub fn for_error(error: &CtlError) -> Exit {
    match error {
        CtlError::Client(e) => for_client(e),
        CtlError::Printed(e) => for_error(e),
        CtlError::NoDaemon { .. } => Exit::Unreachable,
        CtlError::Usage(_) => Exit::Usage,
        CtlError::Input(_) => Exit::InvalidInput,
        // A symlink, a directory, no such directory: a bad output path.
        CtlError::Output(e) if e.is_bad_target() => Exit::InvalidInput,
        CtlError::Output(e) if e.is_permission_denied() => Exit::PermissionDenied,
        // Opened, then writing failed (ENOSPC, EIO).
        CtlError::Output(_) => Exit::CantCreate,
        CtlError::SecondFactorRequired(..) => Exit::Denied,
        CtlError::Unexpected(_) | CtlError::Io(_) | CtlError::Local(_) => Exit::Internal,
    }
}

/// The status for a failure to talk to authd, or an error it answered with.
pub fn for_client(error: &ClientError) -> Exit {
    match error {
        ClientError::NotRunning { .. } | ClientError::Connect { .. } | ClientError::Dropped(_) => {
            Exit::Unreachable
        }
        ClientError::TooLarge(_) => Exit::InvalidInput,
        ClientError::Codec(_) | ClientError::Unexpected(_) | ClientError::OutcomeUnknown(_) => {
            Exit::Internal
        }
        ClientError::Remote(e) => for_wire(e.code),
    }
}

/// The status for each stable error code the daemon answers with.
pub fn for_wire(code: ErrorCode) -> Exit {
    match code {
        ErrorCode::Denied
        | ErrorCode::SecondFactorRequired
        | ErrorCode::SessionInvalid
        | ErrorCode::FreshProofRequired
        | ErrorCode::Disabled
        | ErrorCode::Expired => Exit::Denied,
        ErrorCode::BadRequest => Exit::Usage,
        ErrorCode::InvalidInput
        | ErrorCode::SmsUnavailable
        | ErrorCode::HotpUnsupported
        | ErrorCode::WeakPassword
        | ErrorCode::Exists
        | ErrorCode::SsoAccount
        | ErrorCode::NotEnrolled => Exit::InvalidInput,
        ErrorCode::NoSuchUser => Exit::NoSuchUser,
        ErrorCode::Busy => Exit::Unreachable,
        ErrorCode::VersionMismatch | ErrorCode::Internal => Exit::Internal,
        ErrorCode::Locked | ErrorCode::RateLimited => Exit::TryLater,
        ErrorCode::PermissionDenied => Exit::PermissionDenied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers scripts rely on (DESIGN.md, "Exit codes"); a change here is a break.
    #[test]
    fn the_documented_numbers() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 65, 67, 69, 70, 73, 75, 77, 78]);
    }

    #[test]
    fn each_help_entry_opens_with_its_title() {
        for exit in Exit::ALL {
            assert!(exit.help()[0].starts_with(exit.title()), "{exit:?}");
        }
    }

    #[test]
    fn the_help_table_lists_every_code_once() {
        let table = help_table();
        for exit in Exit::ALL {
            let lead = format!("\n  {:<4}{}", exit.code(), exit.title());
            assert_eq!(table.matches(&lead).count(), 1, "{exit:?} in {table}");
        }
        assert!(table.lines().all(|l| l.len() <= 90), "{table}");
    }

    #[test]
    fn authctl_1_lists_every_status_with_its_title() {
        let page = include_str!("../../man/authctl.1");
        let listed = crate::exit::man_page_statuses(page);
        let codes: Vec<u8> = listed.iter().map(|s| s.0).collect();
        let known: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes, known,
            "authctl(1) EXIT STATUS against src/ctl/exit.rs"
        );
        for (exit, (_, text)) in Exit::ALL.iter().zip(&listed) {
            assert!(text.starts_with(exit.title()), "{exit:?}: {text}");
        }
    }

    #[test]
    fn wire_codes_keep_their_statuses() {
        assert_eq!(for_wire(ErrorCode::Denied).code(), 1);
        assert_eq!(for_wire(ErrorCode::Disabled).code(), 1);
        assert_eq!(for_wire(ErrorCode::Expired).code(), 1);
        assert_eq!(for_wire(ErrorCode::Exists).code(), 65);
        assert_eq!(for_wire(ErrorCode::NoSuchUser).code(), 67);
        assert_eq!(for_wire(ErrorCode::Busy).code(), 69);
        assert_eq!(for_wire(ErrorCode::VersionMismatch).code(), 70);
        assert_eq!(for_wire(ErrorCode::RateLimited).code(), 75);
        assert_eq!(for_wire(ErrorCode::PermissionDenied).code(), 77);
    }
}
