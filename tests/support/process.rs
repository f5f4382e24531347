//! Running a program as a test does — as another uid, with input on standard input,
//! with a deadline — and reading what it did: exit code, output, `--json`.
//!
//! Part of the daemon helper (tests/support/daemon.rs), shared with the PAM tests.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A copy of `bin` in `dir` (mode 0755), for running as another uid: the build tree
/// may sit below a directory that uid cannot enter.
pub fn exposed_copy(bin: impl AsRef<Path>, dir: &Path) -> PathBuf {
    let bin = bin.as_ref();
    let name = bin.file_name().unwrap();
    let copy = dir.join(name);
    if !copy.exists() {
        // Copied by a child process: a descriptor open for writing in this (threaded)
        // process would be inherited by children other tests fork meanwhile, and
        // executing the copy would then fail with "Text file busy".
        let status = Command::new("install")
            .args(["-m", "0755"])
            .arg(bin)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(status.success(), "cannot copy {}", bin.display());
    }
    copy
}

/// `bin` as it is, or as another uid/gid through `setpriv` (tests run as root).
pub fn command_as(bin: &Path, as_uid: Option<(u32, u32)>) -> Command {
    match as_uid {
        None => Command::new(bin),
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg(bin);
            c
        }
    }
}

/// Run authctl `bin` against `socket`, optionally as another uid.
pub fn run_ctl(
    bin: &Path,
    socket: &Path,
    as_uid: Option<(u32, u32)>,
    input: &str,
    args: &[&str],
) -> Output {
    run_ctl_env(bin, socket, as_uid, &[], input, args)
}

/// `run_ctl` with `env` set for authctl (e.g. the test build's soft token).
pub fn run_ctl_env(
    bin: &Path,
    socket: &Path,
    as_uid: Option<(u32, u32)>,
    env: &[(&str, &str)],
    input: &str,
    args: &[&str],
) -> Output {
    let mut cmd = command_as(bin, as_uid);
    cmd.envs(env.iter().copied());
    cmd.arg("--socket").arg(socket);
    if !input.is_empty() {
        cmd.arg("--password-stdin");
    }
    let mut child = cmd
        .args(args)
        .env_remove("AUTHD_SOCKET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A large input may be refused before it is all read: a broken pipe is fine.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    child.wait_with_output().unwrap()
}

pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn wait_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
pub fn assert_exit(out: &Output, want: i32) {
    assert_eq!(
        code(out),
        want,
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

#[track_caller]
pub fn assert_ok(out: &Output) {
    assert_exit(out, 0);
}

/// Exit status `exit` and, in the `--json` error object, the code `error` (the reason:
/// `denied` and `second_factor_required` share exit 1, `locked` and `rate_limited` 75).
/// The command must have run with `--json`.
#[track_caller]
pub fn assert_error(out: &Output, exit: i32, error: &str) {
    assert_exit(out, exit);
    assert_eq!(
        json(out)["error"]["code"],
        error,
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

/// Poll `check` until it gives a value; a generous deadline, no fixed sleep.
#[track_caller]
pub fn wait_until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Parse `--json` output.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}
