//! "An unknown name is checked against a dummy hash, at the same cost as a real one"
//! (README, Bounded hashing; authd(8)): so that timing does not tell which names exist.
//! What it costs is a benchmark's business (docs/PERFORMANCE.md, `bench/dummy-hash.sh`);
//! this test shows only that the unknown name's verify goes through the hash pool like a
//! real one: with the only hash worker busy on a real account's password, it is answered
//! after that hash, never while it is still running.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authd::protocol::{ErrorCode, Origin, Request, Response, Secret, Verify};

use crate::daemon::*;

/// CPU time (clock ticks, user + system) the daemon's hash worker `authd-hash-0` used.
fn hash_worker_ticks(pid: u32) -> u64 {
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "authd-hash-0" {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap();
            // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
            let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
            let utime: u64 = fields[11].parse().unwrap();
            let stime: u64 = fields[12].parse().unwrap();
            return utime + stime;
        }
    }
    panic!("no authd-hash-0 thread in daemon {pid}");
}

fn verify(name: &str, password: &str) -> Request {
    Request::Verify(Verify {
        name: name.into(),
        password: Secret::new(password),
        code: None,
        origin: Origin::default(),
    })
}

#[test]
fn an_unknown_name_waits_for_the_busy_hash_worker_like_a_real_account() {
    // One worker and a hash long enough to see it running.
    let d = Daemon::start_with_config(
        "[password]\nargon2_m_kib = 65536\nargon2_t = 6\nhash_workers = 1\n",
    );
    d.user_with_password("alice");
    let before = hash_worker_ticks(d.pid());
    let answered = Arc::new(AtomicBool::new(false));
    let real = {
        let mut client = d.client();
        let answered = Arc::clone(&answered);
        std::thread::spawn(move || {
            let answer = client.call(&verify("alice", GOOD_PW)).unwrap();
            answered.store(true, Ordering::SeqCst);
            answer
        })
    };
    // Wait until the worker is hashing alice's password.
    let deadline = Instant::now() + Duration::from_secs(60);
    while hash_worker_ticks(d.pid()) == before {
        assert!(Instant::now() < deadline, "the hash worker never started");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        !answered.load(Ordering::SeqCst),
        "the real hash is too quick to watch"
    );

    let unknown = d.client().call(&verify("ghost", GOOD_PW)).unwrap_err();
    assert_eq!(unknown.remote_code(), Some(ErrorCode::NoSuchUser));
    assert!(
        answered.load(Ordering::SeqCst),
        "the unknown name was answered while the only hash worker was still busy: no hash ran for it"
    );
    assert_eq!(
        real.join().unwrap(),
        Response::Verified {
            name: "alice".into()
        }
    );
}
