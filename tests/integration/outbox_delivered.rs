//! Delivered messages are kept, without their bodies, for `outbox.keep_delivered`:
//! `authctl outbox` lists them as delivered, `outbox purge --delivered-before DATE`
//! removes them (audited), they expire by themselves, and `0s` keeps none.

use serde_json::Value;

use crate::daemon::*;
use crate::mail::{aiosmtpd_available, free_port, smtp_config, wait_for_mails, SmtpSink};
use crate::outbox::{listed, status_counts};

/// A daemon mailing to a running SMTP sink, with `extra` config; a reset mail sent to
/// each of `names` and recorded as delivered.
fn delivered_mails(
    extra: &str,
    names: &[&str],
) -> (Daemon, SmtpSink, tempfile::TempDir, Vec<Value>) {
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, inbox.path());
    let d = Daemon::start_with_config(&smtp_config(port, extra));
    for name in names {
        assert_ok(&d.ctl(&["add-user", name, "--email", &format!("{name}@example.org")]));
        assert_ok(&d.ctl(&["send-reset", name]));
    }
    wait_for_mails(inbox.path(), names.len());
    let kept = wait_until("the deliveries recorded", || {
        let all = listed(&d);
        (all.len() == names.len() && all.iter().all(|m| m["state"] == "delivered")).then_some(all)
    });
    (d, sink, inbox, kept)
}

/// `authctl --json outbox purge ARGS...`: its `count`.
fn purge(d: &Daemon, args: &[&str]) -> u64 {
    let mut all = vec!["--json", "outbox", "purge"];
    all.extend_from_slice(args);
    let out = d.ctl(&all);
    assert_ok(&out);
    json(&out)["count"].as_u64().unwrap()
}

#[test]
fn a_delivered_mail_is_listed_until_purged_by_date() {
    if !aiosmtpd_available() {
        return;
    }
    let (d, _sink, _inbox, kept) = delivered_mails("", &["dora", "dan"]);
    let dora = kept.iter().find(|m| m["account"] == "dora").unwrap();
    assert_eq!(dora["to"], "dora@example.org");
    assert_eq!(dora["subject"], "Reset your password");
    assert!(dora["delivered"].is_string(), "{dora}");
    assert_eq!(dora["last_error"], Value::Null);
    // Neither queued nor failed.
    assert_eq!(status_counts(&d), (0, 0));
    let text = stdout(&d.ctl(&["outbox"]));
    assert!(text.contains("delivered 20"), "{text}");

    // There is nothing to retry in a delivered message.
    let id = dora["id"].as_u64().unwrap().to_string();
    let retry = d.ctl(&["--json", "outbox", "retry", &id]);
    assert_error(&retry, 65, "invalid_input");
    assert!(
        stderr(&retry).contains("was delivered"),
        "{}",
        stderr(&retry)
    );

    // A date before the deliveries removes nothing; `--failed` leaves them alone.
    assert_eq!(purge(&d, &["--delivered-before", "2020-01-01"]), 0);
    assert_eq!(purge(&d, &["--failed"]), 0);
    assert_eq!(listed(&d).len(), 2);

    // Tomorrow (UTC) is after both: both go, each audited in its account's history.
    let tomorrow = authd::time::format(authd::time::now() + 86_400);
    let day = &tomorrow[..10];
    let out = d.ctl(&["outbox", "purge", "--delivered-before", day]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("2 messages removed"),
        "{}",
        stdout(&out)
    );
    assert!(listed(&d).is_empty());
    for name in ["dora", "dan"] {
        let purged = d.events(name, "outbox-purged");
        assert_eq!(purged.len(), 1, "{purged:?}");
        assert!(purged[0]["detail"].as_str().unwrap().contains("removed"));
    }
    // A purged id is gone.
    assert_error(
        &d.ctl(&["--json", "outbox", "purge", &id]),
        65,
        "invalid_input",
    );
}

#[test]
fn delivered_messages_expire_after_keep_delivered() {
    if !aiosmtpd_available() {
        return;
    }
    let (d, _sink, _inbox, _) = delivered_mails("[outbox]\nkeep_delivered = \"2s\"", &["erik"]);
    wait_until("the delivered record to expire", || {
        listed(&d).is_empty().then_some(())
    });
    // The pass logs what it removed once its batches are done, just after the removal
    // is visible.
    wait_until("the expiry logged", || {
        d.log()
            .contains("removed delivered outbox messages")
            .then_some(())
    });
    // Expiry is housekeeping, not an admin's act: no history entry.
    assert!(d.events("erik", "outbox-purged").is_empty());
    assert_eq!(d.events("erik", "mail-delivered").len(), 1);
}

#[test]
fn keep_delivered_zero_keeps_nothing() {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    let d = Daemon::start_with_config(&smtp_config(port, "[outbox]\nkeep_delivered = \"0s\""));
    assert_ok(&d.ctl(&["add-user", "fay", "--email", "fay@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "fay"]));
    wait_for_mails(inbox.path(), 1);
    wait_until("the delivery recorded", || {
        (!d.events("fay", "mail-delivered").is_empty()).then_some(())
    });
    assert!(listed(&d).is_empty());
    assert_eq!(stdout(&d.ctl(&["outbox"])).trim(), "the outbox is empty");
}

#[test]
fn delivered_before_takes_a_date_and_one_target() {
    let d = Daemon::start();
    for bad in ["yesterday", "2027-13-01", "2027-01-01T25:00:00Z"] {
        let out = d.ctl(&["outbox", "purge", "--delivered-before", bad]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("is not a date"), "{}", stderr(&out));
    }
    assert_exit(
        &d.ctl(&[
            "outbox",
            "purge",
            "--failed",
            "--delivered-before",
            "2027-01-01",
        ]),
        2,
    );
    assert_exit(
        &d.ctl(&["outbox", "retry", "--delivered-before", "2027-01-01"]),
        2,
    );
    // An RFC 3339 time with an offset is a date too.
    assert_eq!(
        purge(&d, &["--delivered-before", "2027-01-01T18:00:00+02:00"]),
        0
    );
    if !crate::authz::can_switch_uid() {
        return;
    }
    assert_error(
        &d.ctl_as(
            crate::authz::NOBODY,
            "",
            &[
                "--json",
                "outbox",
                "purge",
                "--delivered-before",
                "2027-01-01",
            ],
        ),
        77,
        "permission_denied",
    );
}
