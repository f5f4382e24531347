//! Bulk import (`authctl import`): many accounts created or updated, all or nothing.
//!
//! An import is a session (`sessions`) fed in steps (`protocol::import`): `Stage` checks
//! each line on its own (`lines::check`: name, contact data, the password policy for
//! plain passwords, the format and cost of imported hashes), then against the other
//! lines (duplicates) and the account as it is (an SSO account given a password, a phone
//! number under SMS verification), and keeps it; `Hash` hashes the next few plain
//! passwords on the hash pool in the caller's turn; `Commit` writes every line as one
//! store change (`Backend::import`), deciding each again on the account as it is then.
//! Nothing is written before `Commit`, and a refused line ends the session, so a bad
//! line anywhere in the file means nothing is written. Imported crypt(3) hashes are
//! stored as they are: no hashing at import time; the login path replaces them.

mod lines;
mod sessions;

use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::protocol::{Import, ImportEntry, ImportReport, ImportStep, Response};
use crate::store::{Account, Effects, ImportWrite};
use crate::time;
use lines::{apply_line, hash_kind, Line, Password};
pub use sessions::Sessions as ImportSessions;
use sessions::{Session, Tally, MAX_LINES};

/// Plain passwords one `Hash` step hashes, per hash worker.
const HASH_PER_WORKER: usize = 4;

/// Stands in for a plain password not hashed yet when a line is only classified: it
/// matches no stored hash, so the password counts as changed.
const NOT_HASHED_YET: &str = "\0not hashed yet";

fn report(s: &Session, tally: Tally, committed: bool) -> Response {
    Response::Imported(ImportReport {
        session: s.id,
        staged: s.lines.len() as u64,
        hashed: s.hashed,
        to_hash: s.to_hash,
        created: tally.created,
        updated: tally.updated,
        unchanged: tally.unchanged,
        committed,
    })
}

/// What `line` does to the account as it is (`existing`), with `hash` as its password
/// if it sets one: the account to write and the fields that changed.
fn decide(
    line: &Line,
    hash: Option<&str>,
    existing: Option<Account>,
    now: u64,
) -> Result<(Account, Vec<&'static str>), Error> {
    let mut account = existing.unwrap_or_else(|| Account::new(line.name.clone(), now));
    let changed = apply_line(line, hash, &mut account, now)?;
    Ok((account, changed))
}

/// Count what a line decided into `tally`.
fn count(tally: &mut Tally, is_new: bool, changed: &[&str]) {
    match (is_new, changed.is_empty()) {
        (true, _) => tally.created += 1,
        (false, true) => tally.unchanged += 1,
        (false, false) => tally.updated += 1,
    }
}

/// The password a line sets, for classifying it before it is hashed.
fn staged_hash(line: &Line) -> Option<&str> {
    match &line.password {
        Password::Keep => None,
        Password::Plain(_) => Some(NOT_HASHED_YET),
        Password::Hash(hash) => Some(hash),
    }
}

impl Service {
    pub async fn import(&self, caller: &Caller, req: Import) -> Result<Response, Error> {
        let Import { session, step } = req;
        let owner = caller.peer().uid;
        let mut s = match (session, &step) {
            (Some(id), _) => self.imports.take(id, owner)?,
            (None, ImportStep::Stage(_)) => {
                self.imports.room(time::now())?;
                let id = u64::from_be_bytes(crate::vault::random_bytes()?);
                Session::new(id, owner)
            }
            (None, _) => {
                return Err(Error::BadRequest(
                    "an import starts with a Stage step".into(),
                ))
            }
        };
        // A failed step drops the session: nothing of it was written.
        match step {
            ImportStep::Stage(entries) => {
                self.import_stage(&mut s, entries).await?;
                let answer = report(&s, s.tally, false);
                self.imports.put(s);
                Ok(answer)
            }
            ImportStep::Hash => {
                self.import_hash(caller, &mut s).await?;
                let answer = report(&s, s.tally, false);
                self.imports.put(s);
                Ok(answer)
            }
            ImportStep::Commit { dry_run: true } => {
                let tally = self.import_tally(&s)?;
                Ok(report(&s, tally, false))
            }
            ImportStep::Commit { dry_run: false } => self.commit_import(caller, s).await,
            ImportStep::Abort => Ok(report(&s, s.tally, false)),
        }
    }

