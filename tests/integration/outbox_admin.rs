//! `authctl outbox retry` and `authctl outbox purge`: a mail given up on while the SMTP
//! server was down is delivered once the admin retries it with the server back; purged
//! messages are gone; an SMS login code past its validity is dropped, never sent; only
//! admins may do either.

use serde_json::Value;

use crate::daemon::*;
use crate::mail::{aiosmtpd_available, free_port, smtp_config, wait_for_mails, SmtpSink};
use crate::outbox::{outbox, status_counts, Gateway, PHONE};

/// `account`'s message once it has failed.
fn failed(d: &Daemon, account: &str) -> Value {
    wait_until(&format!("{account}'s message to fail"), || {
        outbox(d)
            .into_iter()
            .find(|m| m["account"] == account && m["state"] == "failed")
    })
}

/// `authctl --json outbox ARGS...`, which must succeed: its `count` and `dropped`.
fn change(d: &Daemon, args: &[&str]) -> (u64, u64) {
    let mut all = vec!["--json", "outbox"];
    all.extend_from_slice(args);
    let out = d.ctl(&all);
    assert_ok(&out);
    let answer = json(&out);
    assert_eq!(answer["ok"], true, "{answer}");
    (
        answer["count"].as_u64().unwrap(),
        answer["dropped"].as_u64().unwrap(),
    )
}

#[test]
fn a_given_up_mail_is_delivered_after_a_retry_and_a_purged_one_is_gone() {
    if !aiosmtpd_available() {
        return;
    }
    // Nothing listens on the port yet: every attempt fails, and give_up comes soon.
    let port = free_port();
    let d = Daemon::start_with_config(&smtp_config(
        port,
        "[outbox]\nretry_first = \"1s\"\ngive_up = \"2s\"",
    ));
    assert_ok(&d.ctl(&["add-user", "finn", "--email", "finn@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "finn"]));
    failed(&d, "finn");
    assert_eq!(status_counts(&d), (0, 1));

    // The server is back; nothing happens by itself to a given-up message.
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    assert_eq!(change(&d, &["retry", "--failed"]), (1, 0));
    let received = wait_for_mails(inbox.path(), 1);
    assert_eq!(crate::mail::parse(&received[0]).to, "finn@example.org");
    wait_until("the retried mail recorded as delivered", || {
        (d.outbox_len() == 0 && !d.events("finn", "mail-delivered").is_empty()).then_some(())
    });
    let retried = d.events("finn", "outbox-retried");
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert!(retried[0]["detail"]
        .as_str()
        .unwrap()
        .contains("queued again"));
    // Nothing failed is left to retry.
    assert_eq!(change(&d, &["retry", "--failed"]), (0, 0));

    // A refused mail (550) fails at once; purged by id, it is gone for good.
    assert_ok(&d.ctl(&["add-user", "gone", "--email", "reject-gone@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "gone"]));
    let id = failed(&d, "gone")["id"].as_u64().unwrap().to_string();
    assert_eq!(change(&d, &["purge", &id]), (1, 0));
    assert!(outbox(&d).is_empty());
    assert_eq!(status_counts(&d), (0, 0));
    assert_eq!(d.events("gone", "outbox-purged").len(), 1);
    let again = d.ctl(&["--json", "outbox", "purge", &id]);
    assert_error(&again, 65, "invalid_input");
    assert!(stderr(&again).contains("no message"), "{}", stderr(&again));

    // --failed purges every failed message, and only those.
    for name in ["gone2", "gone3"] {
        let address = format!("reject-{name}@example.org");
        assert_ok(&d.ctl(&["add-user", name, "--email", &address]));
        assert_ok(&d.ctl(&["send-reset", name]));
        failed(&d, name);
    }
    let text = d.ctl(&["outbox", "purge", "--failed"]);
    assert_ok(&text);
    assert!(
        stdout(&text).contains("2 messages removed"),
        "{}",
        stdout(&text)
    );
    assert_eq!(status_counts(&d), (0, 0));
}

#[test]
fn usage_and_callers_are_checked() {
    let d = Daemon::start();
    // One target, exactly.
    assert_exit(&d.ctl(&["outbox", "retry"]), 2);
    assert_exit(&d.ctl(&["outbox", "purge", "3", "--failed"]), 2);
    assert_exit(&d.ctl(&["outbox", "purge", "not-a-number"]), 2);
    assert_error(
        &d.ctl(&["--json", "outbox", "retry", "42"]),
        65,
        "invalid_input",
    );
    assert_eq!(change(&d, &["purge", "--failed"]), (0, 0));
    // The listing is still `authctl outbox`.
    assert_eq!(stdout(&d.ctl(&["outbox"])).trim(), "the outbox is empty");

    if !crate::authz::can_switch_uid() {
        return;
    }
    for args in [
        ["outbox", "retry", "--failed"],
        ["outbox", "purge", "--failed"],
    ] {
        let mut all = vec!["--json"];
        all.extend_from_slice(&args);
        assert_error(
            &d.ctl_as(crate::authz::NOBODY, "", &all),
            77,
            "permission_denied",
        );
    }
}

#[test]
fn an_sms_code_past_its_validity_is_dropped_not_retried() {
    // The gateway refuses with 67 (documented as permanent: the number does not
    // exist) while `exit_with` holds it, so each code fails at once.
    let gw = Gateway::new();
    gw.set("exit_with", "67");
    let d = Daemon::start_with(&format!("{}code_ttl = \"3s\"\n", gw.config));
    d.user_with_password("sam");
    assert_ok(&d.ctl(&["enable-sms", "sam", "--phone", PHONE]));
    let id = failed(&d, "sam")["id"].as_u64().unwrap().to_string();
    gw.clear("exit_with");

    // Still valid: retried, and sent.
    assert_eq!(change(&d, &["retry", &id]), (1, 0));
    wait_until("the retried code to be sent", || {
        (gw.messages().len() == 1 && d.outbox_len() == 0).then_some(())
    });

    // A second code, refused, then retried after its validity: dropped, never sent.
    gw.set("exit_with", "67");
    assert_ok(&d.ctl(&["send-code", "sam"]));
    let id = failed(&d, "sam")["id"].as_u64().unwrap().to_string();
    gw.clear("exit_with");
    wait_for_clock(authd::time::now() + 4);
    let out = d.ctl(&["outbox", "retry", &id]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("0 messages queued again; 1 SMS login code dropped"),
        "{}",
        stdout(&out)
    );
    assert!(outbox(&d).is_empty());
    assert_eq!(status_counts(&d), (0, 0));
    let last = d.events("sam", "outbox-retried").pop().unwrap();
    assert_eq!(last["outcome"], "denied");
    assert!(last["detail"].as_str().unwrap().contains("validity"));
    // A later code goes through the same courier; the dropped one never does.
    assert_ok(&d.ctl(&["send-code", "sam"]));
    wait_until("the later code to be sent", || {
        (d.outbox_len() == 0 && gw.messages().len() >= 2).then_some(())
    });
    assert_eq!(gw.messages().len(), 2, "the dropped code was sent");
}
