//! `authctl import`: read the file from standard input, check every line here
//! (`parse`), then hand it to authd in batches (`send`), which checks it again (the
//! password policy, the accounts as they are), hashes the plain passwords and writes
//! everything at once, or nothing. Secrets come only on standard input, never in argv.

mod parse;
mod send;

use std::io::{IsTerminal, Read};

use serde::Serialize;

use super::args::ImportFormat;
use super::output::Outcome;
use super::session::Session;
use super::CtlError;

/// The largest import file read (100,000 lines of a few hundred bytes).
const MAX_INPUT_BYTES: u64 = 256 << 20;

/// What an import did (or, with `--dry-run`, would do): the `--json` object.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub ok: bool,
    pub dry_run: bool,
    /// Accounts in the file (lines that are not empty or comments).
    pub lines: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Plain passwords hashed by authd (none with -e).
    pub hashed: u64,
}

impl ImportSummary {
    pub fn to_text(&self) -> String {
        let ImportSummary {
            lines,
            created,
            updated,
            unchanged,
            ..
        } = self;
        if self.dry_run {
            format!(
                "dry run: {lines} lines are valid: {created} accounts would be created, \
                 {updated} updated, {unchanged} unchanged; nothing was written"
            )
        } else {
            format!(
                "imported {lines} lines: {created} accounts created, {updated} updated, \
                 {unchanged} unchanged"
            )
        }
    }
}

fn read_stdin() -> Result<String, CtlError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CtlError::Usage(
            "the accounts to import come on standard input: authctl import < FILE".into(),
        ));
    }
    let mut text = String::new();
    stdin
        .lock()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(CtlError::Io)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(CtlError::Input(format!(
            "the import file is larger than {} MiB: split it",
            MAX_INPUT_BYTES >> 20
        )));
    }
    Ok(text)
}

pub fn import(
    s: &mut Session,
    format: ImportFormat,
    encrypted: bool,
    dry_run: bool,
    json: bool,
) -> Result<Outcome, CtlError> {
    if encrypted && format != ImportFormat::Chpasswd {
        return Err(CtlError::Usage(
            "-e is for the chpasswd format; jsonl lines give \"password_hash\" instead".into(),
        ));
    }
    let text = read_stdin()?;
    let entries = parse::parse(&text, format, encrypted)?;
    drop(text);
    let lines = entries.len() as u64;
    let mut summary = ImportSummary {
        ok: true,
        dry_run,
        lines,
        created: 0,
        updated: 0,
        unchanged: 0,
        hashed: 0,
    };
    if lines > 0 {
        let progress = !json && std::io::stderr().is_terminal();
        let report = send::send(s, entries, dry_run, progress)?;
        summary.created = report.created;
        summary.updated = report.updated;
        summary.unchanged = report.unchanged;
        summary.hashed = report.hashed;
    }
    Ok(Outcome::Imported(summary))
}
