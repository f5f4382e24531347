//! The PAM side of the pamtester tests: what they need from the machine, service files
//! in /etc/pam.d that load the built module, and pamtester answering the prompts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::daemon::{built, command_as, Daemon};
use crate::peers;

/// A stack with the module in every phase; `MODULE` and `SOCKET` are filled in.
pub const STACK: &str = "auth required MODULE socket=SOCKET\n\
                         account required MODULE socket=SOCKET\n\
                         password required MODULE socket=SOCKET\n";

/// Root (to write /etc/pam.d), pamtester and oathtool, and the built binaries.
#[track_caller]
pub fn ready() -> bool {
    let built = built("authd").exists() && module().exists();
    peers::root()
        && peers::program("pamtester", "pamtester")
        && peers::program("oathtool", "oathtool")
        && peers::need(
            built,
            "the built authd and pam_authd.so (`cargo build --workspace` first)",
        )
}

/// What most tests start from: a fresh authd and a service with the module in every
/// phase; `None` when the machine lacks what they need (the test returns: skipped
/// visibly, or failed by `ready`).
#[track_caller]
pub fn daemon_and_stack(suffix: &str) -> Option<(Daemon, Service)> {
    if !ready() {
        return None;
    }
    let d = Daemon::start();
    let svc = service(&d, suffix, STACK);
    Some((d, svc))
}

/// The built module.
pub fn module() -> PathBuf {
    built("libpam_authd.so")
}

/// A PAM service in /etc/pam.d, removed on drop.
pub struct Service {
    pub name: String,
    path: PathBuf,
}

impl Service {
    /// The service `authd-test-PID-SUFFIX` with exactly this stack.
    pub fn new(suffix: &str, stack: &str) -> Service {
        let name = format!("authd-test-{}-{suffix}", std::process::id());
        let path = Path::new("/etc/pam.d").join(&name);
        std::fs::write(&path, stack).unwrap();
        Service { name, path }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A service whose `stack` loads the built module against `d`'s socket.
pub fn service(d: &Daemon, suffix: &str, stack: &str) -> Service {
    let stack = stack
        .replace("MODULE", &module().display().to_string())
        .replace("SOCKET", &d.socket.display().to_string());
    Service::new(suffix, &stack)
}

/// `pamtester SERVICE USER OP` with `answers` typed at the prompts, one per line:
/// whether it succeeded, and everything it printed. `op` may name several operations
/// (`"authenticate acct_mgmt"`), run in order on one PAM handle until one fails.
pub fn pamtester(service: &Service, user: &str, op: &str, answers: &[&str]) -> (bool, String) {
    pamtester_as(None, service, user, op, answers)
}

/// `pamtester` as another uid/gid (through `setpriv`), as a screen locker runs.
pub fn pamtester_as(
    ids: Option<(u32, u32)>,
    service: &Service,
    user: &str,
    op: &str,
    answers: &[&str],
) -> (bool, String) {
    let input: String = answers.iter().map(|a| format!("{a}\n")).collect();
    let mut child = command_as(Path::new("pamtester"), ids)
        .args(["-v", &service.name, user])
        .args(op.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    (out.status.success(), printed(&out))
}

/// Standard output, then standard error.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
