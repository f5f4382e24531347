//! Admin maintenance: `import-google-authenticator` (authctl reads the user's file,
//! which authd may not be allowed to, and sends it whole as a secret: never in argv or a
//! log) and `outbox retry` / `outbox purge`.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroize;

use super::args::{OutboxAction, OutboxSelect, PurgeSelect};
use super::output::Outcome;
use super::session::Session;
use super::{unexpected, CtlError};
use authd_proto::protocol::{
    ImportGoogleAuthenticator, OutboxPurge, OutboxRetry, OutboxTarget, Request, Response, Secret,
    MAX_GOOGLE_AUTHENTICATOR_FILE,
};

/// The file's content, at most `MAX_GOOGLE_AUTHENTICATOR_FILE` bytes of UTF-8. Every
/// failure is invalid input (exit 65) that names the file, never its content.
fn read_file(path: &Path) -> Result<Secret, CtlError> {
    let shown = path.display();
    let cannot = |e: std::io::Error| CtlError::Input(format!("cannot read {shown}: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(CtlError::Input(format!("{shown} is not a regular file")));
    }
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_GOOGLE_AUTHENTICATOR_FILE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_GOOGLE_AUTHENTICATOR_FILE {
        bytes.zeroize();
        return Err(CtlError::Input(format!(
            "{shown} is not a google-authenticator file: larger than \
             {MAX_GOOGLE_AUTHENTICATOR_FILE} bytes"
        )));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Secret::new(text)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(CtlError::Input(format!(
                "{shown} is not a google-authenticator file: not text"
            )))
        }
    }
}

pub fn import_google_authenticator(
    s: &mut Session,
    name: String,
    path: &Path,
    replace: bool,
) -> Result<Outcome, CtlError> {
    let file = read_file(path)?;
    let request = Request::ImportGoogleAuthenticator(ImportGoogleAuthenticator {
        name: name.clone(),
        file,
        replace,
    });
    match s.call(request)? {
        Response::TotpImported {
            recovery_codes,
            replaced,
            ignored,
        } => Ok(Outcome::TotpImported {
            name,
            recovery_codes,
            replaced,
            ignored,
        }),
        other => Err(unexpected(other)),
    }
}

fn target(select: OutboxSelect) -> OutboxTarget {
    match select.id {
        Some(id) => OutboxTarget::Id(id),
        None => OutboxTarget::Failed,
    }
}

fn purge_target(select: PurgeSelect) -> OutboxTarget {
    match (select.id, select.delivered_before) {
        (Some(id), _) => OutboxTarget::Id(id),
        (None, Some(before)) => OutboxTarget::DeliveredBefore(before),
        (None, None) => OutboxTarget::Failed,
    }
}

pub fn outbox(s: &mut Session, action: OutboxAction) -> Result<Outcome, CtlError> {
    let (verb, request) = match action {
        OutboxAction::Retry { target: t } => (
            "retry",
            Request::OutboxRetry(OutboxRetry { target: target(t) }),
        ),
        OutboxAction::Purge { target: t } => (
            "purge",
            Request::OutboxPurge(OutboxPurge {
                target: purge_target(t),
            }),
        ),
    };
    match s.call(request)? {
        Response::OutboxChanged { count, dropped } => Ok(Outcome::OutboxChanged {
            action: verb,
            count,
            dropped,
        }),
        other => Err(unexpected(other)),
    }
}
