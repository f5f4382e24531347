//! Password reset by mail, against a real SMTP server (aiosmtpd on loopback) and the
//! default file transport: the mail is a real RFC 5322 message, the token works once,
//! and the durable outbox survives an SMTP outage and SIGKILL, delivering exactly once.

use std::path::Path;
use std::time::{Duration, Instant};

use mailparse::MailHeaderMap;

use crate::daemon::*;
pub(crate) use crate::mailbox::{aiosmtpd_available, mails, wait_for_mails, SmtpSink};

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn smtp_config(port: u16, extra: &str) -> String {
    format!(
        "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
         from = \"authd@example.org\"\n\
         [reset]\nurl = \"https://id.example.org/reset?token={{token}}\"\n{extra}\n{TEST_CONFIG}"
    )
}

pub(crate) struct Mail {
    subject: String,
    pub(crate) to: String,
    message_id: String,
    pub(crate) body: String,
}

/// Parse a received message as a real mail, checking the headers every mail needs.
pub(crate) fn parse(path: &Path) -> Mail {
    let raw = std::fs::read(path).unwrap();
    let parsed = mailparse::parse_mail(&raw).unwrap();
    let h = &parsed.headers;
    for name in ["From", "To", "Subject", "Date", "Message-ID"] {
        assert!(
            h.get_first_value(name).is_some(),
            "no {name} header in {path:?}"
        );
    }
    assert!(mailparse::dateparse(&h.get_first_value("Date").unwrap()).is_ok());
    assert_eq!(parsed.ctype.mimetype, "text/plain");
    Mail {
        subject: h.get_first_value("Subject").unwrap(),
        to: h.get_first_value("To").unwrap(),
        message_id: h.get_first_value("Message-ID").unwrap(),
        body: parsed.get_body().unwrap(),
    }
}

pub(crate) fn token_in(body: &str) -> String {
    crate::mailbox::reset_token_in(body).unwrap_or_else(|| panic!("no token in: {body}"))
}

fn reset(d: &Daemon, token: &str, password: &str) -> std::process::Output {
    d.ctl_stdin(
        &format!("{password}\n"),
        &["reset-password", "--token", token],
    )
}

/// `reset` with `--json`, for the error code.
fn reset_json(d: &Daemon, token: &str, password: &str) -> std::process::Output {
    d.ctl_stdin(
        &format!("{password}\n"),
        &["--json", "reset-password", "--token", token],
    )
}

#[test]
fn reset_link_by_smtp_sets_a_new_password_exactly_once() {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    let d = Daemon::start_with_config(&smtp_config(port, ""));
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "alice"]));
    let notice = parse(&wait_for_mails(inbox.path(), 1)[0]);
    assert_eq!(notice.subject, "Your password was changed");

    let out = d.ctl(&["send-reset", "alice"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("expires at"), "{}", stdout(&out));
    let mail = parse(&wait_for_mails(inbox.path(), 2)[1]);
    assert_eq!(mail.subject, "Reset your password");
    assert_eq!(mail.to, "alice@example.org");
    let token = token_in(&mail.body);
    assert!(mail
        .body
        .contains(&format!("https://id.example.org/reset?token={token}")));
    assert!(mail.body.contains("expires at"));
    assert!(!d.log().contains(&token), "token in the daemon log");

    // Too soon for another.
    let again = d.ctl(&["--json", "send-reset", "alice"]);
    assert_error(&again, 75, "rate_limited");
    assert!(json(&again)["error"]["retry_at"].is_string());

    assert_error(&reset_json(&d, &token, "short"), 65, "weak_password");
    assert_ok(&reset(&d, &token, NEW_PW));
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "alice"]));
    assert_error(
        &d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "alice"]),
        1,
        "denied",
    );
    let twice = reset_json(&d, &token, "Another-Fine-Password-7");
    assert_error(&twice, 1, "denied");
    assert!(
        stderr(&twice).contains("already used"),
        "{}",
        stderr(&twice)
    );
    assert_error(&reset_json(&d, "NOT-A-TOKEN", NEW_PW), 1, "denied");

    let notice = parse(&wait_for_mails(inbox.path(), 3)[2]);
    assert_eq!(notice.subject, "Your password was changed");
    assert_ne!(notice.message_id, mail.message_id);
    let log = stdout(&d.ctl(&["log", "alice"]));
    for want in ["reset-requested", "password-reset", "mail-delivered"] {
        assert!(log.contains(want), "log lacks {want}: {log}");
    }
}

