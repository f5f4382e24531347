//! `authctl metrics`: Prometheus text that a real parser reads (python3-prometheus-client,
//! the library node_exporter's textfile users script with), counting what happened;
//! admins only; the same samples in `status --json`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::daemon::*;

const PYTHON: &str = "/usr/bin/python3";

/// Every sample of `text` as `{"name{k=v,...}": value}`, parsed by prometheus_client.
fn parsed(text: &str) -> Value {
    let script = r"
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))
        out[f'{s.name}{{{labels}}}'] = s.value
print(json.dumps(out))
";
    let mut child = Command::new(PYTHON)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not Prometheus text: {}\n{text}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn parser_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import prometheus_client.parser"])
        .output()
        .is_ok_and(|o| o.status.success());
    crate::peers::need(
        ok,
        "python3's prometheus_client (Debian package python3-prometheus-client)",
    )
}

#[test]
fn metrics_parse_and_count_logins_lockouts_and_requests() {
    if !parser_available() {
        return;
    }
    let d = Daemon::start_with("[lockout]\nmax_failures = 2\n");
    d.user_with_password("alice");
    assert_ok(&d.ctl_stdin(&pw(), &["verify", "alice"]));
    for _ in 0..2 {
        assert_exit(&d.ctl_stdin("wrong-password\n", &["verify", "alice"]), 1);
    }
    let out = d.ctl(&["metrics"]);
    assert_ok(&out);
    let m = parsed(&stdout(&out));
    let get = |key: &str| m[key].as_f64().unwrap_or_else(|| panic!("no {key} in {m}"));
    assert_eq!(get("authd_logins_total{method=password,result=ok}"), 1.0);
    assert_eq!(
        get("authd_logins_total{method=password,result=denied}"),
        2.0
    );
    assert_eq!(get("authd_lockouts_total{}"), 1.0);
    assert_eq!(get("authd_accounts{}"), 1.0);
    assert!(get("authd_request_duration_seconds_count{}") >= 5.0);
    assert!(get("authd_connections_total{}") >= 5.0);
    assert_eq!(
        get("authd_connections_open{}"),
        1.0,
        "the metrics request's own"
    );
    assert_eq!(get("authd_hash_queue_depth{}"), 0.0);
    assert_eq!(get("authd_outbox_messages{channel=mail,state=queued}"), 0.0);

    // The same samples in status --json (for admins).
    let status = json(&d.ctl(&["--json", "status"]));
    let samples = status["metrics"].as_array().unwrap();
    assert!(samples
        .iter()
        .any(|s| s["name"] == "authd_lockouts_total" && s["value"] == 1.0));
    let as_json = json(&d.ctl(&["--json", "metrics"]));
    assert!(as_json["metrics"].as_array().unwrap().iter().any(|s| {
        s["name"] == "authd_logins_total"
            && s["labels"]["method"] == "password"
            && s["labels"]["result"] == "ok"
            && s["value"] == 1.0
    }));
}

#[test]
fn metrics_are_for_admins() {
    if !have("setpriv") {
        return;
    }
    let d = Daemon::start();
    assert_error(
        &d.ctl_as((65534, 65534), "", &["--json", "metrics"]),
        77,
        "permission_denied",
    );
    // status stays open to anyone, without the metrics.
    let status = d.ctl_as((65534, 65534), "", &["--json", "status"]);
    assert_ok(&status);
    assert!(json(&status).get("metrics").is_none());
}
