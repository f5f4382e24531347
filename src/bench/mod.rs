//! authd-bench: a load generator that drives a running authd over its real socket with
//! N concurrent blocking clients and reports throughput, latency percentiles, errors and
//! the daemon's peak RSS (VmHWM, from /proc via the socket's peer pid).
//!
//! - `scenarios`: what each client sends; `setup`: the accounts made before the clock
//!   starts (an admin connection; add-user only, no password hashing, except the
//!   accounts that need a password); `totp_pool`: fresh codes for verify-totp;
//! - `measure`: the timed loop; `report`: its figures;
//! - `ceiling`: `store-ceiling`, no daemon: what bare sled with one group-commit flusher
//!   writes, the same records a login writes;
//! - `flood`: the other side, a hostile local user's load.

mod ceiling;
mod cpu;
mod flood;
mod measure;
mod pg_fill;
mod report;
mod scenarios;
mod setup;
mod totp_pool;

pub use flood::FloodReport;
pub use measure::Stop;
pub use pg_fill::populate_database;
pub use report::{KindLatency, Report};
pub use setup::{account, populate, PASSWORD};

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::client::ClientError;
use crate::ctl::exit::{self, Exit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Status,
    Show,
    VerifyPassword,
    /// Each client cycles through an unknown name (the dummy hash), an existing account
    /// with a wrong password and with the right one, one request each in turn, and the
    /// latencies are reported per kind: does an unknown name cost what a real one does?
    /// (Run the daemon with a high `lockout.max_failures`; `bench/dummy-hash.sh`.)
    VerifyNames,
    /// Logins with password and TOTP code, each a success whose replay step is written
    /// (run the daemon with cheap argon2 parameters to measure the write path).
    VerifyTotp,
    AddUser,
    /// No daemon: bare sled in --dir (or a temporary directory) with one group-commit
    /// flusher, each client writing what a successful TOTP login writes.
    StoreCeiling,
    /// Attack: hold --clients idle connections (as many as authd gives), retrying refused ones.
    FloodIdle,
    /// Attack: --clients connections verifying a wrong password for the bench's own login.
    FloodVerify,
    /// Attack: --clients connections asking about an account with a 60 KB name of escapes.
    FloodRefused,
}

impl Scenario {
    /// The hostile-user load for a flood scenario, run for `duration`; `None` for the
    /// measuring scenarios.
    pub fn flood(self, socket: &Path, clients: usize, duration: Duration) -> Option<FloodReport> {
        match self {
            Scenario::FloodIdle => Some(flood::idle(socket, clients, duration)),
            Scenario::FloodVerify => Some(flood::verify(socket, clients, duration)),
            Scenario::FloodRefused => Some(flood::refused(socket, clients, duration)),
            Scenario::Status
            | Scenario::Show
            | Scenario::VerifyPassword
            | Scenario::VerifyNames
            | Scenario::VerifyTotp
            | Scenario::AddUser
            | Scenario::StoreCeiling => None,
        }
    }

    /// --accounts when not given: verify-totp needs many (see `totp_pool`).
    pub fn default_accounts(self) -> usize {
        match self {
            Scenario::VerifyTotp | Scenario::StoreCeiling => 20_000,
            _ => 1_000,
        }
    }

    /// Does it run against a daemon (and so need --socket)?
    pub fn needs_daemon(self) -> bool {
        self != Scenario::StoreCeiling
    }
}

/// How to run a measuring scenario.
#[derive(Debug, Clone)]
pub struct Options {
    /// Concurrent clients (at least 1).
    pub clients: usize,
    pub stop: Stop,
    /// `show`: the accounts bench-0000000.. to ask about; verify-totp and store-ceiling:
    /// the accounts to spread the logins over.
    pub accounts: usize,
    /// `show`: create the accounts first (they may exist already); false uses them as
    /// they are, so the run measures `show` alone.
    pub setup: bool,
    /// store-ceiling: the directory for the database (default: a temporary one).
    pub dir: Option<PathBuf>,
    /// A process whose CPU time (with its children's) is reported per request, e.g. the
    /// database server's postmaster.
    pub cpu_pid: Option<i32>,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Usage(String),
    #[error("the store-ceiling database: {0}")]
    Store(String),
    #[error("filling the database: {0}")]
    Database(String),
}

impl BenchError {
    /// The exit status (authctl's codes: 2 usage, 70 internal).
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Client(e) => exit::for_client(e).code(),
            BenchError::Usage(_) => Exit::Usage.code(),
            BenchError::Store(_) | BenchError::Database(_) => Exit::Internal.code(),
        }
    }
}

/// Run one measuring scenario (`sockets`: the daemons', for all but store-ceiling; with
/// several, daemons sharing one database, client i connects to `sockets[i % len]`).
pub fn run(
    sockets: &[PathBuf],
    scenario: Scenario,
    options: &Options,
) -> Result<Report, BenchError> {
    let options = Options {
        clients: options.clients.max(1),
        ..options.clone()
    };
    if !scenario.needs_daemon() {
        return ceiling::run(&options);
    }
    if sockets.is_empty() {
        return Err(BenchError::Usage(format!(
            "--socket is needed for {scenario:?} (or set AUTHD_SOCKET)"
        )));
    }
    Ok(against_daemon(sockets, scenario, &options)?)
}

/// Measure the daemons at `sockets`; the accounts are made through the first, and the
/// peak RSS and hash workers reported are the first's.
fn against_daemon(
    sockets: &[PathBuf],
    scenario: Scenario,
    options: &Options,
) -> Result<Report, ClientError> {
    let socket = sockets[0].as_path();
    let mut probe = setup::connect(socket)?;
    let info = setup::status(&mut probe)?;
    if scenario == Scenario::Show && options.setup {
        populate(socket, options.accounts.max(1), options.clients)?;
    }
    // The physical limit for password checks: hash_workers / one argon2id verify, timed
    // alone. An unknown name costs exactly one verify (of the dummy hash) and no write.
    let physical_limit_per_sec = if scenario == Scenario::VerifyPassword {
        let mut times: Vec<Duration> = (0..9)
            .map(|_| {
                let t = Instant::now();
                let _ = probe.call(&scenarios::verify("bench-no-such-account", None));
                t.elapsed()
            })
            .collect();
        times.sort();
        Some(info.hash_workers as f64 / times[4].as_secs_f64())
    } else {
        None
    };
    let waited = scenarios::Waited::default();
    let clients = scenarios::clients(sockets, scenario, options, &waited)?;
    let mut daemons = vec![probe.peer_pid()];
    for other in &sockets[1..] {
        daemons.push(setup::connect(other)?.peer_pid());
    }
    let before = cpu::read(&daemons, options.cpu_pid);
    let measured = measure::measure(clients, options.stop);
    let after = cpu::read(&daemons, options.cpu_pid);
    let mut report = Report::new(
        scenario,
        options.clients,
        &measured,
        scenarios::kinds(scenario),
    );
    report.daemon_peak_rss_kib = report::peak_rss_kib(probe.peer_pid());
    let requests = report.requests + report.errors;
    (report.daemon_cpu_us, report.watched_cpu_us) = after.per_request(&before, requests);
    report.physical_limit_per_sec = physical_limit_per_sec;
    report.hash_workers = info.hash_workers;
    if scenario == Scenario::VerifyTotp {
        report.waited_for_codes_secs = Some(waited.load(Ordering::Relaxed) as f64 / 1e6);
    }
    Ok(report)
}
