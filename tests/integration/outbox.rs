//! The outbox against failing transports, as an outage or a hostile peer would make them:
//! a mail server that accepts connections and never answers must not hold up an SMS
//! login code; an attempt is bounded in time (a hanging gateway is killed, with its
//! children); a permanent refusal (SMTP 5xx, a gateway exit status documented as
//! permanent) is given up at once, while a transient one is retried.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::Value;

use crate::daemon::*;
use crate::mail::{aiosmtpd_available, free_port, smtp_config, wait_for_mails, SmtpSink};

pub(crate) const PHONE: &str = "+4930901820";

/// A TCP server that accepts every connection and never says a word: an SMTP server
/// that hangs after the handshake.
struct BlackHole {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BlackHole {
    fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut held = Vec::new();
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    held.extend(stream.ok());
                }
            }
        });
        BlackHole {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An SMS gateway script (transport `command`) that appends each message to a file.
/// While `exit_with` exists it refuses with the exit status written in it; while `hang`
/// exists it starts a child that sleeps and waits for it (both pids go to `pids`); while
/// `hold` exists it waits (after touching `started`) before taking the message.
pub(crate) struct Gateway {
    dir: tempfile::TempDir,
    pub(crate) config: String,
}

impl Gateway {
    pub(crate) fn new() -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).display().to_string();
        let script = dir.path().join("gateway.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n\
                 if [ -e '{hang}' ]; then sleep 600 & echo $! >> '{pids}'; echo $$ >> '{pids}'; wait; fi\n\
                 if [ -e '{exit_with}' ]; then echo 'gateway refuses' >&2; exit $(cat '{exit_with}'); fi\n\
                 if [ -e '{hold}' ]; then touch '{started}'; while [ -e '{hold}' ]; do sleep 0.05; done; fi\n\
                 text=$(cat)\n\
                 printf 'TO %s\\n%s\\n\\n' \"$1\" \"$text\" >> '{out}'\n",
                hang = p("hang"),
                pids = p("pids"),
                exit_with = p("exit_with"),
                hold = p("hold"),
                started = p("started"),
                out = p("received"),
            ),
        )
        .unwrap();
        let config = format!(
            "[sms]\ntransport = \"command\"\ncommand = [\"/bin/sh\", \"{}\"]\nmin_interval = \"0s\"\n",
            script.display()
        );
        Gateway { dir, config }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn set(&self, name: &str, content: &str) {
        std::fs::write(self.path(name), content).unwrap();
    }

    pub(crate) fn clear(&self, name: &str) {
        std::fs::remove_file(self.path(name)).unwrap();
    }

    pub(crate) fn messages(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("received"))
            .unwrap_or_default()
            .split("TO ")
            .filter(|m| !m.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Wait for message number `n` (1-based) and return its code.
    fn code(&self, n: usize) -> String {
        let m = wait_until("SMS to arrive", || self.messages().get(n - 1).cloned());
        assert!(m.starts_with(PHONE), "sent to the wrong number: {m}");
        m.split("verification code: ")
            .nth(1)
            .unwrap()
            .chars()
            .take(6)
            .collect()
    }
}

/// The messages still queued or given up on (delivered ones are listed too, kept for
/// `outbox.keep_delivered`: see `outbox_delivered.rs`).
pub(crate) fn outbox(d: &Daemon) -> Vec<Value> {
    listed(d)
        .into_iter()
        .filter(|m| m["state"] != "delivered")
        .collect()
}

/// Every message `authctl outbox` lists.
pub(crate) fn listed(d: &Daemon) -> Vec<Value> {
    let out = d.ctl(&["--json", "outbox"]);
    assert_ok(&out);
    json(&out)["messages"].as_array().unwrap().clone()
}

/// The outbox entry for `account`, once it has had at least `attempts` attempts.
fn after_attempts(d: &Daemon, account: &str, attempts: u64) -> Value {
    wait_until(&format!("{attempts} attempt(s) for {account}"), || {
        outbox(d)
            .into_iter()
            .find(|m| m["account"] == account && m["attempts"].as_u64() >= Some(attempts))
    })
}

pub(crate) fn status_counts(d: &Daemon) -> (u64, u64) {
    let s = json(&d.ctl(&["--json", "status"]));
    (
        s["outbox_queued"].as_u64().unwrap(),
        s["outbox_failed"].as_u64().unwrap(),
    )
}

