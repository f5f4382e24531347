//! The real PAM stack: pamtester loads the built pam_authd.so (by absolute path, from a
//! service file in /etc/pam.d) and talks to a real authd. Needs root, pamtester and
//! oathtool, and `cargo build --workspace` first; without them a test fails (or, with
//! AUTHD_TEST_ALLOW_SKIP=1, is skipped visibly: tests/support/peers.rs).
//!
//! Here: logins when authd is gone, never answers, is flooded with guesses or closes an
//! idle connection. `logins.rs`: what PAM answers for logins. `stack.rs`: service files
//! and pamtester. The daemon is the integration tests' own helper (tests/support).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/oath.rs"]
mod oath;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "pamtester/keys.rs"]
mod keys;
#[path = "pamtester/lifecycle.rs"]
mod lifecycle;
#[path = "pamtester/logins.rs"]
mod logins;
#[path = "pamtester/stack.rs"]
mod stack;

use daemon::*;
use oath::{enrol, oathtool};
use spawned::Spawned;
use stack::*;

#[test]
fn a_stopped_authd_is_authinfo_unavail_never_success() {
    let Some((mut d, svc)) = daemon_and_stack("stopped") else {
        return;
    };
    d.user_with_password("alice");
    d.kill9();
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW]);
    assert!(
        !ok && text.contains("cannot retrieve authentication info"),
        "{text}"
    );
}

/// `timeout=`: an authd that accepts the connection and never answers is given up on,
/// and the login fails as unavailable (not as success, not hanging).
#[test]
fn a_daemon_that_never_answers_is_given_up_after_timeout() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let held = std::thread::spawn(move || {
        // Hold the one connection open, answering nothing, until the client leaves.
        if let Ok((mut conn, _)) = listener.accept() {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut conn, &mut sink);
        }
    });
    let svc = Service::new(
        "silent",
        &format!(
            "auth required {} socket={} timeout=1\n",
            module().display(),
            socket.display()
        ),
    );
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[GOOD_PW]);
    assert!(
        !ok && text.contains("cannot retrieve authentication info"),
        "{text}"
    );
    held.join().unwrap();
}

/// 300 wrong passwords on 300 connections, then a login through PAM with the right
/// password while they are still being hashed (the real argon2 cost, one worker): the
/// account locked while that login was in flight, so PAM must fail as locked and never
/// show the code prompt, which would tell the attacker the password is right.
#[test]
fn a_flood_of_guesses_never_shows_the_code_prompt() {
    use authd::codec;
    use authd::protocol::{Hello, Origin, Request, Response, Secret, Verify};
    use std::sync::{mpsc, Arc, Barrier};

    if !ready() {
        return;
    }
    let d = Daemon::start_with_config(
        "[password]\nargon2_m_kib = 19456\nargon2_t = 2\nhash_workers = 1\n",
    );
    let svc = service(&d, "flood", STACK);
    d.user_with_password("victim");
    let (secret, _) = enrol(&d, "victim");

    const GUESSES: usize = 300;
    let start = Arc::new(Barrier::new(GUESSES + 1));
    let (written, all_written) = mpsc::channel();
    let guesses: Vec<_> = (0..GUESSES)
        .map(|i| {
            let mut stream = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
            let hello = Request::Hello(Hello {
                protocol: authd::protocol::PROTOCOL_VERSION,
                client: "flood".into(),
            });
            codec::write_frame_blocking(&mut stream, &codec::encode(&hello).unwrap()).unwrap();
            codec::read_frame_blocking(&mut stream).unwrap();
            let guess = Request::Verify(Verify {
                name: "victim".into(),
                password: Secret::new(format!("wrong-guess-number-{i}")),
                code: None,
                origin: Origin::default(),
            });
            let start = Arc::clone(&start);
            let written = written.clone();
            std::thread::spawn(move || {
                start.wait();
                codec::write_frame_blocking(&mut stream, &codec::encode(&guess).unwrap()).unwrap();
                written.send(()).unwrap();
                let payload = codec::read_frame_blocking(&mut stream).unwrap();
                codec::decode::<Response>(&payload).unwrap()
            })
        })
        .collect();
    start.wait();
    for _ in 0..GUESSES {
        all_written
            .recv_timeout(Duration::from_secs(60))
            .expect("a guess was never written");
    }
    let (ok, text) = pamtester(
        &svc,
        "victim",
        "authenticate",
        &[GOOD_PW, &oathtool(&secret, 1)],
    );
    for guess in guesses {
        guess.join().unwrap();
    }
    assert!(!ok, "{text}");
    assert!(!text.contains("Verification code"), "{text}");
    assert!(text.contains("maximum number of retries"), "{text}");
}

#[test]
fn a_code_typed_after_the_idle_timeout_still_logs_in() {
    // A user slow to type the code outlasts the daemon's idle timeout: the module's
    // connection is closed meanwhile, and the code must still reach the daemon, once,
    // without the closed socket killing the PAM application (SIGPIPE).
    if !ready() {
        return;
    }
    // At debug level the daemon logs each connection it closes.
    let d = Daemon::start_logging(&format!("idle_timeout = \"1s\"\n{TEST_CONFIG}"), "debug");
    let svc = service(&d, "slow", STACK);
    d.user_with_password("alice");
    let (secret, _) = enrol(&d, "alice");

    let timeouts = || {
        d.log()
            .matches("no request within the idle timeout")
            .count()
    };
    let before = timeouts();
    let mut child = Spawned::spawn(
        Command::new("pamtester")
            .args(["-v", &svc.name, "alice", "authenticate"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(pw().as_bytes()).unwrap();
    // The password was checked; wait until the daemon has closed the idle connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    while timeouts() == before {
        assert!(
            Instant::now() < deadline,
            "the idle connection was never closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stdin
        .write_all(format!("{}\n", oathtool(&secret, 1)).as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = printed(&out);
    assert!(out.status.success(), "{:?}: {text}", out.status);
    assert!(text.contains("Verification code"), "{text}");
}