#[test]
fn file_transport_mails_expiry_and_invalidation() {
    let d = Daemon::start_with_config(&format!(
        "[reset]\ntoken_ttl = \"2s\"\nmin_interval = \"1s\"\n{TEST_CONFIG}"
    ));
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "bob", "--email", "bob@example.org"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "bob"]));
    wait_for_mails(&maildir, 1);

    // An expired token is refused (once the clock has passed the expiry it was given).
    let sent = d.ctl(&["send-reset", "bob"]);
    assert_ok(&sent);
    let mail = parse(&wait_for_mails(&maildir, 2)[1]);
    assert_eq!(mail.subject, "Reset your password");
    assert!(!mail.body.contains("https://"), "no link without reset.url");
    let token = token_in(&mail.body);
    wait_for_clock(expires_at(&sent));
    assert_error(&reset_json(&d, &token, NEW_PW), 1, "denied");
    let refused = d.events("bob", "password-reset");
    assert_eq!(
        (refused.len(), &refused[0]["outcome"], &refused[0]["detail"]),
        (
            1,
            &serde_json::json!("denied"),
            &serde_json::json!("token expired")
        )
    );
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "bob"]));

    // Any password change voids outstanding tokens.
    assert_ok(&d.ctl(&["send-reset", "bob"]));
    let token = token_in(&parse(&wait_for_mails(&maildir, 3)[2]).body);
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["set-password", "bob"]));
    assert_error(
        &reset_json(&d, &token, "Another-Fine-Password-7"),
        1,
        "denied",
    );
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "bob"]));

    // No email, no reset mail; SSO accounts have no password to reset.
    assert_ok(&d.ctl(&["add-user", "carol"]));
    let none = d.ctl(&["--json", "send-reset", "carol"]);
    assert_error(&none, 65, "invalid_input");
    assert!(
        stderr(&none).contains("no email address"),
        "{}",
        stderr(&none)
    );
    assert_ok(&d.ctl(&[
        "add-user",
        "sso",
        "--email",
        "s@example.org",
        "--sso",
        "corp",
    ]));
    assert_error(&d.ctl(&["--json", "send-reset", "sso"]), 65, "sso_account");
}

#[test]
fn change_password_email_link_checks_the_current_password() {
    let d = Daemon::start();
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "dora", "--email", "dora@example.org"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "dora"]));
    wait_for_mails(&maildir, 1);
    let wrong = d.ctl_stdin(
        "wrong-password-1\n",
        &["--json", "change-password", "dora", "--email-link"],
    );
    assert_error(&wrong, 1, "denied");
    assert_ok(&d.ctl_stdin(
        &format!("{GOOD_PW}\n"),
        &["change-password", "dora", "--email-link"],
    ));
    let mail = parse(&wait_for_mails(&maildir, 2)[1]);
    assert_eq!(mail.subject, "Reset your password");
    assert_ok(&reset(&d, &token_in(&mail.body), NEW_PW));
}

