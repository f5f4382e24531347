//! `store-ceiling`: how many durable logins bare sled 0.34.7 takes, no daemon.
//!
//! Each client thread owns its share of --accounts TOTP accounts and, per request, writes
//! what a successful TOTP login writes: the account record re-encoded with a new
//! `last_step`, `updated` and `audit_seq`, one audit entry (and the removal of the entry
//! that falls out of the history window), with the store's own encoders and keys, as
//! plain inserts (no transaction). Then it waits for durability through one group-commit
//! flusher thread, the mechanism of `store::flusher`: waiters queue on a channel; the
//! thread takes all queued, bumps the generation in `meta`, flushes once and releases
//! them. What a request reads (the account) is kept in memory: only writes are timed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use tokio::sync::oneshot;

use super::measure::{self, Measured, Prepared, Start};
use super::{BenchError, Options, Report, Scenario};
use crate::audit::{Action, Outcome};
use crate::store::records::AuditEntry;
use crate::store::records::{audit_key, encode_account, encode_audit};
use crate::store::{Account, TotpEnrolment, HISTORY_LIMIT};

/// Who a PAM login's audit entry names, and what it says (as `service::login` writes it).
const ACTOR: &str = "uid 0 (root) pid 4242";
const DETAIL: &str = "password and totp code";

type Reply = oneshot::Sender<Result<(), String>>;

/// The group-commit flusher: one thread, one flush per batch of waiters.
struct Flusher {
    queue: Option<mpsc::Sender<Reply>>,
    thread: Option<std::thread::JoinHandle<()>>,
    flushes: Arc<AtomicU64>,
}

impl Flusher {
    fn start(db: sled::Db, meta: sled::Tree) -> Flusher {
        let (queue, waiting) = mpsc::channel::<Reply>();
        let flushes = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&flushes);
        let thread = std::thread::spawn(move || {
            let mut generation = 0u64;
            while let Ok(first) = waiting.recv() {
                let mut batch = vec![first];
                batch.extend(waiting.try_iter());
                generation += 1;
                let result = meta
                    .insert(
                        crate::store::integrity::META_GENERATION,
                        &generation.to_be_bytes(),
                    )
                    .and_then(|_| db.flush())
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                counted.fetch_add(1, Ordering::Relaxed);
                for waiter in batch {
                    let _ = waiter.send(result.clone());
                }
            }
        });
        Flusher {
            queue: Some(queue),
            thread: Some(thread),
            flushes,
        }
    }

    /// Wait until everything written before the call is on disk.
    fn durable(&self) -> bool {
        let (reply, answer) = oneshot::channel();
        let queued = self.queue.as_ref().is_some_and(|q| q.send(reply).is_ok());
        queued && answer.blocking_recv().is_ok_and(|r| r.is_ok())
    }
}

impl Drop for Flusher {
    /// Stop the thread and wait for it, so the database is closed before its directory
    /// is removed.
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The trees a login writes, as the store names them.
#[derive(Clone)]
struct Trees {
    accounts: sled::Tree,
    audit: sled::Tree,
}

/// A TOTP account as enrolment leaves it: a password hash, a sealed secret, recovery
/// codes, and the history sequence of its four entries so far (added, password set,
/// enrolled, confirmed; not written here: a login only appends).
fn enrolled(name: String, now: u64) -> Account {
    let mut account = Account::new(name, now);
    account.password_hash = Some(format!(
        "$argon2id$v=19$m=8,t=1,p=1${}${}",
        "s".repeat(22),
        "h".repeat(43)
    ));
    account.totp = Some(TotpEnrolment {
        // nonce (12) + secret (20) + tag (16)
        sealed_secret: vec![0x5a; 48],
        active: true,
        last_step: Some(now / 30),
        since: now,
    });
    account.recovery_codes =
        vec![[0xa5; 32]; crate::config::RecoveryConfig::default().codes as usize];
    account.audit_seq = 4;
    account
}

/// One client: its accounts, in turn.
struct Writer {
    trees: Trees,
    flusher: Arc<Flusher>,
    accounts: Vec<Account>,
}

impl Writer {
    /// What a successful login writes for account `k`, made durable.
    fn login(&mut self, k: usize) -> bool {
        let now = crate::time::now();
        let account = &mut self.accounts[k];
        if let Some(t) = account.totp.as_mut() {
            t.last_step = t.last_step.map(|s| s + 1);
        }
        account.failures = 0;
        account.updated = now;
        account.audit_seq += 1;
        let entry = AuditEntry {
            seq: account.audit_seq,
            at: now,
            action: Action::Verify.as_str().into(),
            outcome: Outcome::Ok.as_str().into(),
            actor: ACTOR.into(),
            detail: DETAIL.into(),
        };
        let name = &account.name;
        let written = self
            .trees
            .audit
            .insert(audit_key(name, entry.seq), encode_audit(&entry))
            .and_then(|_| match entry.seq.checked_sub(HISTORY_LIMIT) {
                Some(old) => self.trees.audit.remove(audit_key(name, old)).map(|_| ()),
                None => Ok(()),
            })
            .and_then(|_| {
                self.trees
                    .accounts
                    .insert(name.as_bytes(), encode_account(account))
            });
        written.is_ok() && self.flusher.durable()
    }
}

impl measure::Client for Writer {
    fn prepare(&mut self, i: u64) -> Option<Prepared<'_>> {
        let k = (i % self.accounts.len() as u64) as usize;
        Some(Box::new(move || self.login(k)))
    }
}

