//! The security-key step's device side: the module runs the helper program `authd-key`
//! (`key_helper=`), which holds the USB and CTAP2 code, so this module keeps its small
//! crate set. The helper gets authd's assertion options and origin, talks to a key
//! already plugged in, and reports events on its standard output (`touch`, `pin`, then
//! `ok JSON`, `nokey MESSAGE` or `fail MESSAGE`); the module relays the prompts through
//! the PAM conversation and kills the helper at `key_timeout=`.
//!
//! The helper runs with the application's privileges (root for login and sudo), so it
//! must be a regular file owned by root (or by the application's own user, a screen
//! locker's) in a directory owned likewise, neither writable by group or others;
//! anything else is not run. It gets a clean environment and no
//! standard error. Whatever it answers, authd checks the key's signature: a helper can
//! make a login fail, never succeed.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use authd_proto::protocol::Secret;

use crate::logic::Pam;

/// The most the helper may print (an answer is a few KiB).
const MAX_OUTPUT: u64 = 256 * 1024;

/// How the key step ended on the device side.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    /// The key's answer (a `PublicKeyCredential` JSON) for authd to check.
    Answer(Secret),
    /// No key is plugged in, none of the account's keys answered, or none in time.
    NoKey(String),
    /// The helper could not be run or the key failed: the message says what.
    Failed(String),
}

/// Something that answers authd's assertion options with a key.
pub trait Keys {
    fn assert(&mut self, pam: &mut dyn Pam, origin: &str, options: &str) -> KeyOutcome;
}

/// The helper program, run for one assertion.
pub struct Helper {
    pub path: PathBuf,
    pub timeout: Duration,
}

/// Root's (or our own user's) file in such a directory, writable by nobody else.
fn safe(path: &Path) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let unsafe_ = |what: &str| format!("{} is not run: {what}", path.display());
    let file = std::fs::metadata(path).map_err(|e| unsafe_(&e.to_string()))?;
    if !file.is_file() {
        return Err(unsafe_("not a regular file"));
    }
    let dir = path
        .parent()
        .ok_or_else(|| unsafe_("no directory"))
        .and_then(|d| std::fs::metadata(d).map_err(|e| unsafe_(&e.to_string())))?;
    for (what, meta) in [("the file", &file), ("its directory", &dir)] {
        if meta.uid() != 0 && meta.uid() != euid {
            return Err(unsafe_(&format!("{what} is not owned by root")));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(unsafe_(&format!("{what} is writable by group or others")));
        }
    }
    Ok(())
}

/// Kill and reap: no helper outlives the step.
fn end(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Send one line to the helper. Its standard input is a socket, written with
/// MSG_NOSIGNAL: a helper that went away must not raise SIGPIPE in the application
/// (sshd, sudo), whose default action would kill it.
fn send_line(to: &UnixStream, line: &str) -> std::io::Result<()> {
    let line = format!("{line}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        // SAFETY: the socket is open for the call and `rest` is a live, initialised buffer
        // of the length given.
        let sent = unsafe {
            libc::send(
                to.as_raw_fd(),
                rest.as_ptr().cast(),
                rest.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        match usize::try_from(sent) {
            Ok(n) if n > 0 => rest = &rest[n.min(rest.len())..],
            _ => {
                let error = std::io::Error::last_os_error();
                if error.kind() != std::io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    Ok(())
}

impl Helper {
    /// The helper, started; its standard input is the other end of the returned socket.
    fn spawn(&self, origin: &str) -> Result<(Child, UnixStream), String> {
        safe(&self.path)?;
        let (ours, theirs) =
            UnixStream::pair().map_err(|e| format!("cannot run the key helper: {e}"))?;
        Command::new(&self.path)
            .args(["assert", "--origin", origin, "--events", "--no-wait"])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map(|child| (child, ours))
            .map_err(|e| format!("cannot run {}: {e}", self.path.display()))
    }

    /// Relay the helper's events until its final one, or the deadline.
    fn relay(
        &self,
        child: &mut Child,
        stdin: &UnixStream,
        pam: &mut dyn Pam,
        options: &str,
    ) -> KeyOutcome {
        let Some(stdout) = child.stdout.take() else {
            return KeyOutcome::Failed("the key helper has no output".into());
        };
        // JSON's own newlines are blanks between tokens: one line holds it all. A helper
        // that stopped at once says why (or nothing) on its output: read on.
        let _ = send_line(stdin, &options.replace(['\n', '\r'], " "));
        let (send, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout.take(MAX_OUTPUT)).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match events.recv_timeout(left) {
                Ok(event) => event,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return KeyOutcome::NoKey("the security key did not answer in time".into())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return KeyOutcome::Failed("the key helper stopped without an answer".into())
                }
            };
            let (kind, rest) = event.split_once(' ').unwrap_or((event.as_str(), ""));
            match kind {
                "touch" => pam.info("Touch your security key."),
                "pin" => match pam.prompt("Security key PIN: ") {
                    Ok(Some(pin)) => {
                        if send_line(stdin, pin.expose()).is_err() {
                            return KeyOutcome::Failed("the key helper stopped".into());
                        }
                    }
                    _ => return KeyOutcome::Failed("no PIN was given".into()),
                },
                "ok" => return KeyOutcome::Answer(Secret::new(rest)),
                "nokey" => return KeyOutcome::NoKey(rest.into()),
                "fail" => return KeyOutcome::Failed(rest.into()),
                // `plug` (not sent with --no-wait) and anything newer: nothing to show.
                _ => {}
            }
        }
    }
}

impl Keys for Helper {
    fn assert(&mut self, pam: &mut dyn Pam, origin: &str, options: &str) -> KeyOutcome {
        let (mut child, stdin) = match self.spawn(origin) {
            Ok(spawned) => spawned,
            Err(why) => return KeyOutcome::Failed(why),
        };
        let outcome = self.relay(&mut child, &stdin, pam, options);
        end(&mut child);
        outcome
    }
}

#[cfg(test)]
mod tests;
