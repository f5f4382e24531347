//! One helper that starts the real `authd` binary on a temp socket and state dir, and
//! runs the real `authctl` against it.
//!
//! Shared by the integration tests and the PAM tests (`#[path]`-included, with the
//! `peers` support module beside it at the crate root); it includes `process.rs`.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use authd::client::Client;

#[path = "process.rs"]
mod process;
pub use process::*;

#[path = "postgres.rs"]
pub mod suite_pg;

/// The built `authd`, `authctl`, `authd-key` or `libpam_authd.so`. Cargo names the first
/// two to the tests of their own package; the others (and all of them for the PAM tests,
/// in another package) are found in the target directory the test runs from
/// (`target/debug/deps/TEST` -> `target/debug`), built first by `build_workspace`, so a
/// plain `cargo test` needs no build step of its own.
pub fn built(name: &str) -> PathBuf {
    let named = match name {
        "authd" => option_env!("CARGO_BIN_EXE_authd"),
        "authctl" => option_env!("CARGO_BIN_EXE_authctl"),
        _ => None,
    };
    named.map(PathBuf::from).unwrap_or_else(|| {
        build_workspace();
        let exe = std::env::current_exe().unwrap();
        exe.parent().unwrap().parent().unwrap().join(name)
    })
}

/// `cargo build --workspace --features authd-key/softtoken`, once per test binary: what
/// `make test` builds, so nothing is rebuilt when that ran first (cargo then only checks
/// that everything is fresh), and `cargo test` alone still loads a current PAM module and
/// key helper. `cargo test` does not build other packages' libraries and binaries.
fn build_workspace() {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--workspace", "--features", "authd-key/softtoken"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo build --workspace failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A password the default policy accepts.
pub const GOOD_PW: &str = "Correct-Horse-Battery-9";

/// Cheap argon2 so tests stay fast; everything else at its documented default.
pub const TEST_CONFIG: &str = "[password]\nargon2_m_kib = 256\nargon2_t = 1\nhash_workers = 2\n";

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub config: PathBuf,
    launch: Launch,
    child: Option<Child>,
    /// The database of its own under `AUTHD_TEST_STORE=postgres` (`suite_store`),
    /// dropped after the daemon is stopped.
    db: Option<suite_pg::TestDb>,
}

/// Which store the suite runs on: `AUTHD_TEST_STORE=postgres` gives every daemon whose
/// config names no `[store]` a PostgreSQL database of its own (`make test` runs the
/// integration suite once on each store); otherwise sled, the default.
pub fn suite_on_postgres() -> bool {
    std::env::var("AUTHD_TEST_STORE").as_deref() == Ok("postgres")
}