fn is_gone(pid: &str) -> bool {
    // Gone, or a zombie nobody has reaped yet (PID 1 in a container may not).
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

#[test]
fn a_black_hole_smtp_server_does_not_hold_up_an_sms_login_code() {
    let hole = BlackHole::start();
    let gw = Gateway::new();
    // Everything at its defaults: the attempt timeout too.
    let d = Daemon::start_with_config(&smtp_config(hole.port, &gw.config));
    d.user_with_password("sam");
    assert_ok(&d.ctl(&["enable-sms", "sam", "--phone", PHONE]));
    assert_ok(&d.ctl(&["confirm-sms", "sam", &gw.code(1)]));

    // Six reset mails (six accounts: one per account per min_interval) for a mail
    // server that takes the connection and never answers.
    for i in 1..=6 {
        let name = format!("user{i}");
        assert_ok(&d.ctl(&["add-user", &name, "--email", &format!("{name}@example.org")]));
        assert_ok(&d.ctl(&["send-reset", &name]));
    }

    // The login sends an SMS code; it arrives while the mails are stuck.
    let first = d.ctl_stdin(&format!("{GOOD_PW}\n"), &["--json", "verify", "sam"]);
    assert_error(&first, 1, "second_factor_required");
    assert!(stderr(&first).contains("sent by SMS"), "{}", stderr(&first));
    let code = gw.code(2);
    let mails: Vec<Value> = outbox(&d)
        .into_iter()
        .filter(|m| m["channel"] == "mail")
        .collect();
    assert_eq!(mails.len(), 6, "{mails:?}");
    assert!(mails.iter().all(|m| m["state"] == "queued"), "{mails:?}");
    // Ordering: the SMS went out before the mail courier got through the six mails.
    let tried = mails.iter().filter(|m| m["attempts"] != 0).count();
    assert!(tried < 6, "the SMS waited for every mail: {mails:?}");
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "sam", "--code", &code]));
    assert!(
        !outbox(&d).iter().any(|m| m["channel"] == "sms"),
        "the SMS is still queued"
    );
    assert_eq!(status_counts(&d), (6, 0));
}

