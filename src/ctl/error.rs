//! authctl's failures and the one place they become `--json` codes (their exit statuses
//! are decided in `exit.rs`).

use crate::private_file::PrivateFileError;
use authd_proto::client::ClientError;
use authd_proto::protocol::SecondFactor;

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Nothing answers at the socket; `origin` says where that path came from
    /// (`--socket`, `AUTHD_SOCKET`, the default and why).
    #[error("{what} {} ({origin})", .path.display())]
    NoDaemon {
        what: &'static str,
        path: std::path::PathBuf,
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    /// The account needs a code and none came; `.1`: a terminal prompt was there to ask
    /// (and was answered with nothing), so the hint is not about options.
    #[error("a second factor is required ({}): {}", methods_list(.0), hint(*.1))]
    SecondFactorRequired(Vec<SecondFactor>, bool),
    #[error("authd sent an unexpected answer: {0}")]
    Unexpected(String),
    #[error("cannot read input")]
    Io(#[source] std::io::Error),
    /// A file authctl was asked to write (a backup, a QR code): refused or failed.
    #[error(transparent)]
    Output(#[from] PrivateFileError),
    /// Something on this side failed, not the daemon.
    #[error("{0}")]
    Local(String),
    /// A failure whose `--json` object is on standard output already (as the `error`
    /// member of a listing it cut short); otherwise the failure it wraps.
    #[error(transparent)]
    Printed(Box<CtlError>),
}

fn hint(prompted: bool) -> &'static str {
    if prompted {
        "no code was entered at the prompt"
    } else {
        "pass --code - to type it (or --code CODE)"
    }
}

fn methods_list(methods: &[SecondFactor]) -> String {
    methods
        .iter()
        .map(|m| match m {
            SecondFactor::Totp => "totp",
            SecondFactor::Sms => "sms",
            SecondFactor::SecurityKey => "security key",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl CtlError {
    /// The stable code shown in `--json` error objects.
    pub fn code_name(&self) -> &'static str {
        match self {
            CtlError::Printed(e) => e.code_name(),
            CtlError::Client(e) => e.code_name(),
            CtlError::NoDaemon { .. } => "unreachable",
            CtlError::Usage(_) => "usage",
            CtlError::Input(_) => "invalid_input",
            CtlError::Output(e) if e.is_bad_target() => "invalid_input",
            CtlError::Output(e) if e.is_permission_denied() => "permission_denied",
            CtlError::SecondFactorRequired(..) => "second_factor_required",
            CtlError::Unexpected(_) => "protocol",
            CtlError::Io(_) | CtlError::Output(_) | CtlError::Local(_) => "io",
        }
    }

    pub fn retry_at(&self) -> Option<u64> {
        match self {
            CtlError::Client(ClientError::Remote(e)) => e.retry_at,
            CtlError::Printed(e) => e.retry_at(),
            _ => None,
        }
    }
}
