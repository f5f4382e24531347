//! Several daemons on one PostgreSQL database, as several hosts would run them (each its
//! own socket and state directory, one shared secret key): accounts, lockout counts, the
//! TOTP replay step, single-use recovery codes and reset tokens hold across them, a
//! queued message is delivered once, and an acknowledged change survives the SIGKILL of
//! its daemon.

use std::collections::HashSet;
use std::process::Output;

use mailparse::MailHeaderMap;

use crate::concurrency::add_and_edit;
use crate::daemon::code as code_of;
use crate::daemon::*;
use crate::mail::{free_port, mails, parse, smtp_config, token_in, wait_for_mails, SmtpSink};
use crate::oath::{enrol, oathtool};
use crate::pg::TestDb;
use crate::postgres::{fleet, pg_config};

#[test]
fn an_account_made_on_one_daemon_works_on_the_others() {
    let db = TestDb::create();
    let hosts = fleet(&pg_config(&db, ""), 3);
    let [a, b, c] = &hosts[..] else {
        unreachable!()
    };
    a.user_with_password("alice");
    assert_ok(&b.ctl_stdin(&pw(), &["verify", "alice"]));
    const NEW: &str = "Purple-Monkey-Dishwasher-42";
    assert_ok(&b.ctl_stdin(&format!("{NEW}\n"), &["set-password", "alice"]));
    assert_ok(&c.ctl_stdin(&format!("{NEW}\n"), &["verify", "alice"]));
    assert_error(
        &c.ctl_stdin(&pw(), &["--json", "verify", "alice"]),
        1,
        "denied",
    );
    // One history, whichever daemon wrote it: two logins and a refusal.
    assert_eq!(a.events("alice", "verify").len(), 3);
    assert_ok(&c.ctl(&["remove-user", "alice"]));
    assert_exit(&a.ctl(&["show", "alice"]), 67);
    assert_eq!(json(&b.ctl(&["--json", "status"]))["accounts"], 0);
}

#[test]
fn a_code_used_on_one_daemon_is_refused_on_another() {
    if !have("oathtool") {
        panic!("this test needs oathtool");
    }
    let db = TestDb::create();
    let hosts = fleet(&pg_config(&db, ""), 2);
    let [a, b] = &hosts[..] else { unreachable!() };
    a.user_with_password("alice");
    let (secret, codes) = enrol(a, "alice");
    // The next step's code on both daemons at once: one login, one refusal.
    let code = oathtool(&secret, 1);
    let outcomes: Vec<i32> = std::thread::scope(|s| {
        let tries = [a, b].map(|d| {
            let code = code.clone();
            s.spawn(move || code_of(&d.ctl_stdin(&pw(), &["verify", "alice", "--code", &code])))
        });
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(sorted, [0, 1], "{outcomes:?}");
    // Used on one, it is a replay on either.
    for d in [a, b] {
        let replay = d.ctl_stdin(&pw(), &["--json", "verify", "alice", "--code", &code]);
        assert_error(&replay, 1, "denied");
        assert!(
            stderr(&replay).contains("already used"),
            "{}",
            stderr(&replay)
        );
    }

    // A recovery code: once, on whichever daemon comes first.
    assert_ok(&b.ctl_stdin(&pw(), &["verify", "alice", "--code", &codes[0]]));
    assert_error(
        &a.ctl_stdin(&pw(), &["--json", "verify", "alice", "--code", &codes[0]]),
        1,
        "denied",
    );
    assert_eq!(show(a, "alice")["recovery_codes_left"], 9);
}

#[test]
fn failures_spread_over_three_daemons_lock_the_account_on_all() {
    let db = TestDb::create();
    let hosts = fleet(&pg_config(&db, ""), 3);
    hosts[0].user_with_password("alice");
    // max_failures is 5: two on A, two on B, one on C.
    for (i, d) in [0, 1, 2, 0, 1].iter().map(|&i| &hosts[i]).enumerate() {
        let out = d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "alice"]);
        assert_error(&out, 1, "denied");
        assert_eq!(show(d, "alice")["failures"], i as u64 + 1);
    }
    for d in &hosts {
        assert!(show(d, "alice")["locked_until"].is_string());
        let out = d.ctl_stdin(&pw(), &["--json", "verify", "alice"]);
        assert_error(&out, 75, "locked");
    }
}

#[test]
fn concurrent_failures_on_two_daemons_are_all_counted() {
    let db = TestDb::create();
    let body = pg_config(&db, "");
    let body = body.replace("[password]", "[lockout]\nmax_failures = 100\n[password]");
    let hosts = fleet(&body, 2);
    hosts[0].user_with_password("alice");
    std::thread::scope(|s| {
        for d in &hosts {
            s.spawn(move || {
                for _ in 0..10 {
                    let out = d.ctl_stdin("wrong-password-1\n", &["--json", "verify", "alice"]);
                    assert_error(&out, 1, "denied");
                }
            });
        }
    });
    // Row locks, not read-modify-write across daemons: no failure is lost.
    assert_eq!(show(&hosts[1], "alice")["failures"], 20);
}

