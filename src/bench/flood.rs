//! What a hostile local user does to authd, so a benchmark can measure what everyone
//! else sees meanwhile: hold as many idle connections as authd gives it (`flood-idle`),
//! or keep its connections busy with password checks of its own account, which need not
//! exist (`flood-verify`: every one costs a full argon2id verify), or with requests
//! authd refuses, named to make its log large (`flood-refused`). Refused connections
//! are tried again once a second, as a persistent attacker would.
//!
//! Run it as the attacking uid (e.g. `setpriv --reuid=nobody`); it needs no rights.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::{Client, ClientError};
use crate::protocol::{Origin, Request, Secret, ShowUser, Verify};

/// Wait before trying a refused connection again.
const RETRY: Duration = Duration::from_secs(1);
/// How often held idle connections say something, so `idle_timeout` never closes them.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Serialize)]
pub struct FloodReport {
    pub scenario: String,
    /// Connections the flood tried to hold.
    pub connections: usize,
    /// The most it held at once.
    pub held_at_most: usize,
    /// Connection attempts refused (busy or otherwise).
    pub refused: u64,
    /// Requests answered (for flood-verify; every one an argon2id verify).
    pub requests: u64,
    /// Requests that got no answer within the client timeout (120 s), or a closed connection.
    pub unanswered: u64,
    pub seconds: f64,
}

impl FloodReport {
    pub fn to_text(&self) -> String {
        format!(
            "scenario        {}\nconnections     {} tried, at most {} held at once, {} attempts refused\n\
             requests        {} answered, {} unanswered in {:.2} s",
            self.scenario,
            self.connections,
            self.held_at_most,
            self.refused,
            self.requests,
            self.unanswered,
            self.seconds
        )
    }
}

/// An attacker waits as long as it takes: its requests stay queued.
fn connect(socket: &std::path::Path) -> Result<Client, ClientError> {
    Client::connect(socket, "authd-bench flood", Duration::from_secs(120))
}

/// Hold up to `connections` idle connections for `duration`.
pub fn idle(socket: &std::path::Path, connections: usize, duration: Duration) -> FloodReport {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    // One descriptor per connection: allow as many as the hard limit does.
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    let started = Instant::now();
    let mut held: Vec<(Client, Instant)> = Vec::new();
    let (mut held_at_most, mut refused) = (0, 0u64);
    while started.elapsed() < duration {
        while held.len() < connections && started.elapsed() < duration {
            match connect(socket) {
                Ok(client) => held.push((client, Instant::now())),
                Err(_) => {
                    refused += 1;
                    break;
                }
            }
        }
        held_at_most = held_at_most.max(held.len());
        held.retain_mut(|(client, since)| {
            if since.elapsed() < KEEP_ALIVE {
                return true;
            }
            *since = Instant::now();
            client.call(&Request::Status).is_ok()
        });
        std::thread::sleep(RETRY);
    }
    FloodReport {
        scenario: "FloodIdle".into(),
        connections,
        held_at_most,
        refused,
        requests: 0,
        unanswered: 0,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// `connections` clients, each verifying a wrong password for the account named like
/// this process's Unix login, again and again, for `duration`.
pub fn verify(socket: &std::path::Path, connections: usize, duration: Duration) -> FloodReport {
    let login = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map_or_else(|| "nobody".to_string(), |u| u.name);
    let guess = Request::Verify(Verify {
        name: login,
        password: Secret::new("not-the-password"),
        code: None,
        origin: Origin::default(),
    });
    hammer(socket, connections, duration, guess, "FloodVerify")
}

/// `connections` clients asking about an account named with 60,000 escape characters,
/// again and again, for `duration`: requests authd refuses, built to make its log large.
pub fn refused(socket: &std::path::Path, connections: usize, duration: Duration) -> FloodReport {
    let show = Request::ShowUser(ShowUser {
        name: "\u{1b}".repeat(60_000),
    });
    hammer(socket, connections, duration, show, "FloodRefused")
}

/// `connections` clients sending `request` again and again for `duration`.
fn hammer(
    socket: &std::path::Path,
    connections: usize,
    duration: Duration,
    request: Request,
    scenario: &str,
) -> FloodReport {
    let started = Instant::now();
    let requests = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let unanswered = Arc::new(AtomicU64::new(0));
    let held = Arc::new(AtomicU64::new(0));
    let held_at_most = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let socket = socket.to_path_buf();
            let request = request.clone();
            let (requests, refused) = (Arc::clone(&requests), Arc::clone(&refused));
            let unanswered = Arc::clone(&unanswered);
            let (held, held_at_most) = (Arc::clone(&held), Arc::clone(&held_at_most));
            std::thread::spawn(move || {
                while started.elapsed() < duration {
                    let Ok(mut client) = connect(&socket) else {
                        refused.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(RETRY);
                        continue;
                    };
                    let now = held.fetch_add(1, Ordering::Relaxed) + 1;
                    held_at_most.fetch_max(now, Ordering::Relaxed);
                    while started.elapsed() < duration {
                        match client.call(&request) {
                            Ok(_) | Err(ClientError::Remote(_)) => {
                                requests.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {
                                unanswered.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    held.fetch_sub(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    FloodReport {
        scenario: scenario.into(),
        connections,
        held_at_most: held_at_most.load(Ordering::Relaxed) as usize,
        refused: refused.load(Ordering::Relaxed),
        requests: requests.load(Ordering::Relaxed),
        unanswered: unanswered.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    }
}
