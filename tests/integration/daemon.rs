//! One helper that starts the real `authd` binary on a temp socket and state dir, and
//! runs the real `authctl` against it.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use authd::client::Client;

pub const AUTHD: &str = env!("CARGO_BIN_EXE_authd");
pub const AUTHCTL: &str = env!("CARGO_BIN_EXE_authctl");

/// A password the default policy accepts.
pub const GOOD_PW: &str = "Correct-Horse-Battery-9";

/// Cheap argon2 so tests stay fast; everything else at its documented default.
pub const TEST_CONFIG: &str = "[password]\nargon2_m_kib = 256\nargon2_t = 1\nhash_workers = 2\n";

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub config: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    /// Start with the test config.
    pub fn start() -> Daemon {
        Daemon::start_with("")
    }

    /// Start with extra top-level keys prepended to the test config (e.g. `frame_timeout`).
    pub fn start_with(extra: &str) -> Daemon {
        Daemon::start_with_config(&format!("{extra}\n{TEST_CONFIG}"))
    }

    /// Start with exactly this config body (socket and state_dir are added).
    pub fn start_with_config(body: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        // Other uids (the authorization tests) must reach the socket; state stays 0700.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = dir.path().join("authd.toml");
        let text = format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{body}",
            dir.path().join("authd.sock").display(),
            dir.path().join("state").display()
        );
        std::fs::write(&config, text).unwrap();
        Daemon::from_existing(dir, config)
    }

    /// Start on a directory and config that already exist (e.g. a restored state).
    pub fn from_existing(dir: tempfile::TempDir, config: PathBuf) -> Daemon {
        let text = std::fs::read_to_string(&config).unwrap();
        let socket = text
            .lines()
            .find_map(|l| l.strip_prefix("socket = \""))
            .map(|s| PathBuf::from(s.trim_end_matches('"')))
            .unwrap();
        let mut daemon = Daemon {
            dir,
            socket,
            config,
            child: None,
        };
        daemon.spawn();
        daemon
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("authd.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    /// Start (again) on the same config and state, and wait until it answers.
    pub fn spawn(&mut self) {
        self.spawn_with(&[]);
    }

    /// `spawn` with extra authd arguments (e.g. `--force-open`).
    pub fn spawn_with(&mut self, args: &[&str]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("authd.log"))
            .unwrap();
        let child = Command::new(AUTHD)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if Client::connect(&self.socket, "test", Duration::from_secs(5)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("authd exited early ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "authd not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to clean up or flush.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("daemon running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        signal(child.id(), "TERM");
        wait_timeout(&mut child, Duration::from_secs(30))
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket, "test", Duration::from_secs(30)).unwrap()
    }

    /// `authctl --socket S ARGS...`
    pub fn ctl(&self, args: &[&str]) -> Output {
        self.ctl_stdin("", args)
    }

    /// `authctl --socket S --password-stdin ARGS...` with `input` on stdin.
    pub fn ctl_stdin(&self, input: &str, args: &[&str]) -> Output {
        run_ctl(Path::new(AUTHCTL), &self.socket, None, input, args)
    }

    /// authctl run as another uid/gid (needs root), from a copy other users can execute.
    pub fn ctl_as(&self, ids: (u32, u32), input: &str, args: &[&str]) -> Output {
        let bin = exposed_copy(AUTHCTL, self.dir.path());
        run_ctl(&bin, &self.socket, Some(ids), input, args)
    }

    /// Add `name` and give it `GOOD_PW`, asserting both succeed.
    pub fn user_with_password(&self, name: &str) {
        assert_ok(&self.ctl(&["add-user", name]));
        assert_ok(&self.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", name]));
    }

    /// `account`'s audit events (`authctl --json log`) whose action is `action`.
    pub fn events(&self, account: &str, action: &str) -> Vec<serde_json::Value> {
        let log = json(&self.ctl(&["--json", "log", account]));
        log["events"]
            .as_array()
            .unwrap_or_else(|| panic!("no events in: {log}"))
            .iter()
            .filter(|e| e["action"] == action)
            .cloned()
            .collect()
    }

    /// Messages in the outbox (queued or failed), from `authctl --json status`.
    pub fn outbox_len(&self) -> u64 {
        let status = json(&self.ctl(&["--json", "status"]));
        status["outbox_queued"].as_u64().unwrap() + status["outbox_failed"].as_u64().unwrap()
    }

    /// Resident set size of the daemon, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A copy of `bin` in `dir` (mode 0755), for running as another uid: the build tree
/// may sit below a directory that uid cannot enter.
pub fn exposed_copy(bin: &str, dir: &Path) -> PathBuf {
    let name = Path::new(bin).file_name().unwrap();
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
        assert!(status.success(), "cannot copy {bin}");
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
    let mut cmd = command_as(bin, as_uid);
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

/// A `Verify` of `password` for `name`, with no code and no origin.
pub fn verify_request(name: &str, password: &str) -> authd::protocol::Request {
    authd::protocol::Request::Verify(authd::protocol::Verify {
        name: name.into(),
        password: authd::protocol::Secret::new(password),
        code: None,
        origin: authd::protocol::Origin::default(),
    })
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

/// The instant printed after `expires at` in `out` (`send-reset`, `enable-sms`,
/// `send-code`), as unix seconds.
#[track_caller]
pub fn expires_at(out: &Output) -> u64 {
    let text = stdout(out);
    let at = text
        .split("expires at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|t| t.trim_end_matches([')', '.', ',']))
        .unwrap_or_else(|| panic!("no expiry in: {text}"));
    humantime::parse_rfc3339(at)
        .unwrap_or_else(|e| panic!("{at}: {e}"))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Wait until the clock the daemon reads (the same wall clock) reaches `at`: from then
/// on, whatever expires at `at` is expired for the daemon (its rule is `expires <= now`).
pub fn wait_for_clock(at: u64) {
    wait_until("the expiry instant", || {
        (authd::time::now() >= at).then_some(())
    });
}

/// Parse `--json` output.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

/// Is the peer program `tool` installed? Missing: the test fails, or with
/// `AUTHD_TEST_ALLOW_SKIP=1` is skipped visibly (see tests/support/peers.rs).
#[track_caller]
pub fn have(tool: &str) -> bool {
    let package = match tool {
        "oathtool" => "oathtool",
        "zbarimg" => "zbar-tools",
        "groff" => "groff",
        "script" | "setpriv" => "util-linux",
        "systemd-socket-activate" | "systemd-analyze" => "systemd",
        "make" => "make",
        "pamtester" => "pamtester",
        other => other,
    };
    crate::peers::program(tool, package)
}
