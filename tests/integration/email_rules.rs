//! Email addresses are checked exactly as delivery will use them: forms that lettre's
//! parser accepts but a message can never be composed to (quoted local parts, control
//! and bidi characters, SMTPUTF8 local parts) are refused at add-user and set-user; an
//! account that already holds one (stored before the rule) can still have its password
//! set, changed and reset — the notice mail is skipped and recorded instead.

use authd::audit::{Action, Event, Outcome};

use crate::daemon::*;
use crate::mail::{parse, token_in, wait_for_mails};

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

/// Each form, and a word the refusal must name.
const REFUSED: [(&str, &str); 7] = [
    ("\"a,b\"@example.org", "quoted"),
    ("\"a\tb\"@example.org", "control character"),
    ("a\u{202E}gro.elpmaxe@evil.example", "bidirectional"),
    ("a\u{2066}b@example.org", "bidirectional"),
    ("a\u{85}b@example.org", "control character"),
    ("jörg@example.org", "SMTPUTF8"),
    ("a@exa\u{200F}mple.org", "bidirectional"),
];

#[track_caller]
fn assert_refused(out: &std::process::Output, reason: &str) {
    assert_exit(out, 65);
    let error = &json(out)["error"];
    assert_eq!(error["code"], "invalid_input", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(reason), "{message} lacks {reason}");
    // The message shows the address escaped, never a raw control or bidi character.
    assert!(
        !message
            .chars()
            .any(|c| c.is_control() || ('\u{2000}'..='\u{206f}').contains(&c)),
        "{message:?}"
    );
}

#[test]
fn addresses_delivery_cannot_use_are_refused_by_add_user_and_set_user() {
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "erin", "--email", "erin@example.org"]));
    for (address, reason) in REFUSED {
        let added = d.ctl(&["--json", "add-user", "mallory", "--email", address]);
        assert_refused(&added, reason);
        let changed = d.ctl(&["--json", "set-user", "erin", "--email", address]);
        assert_refused(&changed, reason);
    }
    // Nothing was written.
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 1);
    assert_eq!(
        json(&d.ctl(&["--json", "show", "erin"]))["email"],
        "erin@example.org"
    );
}

#[test]
fn an_idn_domain_is_stored_and_mailed_as_punycode() {
    let d = Daemon::start();
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "ivan", "--email", "ivan@Bücher.example"]));
    let stored = "ivan@xn--bcher-kva.example";
    assert_eq!(json(&d.ctl(&["--json", "show", "ivan"]))["email"], stored);
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "ivan"]));
    let notice = parse(&wait_for_mails(&maildir, 1)[0]);
    assert_eq!(notice.to, stored);
}

/// Stop `d`, write `email` into `name`'s stored record through the store API (as a
/// store created before the rule holds it), and start `d` again.
fn plant_email(d: &mut Daemon, name: &str, email: &str) {
    d.terminate();
    let store = authd::store::Store::open(&d.state_dir(), 8).unwrap();
    let event = Event::new(
        Action::AccountChanged,
        Outcome::Ok,
        "test",
        "planted".into(),
    );
    (&store as &dyn authd::store::Backend)
        .update_with(name, 0, |acc, _| {
            acc.email = Some(email.to_string());
            Ok(event.clone().into())
        })
        .unwrap();
    store.flush_offline().unwrap();
    drop(store);
    d.spawn();
}

/// The account's audit history has a `mail-failed` entry for the notice.
#[track_caller]
fn notice_failure_recorded(d: &Daemon, name: &str, times: usize) {
    let log = json(&d.ctl(&["--json", "log", name]));
    let failed: Vec<&serde_json::Value> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "mail-failed")
        .collect();
    assert_eq!(failed.len(), times, "{log}");
    let detail = failed[0]["detail"].as_str().unwrap();
    assert!(detail.contains("cannot be mailed"), "{detail}");
}

#[test]
fn a_stored_address_that_cannot_be_mailed_never_blocks_a_password_change() {
    if crate::daemon::sled_only("plants a record in the sled store offline") {
        return;
    }
    let mut d = Daemon::start();
    for (i, (address, _)) in REFUSED.iter().enumerate() {
        let name = format!("old{i}");
        d.user_with_password(&name);
        plant_email(&mut d, &name, address);

        // Admin set-password, then change-password with the current one.
        assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["set-password", &name]));
        assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", &name]));
        let change = format!("{NEW_PW}\n{GOOD_PW}\n");
        assert_ok(&d.ctl_stdin(&change, &["change-password", &name]));
        assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", &name]));
        notice_failure_recorded(&d, &name, 2);

        // A reset link cannot be mailed there either: a clear refusal, not an error.
        let reset = d.ctl(&["--json", "send-reset", &name]);
        assert_exit(&reset, 65);
        assert_eq!(json(&reset)["error"]["code"], "invalid_input");
    }
    let log = d.log();
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("notice not queued"), "{log}");
    assert!(!log.contains(GOOD_PW) && !log.contains(NEW_PW));
}

#[test]
fn a_reset_link_mailed_before_the_address_went_bad_still_resets() {
    if crate::daemon::sled_only("plants a record in the sled store offline") {
        return;
    }
    let mut d = Daemon::start();
    let maildir = d.state_dir().join("outbox/mail");
    assert_ok(&d.ctl(&["add-user", "gus", "--email", "gus@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "gus"]));
    let token = token_in(&parse(&wait_for_mails(&maildir, 1)[0]).body);
    plant_email(&mut d, "gus", "\"g,u\"@example.org");

    let out = d.ctl_stdin(
        &format!("{NEW_PW}\n"),
        &["reset-password", "--token", &token],
    );
    assert_ok(&out);
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "gus"]));
    notice_failure_recorded(&d, "gus", 1);
}
