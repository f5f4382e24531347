//! Hostile text on the admin's terminal: stored names, addresses, numbers and provider
//! names (a store planted while the daemon was stopped, as an old store or a crafted
//! backup holds them), an SMS gateway's error text, audit details from a client's
//! request origin, and the daemon's own messages. authctl's text output shows every
//! control, C1 and bidi character as a visible escape (even a newline inside a field);
//! `--json` gives the exact strings.

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use authd::audit::{Action, Event, Outcome};
use authd::codec;
use authd::protocol::{
    ErrorCode, Origin, Request, Response, Secret, StatusInfo, Verify, WireError, PROTOCOL_VERSION,
};
use authd::store::{Account, Store};
use serde_json::Value;

use crate::daemon::*;

/// Clear the screen, retitle the window, a C1 CSI, a right-to-left override, an isolate,
/// and a newline that would forge a line of output.
const HOSTILE: &str = "x\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}gro.elpmaxe\u{2066}\nforged";
/// `HOSTILE` as authctl must show it.
const SHOWN: &str = "x\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u{202e}gro.elpmaxe\\u{2066}\\nforged";

/// Characters a terminal acts on or that reorder text: C0 (but the line breaks authctl
/// writes itself), DEL, C1, and the bidi marks, embeddings, overrides and isolates.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}')
}

/// `out`'s standard output and error hold nothing a terminal would act on; returns stdout.
#[track_caller]
fn terminal_safe(out: &std::process::Output) -> String {
    for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8(bytes.clone()).expect("UTF-8 output");
        let bad: Vec<char> = text.chars().filter(|&c| unsafe_char(c)).collect();
        assert!(bad.is_empty(), "raw {bad:?} on {what}: {text:?}");
    }
    stdout(out)
}

/// Stop `d`, plant hostile fields on `mallory` and an account named `HOSTILE` through the
/// store API, each with a hostile audit event, and start `d` again.
fn plant(d: &mut Daemon) {
    d.terminate();
    let store = Store::open(&d.state_dir(), 8).unwrap();
    let event = Event::new(
        Action::AccountChanged,
        Outcome::Ok,
        &format!("uid 0 ({HOSTILE})"),
        HOSTILE.to_string(),
    );
    (&store as &dyn authd::store::Backend)
        .update_with("mallory", 0, |acc, _| {
            acc.email = Some(format!("{HOSTILE}@example.org"));
            acc.phone = Some(format!("+4930901820{HOSTILE}"));
            acc.sso = Some(HOSTILE.to_string());
            Ok(event.clone().into())
        })
        .unwrap();
    store
        .create(&Account::new(HOSTILE.to_string(), 0), &event, 0)
        .unwrap();
    store.flush_offline().unwrap();
    drop(store);
    d.spawn();
}

#[test]
fn stored_names_addresses_and_audit_entries_are_shown_escaped() {
    if crate::daemon::sled_only("plants records in the sled store offline") {
        return;
    }
    let mut d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "mallory"]));
    plant(&mut d);

    // list-users: one line per account, the newline inside the name escaped.
    let out = d.ctl(&["list-users"]);
    assert_ok(&out);
    assert_eq!(terminal_safe(&out), format!("mallory\n{SHOWN}\n"));
    let users = json(&d.ctl(&["--json", "list-users"]));
    assert_eq!(users["users"][1], HOSTILE);

    let out = d.ctl(&["show", "mallory"]);
    assert_ok(&out);
    let text = terminal_safe(&out);
    assert!(text.contains(&format!("email:               {SHOWN}@example.org\n")));
    assert!(text.contains(&format!("phone:               +4930901820{SHOWN}\n")));
    assert!(text.contains(&format!("sso:                 {SHOWN}\n")));
    let shown = json(&d.ctl(&["--json", "show", "mallory"]));
    assert_eq!(shown["email"], format!("{HOSTILE}@example.org"));
    assert_eq!(shown["phone"], format!("+4930901820{HOSTILE}"));
    assert_eq!(shown["sso"], HOSTILE);

    // The audit entry: actor and detail.
    let out = d.ctl(&["log", "mallory"]);
    assert_ok(&out);
    let text = terminal_safe(&out);
    let planted = text.lines().last().unwrap();
    assert!(
        planted.ends_with(&format!("uid 0 ({SHOWN})  {SHOWN}")),
        "{text}"
    );
    let log = json(&d.ctl(&["--json", "log", "mallory"]));
    let event = log["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["actor"]["text"], format!("uid 0 ({HOSTILE})"));
    assert_eq!(event["actor"]["user"], HOSTILE);
    assert_eq!(event["detail"], HOSTILE);
}

