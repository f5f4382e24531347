//! One local user must not be able to stop everyone's logins, and admin rights follow
//! `admin_group` on connections already open. Each test is the attack as a local user
//! would run it: raw connections opened as `nobody` (or a throwaway user) through
//! setpriv, against a real daemon, with root (PAM, authctl) trying to get through.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authd::protocol::{AddUser, ErrorCode, Request, Response, Secret, Verify};

use crate::authz::NOBODY;
use crate::daemon::*;
use crate::other_uids::*;

fn error_code(response: &Option<Response>) -> Option<ErrorCode> {
    match response {
        Some(Response::Error(e)) => Some(e.code),
        _ => None,
    }
}

/// Say hello on every connection: (welcomed, told busy). Keeps the welcomed ones.
fn hello_all(streams: &mut Vec<std::os::unix::net::UnixStream>) -> (usize, usize) {
    let mut busy = 0;
    streams.retain_mut(|s| match call(s, &hello()) {
        Some(Response::Welcome { .. }) => true,
        other => {
            assert_eq!(error_code(&other), Some(ErrorCode::Busy), "{other:?}");
            busy += 1;
            false
        }
    });
    (streams.len(), busy)
}

fn verify(name: &str, password: &str) -> Request {
    Request::Verify(Verify {
        name: name.into(),
        password: Secret::new(password),
        code: None,
        origin: Default::default(),
    })
}

/// Root's view while the flood holds its connections: status and a login both work,
/// through the client library and through authctl.
fn root_gets_through(d: &Daemon) {
    let mut root = d.client();
    assert!(matches!(
        root.call(&Request::Status),
        Ok(Response::Status(_))
    ));
    assert_eq!(
        root.call(&verify("alice", GOOD_PW)).unwrap(),
        Response::Verified {
            name: "alice".into()
        }
    );
    assert_ok(&d.ctl(&["status"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "alice"]));
}

