//! authctl on a real terminal (a pty from `script`): it prompts, and what is typed at a
//! password prompt is not echoed.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::*;

/// Run authctl under a pty, answering each prompt once it appears; returns the whole
/// terminal transcript and the exit code.
fn on_tty(d: &Daemon, args: &str, answers: &[(&str, &str)]) -> (String, i32) {
    let cmd = format!("{AUTHCTL} --socket {} {args}", d.socket.display());
    // Killed if the test fails; authctl then gets a hangup from its closed terminal.
    let mut child = crate::spawned::Spawned::spawn(
        Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut transcript = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for (answered, (prompt, answer)) in answers.iter().enumerate() {
        while transcript.matches(prompt).count() <= answered_of(answers, answered, prompt) {
            assert!(
                Instant::now() < deadline,
                "no prompt {prompt:?}: {transcript}"
            );
            if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
                transcript.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        // Type only once authctl has turned echo off on its terminal: the prompt text
        // alone may come before that.
        while !echo_off(&d.socket) {
            assert!(
                Instant::now() < deadline,
                "echo never went off at {prompt:?}: {transcript}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    }
    let status = wait_timeout(&mut child, Duration::from_secs(30));
    // Everything it wrote, up to the end of the terminal (the reader then hangs up).
    while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(30)) {
        transcript.push_str(&String::from_utf8_lossy(&chunk));
    }
    (transcript, status.code().unwrap_or(-1))
}

/// Is the terminal of the authctl running against `socket` (unique to the test) in
/// no-echo mode? Read with `stty` from the process's own standard input.
fn echo_off(socket: &std::path::Path) -> bool {
    let socket = socket.display().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    for entry in procs.flatten() {
        let dir = entry.path();
        let Ok(cmdline) = std::fs::read(dir.join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.first().map(String::as_str) != Some(AUTHCTL) || !args.contains(&socket) {
            continue;
        }
        let tty = dir.join("fd/0");
        let Ok(out) = Command::new("stty").arg("-a").arg("-F").arg(&tty).output() else {
            return false;
        };
        return String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|flag| flag == "-echo");
    }
    false
}

/// How many times `prompt` was already answered among the first `done` answers.
fn answered_of(answers: &[(&str, &str)], done: usize, prompt: &str) -> usize {
    answers[..done].iter().filter(|(p, _)| *p == prompt).count()
}

#[test]
fn passwords_typed_at_the_prompt_are_not_echoed() {
    if !have("script") {
        return;
    }
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice"]));
    let (out, code) = on_tty(
        &d,
        "set-password alice",
        &[
            ("New password:", GOOD_PW),
            ("Retype new password:", GOOD_PW),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(GOOD_PW), "password echoed: {out}");

    let (out, code) = on_tty(&d, "verify alice", &[("Password:", GOOD_PW)]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("alice: verified") && !out.contains(GOOD_PW),
        "{out}"
    );

    let (out, code) = on_tty(
        &d,
        "set-password alice",
        &[
            ("New password:", GOOD_PW),
            ("Retype new password:", "Different-Horse-8"),
        ],
    );
    assert_eq!(code, 65, "{out}");
    assert!(out.contains("do not match"), "{out}");
}

#[test]
fn a_code_given_as_dash_is_asked_for_without_echo() {
    if !have("script") || !have("oathtool") {
        return;
    }
    let totp = |secret: &str, steps: i64| {
        let at = authd::time::now() as i64 + 30 * steps;
        let out = Command::new("oathtool")
            .args(["--totp", "-b", secret, &format!("--now=@{at}")])
            .output()
            .unwrap();
        stdout(&out).trim().to_string()
    };
    let d = Daemon::start();
    d.user_with_password("alice");
    let secret = json(&d.ctl(&["--json", "enable-totp", "alice"]))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let code = totp(&secret, 0);
    let (out, status) = on_tty(&d, "confirm-totp alice -", &[("Verification code:", &code)]);
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("verification is on") && !out.contains(&code),
        "{out}"
    );

    let code = totp(&secret, 1);
    let (out, status) = on_tty(
        &d,
        "verify alice --code -",
        &[("Password:", GOOD_PW), ("Verification code:", &code)],
    );
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("alice: verified") && !out.contains(&code),
        "{out}"
    );

    // Nothing typed at the code prompt: the message says so, not which option to pass.
    let (out, status) = on_tty(
        &d,
        "verify alice",
        &[("Password:", GOOD_PW), ("Verification code:", "")],
    );
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("no code was entered at the prompt"), "{out}");
    assert!(!out.contains("--code"), "{out}");
}

/// `su USER -c 'authctl set-password alice'`: stdin is the terminal, but the new session
/// has no controlling terminal to prompt on. authctl says what to do instead, exit 2.
#[test]
fn a_prompt_without_a_controlling_terminal_says_what_to_do() {
    if !have("script") || !have("setsid") {
        return;
    }
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice"]));
    let cmd = format!(
        "setsid -w {AUTHCTL} --socket {} set-password alice",
        d.socket.display()
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("no controlling terminal") && said.contains("--password-stdin"),
        "{said}"
    );
    assert!(said.contains("--pty"), "{said}");
}
