//! `authctl import`: many accounts at once from standard input, all or nothing; hashes
//! from /etc/shadow (made here by openssl and mkpasswd, as the system makes them) log in
//! as they are and are stored as argon2id after the first login.

use std::process::{Command, Stdio};

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;

/// `authctl --json import ARGS` with `file` on standard input.
fn import(d: &Daemon, file: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--json", "import"];
    all.extend_from_slice(args);
    d.ctl_stdin(file, &all)
}

/// Hashes the daemon's pool has computed or checked so far: at least the dummy hash,
/// which the daemon queues as it starts (waited for, so it never lands between two
/// counts of a test).
fn hashes(d: &Daemon) -> u64 {
    wait_until("the dummy hash to start", || {
        let n = json(&d.ctl(&["--json", "status"]))["hashes"]
            .as_u64()
            .unwrap();
        (n >= 1).then_some(n)
    })
}

fn accounts(d: &Daemon) -> u64 {
    json(&d.ctl(&["--json", "status"]))["accounts"]
        .as_u64()
        .unwrap()
}

fn verify(d: &Daemon, name: &str, password: &str) -> std::process::Output {
    d.ctl_stdin(&format!("{password}\n"), &["--json", "verify", name])
}

/// The hash stored for `name`, read from the store of the stopped daemon `d`.
fn stored_hash(d: &mut Daemon, name: &str) -> String {
    d.terminate();
    let store = authd::store::Store::open(&d.state_dir(), 8).unwrap();
    let hash = store.account(name).unwrap().unwrap().password_hash.unwrap();
    drop(store);
    d.spawn();
    hash
}

