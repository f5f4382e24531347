//! The daemon's counters and gauges, and their Prometheus text exposition (format 0.0.4)
//! for `authctl metrics` (node_exporter's textfile collector reads the same).
//!
//! Counters live for the process (they restart at zero with the daemon, as Prometheus
//! expects of counters) and are fed from one place each: every audit event as it is
//! logged (`record_event`: logins by method and result, lockouts, deliveries), every
//! request as it is answered (`request_done`), every connection slot (`connection`) and
//! every password-hashing job queued or taken (`hash_queued`). Gauges that describe the
//! store (accounts, the outbox) are read when asked (`Gauges`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::audit::{Action, Event};

/// Upper bounds (seconds) of the request-latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

struct Registry {
    /// (action, outcome) -> count, every audit event.
    events: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// (method, result) -> count, the login attempts among them.
    logins: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    requests: AtomicU64,
    request_micros: AtomicU64,
    errors: AtomicU64,
    connections_open: AtomicI64,
    connections: AtomicU64,
    hash_queue: AtomicI64,
}

static REGISTRY: Registry = Registry {
    events: Mutex::new(BTreeMap::new()),
    logins: Mutex::new(BTreeMap::new()),
    buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
    requests: AtomicU64::new(0),
    request_micros: AtomicU64::new(0),
    errors: AtomicU64::new(0),
    connections_open: AtomicI64::new(0),
    connections: AtomicU64::new(0),
    hash_queue: AtomicI64::new(0),
};

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry(key).or_insert(0) += 1;
}

/// Count an audit event (called as it is logged, once its change is durable).
pub fn record_event(event: &Event) {
    let (action, outcome) = (event.action.as_str(), event.outcome.as_str());
    bump(&REGISTRY.events, (action, outcome));
    if let Some(method) = login_method(event) {
        bump(&REGISTRY.logins, (method, outcome));
    }
}

/// For a login attempt (a password or code check, at authctl, PAM or the portal), how it
/// was made: `password` (the password step alone), `totp`, `sms`, `recovery`, `key`, or
/// `code` (a wrong code, of whichever kind). `None` for other events.
fn login_method(event: &Event) -> Option<&'static str> {
    let detail = event.detail.as_str();
    match event.action {
        Action::RecoveryCodeUsed => Some("recovery"),
        Action::KeyCloneSuspected => Some("key"),
        Action::Verify | Action::LockedOut | Action::PortalSignIn => {
            Some(if detail.contains("totp code") {
                "totp"
            } else if detail.contains("sms code") && !detail.contains("no new sms code") {
                "sms"
            } else if detail.contains("security key") {
                "key"
            } else if detail.contains("wrong code") {
                "code"
            } else {
                "password"
            })
        }
        _ => None,
    }
}

