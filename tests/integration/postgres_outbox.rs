//! The outbox two daemons share on one database (README, Many hosts): a message whose
//! daemon dies in the middle of its attempt is delivered once, by the other daemon, after
//! the dead one's lease; and a message queued on one daemon wakes the other's courier at
//! once (LISTEN/NOTIFY), not at its next poll, also after the listening connection was
//! lost and made again.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::daemon::*;
use crate::mail::{free_port, mails, parse, smtp_config, token_in, wait_for_mails, SmtpSink};
use crate::pg::TestDb;

/// A mail server that accepts connections and never says a word: an attempt against it
/// holds its message (and its lease) until `attempt_timeout`.
struct BlackHole {
    port: u16,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl BlackHole {
    fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&held);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                keep.lock().unwrap().push(stream);
            }
        });
        BlackHole { port, held }
    }

    /// Wait until a daemon is in the middle of an attempt against it.
    fn wait_for_attempt(&self) {
        wait_until("an attempt against the silent server", || {
            (!self.held.lock().unwrap().is_empty()).then_some(())
        });
    }
}

/// The mails in `dir` addressed to `to`.
fn mails_to(dir: &Path, to: &str) -> Vec<String> {
    mails(dir)
        .iter()
        .map(|p| parse(p))
        .filter(|m| m.to.contains(to))
        .map(|m| m.body)
        .collect()
}

fn unix_mtime(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_reset_requested_on_a_daemon_that_dies_is_delivered_exactly_once_by_another() {
    let db = TestDb::create();
    let hole = BlackHole::start();
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    // A's lease on a message: 2 x attempt_timeout + 10 s = 14 s.
    let outbox = "[outbox]\nattempt_timeout = \"2s\"\nretry_first = \"1s\"\n";
    let a_body = format!("{}\n{}", smtp_config(hole.port, outbox), db.store_config());
    let b_body = format!("{}\n{}", smtp_config(port, outbox), db.store_config());
    let mut a = Daemon::start_with_config(&a_body);
    let b = Daemon::start_with_key(&b_body, &a.state_dir().join("secret.key"));
    assert_ok(&a.ctl(&["add-user", "alice", "--email", "alice@example.org"]));

    // B paused while the reset is requested, so that A's courier takes the message; A
    // dies in the middle of its attempt, holding the claim.
    signal(b.pid(), "STOP");
    let requested = a.ctl(&["send-reset", "alice"]);
    hole.wait_for_attempt();
    a.kill9();
    signal(b.pid(), "CONT");
    assert_ok(&requested);
    let lease_end: u64 = db
        .sql("SELECT claimed_until FROM outbox")
        .parse()
        .expect("the message claimed by A when it died");

    // B delivers it once A's lease has run out, with a token that works.
    let mail = wait_for_mails(inbox.path(), 1).remove(0);
    assert!(unix_mtime(&mail) >= lease_end, "delivered during A's lease");
    let token = token_in(&parse(&mail).body);
    wait_until("the delivery recorded", || {
        (b.outbox_len() == 0).then_some(())
    });
    assert_eq!(b.events("alice", "mail-delivered").len(), 1);

    // One more lease and poll period, measured through B: a later message, queued after
    // the clock passed them, is delivered too, and alice still has the one mail.
    wait_for_clock(lease_end + 14 + 5 + 1);
    assert_ok(&b.ctl(&["add-user", "bob", "--email", "bob@example.org"]));
    assert_ok(&b.ctl(&["send-reset", "bob"]));
    wait_until("bob's mail", || {
        (!mails_to(inbox.path(), "bob@").is_empty()).then_some(())
    });
    wait_until("bob's delivery recorded", || {
        (b.outbox_len() == 0).then_some(())
    });
    assert_eq!(mails_to(inbox.path(), "alice@").len(), 1);
    assert_eq!(b.events("alice", "mail-delivered").len(), 1);
    assert_eq!(b.log().matches("message delivered").count(), 2);
    assert_eq!(a.log().matches("message delivered").count(), 0);
    assert_ok(&b.ctl_stdin(&pw(), &["reset-password", "--token", &token]));
}

#[test]
fn a_message_queued_on_one_daemon_wakes_the_courier_of_another_at_once() {
    let db = TestDb::create();
    let hole = BlackHole::start();
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    // Polls an hour apart; A's courier is held 30 s by each attempt, and its lease on a
    // message is 70 s.
    let outbox = "[outbox]\nattempt_timeout = \"30s\"\n";
    let store = format!("{}outbox_poll = \"1h\"\n", db.store_config());
    let a = Daemon::start_with_config(&format!("{}\n{store}", smtp_config(hole.port, outbox)));
    assert_ok(&a.ctl(&["add-user", "carol", "--email", "carol@example.org"]));
    assert_ok(&a.ctl(&["send-reset", "carol"]));
    // A's one courier is busy with carol's mail; B finds it claimed, and would next look
    // at the queue when A's lease runs out, a minute from now.
    hole.wait_for_attempt();
    let b_body = format!("{}\n{store}", smtp_config(port, outbox));
    let b = Daemon::start_with_key(&b_body, &a.state_dir().join("secret.key"));

    assert_ok(&a.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    let queued = Instant::now();
    assert_ok(&a.ctl(&["send-reset", "alice"]));
    let deadline = queued + Duration::from_secs(15);
    let mail = loop {
        if let Some(mail) = mails_to(inbox.path(), "alice@").pop() {
            break mail;
        }
        assert!(
            Instant::now() < deadline,
            "alice's mail queued on A was not delivered by B within 15 s:\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    token_in(&mail);
    wait_until("the delivery recorded", || {
        b.log().contains("message delivered").then_some(())
    });

    // The listening connections go away (as in a database restart): each daemon makes
    // its own again, and B's courier is woken as before.
    let listening = "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'authd-listen' \
         AND query LIKE 'LISTEN%'";
    let before = db.sql(listening);
    assert_eq!(before.split(',').count(), 2, "{before}");
    db.sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN ({before})"
    ));
    wait_until("both daemons listening again", || {
        let now = db.sql(listening);
        let fresh = now
            .split(',')
            .filter(|p| !p.is_empty() && !before.contains(*p));
        (fresh.count() == 2).then_some(())
    });
    wait_until("B saying so", || {
        b.log()
            .contains("outbox notifications: listening again")
            .then_some(())
    });
    assert_ok(&a.ctl(&["add-user", "dave", "--email", "dave@example.org"]));
    let queued = Instant::now();
    assert_ok(&a.ctl(&["send-reset", "dave"]));
    while mails_to(inbox.path(), "dave@").is_empty() {
        assert!(
            queued.elapsed() < Duration::from_secs(15),
            "dave's mail queued on A was not delivered by B within 15 s:\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(a.log().matches("message delivered").count(), 0);
    assert!(mails_to(inbox.path(), "carol@").is_empty());
}