    /// Check `entries` and add them to the session.
    async fn import_stage(&self, s: &mut Session, entries: Vec<ImportEntry>) -> Result<(), Error> {
        if s.lines.len() + entries.len() > MAX_LINES {
            return Err(Error::InvalidInput(format!(
                "an import holds at most {MAX_LINES} lines: split the file"
            )));
        }
        // The password policy (zxcvbn) costs a little per line: off the async threads.
        let config = self.config();
        let checked = tokio::task::spawn_blocking(move || {
            entries
                .into_iter()
                .map(|entry| lines::check(&config.password, entry))
                .collect::<Result<Vec<Line>, Error>>()
        })
        .await
        .map_err(|e| Error::Internal(format!("import check failed: {e}")))??;
        let now = time::now();
        for line in checked {
            if let Some(first) = s.names.get(&line.name) {
                return Err(Error::InvalidInput(format!(
                    "line {}: `{}` is on line {first} already",
                    line.line, line.name
                )));
            }
            let existing = self.store.account(&line.name)?;
            let is_new = existing.is_none();
            let (_, changed) = decide(&line, staged_hash(&line), existing, now)?;
            count(&mut s.tally, is_new, &changed);
            if let Password::Plain(_) = line.password {
                s.to_hash += 1;
            }
            s.names.insert(line.name.clone(), line.line);
            s.lines.push(line);
        }
        Ok(())
    }

    /// Hash the next few plain passwords, all at once on the pool in `caller`'s turn.
    async fn import_hash(&self, caller: &Caller, s: &mut Session) -> Result<(), Error> {
        let batch = (self.config().hash_workers() * HASH_PER_WORKER).max(HASH_PER_WORKER);
        let mut picked = Vec::new();
        let mut passwords = Vec::new();
        while s.cursor < s.lines.len() && picked.len() < batch {
            let line = &mut s.lines[s.cursor];
            if let Password::Plain(_) = line.password {
                if let Password::Plain(pw) = std::mem::replace(&mut line.password, Password::Keep) {
                    passwords.push(pw);
                    picked.push(s.cursor);
                }
            }
            s.cursor += 1;
        }
        let hashes = self
            .hasher
            .hash_many(caller.hash_share(), passwords)
            .await?;
        for (index, hash) in picked.into_iter().zip(hashes) {
            s.lines[index].password = Password::Hash(hash);
            s.hashed += 1;
            s.to_hash -= 1;
        }
        Ok(())
    }

    /// What the session's lines would do to the accounts as they are now.
    fn import_tally(&self, s: &Session) -> Result<Tally, Error> {
        let now = time::now();
        let mut tally = Tally::default();
        for line in &s.lines {
            let existing = self.store.account(&line.name)?;
            let is_new = existing.is_none();
            let (_, changed) = decide(line, staged_hash(line), existing, now)?;
            count(&mut tally, is_new, &changed);
        }
        Ok(tally)
    }

    /// Write every line in one store change, each decided on the account as it is now.
    async fn commit_import(&self, caller: &Caller, s: Session) -> Result<Response, Error> {
        if s.to_hash > 0 {
            return Err(Error::BadRequest(format!(
                "{} passwords are still to hash: send Hash steps before Commit",
                s.to_hash
            )));
        }
        let now = time::now();
        let names: Vec<String> = s.lines.iter().map(|l| l.name.clone()).collect();
        let mut tally = Tally::default();
        let mut logged: Vec<(usize, Event)> = Vec::new();
        let mut unsent = Vec::new();
        self.store.import(&names, now, &mut |index, existing| {
            let line = &s.lines[index];
            let is_new = existing.is_none();
            let hash = staged_hash(line);
            let (mut account, changed) = decide(line, hash, existing, now)?;
            count(&mut tally, is_new, &changed);
            if !is_new && changed.is_empty() {
                return Ok(None);
            }
            let mut effects = Effects::default();
            if !is_new && changed.contains(&"password") {
                lockout::clear(&mut account);
                let how = "set by an administrator (import)";
                if let Some(event) =
                    self.after_password_change(&mut account, &mut effects, how, now)?
                {
                    unsent.push((index, event));
                }
            } else if !is_new && (changed.contains(&"email") || changed.contains(&"sso")) {
                effects.dropped_tokens.append(&mut account.reset_tokens);
            }
            let what: Vec<String> = changed
                .iter()
                .map(|c| match (*c, hash) {
                    ("password", Some(h)) => format!("password ({})", hash_kind(h)),
                    (c, _) => c.to_string(),
                })
                .collect();
            let detail = match what.is_empty() {
                true => format!("import line {}", line.line),
                false => format!("import line {}: {}", line.line, what.join(", ")),
            };
            let action = if is_new {
                Action::AccountAdded
            } else {
                Action::AccountChanged
            };
            let event = Event::by(caller, action, Outcome::Ok, detail);
            logged.push((index, event.clone()));
            let write: ImportWrite = Some((account, event, effects));
            Ok(write)
        })?;
        self.store.durable().await?;
        for (index, event) in &logged {
            event.log(&s.lines[*index].name);
        }
        for (index, event) in unsent {
            self.report_unsent(&s.lines[index].name, Some(event));
        }
        self.wake_outbox();
        Ok(report(&s, tally, true))
    }
}