/// What `program ARGS` prints for `input` on its standard input, trimmed.
fn made_by(program: &str, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program} {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn plain_passwords_are_hashed_under_the_policy_and_verify() {
    let d = Daemon::start();
    let before = hashes(&d);
    let file = format!("alice:{GOOD_PW}\n\nbob:Another-Strong-Pass-77\n");
    let out = import(&d, &file, &[]);
    assert_ok(&out);
    let summary = json(&out);
    assert_eq!(summary["created"], 2, "{summary}");
    assert_eq!(summary["updated"], 0);
    assert_eq!(summary["hashed"], 2);
    assert_eq!(summary["lines"], 2);
    assert_eq!(hashes(&d), before + 2, "one hash per plain password");
    assert_ok(&verify(&d, "alice", GOOD_PW));
    assert_ok(&verify(&d, "bob", "Another-Strong-Pass-77"));
    assert_error(&verify(&d, "bob", GOOD_PW), 1, "denied");
    let added = d.events("alice", "account-added");
    assert_eq!(added[0]["detail"], "import line 1: password (argon2)");

    // Again, as text: bob's password changes, alice's line sets it anew.
    let again = format!("alice:{GOOD_PW}\nbob:Changed-Strong-Pass-88\n");
    let text = stdout(&d.ctl_stdin(&again, &["import"]));
    assert_eq!(
        text.trim(),
        "imported 2 lines: 0 accounts created, 2 updated, 0 unchanged"
    );
    assert_ok(&verify(&d, "bob", "Changed-Strong-Pass-88"));
    assert!(!d.log().contains(GOOD_PW) && !d.log().contains("Changed-Strong"));
}

#[test]
fn shadow_hashes_log_in_as_they_are_and_become_argon2id() {
    if crate::daemon::sled_only("reads the stored hash from the sled store") {
        return;
    }
    if !(have("openssl") && have("mkpasswd")) {
        return;
    }
    let mut d = Daemon::start();
    let sha512 = made_by(
        "openssl",
        &["passwd", "-6", "-stdin"],
        "Shadow-Pass-Word-42\n",
    );
    let sha256 = made_by(
        "openssl",
        &["passwd", "-5", "-stdin"],
        "Sha256-Pass-Word-43\n",
    );
    let yescrypt = made_by(
        "mkpasswd",
        &["-m", "yescrypt", "--stdin"],
        "Yes-Crypt-Pass-99",
    );
    assert!(sha512.starts_with("$6$") && yescrypt.starts_with("$y$"));
    // A whole shadow line works as well as name:HASH.
    let file = format!("carol:{sha512}\ndave:{yescrypt}:19700:0:99999:7:::\nerin:{sha256}\n");
    let before = hashes(&d);
    let out = import(&d, &file, &["-e"]);
    assert_ok(&out);
    assert_eq!(json(&out)["created"], 3);
    assert_eq!(json(&out)["hashed"], 0);
    assert_eq!(hashes(&d), before, "an import of hashes hashes nothing");
    assert_eq!(stored_hash(&mut d, "carol"), sha512, "stored as it came");

    assert_error(&verify(&d, "carol", "Shadow-Pass-Word-41"), 1, "denied");
    assert_ok(&verify(&d, "carol", "Shadow-Pass-Word-42"));
    assert_ok(&verify(&d, "dave", "Yes-Crypt-Pass-99"));
    assert_ok(&verify(&d, "erin", "Sha256-Pass-Word-43"));
    for name in ["carol", "dave", "erin"] {
        let hash = stored_hash(&mut d, name);
        assert!(
            hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"),
            "{name}: {hash}"
        );
    }
    assert_ok(&verify(&d, "carol", "Shadow-Pass-Word-42"));
    assert_ok(&verify(&d, "dave", "Yes-Crypt-Pass-99"));
}

#[test]
fn a_bad_line_anywhere_writes_nothing_and_is_named_by_its_number() {
    let d = Daemon::start();
    d.user_with_password("zed");
    let good = |n: usize| format!("user{n}:Strong-Pass-Word-{n}-xyz\n");
    let cases: [(String, &str, &str); 5] = [
        // Found by authctl before anything is sent.
        (
            format!("{}Bad Name:{GOOD_PW}\n", good(1)),
            "invalid_input",
            "line 2: invalid account name",
        ),
        (
            format!("{}{}", good(1), good(1)),
            "invalid_input",
            "line 2: `user1` is on line 1 already",
        ),
        (
            format!("{}nocolon\n", good(1)),
            "invalid_input",
            "line 2: expected name:password",
        ),
        // Found by authd: the password policy, and an account as it is.
        (
            format!("{}{}user3:password\n", good(1), good(2)),
            "weak_password",
            "line 3: ",
        ),
        (
            format!("{}zed:{GOOD_PW}\n", good(1)),
            "invalid_input",
            "line 2: `zed` is an SSO account",
        ),
    ];
    assert_ok(&d.ctl(&["set-user", "zed", "--sso", "okta"]));
    for (file, code, message) in cases {
        let out = import(&d, &file, &[]);
        assert_error(&out, 65, code);
        let said = json(&out)["error"]["message"].as_str().unwrap().to_string();
        assert!(said.contains(message), "{said}");
        assert_eq!(accounts(&d), 1, "nothing written for {file}");
    }

    // A weak password in the second batch, after the daemon took the first one.
    let mut file: String = (1..1500).map(good).collect();
    file.push_str("user1500:aaaaaaaaaaaa\n");
    let out = import(&d, &file, &[]);
    assert_error(&out, 65, "weak_password");
    assert!(stdout(&out).contains("line 1500: "), "{}", stdout(&out));
    assert_eq!(accounts(&d), 1, "the first batch was not written");

    // A bad hash with -e.
    let out = import(&d, "amy:$6$salt$tooshort\n", &["-e"]);
    assert_error(&out, 65, "invalid_input");
    assert!(stdout(&out).contains("line 1: not a password hash"));
}

#[test]
fn a_dry_run_says_what_would_change_and_writes_nothing() {
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl(&["add-user", "dave", "--email", "dave@example.org"]));
    let file = format!(
        "{}\n{}\n{}\n",
        r#"{"name": "alice", "email": "alice@example.org"}"#,
        format_args!(r#"{{"name": "bob", "password": "{GOOD_PW}"}}"#),
        r#"{"name": "dave", "email": "dave@example.net"}"#,
    );
    let (before, log_before) = (hashes(&d), d.events("dave", "account-changed").len());
    let out = import(&d, &file, &["--format", "jsonl", "--dry-run"]);
    assert_ok(&out);
    let summary = json(&out);
    assert_eq!(summary["dry_run"], true);
    assert_eq!(
        (
            &summary["created"],
            &summary["updated"],
            &summary["unchanged"]
        ),
        (&1.into(), &1.into(), &1.into()),
        "{summary}"
    );
    assert_eq!(summary["hashed"], 0);
    assert_eq!(accounts(&d), 2);
    assert_eq!(show(&d, "dave")["email"], "dave@example.org");
    assert_eq!(d.events("dave", "account-changed").len(), log_before);
    assert_eq!(hashes(&d), before, "a dry run hashes nothing");
    let text = stdout(&d.ctl_stdin(&file, &["import", "--format", "jsonl", "--dry-run"]));
    assert!(text.contains("nothing was written"), "{text}");

    let out = import(&d, &file, &["--format", "jsonl"]);
    assert_eq!(json(&out)["unchanged"], 1);
    assert_eq!(show(&d, "dave")["email"], "dave@example.net");
}

#[test]
fn jsonl_carries_email_phone_sso_and_the_disabled_state() {
    let d = Daemon::start();
    let file = [
        r#"{"name": "gina", "email": "gina@example.org", "phone": "+44 7911 123456", "password": "Correct-Horse-Battery-9"}"#,
        r#"{"name": "hal", "sso": true}"#,
        r#"{"name": "ivy", "sso": "okta", "disabled": false}"#,
    ]
    .join("\n");
    assert_ok(&import(&d, &file, &["--format", "jsonl"]));
    let gina = show(&d, "gina");
    assert_eq!(gina["email"], "gina@example.org");
    assert_eq!(gina["phone"], "+447911123456");
    assert_eq!(gina["password_set"], true);
    assert_eq!(show(&d, "hal")["sso"], "sso");
    assert_eq!(show(&d, "ivy")["sso"], "okta");
    assert_ok(&verify(&d, "gina", GOOD_PW));

    // null removes a field, false makes an SSO account local again.
    let update = r#"{"name": "gina", "phone": null}
{"name": "hal", "sso": false}"#;
    assert_ok(&import(&d, update, &["--format", "jsonl"]));
    assert_eq!(show(&d, "gina")["phone"], serde_json::Value::Null);
    assert_eq!(show(&d, "hal")["sso"], serde_json::Value::Null);

    // "disabled": true disables (as `authctl disable`), false enables again.
    let disabled =
        "{\"name\": \"jo\", \"disabled\": true}\n{\"name\": \"gina\", \"disabled\": true}\n";
    assert_ok(&import(&d, disabled, &["--format", "jsonl"]));
    for name in ["jo", "gina"] {
        let shown = show(&d, name);
        assert_eq!(
            (&shown["disabled"], &shown["disabled_reason"]),
            (&true.into(), &"imported as disabled".into()),
            "{shown}"
        );
    }
    assert_error(&verify(&d, "gina", GOOD_PW), 1, "disabled");
    assert_ok(&import(
        &d,
        "{\"name\": \"gina\", \"disabled\": false}\n",
        &["--format", "jsonl"],
    ));
    assert_eq!(show(&d, "gina")["disabled"], false);
    assert_ok(&verify(&d, "gina", GOOD_PW));
    for (bad, says) in [
        (
            r#"{"name": "x", "emial": "x@example.org"}"#,
            "unknown field \\\"emial\\\"",
        ),
        (
            r#"{"name": "x", "password": "a", "password_hash": "b"}"#,
            "not both",
        ),
        (r#"{"name": "x", "phone": "12"}"#, "invalid phone number"),
        (r#"["x"]"#, "expected a JSON object"),
    ] {
        let out = import(&d, bad, &["--format", "jsonl"]);
        assert_error(&out, 65, "invalid_input");
        assert!(stdout(&out).contains(says), "{}", stdout(&out));
    }
    assert_error(&import(&d, "{}", &["--format", "jsonl", "-e"]), 2, "usage");
}

#[test]
fn only_admins_may_import() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    let out = d.ctl_as(
        NOBODY,
        &format!("mallory:{GOOD_PW}\n"),
        &["--json", "import"],
    );
    assert_error(&out, 77, "permission_denied");
    assert_eq!(accounts(&d), 0);
}

#[test]
fn ten_thousand_shadow_hashes_import_without_hashing_anything() {
    if !have("openssl") {
        return;
    }
    let d = Daemon::start();
    // Ten real hashes (openssl takes a while for each), shared out over the accounts.
    let passwords: String = (0..10).map(|i| format!("Shadow-Pass-{i}-xyz\n")).collect();
    let made = made_by("openssl", &["passwd", "-6", "-stdin"], &passwords);
    let hashes_made: Vec<&str> = made.lines().collect();
    assert_eq!(hashes_made.len(), 10);
    let file: String = (0..10_000)
        .map(|n| format!("u{n:05}:{}\n", hashes_made[n % 10]))
        .collect();
    let before = hashes(&d);
    let out = import(&d, &file, &["-e"]);
    assert_ok(&out);
    assert_eq!(json(&out)["created"], 10_000);
    assert_eq!(json(&out)["hashed"], 0);
    assert_eq!(accounts(&d), 10_000);
    assert_eq!(hashes(&d), before, "importing hashes ran no hash");
    assert_ok(&verify(&d, "u09997", "Shadow-Pass-7-xyz"));
    assert_eq!(hashes(&d), before + 1, "one login, one check");
}

#[test]
fn the_readme_shadow_pipelines_work_as_written() {
    if !(have("openssl") && have("mkpasswd")) {
        return;
    }
    let d = Daemon::start();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let pipelines: Vec<String> = readme
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("getent shadow | awk"))
        .map(str::to_string)
        .collect();
    assert_eq!(pipelines.len(), 2, "the dry run, then the import");
    let sha512 = made_by(
        "openssl",
        &["passwd", "-6", "-stdin"],
        "Shadow-Pass-Word-42\n",
    );
    let yescrypt = made_by(
        "mkpasswd",
        &["-m", "yescrypt", "--stdin"],
        "Yes-Crypt-Pass-99",
    );
    // What `getent shadow` prints: hashed, locked, password-less and md5 entries.
    let shadow = d.dir.path().join("shadow");
    std::fs::write(
        &shadow,
        format!(
            "root:*:19700:0:99999:7:::\n\
             carol:{sha512}:19700:0:99999:7:::\n\
             daemon:*:19700:0:99999:7:::\n\
             dave:{yescrypt}:19700:0:99999:7:::\n\
             locked:!{sha512}:19700:0:99999:7:::\n\
             old:$1$saltsalt$abcdefghijklmnopqrstuv:19700:0:99999:7:::\n"
        ),
    )
    .unwrap();
    let run = |pipeline: &str| {
        let script = pipeline
            .replace("getent shadow", "cat \"$SHADOW\"")
            .replace("authctl ", "\"$AUTHCTL\" --json ");
        Command::new("sh")
            .args(["-c", &script])
            .env("SHADOW", &shadow)
            .env("AUTHCTL", AUTHCTL)
            .env("AUTHD_SOCKET", &d.socket)
            .output()
            .unwrap()
    };
    let dry = run(&pipelines[0]);
    assert_ok(&dry);
    assert_eq!(json(&dry)["dry_run"], true);
    assert_eq!(json(&dry)["created"], 2);
    assert_eq!(accounts(&d), 0);
    let real = run(&pipelines[1]);
    assert_ok(&real);
    assert_eq!(json(&real)["created"], 2, "carol and dave, nobody else");
    assert_ok(&verify(&d, "carol", "Shadow-Pass-Word-42"));
    assert_ok(&verify(&d, "dave", "Yes-Crypt-Pass-99"));
    assert_error(&d.ctl(&["--json", "show", "locked"]), 67, "no_such_user");
}

#[test]
fn a_terminal_shows_a_progress_bar_and_json_or_a_pipe_stays_quiet() {
    if !have("script") {
        return;
    }
    let d = Daemon::start();
    let file = d.dir.path().join("plain.txt");
    let lines: String = (0..40)
        .map(|n| format!("bulk{n}:Strong-Pass-Word-{n}-xyz\n"))
        .collect();
    std::fs::write(&file, &lines).unwrap();
    let on_tty = |json: &str| {
        let command = format!(
            "{AUTHCTL} --socket {} {json} import < {}",
            d.socket.display(),
            file.display()
        );
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_ok(&out);
        stdout(&out)
    };
    let shown = on_tty("");
    assert!(shown.contains("hashing passwords"), "{shown:?}");
    assert!(
        shown.contains("imported 40 lines: 40 accounts created, 0 updated, 0 unchanged"),
        "{shown:?}"
    );
    let quiet = on_tty("--json");
    // The pty ends the line with \r\n; no bar drawn before it.
    assert!(
        !quiet.contains("hashing") && !quiet.trim_end().contains('\r'),
        "{quiet:?}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(quiet.trim()).unwrap()["updated"],
        40
    );
    // Not a terminal: only the count line, nothing on standard error.
    let piped = d.ctl_stdin(&lines, &["import"]);
    assert_ok(&piped);
    assert_eq!(stderr(&piped), "");
    assert!(stdout(&piped).starts_with("imported 40 lines"));
}
