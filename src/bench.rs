//! authd-bench: a load generator that drives a running authd over its real socket with
//! N concurrent blocking clients and reports throughput, latency percentiles, errors and
//! the daemon's peak RSS (VmHWM, from /proc via the socket's peer pid).
//!
//! It needs an admin connection (to create accounts). Accounts are created with
//! add-user only — no password hashing — except the few that need a password.
//! The `flood-*` scenarios are the other side: a hostile local user's load (`flood`).

mod flood;

pub use flood::FloodReport;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::{Client, ClientError, DEFAULT_TIMEOUT};
use crate::config::TotpConfig;
use crate::protocol::{Origin, Request, Response, Secret, StatusInfo};
use crate::totp;

pub const PASSWORD: &str = "Bench-Horse-Battery-Staple-9";

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
    VerifyTotp,
    AddUser,
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
    pub fn flood(
        self,
        socket: &std::path::Path,
        clients: usize,
        duration: Duration,
    ) -> Option<FloodReport> {
        match self {
            Scenario::FloodIdle => Some(flood::idle(socket, clients, duration)),
            Scenario::FloodVerify => Some(flood::verify(socket, clients, duration)),
            Scenario::FloodRefused => Some(flood::refused(socket, clients, duration)),
            Scenario::Status
            | Scenario::Show
            | Scenario::VerifyPassword
            | Scenario::VerifyNames
            | Scenario::VerifyTotp
            | Scenario::AddUser => None,
        }
    }
}

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    Requests(u64),
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_sec: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub daemon_peak_rss_kib: Option<u64>,
    /// verify-password only: hash_workers x (1 / one verify), measured in the same run.
    pub physical_limit_per_sec: Option<f64>,
    pub hash_workers: u32,
    /// verify-names only: the latencies of each kind of request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_kind: Vec<KindLatency>,
}

/// Latency percentiles of one kind of request in a scenario that interleaves kinds.
#[derive(Debug, Clone, Serialize)]
pub struct KindLatency {
    pub kind: &'static str,
    pub requests: u64,
    pub p50_us: u64,
    pub p90_us: u64,
}

/// The kinds of request `scenario` interleaves: request i is of kind i % len.
fn kinds(scenario: Scenario) -> &'static [&'static str] {
    match scenario {
        Scenario::VerifyNames => &["unknown name", "wrong password", "right password"],
        _ => &["all"],
    }
}

/// Is `answer` the one request `i` of `scenario` asks for? An unknown name and a wrong
/// password are refused by design; anything else must succeed.
fn as_expected(scenario: Scenario, i: u64, answer: &Result<Response, ClientError>) -> bool {
    use crate::protocol::ErrorCode;
    let refused = |code| matches!(answer, Err(e) if e.remote_code() == Some(code));
    match (scenario, i % 3) {
        (Scenario::VerifyNames, 0) => refused(ErrorCode::NoSuchUser),
        (Scenario::VerifyNames, 1) => refused(ErrorCode::Denied),
        _ => answer.is_ok(),
    }
}

type Setup = Result<(), ClientError>;

fn connect(socket: &std::path::Path) -> Result<Client, ClientError> {
    Client::connect(socket, "authd-bench", DEFAULT_TIMEOUT)
}