#[test]
fn an_unanswered_smtp_attempt_times_out_and_is_retried() {
    let hole = BlackHole::start();
    let d = Daemon::start_with_config(&smtp_config(
        hole.port,
        "[outbox]\nattempt_timeout = \"1s\"\nretry_first = \"1s\"",
    ));
    assert_ok(&d.ctl(&["add-user", "tom", "--email", "tom@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "tom"]));
    let m = after_attempts(&d, "tom", 2);
    assert_eq!(m["state"], "queued", "{m}");
    let error = m["last_error"].as_str().unwrap();
    assert!(error.contains("no answer within 1s"), "{error}");
}

#[test]
fn an_smtp_5xx_is_given_up_at_once_and_a_4xx_is_retried() {
    if !aiosmtpd_available() {
        return;
    }
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    let d = Daemon::start_with_config(&smtp_config(port, "[outbox]\nretry_first = \"1s\""));
    let refusals = || {
        std::fs::read_dir(inbox.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                std::fs::read_to_string(inbox.path().join(name))
                    .is_ok_and(|t| t.starts_with("550 "))
            })
            .count()
    };

    assert_ok(&d.ctl(&["add-user", "gone", "--email", "reject-gone@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "gone"]));
    let m = after_attempts(&d, "gone", 1);
    assert_eq!(
        (m["state"].as_str(), m["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{m}"
    );
    assert!(m["last_error"].as_str().unwrap().contains("550"), "{m}");
    assert_eq!(status_counts(&d), (0, 1));
    let log = stdout(&d.ctl(&["log", "gone"]));
    assert!(
        log.contains("mail-failed") && log.contains("refused"),
        "{log}"
    );
    let text = stdout(&d.ctl(&["outbox"]));
    assert!(text.contains("failed") && text.contains("550"), "{text}");

    // A 451 is retried: by its second attempt (retry_first after its first, which came
    // after the 550), a retry of the refused mail would have come first.
    assert_ok(&d.ctl(&["add-user", "busy", "--email", "defer-busy@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "busy"]));
    let m = after_attempts(&d, "busy", 2);
    assert_eq!(m["state"], "queued", "{m}");
    let gone = outbox(&d)
        .into_iter()
        .find(|m| m["account"] == "gone")
        .unwrap();
    assert_eq!(
        (gone["state"].as_str(), gone["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    assert_eq!(refusals(), 1, "the refused mail was tried again");

    // The courier goes on with the next mail.
    assert_ok(&d.ctl(&["add-user", "fine", "--email", "fine@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "fine"]));
    wait_for_mails(inbox.path(), 1);
    assert_eq!(refusals(), 1);
}

#[test]
fn a_gateway_exit_status_documented_as_permanent_is_not_retried() {
    let gw = Gateway::new();
    let d = Daemon::start_with_config(&format!(
        "{}\n[outbox]\nretry_first = \"1s\"\n{TEST_CONFIG}",
        gw.config
    ));
    d.user_with_password("pia");
    d.user_with_password("quin");
    // 67 (EX_NOUSER): the gateway says the number does not exist.
    gw.set("exit_with", "67");
    assert_ok(&d.ctl(&["enable-sms", "pia", "--phone", PHONE]));
    let m = after_attempts(&d, "pia", 1);
    assert_eq!(
        (m["state"].as_str(), m["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{m}"
    );
    let error = m["last_error"].as_str().unwrap();
    assert!(
        error.contains("67") && error.contains("gateway refuses"),
        "{error}"
    );
    assert!(stdout(&d.ctl(&["log", "pia"])).contains("sms-failed"));

    // 75 (EX_TEMPFAIL), like any status not documented as permanent, is retried; by
    // its second attempt a retry of the first would have come.
    gw.set("exit_with", "75");
    assert_ok(&d.ctl(&["enable-sms", "quin", "--phone", PHONE]));
    let m = after_attempts(&d, "quin", 2);
    assert_eq!(m["state"], "queued", "{m}");
    let pia = outbox(&d)
        .into_iter()
        .find(|m| m["account"] == "pia")
        .unwrap();
    assert_eq!(
        (pia["state"].as_str(), pia["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    gw.clear("exit_with");
    assert_ok(&d.ctl(&["confirm-sms", "quin", &gw.code(1)]));
    assert_eq!(status_counts(&d), (0, 1));
}

#[test]
fn a_hanging_gateway_is_killed_with_its_children_when_the_attempt_times_out() {
    let gw = Gateway::new();
    let d = Daemon::start_with_config(&format!(
        "{}\n[outbox]\nretry_first = \"1s\"\nattempt_timeout = \"1s\"\n{TEST_CONFIG}",
        gw.config
    ));
    d.user_with_password("hank");
    gw.set("hang", "");
    assert_ok(&d.ctl(&["enable-sms", "hank", "--phone", PHONE]));
    let m = after_attempts(&d, "hank", 1);
    assert_eq!(m["state"], "queued", "{m}");
    let error = m["last_error"].as_str().unwrap();
    assert!(error.contains("did not finish within 1s"), "{error}");
    // The script and the sleep it started are both killed.
    let pids = std::fs::read_to_string(gw.path("pids")).unwrap();
    let first_two: Vec<&str> = pids.lines().take(2).collect();
    assert_eq!(first_two.len(), 2, "{pids}");
    for pid in first_two {
        wait_until(&format!("pid {pid} to be killed"), || {
            is_gone(pid).then_some(())
        });
    }
    gw.clear("hang");
    assert_ok(&d.ctl(&["confirm-sms", "hank", &gw.code(1)]));
}

#[test]
fn sigterm_finishes_the_delivery_in_hand_and_it_is_not_repeated() {
    let gw = Gateway::new();
    let mut d = Daemon::start_with_config(&format!("{}\n{TEST_CONFIG}", gw.config));
    d.user_with_password("ida");
    gw.set("hold", "");
    assert_ok(&d.ctl(&["enable-sms", "ida", "--phone", PHONE]));
    wait_until("the gateway to start", || {
        gw.path("started").exists().then_some(())
    });
    let pid = d.pid().to_string();
    signal(d.pid(), "TERM");
    // Shutting down (the socket is gone), the daemon waits for the gateway it started.
    wait_until("the socket to go", || (!d.socket.exists()).then_some(()));
    assert!(!is_gone(&pid), "authd left the delivery in hand");
    assert!(gw.messages().is_empty());
    gw.clear("hold");
    assert_eq!(d.terminate().code(), Some(0));
    assert_eq!(gw.messages().len(), 1);
    d.spawn();
    assert!(outbox(&d).is_empty(), "delivered but still queued");
    assert_ok(&d.ctl(&["confirm-sms", "ida", &gw.code(1)]));
    assert_eq!(gw.messages().len(), 1, "delivered twice");
}
