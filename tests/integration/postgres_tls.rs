//! TLS to the database (`[store] sslmode`, `ssl_root_cert`), against private clusters
//! (`pg_cluster`): one that speaks TLS only (`hostssl`), with a certificate for
//! localhost and 127.0.0.1 from a CA made for the test, and one without TLS.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::daemon::*;
use crate::pg_cluster::Cluster;
use crate::postgres::Retrying;

/// The test config on `cluster`'s database `db`, with `[store]` keys `extra`.
fn config(cluster: &Cluster, db: &str, extra: &str) -> String {
    format!("{TEST_CONFIG}\n{}", cluster.store_config(db, extra))
}

fn verify(mode: &str, ca: &Path) -> String {
    format!("sslmode = \"{mode}\"\nssl_root_cert = \"{}\"", ca.display())
}

/// authd's connections to `db` as the server sees them: (all, over TLS).
fn connections(cluster: &Cluster, db: &str) -> (u32, u32) {
    let row = cluster.sql(
        db,
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
         JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'authd'",
    );
    let (all, tls) = row.split_once('|').unwrap();
    (all.parse().unwrap(), tls.parse().unwrap())
}

/// A daemon that serves: an account made, its password verified.
fn assert_serves(d: &Daemon) {
    d.user_with_password("alice");
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
}

