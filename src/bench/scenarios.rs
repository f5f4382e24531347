//! What each client of a scenario against the daemon sends, and which answers count as
//! expected.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::measure::{self, Prepared, Start};
use super::setup::{self, account, add, connect, enrol_totp, set_password, PASSWORD};
use super::totp_pool::Pool;
use super::{Options, Scenario, Stop};
use crate::client::{Client, ClientError};
use crate::protocol::{AddUser, ErrorCode, Origin, Request, Response, Secret, ShowUser, Verify};

/// One client's requests: `plan(i)` gives request number i, or `None` when the client
/// has nothing left to send.
type Plan = Box<dyn FnMut(u64) -> Option<Request> + Send>;

/// The kinds of request `scenario` interleaves: request i is of kind i % len.
pub fn kinds(scenario: Scenario) -> &'static [&'static str] {
    match scenario {
        Scenario::VerifyNames => &["unknown name", "wrong password", "right password"],
        _ => &["all"],
    }
}

/// Is `answer` the one request `i` of `scenario` asks for? An unknown name and a wrong
/// password are refused by design; anything else must succeed.
fn as_expected(scenario: Scenario, i: u64, answer: &Result<Response, ClientError>) -> bool {
    let refused = |code| matches!(answer, Err(e) if e.remote_code() == Some(code));
    match (scenario, i % 3) {
        (Scenario::VerifyNames, 0) => refused(ErrorCode::NoSuchUser),
        (Scenario::VerifyNames, 1) => refused(ErrorCode::Denied),
        _ => answer.is_ok(),
    }
}

pub fn verify(name: &str, code: Option<String>) -> Request {
    verify_with(name, PASSWORD, code)
}

fn verify_with(name: &str, password: &str, code: Option<String>) -> Request {
    Request::Verify(Verify {
        name: name.into(),
        password: Secret::new(password),
        code: code.map(Secret::new),
        origin: Origin::default(),
    })
}

/// A client on its own connection, sending its plan.
struct SocketClient {
    client: Client,
    plan: Plan,
    scenario: Scenario,
    /// An unexpected answer was reported already.
    told: bool,
}

impl measure::Client for SocketClient {
    fn prepare(&mut self, i: u64) -> Option<Prepared<'_>> {
        let request = (self.plan)(i)?;
        let (client, scenario, told) = (&mut self.client, self.scenario, &mut self.told);
        Some(Box::new(move || {
            let answer = client.call(&request);
            let expected = as_expected(scenario, i, &answer);
            if !expected && !*told {
                // The first of each client, on stderr: the report only counts them.
                *told = true;
                let what = match &answer {
                    Ok(_) => "an answer of another kind".to_string(),
                    Err(e) => crate::error::DisplayChain(e).to_string(),
                };
                eprintln!("authd-bench: {scenario:?} request {i}: unexpected: {what}");
            }
            expected
        }))
    }
}

/// Where verify-totp's clients record how long they waited for fresh codes.
pub type Waited = Arc<AtomicU64>;

/// The clients of `scenario`, their accounts made (through the first socket), each ready
/// to connect: client i to `sockets[i % len]`.
pub fn clients(
    sockets: &[std::path::PathBuf],
    scenario: Scenario,
    options: &Options,
    waited: &Waited,
) -> Result<Vec<Start>, ClientError> {
    let plans = plans(&sockets[0], scenario, options, waited)?;
    Ok(plans
        .into_iter()
        .enumerate()
        .map(|(i, plan)| {
            let socket = sockets[i % sockets.len()].clone();
            Box::new(move || {
                let client = connect(&socket).ok()?;
                let client: Box<dyn measure::Client> = Box::new(SocketClient {
                    client,
                    plan,
                    scenario,
                    told: false,
                });
                Some(client)
            }) as Start
        })
        .collect())
}

/// Accounts with a password and an active TOTP secret, `per_client` for each client,
/// named for this run (an account's secret is known only to the run that enrolled it).
fn totp_pools(
    socket: &std::path::Path,
    options: &Options,
    waited: &Waited,
) -> Result<Vec<Pool>, ClientError> {
    let clients = options.clients;
    let per_client = (options.accounts / clients).max(1);
    let run = crate::time::now();
    // Enrolling is four writes and a hash: on as many connections as setup allows, also
    // for one client.
    let mut enrolled = setup::in_parallel(socket, clients * per_client, 64, move |c, i| {
        enrol_totp(c, &format!("bench-totp-{run}-{i:07}"))
    })?
    .into_iter();
    let duration = match options.stop {
        Stop::After(d) => Some(d),
        Stop::Requests(_) => None,
    };
    Ok((0..clients)
        .map(|_| {
            let mine = enrolled.by_ref().take(per_client).collect();
            Pool::new(mine, duration, Arc::clone(waited))
        })
        .collect())
}

fn plans(
    socket: &std::path::Path,
    scenario: Scenario,
    options: &Options,
    waited: &Waited,
) -> Result<Vec<Plan>, ClientError> {
    let clients = options.clients;
    if scenario == Scenario::VerifyTotp {
        let pools = totp_pools(socket, options, waited)?;
        return Ok(pools
            .into_iter()
            .map(|mut pool| {
                Box::new(move |_| {
                    let (name, code) = pool.code()?;
                    Some(verify(name, Some(code)))
                }) as Plan
            })
            .collect());
    }
    let mut admin = match scenario {
        Scenario::VerifyPassword | Scenario::VerifyNames => Some(connect(socket)?),
        _ => None,
    };
    let mut plans: Vec<Plan> = Vec::new();
    for c in 0..clients {
        plans.push(match scenario {
            Scenario::Status => Box::new(|_| Some(Request::Status)),
            Scenario::Show => {
                let accounts = options.accounts.max(1);
                Box::new(move |i| {
                    let n = (i as usize).wrapping_mul(7919).wrapping_add(c * 104_729) % accounts;
                    Some(Request::ShowUser(ShowUser { name: account(n) }))
                })
            }
            Scenario::AddUser => {
                let run = crate::time::now();
                Box::new(move |i| {
                    Some(Request::AddUser(AddUser {
                        name: format!("bench-add-{run}-{c}-{i}"),
                        email: None,
                        phone: None,
                        sso: None,
                    }))
                })
            }
            Scenario::VerifyPassword | Scenario::VerifyNames => {
                let admin = admin
                    .as_mut()
                    .ok_or(ClientError::Unexpected("no admin".into()))?;
                let name = format!("bench-pw-{c:04}");
                add(admin, &name)?;
                set_password(admin, &name)?;
                if scenario == Scenario::VerifyPassword {
                    Box::new(move |_| Some(verify(&name, None)))
                } else {
                    let unknown = format!("bench-no-such-account-{c:04}");
                    Box::new(move |i| {
                        Some(match i % 3 {
                            0 => verify(&unknown, None),
                            1 => verify_with(&name, "Not-The-Bench-Password-1", None),
                            _ => verify(&name, None),
                        })
                    })
                }
            }
            Scenario::VerifyTotp
            | Scenario::StoreCeiling
            | Scenario::FloodIdle
            | Scenario::FloodVerify
            | Scenario::FloodRefused => {
                return Err(ClientError::Unexpected(format!(
                    "{scenario:?} is not a scenario against the daemon"
                )))
            }
        });
    }
    Ok(plans)
}