/// A request answered after `took`; `ok` unless the answer was an error.
pub fn request_done(took: Duration, ok: bool) {
    let secs = took.as_secs_f64();
    for (bound, count) in BUCKETS.iter().zip(&REGISTRY.buckets) {
        if secs <= *bound {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }
    REGISTRY.requests.fetch_add(1, Ordering::Relaxed);
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    REGISTRY.request_micros.fetch_add(micros, Ordering::Relaxed);
    if !ok {
        REGISTRY.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// A connection admitted (`true`) or closed (`false`).
pub fn connection(open: bool) {
    if open {
        REGISTRY.connections.fetch_add(1, Ordering::Relaxed);
        REGISTRY.connections_open.fetch_add(1, Ordering::Relaxed);
    } else {
        REGISTRY.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A password-hashing job queued (`true`) or taken by a worker (`false`).
pub fn hash_queued(queued: bool) {
    let delta = if queued { 1 } else { -1 };
    REGISTRY.hash_queue.fetch_add(delta, Ordering::Relaxed);
}

/// What the store says at the moment of asking.
#[derive(Debug, Default)]
pub struct Gauges {
    pub uptime_secs: u64,
    pub accounts: u64,
    /// (channel, queued, failed) for each channel.
    pub outbox: Vec<(&'static str, u64, u64)>,
}

/// The Prometheus text exposition of every metric.
pub fn exposition(gauges: &Gauges) -> String {
    let mut out = String::new();
    let r = &REGISTRY;
    family(
        &mut out,
        "authd_uptime_seconds",
        "gauge",
        "Seconds since authd started.",
    );
    sample(&mut out, "authd_uptime_seconds", &[], gauges.uptime_secs);
    family(
        &mut out,
        "authd_accounts",
        "gauge",
        "Accounts in the store.",
    );
    sample(&mut out, "authd_accounts", &[], gauges.accounts);
    let help = "Messages in the outbox, by channel and state (queued: waiting for delivery; failed: given up).";
    family(&mut out, "authd_outbox_messages", "gauge", help);
    for (channel, queued, failed) in &gauges.outbox {
        sample(
            &mut out,
            "authd_outbox_messages",
            &[("channel", channel), ("state", "queued")],
            *queued,
        );
        sample(
            &mut out,
            "authd_outbox_messages",
            &[("channel", channel), ("state", "failed")],
            *failed,
        );
    }
    let events = r.events.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let delivered = [("mail-delivered", "mail"), ("sms-delivered", "sms")];
    let given_up = [("mail-failed", "mail"), ("sms-failed", "sms")];
    for (name, help, actions) in [
        (
            "authd_outbox_delivered_total",
            "Messages delivered, by channel.",
            delivered,
        ),
        (
            "authd_outbox_given_up_total",
            "Messages given up on, by channel.",
            given_up,
        ),
    ] {
        family(&mut out, name, "counter", help);
        for (action, channel) in actions {
            let n: u64 = events
                .iter()
                .filter(|((a, _), _)| *a == action)
                .map(|(_, n)| n)
                .sum();
            sample(&mut out, name, &[("channel", channel)], n);
        }
    }
    let help = "Login attempts (password and code checks), by method and result.";
    family(&mut out, "authd_logins_total", "counter", help);
    let logins = r.logins.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for ((method, result), n) in &logins {
        sample(
            &mut out,
            "authd_logins_total",
            &[("method", method), ("result", result)],
            *n,
        );
    }
    family(
        &mut out,
        "authd_lockouts_total",
        "counter",
        "Accounts locked by failed attempts.",
    );
    let lockouts: u64 = events
        .iter()
        .filter(|((a, _), _)| *a == "locked-out")
        .map(|(_, n)| n)
        .sum();
    sample(&mut out, "authd_lockouts_total", &[], lockouts);
    family(
        &mut out,
        "authd_audit_events_total",
        "counter",
        "Audit events, by action and outcome.",
    );
    for ((action, outcome), n) in &events {
        sample(
            &mut out,
            "authd_audit_events_total",
            &[("action", action), ("outcome", outcome)],
            *n,
        );
    }
    let help = "Time from a request's arrival to its answer.";
    family(
        &mut out,
        "authd_request_duration_seconds",
        "histogram",
        help,
    );
    for (bound, count) in BUCKETS.iter().zip(&r.buckets) {
        let le = bound.to_string();
        let n = count.load(Ordering::Relaxed);
        sample(
            &mut out,
            "authd_request_duration_seconds_bucket",
            &[("le", &le)],
            n,
        );
    }
    let requests = r.requests.load(Ordering::Relaxed);
    sample(
        &mut out,
        "authd_request_duration_seconds_bucket",
        &[("le", "+Inf")],
        requests,
    );
    let micros = r.request_micros.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "authd_request_duration_seconds_sum {}",
        micros as f64 / 1e6
    );
    sample(
        &mut out,
        "authd_request_duration_seconds_count",
        &[],
        requests,
    );
    family(
        &mut out,
        "authd_request_errors_total",
        "counter",
        "Requests answered with an error.",
    );
    sample(
        &mut out,
        "authd_request_errors_total",
        &[],
        r.errors.load(Ordering::Relaxed),
    );
    family(
        &mut out,
        "authd_connections_total",
        "counter",
        "Connections admitted.",
    );
    sample(
        &mut out,
        "authd_connections_total",
        &[],
        r.connections.load(Ordering::Relaxed),
    );
    family(
        &mut out,
        "authd_connections_open",
        "gauge",
        "Connections open now.",
    );
    let open = r
        .connections_open
        .load(Ordering::Relaxed)
        .max(0)
        .unsigned_abs();
    sample(&mut out, "authd_connections_open", &[], open);
    let help = "Password-hashing jobs waiting for a worker.";
    family(&mut out, "authd_hash_queue_depth", "gauge", help);
    let depth = r.hash_queue.load(Ordering::Relaxed).max(0).unsigned_abs();
    sample(&mut out, "authd_hash_queue_depth", &[], depth);
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    let _ = write!(out, "{name}");
    if !labels.is_empty() {
        let inner: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let _ = write!(out, "{{{}}}", inner.join(","));
    }
    let _ = writeln!(out, " {value}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;

    fn event(action: Action, outcome: Outcome, detail: &str) -> Event {
        Event::new(action, outcome, "uid 0", detail.into())
    }

    #[test]
    fn login_methods_come_from_the_event() {
        let method = |a, o, d| login_method(&event(a, o, d));
        assert_eq!(
            method(Action::Verify, Outcome::Ok, "service=sshd"),
            Some("password")
        );
        let totp = "service=sshd; password and totp code";
        assert_eq!(method(Action::Verify, Outcome::Ok, totp), Some("totp"));
        let sms = "password and sms code";
        assert_eq!(method(Action::Verify, Outcome::Ok, sms), Some("sms"));
        let challenged = "sms code sent; no new sms code (rate_limited)";
        assert_eq!(
            method(Action::Verify, Outcome::Challenged, challenged),
            Some("password")
        );
        assert_eq!(
            method(Action::RecoveryCodeUsed, Outcome::Ok, "9 left"),
            Some("recovery")
        );
        let key = "password and security key abc";
        assert_eq!(method(Action::Verify, Outcome::Ok, key), Some("key"));
        let wrong = "wrong code; failure 3; locked until x";
        assert_eq!(
            method(Action::LockedOut, Outcome::Denied, wrong),
            Some("code")
        );
        assert_eq!(method(Action::AccountAdded, Outcome::Ok, ""), None);
    }

    #[test]
    fn the_exposition_has_a_type_for_every_sample() {
        record_event(&event(
            Action::Verify,
            Outcome::Denied,
            "wrong password; failure 1",
        ));
        request_done(Duration::from_millis(3), true);
        let text = exposition(&Gauges {
            outbox: vec![("mail", 1, 2)],
            ..Gauges::default()
        });
        assert!(text.contains("authd_logins_total{method=\"password\",result=\"denied\"} "));
        assert!(text.contains("authd_outbox_messages{channel=\"mail\",state=\"failed\"} 2"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .fold(name, |n, suffix| n.strip_suffix(suffix).unwrap_or(n));
            assert!(text.contains(&format!("# TYPE {family} ")), "{line}");
        }
    }
}
