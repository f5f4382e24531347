//! authd-bench on the PostgreSQL store (bench/postgres.sh), in miniature: a run against
//! two daemons sharing a database, and the bulk fill of `--populate --database`. Only
//! that they work; no timing is asserted.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use crate::daemon::*;
use crate::pg::TestDb;
use crate::postgres::{fleet, pg_config};

const BENCH: &str = env!("CARGO_BIN_EXE_authd-bench");

fn bench(args: &[&str]) -> Output {
    let out = Command::new(BENCH).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "authd-bench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn authd_bench_runs_against_two_daemons_on_one_postgres_database() {
    let db = TestDb::create();
    let hosts = fleet(&pg_config(&db, ""), 2);
    let sockets = format!(
        "{},{}",
        hosts[0].socket.display(),
        hosts[1].socket.display()
    );
    // --cpu-pid: any process with its children; here the first daemon (no children).
    let watched = hosts[0].pid().to_string();
    for scenario in ["add-user", "verify-totp"] {
        let out = bench(&[
            "--json",
            "--socket",
            &sockets,
            "--scenario",
            scenario,
            "--clients",
            "2",
            "--accounts",
            "8",
            "--duration",
            "1s",
            "--cpu-pid",
            &watched,
        ]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["errors"], 0, "{scenario}: {report}");
        assert!(report["requests"].as_u64().unwrap() > 0, "{report}");
        // CPU per request over the timed run: both daemons', and the watched one's,
        // which is part of it.
        let cpu = |key: &str| report[key].as_f64().unwrap_or(-1.0);
        assert!(cpu("daemon_cpu_us") >= 0.0, "{scenario}: {report}");
        assert!(cpu("watched_cpu_us") >= 0.0, "{scenario}: {report}");
        assert!(
            cpu("watched_cpu_us") <= cpu("daemon_cpu_us"),
            "{scenario}: {report}"
        );
    }
    // Client 0 went to the first daemon and client 1 to the second: each daemon counts
    // the accounts it added.
    for d in &hosts {
        let metrics = stdout(&d.ctl(&["metrics"]));
        let added: u64 = metrics
            .lines()
            .filter(|l| l.starts_with("authd_audit_events_total{action=\"account-added\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        assert!(added > 0, "no account added here:\n{metrics}");
    }
}

#[test]
fn populate_database_writes_accounts_a_postgres_daemon_serves() {
    let db = TestDb::create();
    bench(&["--populate", "--database", &db.url(), "--accounts", "100"]);
    // A database holding accounts never gets a new key: bring one.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("secret.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let d = Daemon::start_with_key(&pg_config(&db, ""), &key);
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 100);
    assert_ok(&d.ctl(&["show", "bench-0000042"]));
    assert_exit(&d.ctl(&["show", "bench-0000100"]), 67);
    // The one shared hash is the bench password's, and the history is add-user's.
    let password = format!("{}\n", authd::bench::PASSWORD);
    assert_ok(&d.ctl_stdin(&password, &["verify", "bench-0000099"]));
    assert_eq!(d.events("bench-0000000", "account-added").len(), 1);
}