fn add(client: &mut Client, name: &str) -> Setup {
    let request = Request::AddUser {
        name: name.into(),
        email: None,
        phone: None,
        sso: None,
    };
    match client.call(&request) {
        Ok(_) => Ok(()),
        Err(ClientError::Remote(e)) if e.code == crate::protocol::ErrorCode::Exists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Create `bench-NNNNNNN` accounts 0..count, `parallel` connections at once.
pub fn populate(socket: &std::path::Path, count: usize, parallel: usize) -> Setup {
    let parallel = parallel.clamp(1, 64);
    let handles: Vec<_> = (0..parallel)
        .map(|p| {
            let socket = socket.to_path_buf();
            std::thread::spawn(move || -> Setup {
                let mut client = connect(&socket)?;
                for i in (p..count).step_by(parallel) {
                    add(&mut client, &account(i))?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| ClientError::Unexpected("populate thread".into()))??;
    }
    Ok(())
}

pub fn account(i: usize) -> String {
    format!("bench-{i:07}")
}

/// Give account `i` a password and an active TOTP secret; returns the raw secret.
fn enrol_totp(client: &mut Client, name: &str) -> Result<Vec<u8>, ClientError> {
    let Response::TotpEnrolment { secret, .. } = client.call(&Request::EnableTotp {
        name: name.into(),
        proof: None,
    })?
    else {
        return Err(ClientError::Unexpected("enable-totp".into()));
    };
    let raw = totp::base32_decode(secret.expose())
        .ok_or_else(|| ClientError::Unexpected("bad secret".into()))?;
    let code = totp::code_at_step(&raw, &TotpConfig::default(), crate::time::now() / 30 - 1);
    client.call(&Request::ConfirmTotp {
        name: name.into(),
        code: Secret::new(code),
    })?;
    Ok(raw)
}

fn set_password(client: &mut Client, name: &str) -> Setup {
    let request = Request::SetPassword {
        name: name.into(),
        password: Secret::new(PASSWORD),
    };
    client.call(&request).map(|_| ())
}

fn verify(name: &str, code: Option<String>) -> Request {
    verify_with(name, PASSWORD, code)
}

fn verify_with(name: &str, password: &str, code: Option<String>) -> Request {
    Request::Verify {
        name: name.into(),
        password: Secret::new(password),
        code: code.map(Secret::new),
        origin: Origin::default(),
    }
}

/// One client's requests for a scenario: `next(i)` gives request number i, or `None`
/// when the client has nothing left to send (verify-totp runs out of fresh steps).
type Plan = Box<dyn FnMut(u64) -> Option<Request> + Send>;

fn plans(
    socket: &std::path::Path,
    scenario: Scenario,
    clients: usize,
    accounts: usize,
) -> Result<Vec<Plan>, ClientError> {
    let needs_admin = matches!(
        scenario,
        Scenario::VerifyPassword | Scenario::VerifyNames | Scenario::VerifyTotp
    );
    let mut admin = if needs_admin {
        Some(connect(socket)?)
    } else {
        None
    };
    let mut plans: Vec<Plan> = Vec::new();
    for c in 0..clients {
        plans.push(match scenario {
            Scenario::Status => Box::new(|_| Some(Request::Status)),
            Scenario::Show => {
                let accounts = accounts.max(1);
                Box::new(move |i| {
                    let n = (i as usize).wrapping_mul(7919).wrapping_add(c * 104_729) % accounts;
                    Some(Request::ShowUser { name: account(n) })
                })
            }
            Scenario::AddUser => {
                let run = crate::time::now();
                Box::new(move |i| {
                    Some(Request::AddUser {
                        name: format!("bench-add-{run}-{c}-{i}"),
                        email: None,
                        phone: None,
                        sso: None,
                    })
                })
            }
            Scenario::FloodIdle | Scenario::FloodVerify | Scenario::FloodRefused => {
                return Err(ClientError::Unexpected(
                    "a flood scenario is not measured".into(),
                ))
            }
            Scenario::VerifyPassword => {
                let admin = admin
                    .as_mut()
                    .ok_or(ClientError::Unexpected("no admin".into()))?;
                let name = format!("bench-pw-{c:04}");
                add(admin, &name)?;
                set_password(admin, &name)?;
                Box::new(move |_| Some(verify(&name, None)))
            }
            Scenario::VerifyNames => {
                let admin = admin
                    .as_mut()
                    .ok_or(ClientError::Unexpected("no admin".into()))?;
                let name = format!("bench-pw-{c:04}");
                add(admin, &name)?;
                set_password(admin, &name)?;
                let unknown = format!("bench-no-such-account-{c:04}");
                Box::new(move |i| {
                    Some(match i % 3 {
                        0 => verify(&unknown, None),
                        1 => verify_with(&name, "Not-The-Bench-Password-1", None),
                        _ => verify(&name, None),
                    })
                })
            }
            Scenario::VerifyTotp => {
                // Each success burns a time step of its account (replay protection):
                // every account serves the steps now-1, now and now+1 once each.
                let admin = admin
                    .as_mut()
                    .ok_or(ClientError::Unexpected("no admin".into()))?;
                let per_client = (accounts / clients).max(1);
                let mut pool = Vec::with_capacity(per_client);
                for k in 0..per_client {
                    let name = format!("bench-totp-{c:04}-{k:06}");
                    add(admin, &name)?;
                    set_password(admin, &name)?;
                    pool.push((name.clone(), enrol_totp(admin, &name)?));
                }
                Box::new(move |i| {
                    let (name, secret) = pool.get((i / 2) as usize)?;
                    let step = crate::time::now() / 30 + (i % 2);
                    let code = totp::code_at_step(secret, &TotpConfig::default(), step);
                    Some(verify(name, Some(code)))
                })
            }
        });
    }
    Ok(plans)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn peak_rss_kib(pid: Option<i32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn status(client: &mut Client) -> Result<StatusInfo, ClientError> {
    match client.call(&Request::Status)? {
        Response::Status(s) => Ok(s),
        other => Err(ClientError::Unexpected(format!("{other:?}"))),
    }
}

/// Run one scenario and measure it.
pub fn run(
    socket: &std::path::Path,
    scenario: Scenario,
    clients: usize,
    stop: Stop,
    accounts: usize,
) -> Result<Report, ClientError> {
    let clients = clients.max(1);
    let mut probe = connect(socket)?;
    let info = status(&mut probe)?;
    if scenario == Scenario::Show {
        populate(socket, accounts.max(1), clients)?;
    }
    // The physical limit for password checks: hash_workers / one argon2id verify, timed
    // alone. An unknown name costs exactly one verify (of the dummy hash) and no write.
    let physical_limit_per_sec = if scenario == Scenario::VerifyPassword {
        let mut times: Vec<Duration> = (0..9)
            .map(|_| {
                let t = Instant::now();
                let _ = probe.call(&verify("bench-no-such-account", None));
                t.elapsed()
            })
            .collect();
        times.sort();
        Some(info.hash_workers as f64 / times[4].as_secs_f64())
    } else {
        None
    };
    let plans = plans(socket, scenario, clients, accounts)?;
    let barrier = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = plans
        .into_iter()
        .map(|mut plan| {
            let socket = socket.to_path_buf();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || -> (Vec<(u64, u64)>, u64) {
                let client = connect(&socket);
                barrier.wait();
                let Ok(mut client) = client else {
                    return (Vec::new(), 1);
                };
                // (request number, latency)
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                let started = Instant::now();
                let mut i = 0u64;
                loop {
                    let done = match stop {
                        Stop::After(d) => started.elapsed() >= d,
                        Stop::Requests(n) => i >= n,
                    };
                    let Some(request) = (!done).then(|| plan(i)).flatten() else {
                        break;
                    };
                    let t = Instant::now();
                    let ok = as_expected(scenario, i, &client.call(&request));
                    latencies.push((i, t.elapsed().as_micros() as u64));
                    errors += u64::from(!ok);
                    i += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h
            .join()
            .map_err(|_| ClientError::Unexpected("client thread".into()))?;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    let names = kinds(scenario);
    let by_kind = if names.len() > 1 {
        names
            .iter()
            .enumerate()
            .map(|(k, &kind)| {
                let mut these: Vec<u64> = latencies
                    .iter()
                    .filter(|(i, _)| *i % names.len() as u64 == k as u64)
                    .map(|&(_, us)| us)
                    .collect();
                these.sort_unstable();
                KindLatency {
                    kind,
                    requests: these.len() as u64,
                    p50_us: percentile(&these, 50.0),
                    p90_us: percentile(&these, 90.0),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut latencies: Vec<u64> = latencies.into_iter().map(|(_, us)| us).collect();
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    Ok(Report {
        scenario: format!("{scenario:?}"),
        clients,
        requests,
        errors,
        seconds,
        requests_per_sec: requests as f64 / seconds.max(1e-9),
        p50_us: percentile(&latencies, 50.0),
        p90_us: percentile(&latencies, 90.0),
        p99_us: percentile(&latencies, 99.0),
        max_us: latencies.last().copied().unwrap_or(0),
        daemon_peak_rss_kib: peak_rss_kib(probe.peer_pid()),
        physical_limit_per_sec,
        hash_workers: info.hash_workers,
        by_kind,
    })
}

impl Report {
    pub fn to_text(&self) -> String {
        let mut t = format!(
            "scenario        {}\nclients         {}\nrequests        {} ({} errors) in {:.2} s\n\
             throughput      {:.0} requests/s\nlatency         p50 {} us, p90 {} us, p99 {} us, max {} us\n\
             daemon peak RSS {}\nhash workers    {}",
            self.scenario,
            self.clients,
            self.requests,
            self.errors,
            self.seconds,
            self.requests_per_sec,
            self.p50_us,
            self.p90_us,
            self.p99_us,
            self.max_us,
            self.daemon_peak_rss_kib
                .map_or("unknown (not on this host?)".into(), |k| format!("{k} KiB")),
            self.hash_workers,
        );
        if let Some(limit) = self.physical_limit_per_sec {
            t.push_str(&format!(
                "\nphysical limit  {limit:.1} verifies/s (hash_workers / one verify); reached {:.1} %",
                100.0 * self.requests_per_sec / limit
            ));
        }
        for k in &self.by_kind {
            t.push_str(&format!(
                "\n{:<15} p50 {} us, p90 {} us ({} requests)",
                k.kind, k.p50_us, k.p90_us, k.requests
            ));
        }
        t
    }
}