/// The database directory, removed at the end when the bench made it.
struct Dir {
    path: PathBuf,
    temporary: bool,
}

impl Drop for Dir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn dir(given: Option<&Path>) -> Result<Dir, BenchError> {
    let (path, temporary) = match given {
        Some(p) => (p.to_path_buf(), false),
        None => {
            let name = format!(
                "authd-store-ceiling-{}-{}",
                std::process::id(),
                crate::time::now()
            );
            (std::env::temp_dir().join(name), true)
        }
    };
    std::fs::create_dir_all(&path)
        .map_err(|e| BenchError::Store(format!("cannot create {}: {e}", path.display())))?;
    Ok(Dir { path, temporary })
}

/// Write `accounts` fresh enrolled accounts, spread over `clients` writers.
fn populate(trees: &Trees, db: &sled::Db, options: &Options) -> sled::Result<Vec<Vec<Account>>> {
    let now = crate::time::now();
    let per_client = (options.accounts / options.clients).max(1);
    let mut shares = Vec::with_capacity(options.clients);
    for c in 0..options.clients {
        let mut batch = sled::Batch::default();
        let mine: Vec<Account> = (0..per_client)
            .map(|k| enrolled(format!("bench-ceiling-{now}-{c:04}-{k:07}"), now))
            .collect();
        for account in &mine {
            batch.insert(account.name.as_bytes(), encode_account(account));
        }
        trees.accounts.apply_batch(batch)?;
        shares.push(mine);
    }
    db.flush()?;
    Ok(shares)
}

pub fn run(options: &Options) -> Result<Report, BenchError> {
    let dir = dir(options.dir.as_deref())?;
    let store = |e: sled::Error| BenchError::Store(e.to_string());
    // Opened as the daemon opens its store, with the default page cache.
    let cache_capacity_mib = crate::config::Config::default().cache_capacity_mib;
    let db = crate::store::sled_config(&dir.path, cache_capacity_mib)
        .open()
        .map_err(store)?;
    let trees = Trees {
        accounts: db.open_tree("accounts").map_err(store)?,
        audit: db.open_tree("audit").map_err(store)?,
    };
    let shares = populate(&trees, &db, options).map_err(store)?;
    let flusher = Arc::new(Flusher::start(
        db.clone(),
        db.open_tree("meta").map_err(store)?,
    ));
    let writers: Vec<Start> = shares
        .into_iter()
        .map(|accounts| {
            let writer = Writer {
                trees: trees.clone(),
                flusher: Arc::clone(&flusher),
                accounts,
            };
            Box::new(move || Some(Box::new(writer) as Box<dyn measure::Client>)) as Start
        })
        .collect();
    let measured: Measured = measure::measure(writers, options.stop);
    let mut report = Report::new(Scenario::StoreCeiling, options.clients, &measured, &["all"]);
    report.flushes = Some(flusher.flushes.load(Ordering::Relaxed));
    Ok(report)
}
