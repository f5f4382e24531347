//! What a test needs from the machine — a peer program (oathtool, pamtester, aiosmtpd),
//! root, another uid — and what happens when it is missing: the test FAILS, unless
//! `AUTHD_TEST_ALLOW_SKIP=1` is set, in which case it is skipped *visibly*: a line on the
//! real standard error (which the test harness does not capture) and, when
//! `AUTHD_TEST_SKIP_LOG` names a file, a line there, which `make test` counts and prints.
//! A skipped test still shows as `ok` in the harness's own tally; the skip count is the
//! one to read. CI never sets `AUTHD_TEST_ALLOW_SKIP`, so there every peer is required.
//!
//! Shared by the integration tests and the PAM tests (`#[path]`-included).

#![allow(dead_code)]

use std::io::Write;
use std::process::Command;

/// `present`, or fail the test — or, where skips are allowed, report a skip and return
/// false so the test can return early.
#[track_caller]
pub fn need(present: bool, what: &str) -> bool {
    if present {
        return true;
    }
    let allowed = std::env::var("AUTHD_TEST_ALLOW_SKIP").as_deref() == Ok("1");
    assert!(
        allowed,
        "this test needs {what}; install it (`make test` does, as root) or set \
         AUTHD_TEST_ALLOW_SKIP=1 to skip such tests visibly"
    );
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_string();
    let line = format!("SKIPPED {test}: needs {what}\n");
    // Straight to the file descriptor: the harness captures `eprintln!`, not this.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(log) = std::env::var_os("AUTHD_TEST_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
    false
}

/// Is `program` on the PATH?
pub fn on_path(program: &str) -> bool {
    Command::new("which")
        .arg(program)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The peer program `program` (from the Debian package `package`).
#[track_caller]
pub fn program(program: &str, package: &str) -> bool {
    need(
        on_path(program),
        &format!("the program `{program}` (Debian package {package})"),
    )
}

/// Running as root (switching uids, writing /etc/pam.d, creating groups).
#[track_caller]
pub fn root() -> bool {
    need(nix_root(), "root")
}

fn nix_root() -> bool {
    // `id -u`: the PAM test crate has no nix of its own.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