/// A test that is about the sled store itself (its files, its sentinel, its recovery)
/// has nothing to check on PostgreSQL: it says so (on the real standard error, which the
/// harness does not capture) and returns `true` so the test can return early.
pub fn sled_only(what: &str) -> bool {
    if !suite_on_postgres() {
        return false;
    }
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let line = format!("sled only, not run on PostgreSQL: {test} ({what})\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    true
}

/// How authd is started: its log filter, and the umask it starts under (`None`: the
/// test's own).
struct Launch {
    rust_log: String,
    umask: Option<String>,
}

impl Default for Launch {
    fn default() -> Launch {
        Launch {
            rust_log: "info".into(),
            umask: None,
        }
    }
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
        Daemon::start_launched(body, Launch::default())
    }

    /// Start the way a promise about the process itself needs it: with `body` as the
    /// config, under `umask` and with `RUST_LOG=rust_log` (`start` always runs it with
    /// the test's umask and `RUST_LOG=info`; a claim such as "authd sets its own umask"
    /// or "no secret in any log line, even at debug level" needs the worst case).
    pub fn launch(body: &str, umask: &str, rust_log: &str) -> Daemon {
        let launch = Launch {
            rust_log: rust_log.into(),
            umask: Some(umask.into()),
        };
        Daemon::start_launched(body, launch)
    }

    /// `start_with_config`, logging at `rust_log` (e.g. `debug`, to see connections).
    pub fn start_logging(body: &str, rust_log: &str) -> Daemon {
        let launch = Launch {
            rust_log: rust_log.into(),
            umask: None,
        };
        Daemon::start_launched(body, launch)
    }

    fn start_launched(body: &str, launch: Launch) -> Daemon {
        let (dir, config) = Daemon::prepare(body);
        Daemon::from_existing_launched(dir, config, launch)
    }

    /// Start with exactly this config body on a state directory that already holds
    /// `key` as its secret key (another daemon's, as daemons sharing one database need).
    pub fn start_with_key(body: &str, key: &Path) -> Daemon {
        let (dir, config) = Daemon::prepare(body);
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
        let copy = state.join("secret.key");
        std::fs::copy(key, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
        Daemon::from_existing(dir, config)
    }

    /// A directory with the config file `body` (socket and state_dir added), not started.
    pub fn prepare(body: &str) -> (tempfile::TempDir, PathBuf) {
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
        (dir, config)
    }

    /// Start on a directory and config that already exist (e.g. a restored state).
    pub fn from_existing(dir: tempfile::TempDir, config: PathBuf) -> Daemon {
        Daemon::from_existing_launched(dir, config, Launch::default())
    }

    fn from_existing_launched(dir: tempfile::TempDir, config: PathBuf, launch: Launch) -> Daemon {
        let text = std::fs::read_to_string(&config).unwrap();
        let socket = text
            .lines()
            .find_map(|l| l.strip_prefix("socket = \""))
            .map(|s| PathBuf::from(s.trim_end_matches('"')))
            .unwrap();
        let db = (suite_on_postgres() && !text.contains("[store]")).then(|| {
            let db = suite_pg::TestDb::create();
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&config)
                .unwrap();
            std::io::Write::write_all(&mut file, format!("\n{}", db.store_config()).as_bytes())
                .unwrap();
            db
        });
        let mut daemon = Daemon {
            dir,
            socket,
            config,
            launch,
            child: None,
            db,
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
        let mut command = match &self.launch.umask {
            None => Command::new(built("authd")),
            Some(umask) => {
                let mut sh = Command::new("/bin/sh");
                sh.args(["-c", "umask \"$1\" && shift && exec \"$@\"", "sh", umask])
                    .arg(built("authd"));
                sh
            }
        };
        let child = command
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", &self.launch.rust_log)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let log = self.dir.path().join("authd.log");
        let child = self.child.as_mut().unwrap();
        wait_serving(&self.socket, child, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        });
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

    /// SIGTERM and wait for a clean exit.
    #[track_caller]
    pub fn stop(&mut self) {
        let status = self.terminate();
        assert!(status.success(), "{status}:\n{}", self.log());
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
        run_ctl(&built("authctl"), &self.socket, None, input, args)
    }

    /// authctl run as another uid/gid (needs root), from a copy other users can execute.
    pub fn ctl_as(&self, ids: (u32, u32), input: &str, args: &[&str]) -> Output {
        let bin = exposed_copy(built("authctl"), self.dir.path());
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

/// A `Verify` of `password` for `name`, with no code and no origin.
pub fn verify_request(name: &str, password: &str) -> authd::protocol::Request {
    authd::protocol::Request::Verify(authd::protocol::Verify {
        name: name.into(),
        password: authd::protocol::Secret::new(password),
        code: None,
        origin: authd::protocol::Origin::default(),
    })
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

/// Wait until `child`, an authd starting up, answers on `socket`; the test fails, with
/// `log()`, if it exits first or is not ready within 30 s.
#[track_caller]
pub fn wait_serving(socket: &Path, child: &mut Child, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Client::connect(socket, "test", Duration::from_secs(5)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("authd exited early ({status}):\n{}", log());
        }
        assert!(Instant::now() < deadline, "authd not ready:\n{}", log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GOOD_PW` as typed on standard input.
pub fn pw() -> String {
    format!("{GOOD_PW}\n")
}

/// `authctl --json show NAME`.
pub fn show(d: &Daemon, name: &str) -> serde_json::Value {
    json(&d.ctl(&["--json", "show", name]))
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
        "pkg-config" => "pkg-config",
        "mkpasswd" => "whois",
        other => other,
    };
    crate::peers::program(tool, package)
}