/// authd started on `body`, which must not become ready: its log once it has said
/// twice that it retries. Still running meanwhile, it tells clients it is not ready
/// (`busy`: authctl exit 69, PAM AUTHINFO_UNAVAIL) at once.
fn not_ready(body: &str) -> String {
    let waiting = Retrying::start(body);
    let started = Instant::now();
    let out = run_ctl(
        &built("authctl"),
        &waiting.socket,
        None,
        "",
        &["--json", "status"],
    );
    assert_error(&out, 69, "busy");
    assert!(
        stderr(&out).contains("authd is not ready"),
        "{}",
        stderr(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let log = waiting.log();
    waiting.stop();
    log
}

#[test]
fn verify_full_with_the_servers_ca_serves_over_tls() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let tls = cluster.tls.as_ref().unwrap();
    cluster.create_db("authd");
    let d = Daemon::start_with_config(&config(&cluster, "authd", &verify("verify-full", &tls.ca)));
    assert_serves(&d);
    let (all, encrypted) = connections(&cluster, "authd");
    assert!(all > 0 && encrypted == all, "{encrypted} of {all} over TLS");

    // --check-config shows the keys in force.
    let check = Command::new(AUTHD)
        .args(["--check-config", "--config", d.config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ok(&check);
    let shown = stdout(&check);
    assert!(shown.contains("sslmode = \"verify-full\""), "{shown}");
    assert!(
        shown.contains(&format!("ssl_root_cert = \"{}\"", tls.ca.display())),
        "{shown}"
    );

    // The same mode given in the URL; prefer (the default) takes TLS where offered.
    cluster.create_db("in_url");
    let url = cluster.url("in_url");
    let body = config(
        &cluster,
        "in_url",
        &format!("ssl_root_cert = \"{}\"", tls.ca.display()),
    )
    .replace(&url, &format!("{url}?sslmode=verify-full"));
    assert_serves(&Daemon::start_with_config(&body));
    cluster.create_db("preferred");
    assert_serves(&Daemon::start_with_config(&config(
        &cluster,
        "preferred",
        "",
    )));
    let (all, encrypted) = connections(&cluster, "preferred");
    assert!(all > 0 && encrypted == all, "{encrypted} of {all} over TLS");
}

#[test]
fn a_server_certificate_from_another_ca_keeps_the_daemon_not_ready() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let tls = cluster.tls.as_ref().unwrap();
    cluster.create_db("authd");
    let body = config(&cluster, "authd", &verify("verify-full", &tls.other_ca));
    let log = not_ready(&body);
    for part in [
        &format!("127.0.0.1:{}/authd", cluster.port),
        "verify-full",
        &format!(
            "failed: the server's certificate is not signed by a trusted CA (trusted: the CAs \
             in {} (store.ssl_root_cert))",
            tls.other_ca.display()
        ),
    ] {
        assert!(log.contains(part), "{part:?} not in: {log}");
    }
    // verify-ca checks the chain just the same.
    let log = not_ready(&config(
        &cluster,
        "authd",
        &verify("verify-ca", &tls.other_ca),
    ));
    assert!(log.contains("not signed by a trusted CA"), "{log}");
    assert_eq!(connections(&cluster, "authd"), (0, 0));
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let tls = cluster.tls.as_ref().unwrap();
    cluster.create_db("by_address");
    cluster.create_db("by_name");
    // The certificate names localhost and 127.0.0.1, not 127.0.0.2.
    let other_host =
        |db: &str, extra: &str| config(&cluster, db, extra).replace("@127.0.0.1:", "@127.0.0.2:");
    let log = not_ready(&other_host("by_address", &verify("verify-full", &tls.ca)));
    for part in ["127.0.0.2", "does not name the host in store.url"] {
        assert!(log.contains(part), "{part:?} not in: {log}");
    }
    assert_serves(&Daemon::start_with_config(&other_host(
        "by_address",
        &verify("verify-ca", &tls.ca),
    )));
    // localhost is named.
    let body = config(&cluster, "by_name", &verify("verify-full", &tls.ca))
        .replace("@127.0.0.1:", "@localhost:");
    assert_serves(&Daemon::start_with_config(&body));
}

#[test]
fn require_needs_a_server_with_tls_and_disable_and_prefer_do_not() {
    let Some(cluster) = Cluster::start(false) else {
        return;
    };
    cluster.create_db("authd");
    cluster.create_db("preferred");
    let log = not_ready(&config(&cluster, "authd", "sslmode = \"require\""));
    for part in [
        &format!("127.0.0.1:{}/authd", cluster.port),
        "the server does not accept TLS connections",
    ] {
        assert!(log.contains(part), "{part:?} not in: {log}");
    }
    let d = Daemon::start_with_config(&config(&cluster, "authd", "sslmode = \"disable\""));
    assert_serves(&d);
    let d = Daemon::start_with_config(&config(&cluster, "preferred", "sslmode = \"prefer\""));
    assert_serves(&d);
    let (all, encrypted) = connections(&cluster, "preferred");
    assert!(all > 0 && encrypted == 0, "{encrypted} of {all} over TLS");
}

#[test]
fn tls_settings_are_checked() {
    let pg = |url: &str, extra: &str| {
        format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n{extra}\n")
    };
    let ca = tempfile::NamedTempFile::new().unwrap();
    let ca_path = ca.path().display().to_string();
    for (body, key, says) in [
        (
            pg("postgresql://h/d?sslmode=require", "sslmode = \"disable\""),
            "store.sslmode",
            "differs from sslmode=require in store.url",
        ),
        (
            pg("postgresql://h/d?sslmode=sometimes", ""),
            "store.url",
            "sslmode must be one of",
        ),
        (
            pg("postgresql://h/d", "sslmode = \"always\""),
            "sslmode",
            "unknown variant",
        ),
        (
            pg("postgresql://h/d?sslrootcert=/etc/ca.pem", ""),
            "store.url",
            "use store.ssl_root_cert",
        ),
        (
            pg(
                "postgresql://h/d",
                &format!("ssl_root_cert = \"{ca_path}\""),
            ),
            "store.ssl_root_cert",
            "only applies with sslmode",
        ),
        (
            pg(
                "postgresql://h/d",
                "sslmode = \"verify-ca\"\nssl_root_cert = \"ca.pem\"",
            ),
            "store.ssl_root_cert",
            "absolute path",
        ),
        (
            "[store]\nsslmode = \"require\"\n".to_string(),
            "store.sslmode",
            "postgres",
        ),
    ] {
        let (_dir, config) = Daemon::prepare(&body);
        let out = Command::new(AUTHD)
            .args(["--check-config", "--config", config.to_str().unwrap()])
            .output()
            .unwrap();
        assert_exit(&out, 78);
        for part in [key, says] {
            assert!(
                stderr(&out).contains(part),
                "{part:?} not in: {}",
                stderr(&out)
            );
        }
    }
    // A CA file that verify-full cannot use is a problem --check-config reports; the
    // same mode in the URL and the key is fine.
    let body = pg(
        "postgresql://h/d?sslmode=verify-full",
        &format!("sslmode = \"verify-full\"\nssl_root_cert = \"{ca_path}\""),
    );
    let (_dir, config) = Daemon::prepare(&body);
    let check = || {
        Command::new(AUTHD)
            .args(["--check-config", "--config", config.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = check();
    assert_exit(&out, 78);
    let says = format!("problem: store.ssl_root_cert {ca_path} holds no PEM certificate");
    assert!(stdout(&out).contains(&says), "{}", stdout(&out));
    std::fs::remove_file(ca.path()).unwrap();
    let out = check();
    assert_exit(&out, 78);
    assert!(stdout(&out).contains("cannot be read"), "{}", stdout(&out));
    // And the daemon refuses to start on it (exit 78), rather than wait.
    let out = Command::new(AUTHD)
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&out, 78);
    assert!(
        stderr(&out).contains("store.ssl_root_cert"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn migrate_checks_the_server_with_ssl_root_cert() {
    if sled_only("needs a sled host to migrate") {
        return;
    }
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let tls = cluster.tls.as_ref().unwrap();
    cluster.create_db("authd");
    let mut host = Daemon::start();
    host.user_with_password("alice");
    host.stop();
    let migrate = |ca: &Path| {
        Command::new(AUTHD)
            .arg("migrate")
            .arg(format!("--from=sled:{}", host.state_dir().display()))
            .arg(format!(
                "--to=postgres:{}?sslmode=verify-full",
                cluster.url("authd")
            ))
            .arg("--ssl-root-cert")
            .arg(ca)
            .output()
            .unwrap()
    };
    let refused = migrate(&tls.other_ca);
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains("not signed by a trusted CA"),
        "{}",
        stderr(&refused)
    );
    assert_ok(&migrate(&tls.ca));
    assert_eq!(cluster.sql("authd", "SELECT count(*) FROM accounts"), "1");
}
