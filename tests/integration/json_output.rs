//! authctl(1) JSON OUTPUT against a real daemon. Every command run with `--json` prints
//! the object the page names for it with exactly the fields the page documents, nested
//! objects too (`authd::ctl::json::manual` reads the page). The values that used to hide
//! in message strings are fields with the right values: a backup's path and record
//! count, the expiry times (account, password, lockout, reset link, SMS code), and who
//! asked, as the audit actor's uid, user, pid and PAM service. A command line the parser
//! refuses prints the `error` object too, as the page says.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use authd::ctl::json::manual::{self, Field};
use serde_json::Value;

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;
use crate::oath::oathtool;

/// The page's objects, and those checked so far.
struct Page {
    objects: BTreeMap<String, Vec<Field>>,
    seen: BTreeSet<String>,
}

impl Page {
    fn load() -> Page {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/man/authctl.1");
        let text = std::fs::read_to_string(path).unwrap();
        Page {
            objects: manual::objects(&text),
            seen: BTreeSet::new(),
        }
    }

    /// `out` succeeded and printed the object `name`, with exactly its fields.
    #[track_caller]
    fn ok(&mut self, out: &Output, name: &str) -> Value {
        assert_ok(out);
        self.printed(out, name)
    }

    #[track_caller]
    fn printed(&mut self, out: &Output, name: &str) -> Value {
        let value = json(out);
        if let Err(e) = manual::check(&value, name, &self.objects, &mut self.seen) {
            panic!("{e}\nstderr: {}", stderr(out));
        }
        value
    }

    /// `out` failed with exit `exit` and error code `code`, printing the `error` object.
    #[track_caller]
    fn error(&mut self, out: &Output, exit: i32, code: &str) -> Value {
        assert_error(out, exit, code);
        self.printed(out, "error")
    }
}

/// An RFC 3339 time field, as unix seconds.
#[track_caller]
fn time(v: &Value) -> u64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    humantime::parse_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A pam_google_authenticator file: time-based, one scratch code.
const GOOGLE_AUTHENTICATOR: &str =
    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" RATE_LIMIT 3 30\n\" TOTP_AUTH\n12345678\n";

