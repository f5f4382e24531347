//! Sending an import: the checked lines in batches that stay well under the frame limit,
//! then the hashing steps (with progress), then the commit. The daemon holds the batches
//! in its import session and writes nothing before the commit; a batch it refuses ends
//! the session, so the import stops there with nothing written.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ctl::session::Session;
use crate::ctl::{unexpected, CtlError};
use authd_proto::protocol::{
    Change, Import, ImportEntry, ImportPassword, ImportReport, ImportStep, Request, Response,
};

/// Bytes of lines in one `Stage` request: half the frame limit, so the encoding's own
/// overhead never matters.
const BATCH_BYTES: usize = 32 * 1024;
/// Lines in one `Stage` request at most.
const BATCH_LINES: usize = 1000;

/// About how many bytes `entry` takes on the wire (its strings, and room for the rest).
fn wire_size(entry: &ImportEntry) -> usize {
    let text = |c: &Change<String>| match c {
        Change::Set(v) => v.len(),
        _ => 0,
    };
    let password = match &entry.password {
        Some(ImportPassword::Plain(s) | ImportPassword::Hashed(s)) => s.expose().len(),
        None => 0,
    };
    64 + entry.name.len() + password + text(&entry.email) + text(&entry.phone) + text(&entry.sso)
}

/// `entries` cut into batches of at most `BATCH_BYTES` and `BATCH_LINES`.
fn batches(entries: Vec<ImportEntry>) -> Vec<Vec<ImportEntry>> {
    let mut all = Vec::new();
    let (mut batch, mut bytes) = (Vec::new(), 0);
    for entry in entries {
        let size = wire_size(&entry);
        if !batch.is_empty() && (bytes + size > BATCH_BYTES || batch.len() == BATCH_LINES) {
            all.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push(entry);
    }
    if !batch.is_empty() {
        all.push(batch);
    }
    all
}

fn step(s: &mut Session, session: Option<u64>, step: ImportStep) -> Result<ImportReport, CtlError> {
    match s.call(Request::Import(Import { session, step }))? {
        Response::Imported(report) => Ok(report),
        other => Err(unexpected(other)),
    }
}

/// A progress bar on standard error when it is a terminal and `shown`; else hidden.
fn progress(shown: bool, lines: u64) -> ProgressBar {
    let target = if shown {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(lines), target);
    if let Ok(style) = ProgressStyle::with_template("{msg:<18} [{bar:40}] {pos}/{len} ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("checking lines");
    bar
}

/// Stage every entry, hash the plain passwords, commit (or only count, for a dry run).
pub fn send(
    s: &mut Session,
    entries: Vec<ImportEntry>,
    dry_run: bool,
    show_progress: bool,
) -> Result<ImportReport, CtlError> {
    let bar = progress(show_progress, entries.len() as u64);
    let mut session = None;
    let mut report = None;
    for batch in batches(entries) {
        let staged = step(s, session, ImportStep::Stage(batch))?;
        bar.set_position(staged.staged);
        session = Some(staged.session);
        report = Some(staged);
    }
    let Some(mut report) = report else {
        return Err(CtlError::Local("no lines to send".into()));
    };
    if !dry_run && report.to_hash > 0 {
        bar.set_message("hashing passwords");
        bar.set_length(report.to_hash);
        bar.set_position(0);
        while report.to_hash > 0 {
            report = step(s, session, ImportStep::Hash)?;
            bar.set_position(report.hashed);
        }
    }
    bar.set_message("writing");
    let done = step(s, session, ImportStep::Commit { dry_run })?;
    bar.finish_and_clear();
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authd_proto::codec::encode;
    use authd_proto::protocol::{Secret, MAX_FRAME};

    fn entry(line: u64, password: usize) -> ImportEntry {
        ImportEntry {
            line,
            name: format!("{}{line}", "a".repeat(50)),
            password: Some(ImportPassword::Plain(Secret::new("p".repeat(password)))),
            email: Change::Set(format!("{}@example.org", "e".repeat(60))),
            phone: Change::Set("+447911123456".into()),
            sso: Change::Keep,
            disabled: Some(false),
        }
    }

    #[test]
    fn every_batch_fits_in_a_frame_and_keeps_the_order() {
        for password in [1, 100, 4096] {
            let entries: Vec<_> = (1..=3000).map(|l| entry(l, password)).collect();
            let batches = batches(entries);
            let mut next = 1;
            for batch in batches {
                assert!(batch.len() <= BATCH_LINES);
                for e in &batch {
                    assert_eq!(e.line, next);
                    next += 1;
                }
                let request = Request::Import(Import {
                    session: Some(u64::MAX),
                    step: ImportStep::Stage(batch),
                });
                let frame = encode(&request).unwrap();
                assert!(frame.len() < MAX_FRAME, "{} bytes", frame.len());
            }
            assert_eq!(next, 3001);
        }
    }
}
