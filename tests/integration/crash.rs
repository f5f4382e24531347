//! Crash safety: writers record every acknowledged change while authd is killed with
//! SIGKILL at random moments; after each restart every acknowledged change is there and
//! consistent. Light in CI (3 rounds); `cargo test -- --ignored crash` runs 20.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authd::client::{Client, ClientError};
use authd::config::TotpConfig;
use authd::protocol::{
    AddUser, ConfirmTotp, EnableTotp, Request, Response, Secret, SendReset, SetPassword, ShowUser,
};

use crate::daemon::*;

/// What a writer was told had happened.
#[derive(Debug, Clone)]
enum Acked {
    Added(String),
    Password(String),
    Totp(String),
    Reset(String),
}

/// One writer's sequence of changes; each acknowledged one is logged. An error means the
/// connection broke (the daemon was killed); a refusal by the daemon is a bug and fails
/// the test, and so does an answer of the wrong kind.
fn work(client: &mut Client, name: &str, log: &Mutex<Vec<Acked>>) -> Result<(), ClientError> {
    let ack = |r: Result<Response, ClientError>| match r {
        Err(ClientError::Remote(e)) => panic!("authd refused a write for {name}: {e:?}"),
        other => other,
    };
    let done = |r: Response| assert_eq!(r, Response::Done, "{name}");
    done(ack(client.call(&Request::AddUser(AddUser {
        name: name.into(),
        email: Some(format!("{name}@example.org")),
        phone: None,
        sso: None,
    })))?);
    log.lock().unwrap().push(Acked::Added(name.into()));
    done(ack(client.call(&Request::SetPassword(SetPassword {
        name: name.into(),
        password: Secret::new(GOOD_PW),
    })))?);
    log.lock().unwrap().push(Acked::Password(name.into()));
    let Response::TotpEnrolment { secret, .. } =
        ack(client.call(&Request::EnableTotp(EnableTotp {
            name: name.into(),
            proof: None,
        })))?
    else {
        panic!("enable-totp for {name} did not answer an enrolment");
    };
    let raw = authd::totp::base32_decode(secret.expose()).unwrap();
    let step = authd::time::now() / 30;
    let code = authd::totp::code_at_step(&raw, &TotpConfig::default(), step);
    let confirmed = ack(client.call(&Request::ConfirmTotp(ConfirmTotp {
        name: name.into(),
        code: Secret::new(code),
    })))?;
    assert!(
        matches!(confirmed, Response::Confirmed { .. }),
        "{name}: {confirmed:?}"
    );
    log.lock().unwrap().push(Acked::Totp(name.into()));
    let queued = ack(client.call(&Request::SendReset(SendReset {
        name: name.into(),
        proof: None,
    })))?;
    assert!(
        matches!(queued, Response::ResetQueued { .. }),
        "{name}: {queued:?}"
    );
    log.lock().unwrap().push(Acked::Reset(name.into()));
    Ok(())
}

fn check(d: &Daemon, acked: &[Acked]) {
    let mut client = d.client();
    let show = |client: &mut Client, name: &str| match client
        .call(&Request::ShowUser(ShowUser { name: name.into() }))
    {
        Ok(Response::Account(a)) => a,
        other => panic!("acknowledged account {name} lost: {other:?}"),
    };
    for op in acked {
        match op {
            Acked::Added(name) => {
                show(&mut client, name);
            }
            Acked::Password(name) => assert!(show(&mut client, name).password_set, "{name}"),
            Acked::Totp(name) => assert_eq!(
                show(&mut client, name).totp,
                authd::protocol::FactorState::On,
                "{name}"
            ),
            Acked::Reset(name) => {
                let log = json(&d.ctl(&["--json", "log", name]));
                let requested = log["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["action"] == "reset-requested");
                assert!(requested, "reset request of {name} lost");
            }
        }
    }
}

fn crash_rounds(rounds: usize) {
    let mut d =
        Daemon::start_with_config(&format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"));
    let acked = Arc::new(Mutex::new(Vec::new()));
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (socket, stop, acked) =
                    (d.socket.clone(), Arc::clone(&stop), Arc::clone(&acked));
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(mut client) =
                            Client::connect(&socket, "crash", Duration::from_secs(5))
                        else {
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        };
                        while work(&mut client, &format!("r{round}w{w}n{i}"), &acked).is_ok() {
                            i += 1;
                        }
                        i += 1;
                    }
                })
            })
            .collect();
        // A random moment, reached by progress rather than by the clock: once this round
        // has acknowledged between 8 and 39 more changes (picked from the clock's
        // nanoseconds), so every round kills the daemon in the middle of real work.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as usize;
        let target = acked.lock().unwrap().len() + 8 + nanos % 32;
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked.lock().unwrap().len() < target {
            // A writer only ends early by failing: show its failure now.
            if writers.iter().any(|w| w.is_finished()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: writers stopped making progress"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        d.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            if let Err(failure) = w.join() {
                std::panic::resume_unwind(failure);
            }
        }
        d.spawn(); // the database must open
        let acked = acked.lock().unwrap().clone();
        check(&d, &acked);
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_light() {
    crash_rounds(3);
}

#[test]
#[ignore = "heavy: 20 rounds"]
fn acknowledged_writes_survive_sigkill_heavy() {
    crash_rounds(20);
}
