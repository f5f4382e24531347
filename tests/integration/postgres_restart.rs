//! The database going away under running daemons (a private cluster, `pg_cluster`):
//! restarted under load, nothing acknowledged is lost and both daemons serve again
//! without a restart of their own; stopped, requests fail at once with the documented
//! error, and serving resumes when it is back.

use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::daemon::*;
use crate::pg_cluster::Cluster;
use crate::postgres::fleet;

/// Two daemons sharing `cluster`'s database `authd`.
fn two_daemons(cluster: &Cluster) -> Vec<Daemon> {
    cluster.create_db("authd");
    let body = format!("{TEST_CONFIG}\n{}", cluster.store_config("authd", ""));
    fleet(&body, 2)
}

/// A request the database could not serve: exit 70, code `internal`, and a message
/// that says the database is not available. Anything else fails the test.
#[track_caller]
fn assert_database_unavailable(out: &Output) {
    assert_error(out, 70, "internal");
    let message = json(out)["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("the database is not available"),
        "{message}"
    );
}

/// What one writer did: the accounts it was told were made, and those whose password
/// was then set.
#[derive(Default)]
struct Acked {
    made: Vec<String>,
    passwords: Vec<String>,
    refused: usize,
}

/// One write on `d`: ok (exit 0), or refused because the database was away.
fn write(d: &Daemon, args: &[&str], input: &str) -> bool {
    let out = d.ctl_stdin(input, &[&["--json"], args].concat());
    if code(&out) == 0 {
        return true;
    }
    assert_database_unavailable(&out);
    false
}

/// Four writers on `daemons` (add-user, then set-password) while `cluster` restarts
/// with `mode` once some of their writes are in; until twenty passwords (all writers
/// together) were set after the restart, 400 writes each at most. Names get `tag`.
fn load_through_restart(cluster: &Cluster, daemons: &[Daemon], mode: &str, tag: &str) -> Acked {
    let restarted = AtomicBool::new(false);
    let after = AtomicUsize::new(0);
    let all = Mutex::new(Acked::default());
    let before: u32 = cluster
        .sql("authd", "SELECT count(*) FROM accounts")
        .parse()
        .unwrap();
    std::thread::scope(|s| {
        for writer in 0..4 {
            let (restarted, after, all) = (&restarted, &after, &all);
            s.spawn(move || {
                let mut mine = Acked::default();
                for i in 0..400 {
                    let d = &daemons[(writer + i) % 2];
                    let name = format!("{tag}w{writer}n{i}");
                    let was_restarted = restarted.load(Ordering::SeqCst);
                    if !write(d, &["add-user", &name], "") {
                        mine.refused += 1;
                        continue;
                    }
                    mine.made.push(name.clone());
                    if !write(d, &["set-password", &name], &pw()) {
                        mine.refused += 1;
                        continue;
                    }
                    mine.passwords.push(name);
                    if was_restarted && after.fetch_add(1, Ordering::SeqCst) >= 20 {
                        break;
                    }
                }
                let mut all = all.lock().unwrap();
                all.made.extend(mine.made);
                all.passwords.extend(mine.passwords);
                all.refused += mine.refused;
            });
        }
        // Under load: some writes acknowledged before the restart.
        wait_until("writes before the restart", || {
            let n: u32 = cluster
                .sql("authd", "SELECT count(*) FROM accounts")
                .parse()
                .unwrap();
            (n >= before + 10).then_some(())
        });
        cluster.restart(mode);
        restarted.store(true, Ordering::SeqCst);
    });
    let all = all.into_inner().unwrap();
    assert!(
        after.load(Ordering::SeqCst) > 20,
        "the writers did not recover after the restart ({} refused)",
        all.refused
    );
    all
}

#[test]
fn a_database_restarted_under_load_loses_nothing_acknowledged() {
    let Some(cluster) = Cluster::start(false) else {
        return;
    };
    let daemons = two_daemons(&cluster);
    let pids: Vec<u32> = daemons.iter().map(Daemon::pid).collect();
    // A clean restart, then one without a shutdown checkpoint (crash recovery from WAL).
    for mode in ["fast", "immediate"] {
        let acked = load_through_restart(&cluster, &daemons, mode, &mode[..1]);
        // Every acknowledged write is there, seen through either daemon.
        for d in &daemons {
            for name in &acked.made {
                assert_ok(&d.ctl(&["show", name]));
            }
        }
        for (i, name) in acked.passwords.iter().enumerate() {
            assert_ok(&daemons[i % 2].ctl_stdin(&pw(), &["verify", name]));
        }
    }
    // Neither daemon was restarted.
    let now: Vec<u32> = daemons.iter().map(Daemon::pid).collect();
    assert_eq!(now, pids);
}

#[test]
fn a_database_that_goes_away_fails_requests_clearly_and_is_used_again_when_back() {
    let Some(cluster) = Cluster::start(false) else {
        return;
    };
    let daemons = two_daemons(&cluster);
    daemons[0].user_with_password("alice");
    cluster.stop("fast");
    for d in &daemons {
        // Reads and writes fail at once, neither hanging nor ending the daemon.
        let started = Instant::now();
        assert_database_unavailable(&d.ctl_stdin(&pw(), &["--json", "verify", "alice"]));
        assert_database_unavailable(&d.ctl(&["--json", "add-user", "bob"]));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        let log = d.log();
        assert!(log.contains("the database is not available"), "{log}");
        assert!(!log.contains("panicked"), "{log}");
    }
    cluster.resume();
    // Serving again without a restart, on either daemon: wait on the answer.
    for d in &daemons {
        wait_until("a served login after the database came back", || {
            let out = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
            if code(&out) == 0 {
                return Some(());
            }
            assert_database_unavailable(&out);
            None
        });
    }
    assert_ok(&daemons[1].ctl(&["add-user", "bob"]));
    assert_ok(&daemons[0].ctl(&["show", "bob"]));
}