#[test]
fn a_user_holding_idle_connections_gets_its_quota_and_root_still_logs_in() {
    if !can_connect_as_others() {
        return;
    }
    let d = Daemon::start_with("max_connections = 40");
    d.user_with_password("alice");
    // nobody tries to take every connection slot and keep it.
    let mut held = connections_as(NOBODY, &d, 100);
    let (welcomed, busy) = hello_all(&mut held);
    root_gets_through(&d);
    assert_eq!(
        (welcomed, busy),
        (16, 84),
        "nobody holds max_connections_per_uid connections (default 16), no more"
    );
    // Closing its connections gives nobody its slots back.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut again = connections_as(NOBODY, &d, 1);
        if hello_all(&mut again) == (1, 0) {
            break;
        }
        assert!(Instant::now() < deadline, "nobody's slots never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ordinary_users_together_cannot_take_the_slots_kept_for_root() {
    if !can_connect_as_others() {
        return;
    }
    // A quota so large that one uid stands for many colluding ones.
    let d = Daemon::start_with("max_connections = 40\nmax_connections_per_uid = 1000");
    d.user_with_password("alice");
    let mut held = connections_as(NOBODY, &d, 100);
    let (welcomed, busy) = hello_all(&mut held);
    root_gets_through(&d);
    assert_eq!((welcomed, busy), (30, 70), "a quarter of 40 is kept");
    // Root may fill the reserve itself (the readiness probe's slot may take a moment to
    // come back, hence the retries).
    let mut root = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while root.len() < 10 {
        match authd::client::Client::connect(&d.socket, "root", Duration::from_secs(30)) {
            Ok(c) => root.push(c),
            Err(e) => {
                assert_eq!(e.remote_code(), Some(ErrorCode::Busy), "{e}");
                assert!(Instant::now() < deadline, "root got {} slots", root.len());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[test]
fn a_connection_that_never_says_hello_is_closed_after_hello_timeout() {
    let d = Daemon::start_with("hello_timeout = \"300ms\"\nframe_timeout = \"60s\"");
    let mut established = d.client();
    let mut silent = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    // Slowloris: the first bytes of a hello frame, then nothing.
    let mut slow = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    let frame = authd::codec::encode(&hello()).unwrap();
    std::io::Write::write_all(&mut slow, &frame[..3]).unwrap();
    for s in [&mut silent, &mut slow] {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let first = receive(s);
        assert_eq!(error_code(&first), Some(ErrorCode::BadRequest), "{first:?}");
        match first {
            Some(Response::Error(e)) => assert!(e.message.contains("hello"), "{}", e.message),
            _ => unreachable!(),
        }
        assert_eq!(receive(s), None, "then the daemon closes the connection");
    }
    // A connection past its handshake is not bound by hello_timeout.
    assert!(matches!(
        established.call(&Request::Status),
        Ok(Response::Status(_))
    ));
}

#[test]
fn an_admin_removed_from_admin_group_loses_its_rights_on_an_open_connection() {
    if !can_connect_as_others() {
        return;
    }
    let tag = std::process::id();
    let group = UnixGroup::create(&format!("authd-tg{tag}"));
    let user = UnixUser::create(&format!("authd-tu{tag}"));
    group.add(&user);
    let d = Daemon::start_with(&format!("admin_group = \"{}\"", group.name));
    let mut conn = connections_as(user.ids, &d, 1).pop().unwrap();
    assert!(matches!(
        call(&mut conn, &hello()),
        Some(Response::Welcome { .. })
    ));
    let add = |name: &str| {
        Request::AddUser(AddUser {
            name: name.into(),
            email: None,
            phone: None,
            sso: None,
        })
    };
    assert_eq!(call(&mut conn, &add("made-by-admin")), Some(Response::Done));

    group.remove(&user);
    // Rights are decided per request with a cache of at most a second: keep asking on
    // the same connection until the removal shows (within a generous deadline).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    let refused = loop {
        i += 1;
        let answer = call(&mut conn, &add(&format!("after-removal-{i}")));
        match error_code(&answer) {
            Some(ErrorCode::PermissionDenied) => break answer,
            _ => assert_eq!(answer, Some(Response::Done)),
        }
        assert!(
            Instant::now() < deadline,
            "still an admin {i} requests after leaving admin_group"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(matches!(refused, Some(Response::Error(_))));
    // The connection stays open; what anyone may do still works on it.
    assert!(matches!(
        call(&mut conn, &Request::Status),
        Some(Response::Status(_))
    ));
    let log = stdout(&d.ctl(&["log", "made-by-admin"]));
    assert!(log.contains(&user.name), "{log}");
}

/// nobody's flood: `connections` clients, each asking to verify nobody's own (absent)
/// account again as soon as it has its answer. Counts requests sent and answered.
struct Flood {
    sent: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Flood {
    fn start(d: &Daemon, connections: usize) -> Flood {
        let mut streams = connections_as(NOBODY, d, connections);
        assert_eq!(hello_all(&mut streams), (connections, 0));
        let sent = Arc::new(AtomicUsize::new(0));
        let answered = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = streams
            .into_iter()
            .map(|mut s| {
                let (sent, answered, stop) = (sent.clone(), answered.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        sent.fetch_add(1, Ordering::SeqCst);
                        let answer = call(&mut s, &verify("nobody", "not-the-password"));
                        assert_eq!(error_code(&answer), Some(ErrorCode::NoSuchUser));
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        Flood {
            sent,
            answered,
            stop,
            threads,
        }
    }

    fn counts(&self) -> (usize, usize) {
        let answered = self.answered.load(Ordering::SeqCst);
        (self.sent.load(Ordering::SeqCst), answered)
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

#[test]
fn a_hash_flood_by_one_user_does_not_queue_roots_login_behind_it() {
    if !can_connect_as_others() {
        return;
    }
    // One hash worker and a hash that takes a while, so nobody's backlog is long.
    let d = Daemon::start_with_config(
        "[password]\nargon2_m_kib = 16384\nargon2_t = 2\nhash_workers = 1\n",
    );
    d.user_with_password("alice");
    let mut root = d.client();
    const FLOOD: usize = 16;
    let flood = Flood::start(&d, FLOOD);
    // Wait until the flood runs at full depth: nearly all its requests waiting.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (sent, answered) = loop {
        let (sent, answered) = flood.counts();
        if answered >= 2 && sent - answered >= FLOOD - 1 {
            break (sent, answered);
        }
        assert!(Instant::now() < deadline, "the flood never got going");
        std::thread::sleep(Duration::from_millis(5));
    };
    let waiting_before_root = sent - answered;
    // Root checks a name that does not exist: the same hash in root's turn, and an answer
    // that waits for nothing else (a real login also waits for its disk flush, which on a
    // machine busy with other fsyncs can take as long as several hashes).
    let answer = root.call(&verify("ghost", GOOD_PW));
    let (_, answered_after) = flood.counts();
    match answer {
        Err(authd::client::ClientError::Remote(e)) => assert_eq!(e.code, ErrorCode::NoSuchUser),
        other => panic!("root's check of an unknown name: {other:?}"),
    }
    // And a real login gets through the flood.
    assert_eq!(
        root.call(&verify("alice", GOOD_PW)).unwrap(),
        Response::Verified {
            name: "alice".into()
        }
    );
    flood.stop();
    // First come, first served, root's hash would wait behind every one of nobody's
    // waiting hashes. Taking turns, it waits for the one hash running (and sees at most
    // a couple more finish while its answer travels back): most of the backlog that was
    // there before root asked is still there when root has its answer.
    let overtook_root = answered_after - answered;
    assert!(
        overtook_root <= waiting_before_root / 2,
        "{overtook_root} of nobody's {waiting_before_root} waiting hashes ran before root's"
    );
}