/// A gateway (transport `command`) that refuses every message for good, saying why
/// with escape sequences and a second line.
fn refusing_gateway(dir: &Path) -> String {
    let script = dir.join("gateway.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat >/dev/null\n\
         printf 'rejected \\033[2J\\033]0;owned\\007 \\302\\23331m \\342\\200\\256txet\\nforged' >&2\n\
         exit 65\n",
    )
    .unwrap();
    format!(
        "[sms]\ntransport = \"command\"\ncommand = [\"/bin/sh\", \"{}\"]\n",
        script.display()
    )
}

#[test]
fn a_gateway_error_with_escape_sequences_is_shown_escaped_by_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let sms = refusing_gateway(dir.path());
    let d = Daemon::start_with_config(&format!("{sms}\n{TEST_CONFIG}"));
    assert_ok(&d.ctl(&["add-user", "bob", "--phone", "+4930901820"]));
    assert_ok(&d.ctl(&["enable-sms", "bob"]));

    let stderr_text = "rejected \u{1b}[2J\u{1b}]0;owned\u{7} \u{9b}31m \u{202e}txet\nforged";
    let deadline = Instant::now() + Duration::from_secs(30);
    let message = loop {
        let out = json(&d.ctl(&["--json", "outbox"]));
        let first: Option<Value> = out["messages"].as_array().unwrap().first().cloned();
        if let Some(m) = first.filter(|m| m["state"] == "failed") {
            break m;
        }
        assert!(Instant::now() < deadline, "never failed: {out}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let last_error = message["last_error"].as_str().unwrap();
    assert!(last_error.ends_with(stderr_text), "{last_error:?}");

    let out = d.ctl(&["outbox"]);
    assert_ok(&out);
    let text = terminal_safe(&out);
    // The message's line and its last-error line: the gateway's newline stays inside.
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.ends_with("rejected \\x1b[2J\\x1b]0;owned\\x07 \\x9b31m \\u{202e}txet\\nforged\n"),
        "{text}"
    );
}

#[test]
fn a_login_origin_with_escape_bytes_is_stored_and_shown_escaped() {
    let d = Daemon::start();
    d.user_with_password("carol");
    let request = Request::Verify(Verify {
        name: "carol".into(),
        password: Secret::new(GOOD_PW),
        code: None,
        origin: Origin {
            service: Some("sshd\u{1b}[2J\u{202e}".into()),
            remote_host: Some("host\u{9b}31m\nforged".into()),
        },
    });
    assert!(matches!(
        d.client().call(&request).unwrap(),
        Response::Verified { .. }
    ));

    let stored = "service=sshd\\x1b[2J\\u{202e} rhost=host\\x9b31m\\nforged";
    let log = json(&d.ctl(&["--json", "log", "carol"]));
    let detail = log["events"].as_array().unwrap().last().unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.starts_with(stored), "{detail:?}");
    let out = d.ctl(&["log", "carol"]);
    assert_ok(&out);
    assert!(terminal_safe(&out).contains(stored));
}

/// A stand-in daemon on `socket` that welcomes a client, answers `Status` with `version`
/// and every other request with an `invalid_input` error saying `message`.
fn fake_daemon(socket: &Path, version: &'static str, message: &'static str) {
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            while let Ok(payload) = codec::read_frame_blocking(&mut stream) {
                let answer = match codec::decode::<Request>(&payload).unwrap() {
                    Request::Hello { .. } => Response::Welcome {
                        protocol: PROTOCOL_VERSION,
                        server_version: version.into(),
                    },
                    Request::Status => Response::Status(StatusInfo {
                        server_version: version.into(),
                        protocol: PROTOCOL_VERSION,
                        uptime_secs: 1,
                        accounts: 0,
                        schema_version: 1,
                        outbox_queued: 0,
                        outbox_failed: 0,
                        hash_workers: 1,
                        hashes: 0,
                    }),
                    _ => Response::Error(WireError {
                        code: ErrorCode::InvalidInput,
                        message: message.into(),
                        retry_at: None,
                    }),
                };
                let frame = codec::encode(&answer).unwrap();
                if codec::write_frame_blocking(&mut stream, &frame).is_err() {
                    break;
                }
            }
        }
    });
}

#[test]
fn the_daemons_messages_and_status_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("authd.sock");
    fake_daemon(&socket, HOSTILE, HOSTILE);
    let ctl = |args: &[&str]| run_ctl(Path::new(AUTHCTL), &socket, None, "", args);

    let out = ctl(&["show", "alice"]);
    assert_exit(&out, 65);
    terminal_safe(&out);
    assert_eq!(stderr(&out), format!("authctl: {SHOWN}\n"));
    let out = ctl(&["--json", "show", "alice"]);
    assert_exit(&out, 65);
    assert_eq!(json(&out)["error"]["code"], "invalid_input");
    assert_eq!(json(&out)["error"]["message"], HOSTILE);

    let out = ctl(&["status"]);
    assert_ok(&out);
    assert!(terminal_safe(&out).starts_with(&format!("authd {SHOWN} (protocol")));
    assert_eq!(json(&ctl(&["--json", "status"]))["server_version"], HOSTILE);
}
