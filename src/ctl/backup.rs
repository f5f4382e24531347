//! `authctl backup`: fetch the daemon's snapshot chunk by chunk, check it, and write it
//! to standard output (`--output -`) or to a private file through `private_file` (0600
//! from creation, atomic, never through a file or symlink another user planted).

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::output::Outcome;
use super::{unexpected, CtlError, Session};
use crate::private_file;
use authd_proto::protocol::{Backup, Request, Response};

/// Where `--output` sends the backup.
enum Output<'a> {
    Stdout,
    File(&'a Path),
}

pub fn backup(s: &mut Session, output: &Path) -> Result<Outcome, CtlError> {
    let output = if output.as_os_str() == "-" {
        if std::io::stdout().is_terminal() {
            return Err(CtlError::Usage(
                "refusing to write a binary backup to a terminal: redirect standard output, \
                 or give --output FILE"
                    .into(),
            ));
        }
        Output::Stdout
    } else {
        // A path that can never be written is refused before the daemon does any work.
        private_file::check_target(output)?;
        Output::File(output)
    };
    // A non-admin is refused here, before anything is written.
    let bytes = fetch(s)?;
    // The structure and checksum; the MAC needs the secret key (`authd restore` checks it).
    let backup = crate::backup_file::read_all(&bytes[..], crate::store::SCHEMA_VERSION)
        .map_err(|e| CtlError::Local(format!("the backup does not verify: {e}")))?;
    let count = backup.records.len();
    match output {
        Output::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| CtlError::Local(format!("cannot write the backup to stdout: {e}")))?;
            Ok(Outcome::Streamed(format!(
                "backup of {count} records written to standard output (the secret key file \
                 is not in it: back it up separately)"
            )))
        }
        Output::File(path) => {
            private_file::write(path, |f| f.write_all(&bytes))?;
            Ok(Outcome::Backup {
                message: format!(
                    "backup of {count} records written to {} (the secret key file is not in \
                     it: back it up separately)",
                    path.display()
                ),
                path: path.to_path_buf(),
                records: count as u64,
            })
        }
    }
}

/// The whole snapshot, in memory (it is checked before a byte is written out).
fn fetch(s: &mut Session) -> Result<Vec<u8>, CtlError> {
    let mut session = None;
    let mut offset = 0u64;
    let mut bytes = Vec::new();
    loop {
        match s.call(Request::Backup(Backup { session, offset }))? {
            Response::BackupChunk {
                session: id,
                total,
                data,
                ..
            } => {
                session = Some(id);
                offset += data.len() as u64;
                bytes.extend_from_slice(&data);
                if offset >= total || data.is_empty() {
                    return Ok(bytes);
                }
            }
            other => return Err(unexpected(other)),
        }
    }
}