#[test]
fn every_command_prints_the_object_the_page_documents() {
    if !have("oathtool") {
        return;
    }
    let (d, gateway, dir) = crate::sms_gateway::start("min_interval = \"0s\"", "");
    let mut page = Page::load();

    page.ok(
        &d.ctl(&[
            "--json",
            "add-user",
            "alice",
            "--email",
            "alice@example.org",
        ]),
        "done",
    );
    page.ok(
        &d.ctl_stdin(&pw(), &["--json", "set-password", "alice"]),
        "done",
    );
    let verified = page.ok(
        &d.ctl_stdin(&pw(), &["--json", "verify", "alice"]),
        "verified",
    );
    assert_eq!(verified["name"], "alice");

    let enrolment = page.ok(
        &d.ctl(&["--json", "enable-totp", "alice"]),
        "totp_enrolment",
    );
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let totp = oathtool(&secret, 0);
    let confirmed = page.ok(
        &d.ctl(&["--json", "confirm-totp", "alice", &totp]),
        "recovery_codes",
    );
    assert_eq!(confirmed["recovery_codes"].as_array().unwrap().len(), 10);
    page.ok(
        &d.ctl(&["--json", "recovery-codes", "alice", "--regenerate"]),
        "recovery_codes",
    );

    // The reset link's expiry: a field, the same instant the message names.
    let before = authd::time::now();
    let reset = page.ok(&d.ctl(&["--json", "send-reset", "alice"]), "reset_mailed");
    let expires = time(&reset["expires"]);
    assert!(reset["message"]
        .as_str()
        .unwrap()
        .contains(reset["expires"].as_str().unwrap()));
    // [reset] token_ttl: 30 minutes by default.
    assert!(
        (before + 1800..=authd::time::now() + 1800).contains(&expires),
        "{reset}"
    );

    // An SMS code's number and expiry ([sms] code_ttl: 5 minutes by default).
    assert_ok(&d.ctl(&["add-user", "bob"]));
    let before = authd::time::now();
    let sent = page.ok(
        &d.ctl(&["--json", "enable-sms", "bob", "--phone", "+49 30 901820"]),
        "sms_sent",
    );
    assert_eq!(sent["to"], "+49*****820");
    let expires = time(&sent["expires"]);
    assert!(
        (before + 300..=authd::time::now() + 300).contains(&expires),
        "{sent}"
    );
    page.ok(
        &d.ctl(&["--json", "confirm-sms", "bob", &gateway.code(1)]),
        "recovery_codes",
    );
    page.ok(&d.ctl(&["--json", "send-code", "bob"]), "sms_sent");
    // The gateway is down: the next code waits in the outbox.
    std::fs::write(&gateway.fail_flag, "").unwrap();
    page.ok(&d.ctl(&["--json", "send-code", "bob"]), "sms_sent");
    let outbox = page.ok(&d.ctl(&["--json", "outbox"]), "outbox");
    assert!(
        !outbox["messages"].as_array().unwrap().is_empty(),
        "{outbox}"
    );
    page.ok(
        &d.ctl(&["--json", "outbox", "retry", "--failed"]),
        "outbox_changed",
    );

    // The account's and the password's expiry.
    page.ok(
        &d.ctl(&[
            "--json",
            "set-user",
            "alice",
            "--expires",
            "2099-01-01",
            "--max-password-age",
            "90",
        ]),
        "done",
    );
    let shown = page.ok(&d.ctl(&["--json", "show", "alice"]), "account");
    assert_eq!(shown["expires"], "2099-01-01T00:00:00Z");
    assert_eq!(
        time(&shown["password_expires"]),
        time(&shown["password_changed"]) + 90 * 86_400,
        "{shown}"
    );
    assert_eq!(shown["locked_until"], Value::Null);

    // A lockout's end, in `show`, `list-users --long` and the error's retry_at.
    d.user_with_password("carol");
    let wrong = "Wrong-Horse-Battery-0\n";
    let mut locked = None;
    for _ in 0..10 {
        let out = d.ctl_stdin(wrong, &["--json", "verify", "carol"]);
        if code(&out) == 75 {
            locked = Some(page.error(&out, 75, "locked"));
            break;
        }
        page.error(&out, 1, "denied");
    }
    let locked = locked.expect("carol was never locked");
    let shown = page.ok(&d.ctl(&["--json", "show", "carol"]), "account");
    assert_eq!(
        shown["locked_until"], locked["error"]["retry_at"],
        "{shown}"
    );
    assert!(time(&shown["locked_until"]) > authd::time::now() - 1);
    let long = page.ok(&d.ctl(&["--json", "list-users", "--long"]), "account_list");
    let carol = long["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "carol")
        .unwrap();
    assert_eq!(carol["locked_until"], shown["locked_until"]);
    page.ok(&d.ctl(&["--json", "unlock", "carol"]), "done");

    let users = page.ok(&d.ctl(&["--json", "list-users"]), "users");
    assert_eq!(users["users"], serde_json::json!(["alice", "bob", "carol"]));
    page.ok(&d.ctl(&["--json", "log", "alice"]), "log");
    let status = page.ok(&d.ctl(&["--json", "status"]), "status");
    assert!(status["metrics"].is_array(), "an admin gets the samples");
    page.ok(&d.ctl(&["--json", "metrics"]), "metrics");
    page.ok(&d.ctl(&["--json", "sessions", "alice"]), "sessions");
    page.ok(&d.ctl(&["--json", "logout", "alice"]), "sessions_ended");
    page.ok(&d.ctl(&["--json", "keys", "alice"]), "keys");
    page.ok(
        &d.ctl_stdin("dave:Correct-Horse-Battery-7\n", &["--json", "import"]),
        "import",
    );
    let file = dir.path().join("google_authenticator");
    std::fs::write(&file, GOOGLE_AUTHENTICATOR).unwrap();
    assert_ok(&d.ctl(&["add-user", "erin"]));
    let imported = page.ok(
        &d.ctl(&[
            "--json",
            "import-google-authenticator",
            "erin",
            file.to_str().unwrap(),
        ]),
        "totp_imported",
    );
    assert_eq!(imported["recovery_codes_added"], 1);
    page.ok(&d.ctl(&["--json", "disable", "erin"]), "done");
    page.ok(&d.ctl(&["--json", "enable", "erin"]), "done");

    // The backup's file and record count, as fields; the count is what the file holds.
    let target = dir.path().join("authd.backup");
    let backup = page.ok(
        &d.ctl(&["--json", "backup", "--output", target.to_str().unwrap()]),
        "backup",
    );
    assert_eq!(backup["path"], target.to_str().unwrap());
    let bytes = std::fs::read(&target).unwrap();
    let held = authd::backup_file::read_all(&bytes[..], authd::store::SCHEMA_VERSION)
        .unwrap()
        .records
        .len() as u64;
    assert_eq!(backup["records"].as_u64(), Some(held));
    assert!(held > 5, "{backup}");

    page.error(&d.ctl(&["--json", "show", "nosuch"]), 67, "no_such_user");
    page.ok(&d.ctl(&["--json", "remove-user", "dave"]), "done");

    // What this run cannot reach without a security key or a portal sign-in (`key`,
    // `session`) the unit tests build (`ctl::json::tests`); everything else was printed.
    let unreached: BTreeSet<String> = page
        .objects
        .keys()
        .filter(|name| !page.seen.contains(*name))
        .cloned()
        .collect();
    assert_eq!(
        unreached,
        BTreeSet::from(["key".to_string(), "session".to_string()])
    );
}

#[test]
fn the_audit_actor_is_who_ran_the_command() {
    let d = Daemon::start();
    let mut page = Page::load();
    d.user_with_password("alice");
    // A login through PAM names its service.
    let mut client = d.client();
    let request = authd::protocol::Request::Verify(authd::protocol::Verify {
        name: "alice".into(),
        password: authd::protocol::Secret::new(GOOD_PW),
        code: None,
        origin: authd::protocol::Origin {
            service: Some("sshd".into()),
            remote_host: Some("192.0.2.7".into()),
        },
    });
    let answer = client.call(&request).unwrap();
    assert!(
        matches!(answer, authd::protocol::Response::Verified { .. }),
        "{answer:?}"
    );

    let log = page.ok(&d.ctl(&["--json", "log", "alice"]), "log");
    let events = log["events"].as_array().unwrap();
    let added = events
        .iter()
        .find(|e| e["action"] == "account-added")
        .unwrap();
    let root = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap();
    assert_eq!(added["actor"]["uid"], nix::unistd::getuid().as_raw());
    assert_eq!(added["actor"]["user"], root.name.as_str());
    assert!(
        added["actor"]["pid"].as_u64().is_some_and(|p| p > 0),
        "{added}"
    );
    assert_eq!(added["actor"]["service"], Value::Null);
    assert_eq!(added["actor"]["portal"], false);
    let login = events.iter().rfind(|e| e["action"] == "verify").unwrap();
    assert_eq!(login["actor"]["service"], "sshd", "{login}");
    assert_eq!(login["actor"]["pid"], std::process::id(), "{login}");

    // Someone else, on their own account: their uid and name.
    if !can_switch_uid() {
        return;
    }
    d.user_with_password("nobody");
    assert_ok(&d.ctl_as(NOBODY, &pw(), &["verify", "nobody"]));
    let log = page.ok(&d.ctl(&["--json", "log", "nobody"]), "log");
    let verify = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["action"] == "verify")
        .cloned()
        .unwrap();
    assert_eq!(verify["actor"]["uid"], NOBODY.0, "{verify}");
    assert_eq!(verify["actor"]["user"], "nobody", "{verify}");
    assert!(verify["actor"]["pid"].is_u64(), "{verify}");
    assert!(
        verify["actor"]["text"]
            .as_str()
            .unwrap()
            .starts_with("uid 65534 (nobody) pid "),
        "{verify}"
    );
}

#[test]
fn a_refused_command_line_prints_the_error_object_with_json() {
    let mut page = Page::load();
    // No daemon is needed: the parser refuses before connecting.
    let socket = std::path::Path::new("/nonexistent/authd.sock");
    let run = |args: &[&str]| {
        std::process::Command::new(built("authctl"))
            .arg("--socket")
            .arg(socket)
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["--json", "frobnicate"][..],
        &["--json", "show"],
        &["show", "alice", "--json", "--no-such-option"],
        &["--json"],
        &["--json", "set-user", "alice", "--expires", "tomorrow"],
    ] {
        let out = run(args);
        let error = page.error(&out, 2, "usage");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && !message.starts_with("error:"),
            "{error}"
        );
        assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
        // The parser's own message still goes to standard error.
        assert!(
            stderr(&out).contains("error") || args == ["--json"],
            "{}",
            stderr(&out)
        );
    }
    // Without --json, standard output stays empty.
    let out = run(&["frobnicate"]);
    assert_exit(&out, 2);
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    // A failure after parsing: the same object, with the daemon unreachable (69).
    page.error(&run(&["--json", "status"]), 69, "unreachable");
}