#[test]
fn the_outbox_survives_an_smtp_outage_and_sigkill_and_delivers_exactly_once() {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_config(&smtp_config(port, "[outbox]\nretry_first = \"1s\""));
    assert_ok(&d.ctl(&["add-user", "erin", "--email", "erin@example.org"]));
    // The SMTP server is down: the request still succeeds and the mail waits.
    assert_ok(&d.ctl(&["send-reset", "erin"]));
    let status = json(&d.ctl(&["--json", "status"]));
    assert_eq!(status["outbox_queued"], 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let outbox = json(&d.ctl(&["--json", "outbox"]));
        let m = &outbox["messages"][0];
        if m["attempts"].as_u64() >= Some(1) {
            assert_eq!(m["state"], "queued");
            assert!(m["last_error"].is_string(), "{m}");
            assert_eq!(m["to"], "erin@example.org");
            break;
        }
        assert!(Instant::now() < deadline, "no delivery attempt: {outbox}");
        std::thread::sleep(Duration::from_millis(200));
    }
    d.kill9();
    d.spawn();
    let _sink = SmtpSink::start(port, inbox.path());
    let received = wait_for_mails(inbox.path(), 1);
    assert_eq!(parse(&received[0]).subject, "Reset your password");
    // Every send of a message happens before its delivery is recorded (out of the queue,
    // `mail-delivered` in the log); after that it is never sent again. Wait for the
    // record, then for a later mail through the same courier, and count.
    wait_until("erin's mail recorded as delivered", || {
        (d.outbox_len() == 0 && !d.events("erin", "mail-delivered").is_empty()).then_some(())
    });
    assert_ok(&d.ctl(&["add-user", "fay", "--email", "fay@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "fay"]));
    wait_until("the later mail recorded as delivered", || {
        (d.outbox_len() == 0 && !d.events("fay", "mail-delivered").is_empty()).then_some(())
    });
    let to: Vec<String> = mails(inbox.path()).iter().map(|m| parse(m).to).collect();
    assert_eq!(
        to,
        ["erin@example.org", "fay@example.org"],
        "delivered more than once"
    );
    assert_eq!(d.events("erin", "mail-delivered").len(), 1);
    assert_eq!(d.outbox_len(), 0);
}

#[test]
fn a_message_that_cannot_be_delivered_is_marked_failed_after_give_up() {
    let port = free_port();
    let d = Daemon::start_with_config(&smtp_config(
        port,
        "[outbox]\nretry_first = \"1s\"\ngive_up = \"2s\"",
    ));
    assert_ok(&d.ctl(&["add-user", "finn", "--email", "finn@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "finn"]));
    let deadline = Instant::now() + Duration::from_secs(30);
    while json(&d.ctl(&["--json", "status"]))["outbox_failed"] != 1 {
        assert!(Instant::now() < deadline, "never marked failed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let outbox = json(&d.ctl(&["--json", "outbox"]));
    assert_eq!(outbox["messages"][0]["state"], "failed");
    let text = stdout(&d.ctl(&["outbox"]));
    assert!(
        text.contains("failed") && text.contains("last error"),
        "{text}"
    );
    assert!(stdout(&d.ctl(&["log", "finn"])).contains("mail-failed"));
}

#[test]
fn a_token_can_come_from_stdin_and_email_changes_void_links() {
    let d = Daemon::start();
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "gus", "--email", "gus@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "gus"]));
    let token = token_in(&parse(&wait_for_mails(&maildir, 1)[0]).body);
    let input = format!("{token}\n{NEW_PW}\n");
    assert_ok(&d.ctl_stdin(&input, &["reset-password", "--token", "-"]));
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "gus"]));

    let d2 = Daemon::start_with_config(&format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"));
    let maildir = d2.state_dir().join("outbox/mail");
    assert_ok(&d2.ctl(&["add-user", "hal", "--email", "hal@example.org"]));
    assert_ok(&d2.ctl(&["send-reset", "hal"]));
    let token = token_in(&parse(&wait_for_mails(&maildir, 1)[0]).body);
    assert_ok(&d2.ctl(&["set-user", "hal", "--email", "hal@new.example.org"]));
    assert_error(&reset_json(&d2, &token, NEW_PW), 1, "denied");
    // Files written by the daemon are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&wait_for_mails(&maildir, 1)[0])
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "mail file mode {mode:o}");
}