#[test]
fn one_code_sent_sixteen_times_at_once_to_two_daemons_logs_in_once() {
    if !have("oathtool") {
        panic!("this test needs oathtool");
    }
    let db = TestDb::create();
    let body = pg_config(&db, "");
    let body = body.replace("[password]", "[lockout]\nmax_failures = 100\n[password]");
    let hosts = fleet(&body, 2);
    hosts[0].user_with_password("alice");
    let (secret, _) = enrol(&hosts[0], "alice");
    let code = oathtool(&secret, 1);
    // Each login is decided on the record as read and written only over that record:
    // the ones that lose the race are decided again, and see the step spent.
    let answers: Vec<Output> = std::thread::scope(|s| {
        let tries: Vec<_> = (0..16)
            .map(|i| {
                let (d, code) = (&hosts[i % 2], code.clone());
                s.spawn(move || d.ctl_stdin(&pw(), &["--json", "verify", "alice", "--code", &code]))
            })
            .collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let granted = answers.iter().filter(|o| code_of(o) == 0).count();
    assert_eq!(granted, 1, "exactly one login with the code");
    for out in answers.iter().filter(|o| code_of(o) != 0) {
        assert_error(out, 1, "denied");
        assert!(stderr(out).contains("already used"), "{}", stderr(out));
    }
    // Every replay counted, none lost to another's write; one history entry each.
    assert_eq!(show(&hosts[1], "alice")["failures"], 15);
    let verifies = hosts[0].events("alice", "verify");
    assert_eq!(verifies.len(), 16, "{verifies:?}");
}

#[test]
fn an_acknowledged_change_survives_sigkill_of_its_daemon() {
    let db = TestDb::create();
    let mut hosts = fleet(&pg_config(&db, ""), 2);
    for i in 0..5 {
        let name = format!("user{i}");
        hosts[0].user_with_password(&name);
        hosts[0].kill9();
        assert_ok(&hosts[1].ctl_stdin(&pw(), &["verify", &name]));
        hosts[0].spawn();
    }
    assert_eq!(json(&hosts[1].ctl(&["--json", "status"]))["accounts"], 5);
}

/// Two daemons on `db` that send mail to an SMTP sink: its inbox, the sink, the daemons.
fn mailing_fleet(db: &TestDb) -> (tempfile::TempDir, SmtpSink, Vec<Daemon>) {
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, inbox.path());
    let body = format!("{}\n{}", smtp_config(port, ""), db.store_config());
    (inbox, sink, fleet(&body, 2))
}

/// The Message-IDs of the mails in `dir`.
fn message_ids(dir: &std::path::Path) -> Vec<String> {
    mails(dir)
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let parsed = mailparse::parse_mail(&raw).unwrap();
            parsed.headers.get_first_value("Message-ID").unwrap()
        })
        .collect()
}

#[test]
fn each_queued_message_is_delivered_once_by_two_daemons() {
    let db = TestDb::create();
    let (inbox, _sink, hosts) = mailing_fleet(&db);
    const N: usize = 12;
    for i in 0..N {
        let d = &hosts[i % 2];
        let name = format!("user{i}");
        assert_ok(&d.ctl(&["add-user", &name, "--email", &format!("{name}@example.org")]));
        // Each password change queues a notice mail.
        assert_ok(&d.ctl_stdin(&pw(), &["set-password", &name]));
    }
    wait_for_mails(inbox.path(), N);
    wait_until("an empty outbox", || {
        (hosts[0].outbox_len() == 0).then_some(())
    });
    // Both couriers had their turn at the queue; nothing went twice.
    let ids = message_ids(inbox.path());
    assert_eq!(ids.len(), N, "{ids:?}");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), N);
    let delivered: usize = (0..N)
        .map(|i| hosts[0].events(&format!("user{i}"), "mail-delivered").len())
        .sum();
    assert_eq!(delivered, N);
    let attempts: usize = hosts
        .iter()
        .map(|d| d.log().matches("message delivered").count())
        .sum();
    assert_eq!(attempts, N, "a message was sent by both daemons");
}

