//! Mail a test receives: a real SMTP server (aiosmtpd, `tests/smtp_sink.py`) that saves
//! every message into a directory, the messages in such a directory (the sink's or the
//! file transport's), and the reset links in them.
//!
//! Shared by the integration tests and authd-web's tests (`#[path]`-included); needs the
//! `daemon`, `peers` and `spawned` modules next to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::spawned::Spawned;

const PYTHON: &str = "/usr/bin/python3";
const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

#[track_caller]
pub fn aiosmtpd_available() -> bool {
    let found = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    crate::peers::need(found, "aiosmtpd (Debian package python3-aiosmtpd)")
}

/// A real SMTP server that saves every message it accepts into `dir`; stopped when
/// dropped.
pub struct SmtpSink {
    child: Spawned,
}

impl SmtpSink {
    pub fn start(port: u16, dir: &Path) -> SmtpSink {
        // Compiled in, so that it is found from any package's tests.
        let script = include_str!("../smtp_sink.py");
        // Guarded from the start: if it never says "ready", the failing test kills it.
        let mut child = Spawned::spawn(
            Command::new(PYTHON)
                .arg("-c")
                .arg(script)
                .arg(port.to_string())
                .arg(dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "SMTP sink did not start");
        SmtpSink { child }
    }
}

impl Drop for SmtpSink {
    /// SIGTERM and a short wait, so aiosmtpd closes its port; then `Spawned` kills
    /// whatever is left. Nothing here may panic (it runs while a failed test unwinds),
    /// and a failing test does not wait.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Ok(Some(_)) | Err(_) => return,
            }
        }
    }
}

/// The .eml files in `dir`, oldest first (by modification time: the file transport
/// names files by UUID).
pub fn mails(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// Wait until `dir` holds at least `n` mails.
pub fn wait_for_mails(dir: &Path, n: usize) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = mails(dir);
        if found.len() >= n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} mails arrived",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The reset links (`…/reset/link?token=…`, as `[web] public_url` makes them) in the
/// mails in `dir`, oldest mail first; mails without one (a "password changed" notice)
/// are passed over.
pub fn reset_links(dir: &Path) -> Vec<String> {
    mails(dir)
        .iter()
        .filter_map(|file| {
            let raw = std::fs::read(file).unwrap();
            let body = mailparse::parse_mail(&raw).unwrap().get_body().unwrap();
            body.lines()
                .map(str::trim)
                .find(|l| l.starts_with("http") && l.contains("/reset/link?token="))
                .map(str::to_string)
        })
        .collect()
}

/// Wait until `dir` holds at least `n` reset links: the `n`th (from 1).
pub fn wait_for_reset_link(dir: &Path, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let links = reset_links(dir);
        if links.len() >= n {
            return links[n - 1].clone();
        }
        assert!(Instant::now() < deadline, "reset mail {n} did not arrive");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The reset token in a reset mail's text: the line after "paste this token when it asks
/// for it:" (`authctl reset-password --token -` reads it at a prompt, out of argv).
pub fn reset_token_in(text: &str) -> Option<String> {
    let (_, after) = text.split_once("paste this token when it asks for it:")?;
    after
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}
