//! Many writers at once: every write is acknowledged (no deadlock in the durability
//! path) and every acknowledged write is there afterwards, also after SIGKILL.

use std::sync::mpsc;
use std::time::Duration;

use authd::protocol::{AddUser, Change, Request, Response, SetUser, ShowUser, Verify};

use crate::daemon::*;

const WRITERS: usize = 64;
const EACH: usize = 20;

/// Writer `w`'s `i`th account: added, then given an email address (`w{w}i{i}@…`).
pub(crate) fn add_and_edit(client: &mut authd::client::Client, w: usize, i: usize) {
    let name = format!("w{w:02}-{i:02}");
    let add = Request::AddUser(AddUser {
        name: name.clone(),
        email: None,
        phone: None,
        sso: None,
    });
    assert_eq!(client.call(&add).unwrap(), Response::Done);
    let edit = Request::SetUser(SetUser {
        name,
        email: Change::Set(format!("w{w}i{i}@example.org")),
        phone: Change::Keep,
        sso: Change::Keep,
    });
    assert_eq!(client.call(&edit).unwrap(), Response::Done);
}

#[test]
fn sixty_four_concurrent_writers_finish_and_every_write_is_durable() {
    let mut d = Daemon::start();
    let (done, finished) = mpsc::channel();
    for w in 0..WRITERS {
        let mut client = d.client();
        let done = done.clone();
        std::thread::spawn(move || {
            for i in 0..EACH {
                add_and_edit(&mut client, w, i);
            }
            done.send(w).unwrap();
        });
    }
    drop(done);
    for _ in 0..WRITERS {
        finished
            .recv_timeout(Duration::from_secs(120))
            .expect("a writer hung or failed: the durability path must not deadlock");
    }
    d.kill9();
    d.spawn();
    let status = json(&d.ctl(&["--json", "status"]));
    assert_eq!(status["accounts"], (WRITERS * EACH) as u64);
    let mut client = d.client();
    for w in [0, WRITERS / 2, WRITERS - 1] {
        for i in [0, EACH - 1] {
            match client
                .call(&Request::ShowUser(ShowUser {
                    name: format!("w{w:02}-{i:02}"),
                }))
                .unwrap()
            {
                Response::Account(a) => {
                    assert_eq!(a.email.as_deref(), Some(&*format!("w{w}i{i}@example.org")))
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn concurrent_failures_are_all_counted() {
    let d = Daemon::start();
    d.user_with_password("target");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut client = d.client();
            std::thread::spawn(move || {
                client
                    .call(&Request::Verify(Verify {
                        name: "target".into(),
                        password: authd::protocol::Secret::new("wrong-password-1"),
                        code: None,
                        origin: Default::default(),
                    }))
                    .unwrap_err()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(authd::ctl::exit::for_client(&t.join().unwrap()).code(), 1);
    }
    assert_eq!(json(&d.ctl(&["--json", "show", "target"]))["failures"], 4);
}

#[test]
fn concurrent_guesses_get_exactly_max_failures_evaluations() {
    let d = Daemon::start();
    d.user_with_password("victim");
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let mut client = d.client();
            std::thread::spawn(move || {
                client
                    .call(&Request::Verify(Verify {
                        name: "victim".into(),
                        password: authd::protocol::Secret::new(format!("wrong-guess-{i}")),
                        code: None,
                        origin: Default::default(),
                    }))
                    .map_err(|e| e.remote_code())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    use authd::protocol::ErrorCode;
    let denied = results
        .iter()
        .filter(|r| **r == Err(Some(ErrorCode::Denied)))
        .count();
    let locked = results
        .iter()
        .filter(|r| **r == Err(Some(ErrorCode::Locked)))
        .count();
    // Guesses are judged one at a time against the record: exactly max_failures of
    // them are evaluated, every other one is answered "locked", however they interleave.
    assert_eq!((denied, locked), (5, 15), "{results:?}");
    let show = json(&d.ctl(&["--json", "show", "victim"]));
    assert_eq!(show["failures"], 5);
    assert_error(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "victim"]),
        75,
        "locked",
    );
}