#[test]
fn a_message_claimed_by_a_daemon_that_died_is_delivered_by_another() {
    let db = TestDb::create();
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let body = format!(
        "{}\n{}",
        smtp_config(
            port,
            "[outbox]\nretry_first = \"1s\"\nattempt_timeout = \"1s\"\n"
        ),
        db.store_config()
    );
    let mut hosts = fleet(&body, 2);
    // No mail server yet: A's attempt fails and is retried; then A dies holding a
    // claim (as if mid-attempt), and only B is left.
    hosts[0].user_with_password("alice");
    assert_ok(&hosts[0].ctl(&["set-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&hosts[0].ctl_stdin(&pw(), &["set-password", "alice"]));
    hosts[0].kill9();
    let lease_end = authd::time::now() + 8;
    db.sql(&format!("UPDATE outbox SET claimed_until = {lease_end}"));
    let _sink = SmtpSink::start(port, inbox.path());
    let mail = &wait_for_mails(inbox.path(), 1)[0];
    let arrived = std::fs::metadata(mail).unwrap().modified().unwrap();
    let arrived = arrived
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        arrived >= lease_end,
        "delivered at {arrived}, before the lease ran out at {lease_end}"
    );
    wait_until("an empty outbox", || {
        (hosts[1].outbox_len() == 0).then_some(())
    });
    assert_eq!(mails(inbox.path()).len(), 1);
}

#[test]
fn a_reset_token_works_once_across_daemons() {
    let db = TestDb::create();
    let (inbox, _sink, hosts) = mailing_fleet(&db);
    let [a, b] = &hosts[..] else { unreachable!() };
    assert_ok(&a.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&a.ctl(&["send-reset", "alice"]));
    let token = token_in(&parse(&wait_for_mails(inbox.path(), 1)[0]).body);
    const NEW: &str = "Purple-Monkey-Dishwasher-42";
    let reset = |d: &Daemon, password: &str| {
        d.ctl_stdin(
            &format!("{password}\n"),
            &["--json", "reset-password", "--token", &token],
        )
    };
    assert_ok(&reset(b, NEW));
    let twice = reset(a, "Another-Fine-Password-7");
    assert_error(&twice, 1, "denied");
    assert!(
        stderr(&twice).contains("already used"),
        "{}",
        stderr(&twice)
    );
    assert_ok(&a.ctl_stdin(&format!("{NEW}\n"), &["verify", "alice"]));
}

#[test]
fn sixty_four_writers_on_two_daemons_finish_and_every_write_is_in_the_database() {
    const WRITERS: usize = 64;
    const EACH: usize = 10;
    let db = TestDb::create();
    // Four connections per daemon for 32 writers each: requests wait for the pool.
    let mut hosts = fleet(&pg_config(&db, ""), 2);
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let mut client = hosts[w % 2].client();
            s.spawn(move || {
                for i in 0..EACH {
                    add_and_edit(&mut client, w, i);
                }
            });
        }
    });
    for d in &mut hosts {
        d.kill9();
    }
    let total = (WRITERS * EACH).to_string();
    assert_eq!(db.sql("SELECT count(*) FROM accounts"), total);
    // The counter, changed by every create in its own transaction, lost nothing.
    assert_eq!(
        db.sql("SELECT value FROM counters WHERE name = 'accounts'"),
        total
    );
    hosts[1].spawn();
    assert_eq!(show(&hosts[1], "w63-09")["email"], "w63i9@example.org");
}

#[test]
fn an_import_and_outbox_retry_and_purge_act_on_the_shared_store() {
    let db = TestDb::create();
    // Nothing listens on the port yet: every attempt fails, and give_up comes soon.
    let port = free_port();
    let extra = "[outbox]\nretry_first = \"1s\"\ngive_up = \"2s\"";
    let body = format!("{}\n{}", smtp_config(port, extra), db.store_config());
    let hosts = fleet(&body, 2);
    let [a, b] = &hosts[..] else { unreachable!() };

    // One import on A, all or nothing, made of a new account and an existing one.
    assert_ok(&a.ctl(&["add-user", "carol"]));
    let file = format!("alice:{GOOD_PW}\ncarol:{GOOD_PW}\n");
    let out = a.ctl_stdin(&file, &["--json", "import"]);
    assert_ok(&out);
    assert_ok(&b.ctl_stdin(&pw(), &["verify", "alice"]));
    assert_ok(&b.ctl_stdin(&pw(), &["verify", "carol"]));
    assert_eq!(json(&b.ctl(&["--json", "status"]))["accounts"], 2);
    let bad = a.ctl_stdin(
        &format!("dave:{GOOD_PW}\nbad name:x\n"),
        &["--json", "import"],
    );
    assert_error(&bad, 65, "invalid_input");
    assert_exit(&b.ctl(&["show", "dave"]), 67);

    // A mail given up on A is retried from B and delivered once the server is back, then
    // a second one is purged from A.
    let given_up = |d: &Daemon| {
        wait_until("a given-up message", || {
            crate::outbox::outbox(d)
                .into_iter()
                .find(|m| m["state"] == "failed")
        })
    };
    assert_ok(&a.ctl(&["set-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&a.ctl(&["send-reset", "alice"]));
    given_up(b);
    let inbox = tempfile::tempdir().unwrap();
    let _sink = SmtpSink::start(port, inbox.path());
    assert_ok(&b.ctl(&["--json", "outbox", "retry", "--failed"]));
    wait_for_mails(inbox.path(), 1);
    wait_until("the retried mail recorded", || {
        (a.outbox_len() == 0 && !a.events("alice", "mail-delivered").is_empty()).then_some(())
    });
    assert_eq!(a.events("alice", "outbox-retried").len(), 1);

    assert_ok(&a.ctl(&["set-user", "carol", "--email", "reject-carol@example.org"]));
    assert_ok(&a.ctl(&["send-reset", "carol"]));
    let id = given_up(a)["id"].as_u64().unwrap().to_string();
    assert_ok(&b.ctl(&["--json", "outbox", "purge", &id]));
    assert_eq!(a.outbox_len(), 0);
    assert_eq!(a.events("carol", "outbox-purged").len(), 1);
    assert_eq!(mails(inbox.path()).len(), 1);
}
