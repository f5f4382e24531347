//! The real PAM stack: pamtester loads the built pam_authd.so (by absolute path, from a
//! service file in /etc/pam.d) and talks to a real authd. Needs root, pamtester and
//! oathtool, and `cargo build --workspace` first; without them a test fails (or, with
//! AUTHD_TEST_ALLOW_SKIP=1, is skipped visibly: tests/support/peers.rs).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PW: &str = "Correct-Horse-Battery-9";

/// Cheap argon2, so the tests stay fast.
const CHEAP: &str = "[password]\nargon2_m_kib = 256\nargon2_t = 1\n";

fn target_dir() -> PathBuf {
    // target/debug/deps/pamtester-HASH -> target/debug
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

use spawned::Spawned;

/// Root (to write /etc/pam.d), pamtester and oathtool, and the built binaries.
#[track_caller]
fn ready() -> bool {
    let built = target_dir().join("authd").exists() && module().exists();
    peers::root()
        && peers::program("pamtester", "pamtester")
        && peers::program("oathtool", "oathtool")
        && peers::need(
            built,
            "the built authd and pam_authd.so (`cargo build --workspace` first)",
        )
}

fn module() -> PathBuf {
    target_dir().join("libpam_authd.so")
}

struct Authd {
    /// Holds the socket and state; removed when the test ends.
    _dir: tempfile::TempDir,
    socket: PathBuf,
    child: Option<Spawned>,
}

impl Authd {
    fn start() -> Authd {
        Authd::start_with(CHEAP, Stdio::null())
    }

    /// With this config body (socket and state_dir are added), the daemon's log going
    /// to `log`.
    fn start_with(body: &str, log: Stdio) -> Authd {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("authd.sock");
        let config = dir.path().join("authd.toml");
        std::fs::write(
            &config,
            format!(
                "socket = \"{}\"\nstate_dir = \"{}\"\n{body}",
                socket.display(),
                dir.path().join("state").display()
            ),
        )
        .unwrap();
        // Guarded at once: if it never answers, the failing test kills it.
        let child = Spawned::spawn(
            Command::new(target_dir().join("authd"))
                .arg("--config")
                .arg(&config)
                .env("RUST_LOG", "debug")
                .stderr(log),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while authd::client::Client::connect(&socket, "test", Duration::from_secs(5)).is_err() {
            assert!(Instant::now() < deadline, "authd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Authd {
            _dir: dir,
            socket,
            child: Some(child),
        }
    }

    fn ctl(&self, input: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(target_dir().join("authctl"));
        cmd.arg("--socket").arg(&self.socket);
        if !input.is_empty() {
            cmd.arg("--password-stdin");
        }
        run(cmd.args(args), input)
    }

    fn stop(&mut self) {
        drop(self.child.take());
    }

    /// A PAM service (in /etc/pam.d, removed on drop) whose stack loads the module.
    fn service(&self, name: &str, stack: &str) -> Service {
        let name = format!("authd-test-{}-{name}", std::process::id());
        let path = Path::new("/etc/pam.d").join(&name);
        let text = stack
            .replace("MODULE", &module().display().to_string())
            .replace("SOCKET", &self.socket.display().to_string());
        std::fs::write(&path, text).unwrap();
        Service { name, path }
    }
}

impl Drop for Authd {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Service {
    name: String,
    path: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn run(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

/// `pamtester SERVICE USER OP` with `answers` typed at the prompts, one per line.
fn pamtester(service: &Service, user: &str, op: &str, answers: &[&str]) -> (bool, String) {
    let input: String = answers.iter().map(|a| format!("{a}\n")).collect();
    let out = run(
        Command::new("pamtester").args(["-v", &service.name, user, op]),
        &input,
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn oathtool(secret: &str, steps: i64) -> String {
    let at = authd::time::now() as i64 + 30 * steps;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, &format!("--now=@{at}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn add_user(d: &Authd, name: &str) {
    assert!(d.ctl("", &["add-user", name]).status.success());
    assert!(d
        .ctl(&format!("{PW}\n"), &["set-password", name])
        .status
        .success());
}

const STACK: &str = "auth required MODULE socket=SOCKET\n\
                     account required MODULE socket=SOCKET\n\
                     password required MODULE socket=SOCKET\n";

/// Enrol `name` in TOTP with oathtool; the base32 secret and the recovery codes.
fn enrol(d: &Authd, name: &str) -> (String, Vec<String>) {
    let enrol = d.ctl("", &["--json", "enable-totp", name]);
    let enrol: serde_json::Value = serde_json::from_slice(&enrol.stdout).unwrap();
    let secret = enrol["secret"].as_str().unwrap().to_string();
    let confirm = d.ctl("", &["--json", "confirm-totp", name, &oathtool(&secret, 0)]);
    assert!(confirm.status.success());
    let confirm: serde_json::Value = serde_json::from_slice(&confirm.stdout).unwrap();
    let codes = serde_json::from_value(confirm["recovery_codes"].clone()).unwrap();
    (secret, codes)
}

#[test]
fn the_right_password_logs_in_and_a_wrong_one_is_auth_err() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    let svc = d.service("password", STACK);
    add_user(&d, "alice");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW]);
    assert!(ok, "{text}");
    assert!(!text.contains("Verification code"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &["wrong-password-1"]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
}

#[test]
fn an_app_code_follows_the_password_and_a_wrong_code_fails() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    let svc = d.service("totp", STACK);
    add_user(&d, "alice");
    let (secret, _) = enrol(&d, "alice");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW, &oathtool(&secret, 1)]);
    assert!(ok, "{text}");
    assert!(text.contains("Verification code"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW, "000000"]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
    // The PAM service is in the account's audit trail.
    let log = String::from_utf8_lossy(&d.ctl("", &["log", "alice"]).stdout).to_string();
    assert!(log.contains(&format!("service={}", svc.name)), "{log}");
}

#[test]
fn a_recovery_code_logs_in_once() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    let svc = d.service("recovery", STACK);
    add_user(&d, "alice");
    let (_, codes) = enrol(&d, "alice");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW, &codes[0]]);
    assert!(ok, "recovery code: {text}");
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW, &codes[0]]);
    assert!(!ok && text.contains("Authentication failure"), "{text}");
}

#[test]
fn a_locked_account_is_maxtries_and_account_management_refuses_it() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    let svc = d.service("lockout", STACK);
    add_user(&d, "alice");
    add_user(&d, "bob");
    for _ in 0..5 {
        let (ok, _) = pamtester(&svc, "bob", "authenticate", &["wrong-password-1"]);
        assert!(!ok);
    }
    let (ok, text) = pamtester(&svc, "bob", "authenticate", &[PW]);
    assert!(!ok && text.contains("maximum number of retries"), "{text}");
    let (ok, text) = pamtester(&svc, "bob", "acct_mgmt", &[]);
    assert!(!ok && text.contains("locked until"), "{text}");
    let (ok, text) = pamtester(&svc, "alice", "acct_mgmt", &[]);
    assert!(ok, "{text}");
}

#[test]
fn unknown_users_are_user_unknown_or_left_to_the_stack_with_nullok() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    let svc = d.service("unknown", STACK);
    let (ok, text) = pamtester(&svc, "nobody-here", "authenticate", &[PW]);
    assert!(!ok && text.contains("User not known"), "{text}");
    let ignoring = d.service(
        "nullok",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET nullok\n\
         auth required pam_deny.so\n",
    );
    let (ok, text) = pamtester(&ignoring, "nobody-here", "authenticate", &[PW]);
    assert!(
        !ok && !text.contains("User not known"),
        "ignored, then pam_deny: {text}"
    );
    let permitting = d.service(
        "nullok-permit",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET nullok\n\
         auth required pam_permit.so\n",
    );
    let (ok, text) = pamtester(&permitting, "nobody-here", "authenticate", &[PW]);
    assert!(ok, "PAM_IGNORE lets the next module decide: {text}");
}

#[test]
fn chauthtok_changes_the_password_with_a_code_and_refuses_a_wrong_current_one() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    let svc = d.service("chauthtok", STACK);
    add_user(&d, "alice");
    let (_, codes) = enrol(&d, "alice");
    let new = "Purple-Monkey-Dishwasher-42";
    // A wrong current password: PAM_AUTHTOK_RECOVERY_ERR, and nothing changes.
    let (ok, text) = pamtester(
        &svc,
        "alice",
        "chauthtok",
        &["wrong-password-1", new, new, &codes[0]],
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("Authentication information cannot be recovered"),
        "{text}"
    );
    // Current, new twice, and a code (a recovery code here).
    let (ok, text) = pamtester(&svc, "alice", "chauthtok", &[PW, new, new, &codes[1]]);
    assert!(ok, "{text}");
    let verify = d.ctl(
        &format!("{new}\n"),
        &["verify", "alice", "--code", &codes[2]],
    );
    assert!(verify.status.success(), "the new password works");
    let old = d.ctl(
        &format!("{PW}\n"),
        &["verify", "alice", "--code", &codes[3]],
    );
    assert!(!old.status.success(), "the old password no longer does");
}

#[test]
fn a_stopped_authd_is_authinfo_unavail_never_success() {
    if !ready() {
        return;
    }
    let mut d = Authd::start();
    let svc = d.service("stopped", STACK);
    add_user(&d, "alice");
    d.stop();
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW]);
    assert!(
        !ok && text.contains("cannot retrieve authentication info"),
        "{text}"
    );
}

/// A screen locker runs as the user: it may ask authd about its own account, and a
/// question about another account is PAM_AUTH_ERR (authd refuses it), never success.
#[test]
fn a_screen_locker_may_check_its_own_account_only() {
    use std::os::unix::fs::PermissionsExt;
    if !ready() {
        return;
    }
    let d = Authd::start();
    // nobody must reach the socket and load a copy of the module.
    let exposed =
        |p: &Path| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    exposed(d.socket.parent().unwrap());
    let lib = tempfile::tempdir().unwrap();
    exposed(lib.path());
    let copy = lib.path().join("pam_authd.so");
    std::fs::copy(module(), &copy).unwrap();
    exposed(&copy);
    let path = Path::new("/etc/pam.d").join(format!("authd-test-{}-locker", std::process::id()));
    std::fs::write(
        &path,
        format!(
            "auth required {} socket={}\n",
            copy.display(),
            d.socket.display()
        ),
    )
    .unwrap();
    let svc = Service {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        path,
    };
    add_user(&d, "alice");
    add_user(&d, "nobody");
    let as_nobody = |user: &str| {
        let input = format!("{PW}\n");
        let out = run(
            Command::new("setpriv").args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "pamtester",
                "-v",
                &svc.name,
                user,
                "authenticate",
            ]),
            &input,
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = as_nobody("nobody");
    assert!(ok, "its own account: {text}");
    let (ok, text) = as_nobody("alice");
    assert!(!ok && text.contains("Authentication failure"), "{text}");
}

/// `timeout=`: an authd that accepts the connection and never answers is given up on,
/// and the login fails as unavailable (not as success, not hanging).
#[test]
fn a_daemon_that_never_answers_is_given_up_after_timeout() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let held = std::thread::spawn(move || {
        // Hold the one connection open, answering nothing, until the client leaves.
        if let Ok((mut conn, _)) = listener.accept() {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut conn, &mut sink);
        }
    });
    let path = Path::new("/etc/pam.d").join(format!("authd-test-{}-silent", std::process::id()));
    std::fs::write(
        &path,
        format!(
            "auth required {} socket={} timeout=1\n",
            module().display(),
            socket.display()
        ),
    )
    .unwrap();
    let svc = Service {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        path,
    };
    let (ok, text) = pamtester(&svc, "alice", "authenticate", &[PW]);
    assert!(
        !ok && text.contains("cannot retrieve authentication info"),
        "{text}"
    );
    held.join().unwrap();
}

/// 300 wrong passwords on 300 connections, then a login through PAM with the right
/// password while they are still being hashed (the real argon2 cost, one worker): the
/// account locked while that login was in flight, so PAM must fail as locked and never
/// show the code prompt, which would tell the attacker the password is right.
#[test]
fn a_flood_of_guesses_never_shows_the_code_prompt() {
    use authd::codec;
    use authd::protocol::{Hello, Origin, Request, Response, Secret, Verify};
    use std::sync::{mpsc, Arc, Barrier};

    if !ready() {
        return;
    }
    let d = Authd::start_with(
        "[password]\nargon2_m_kib = 19456\nargon2_t = 2\nhash_workers = 1\n",
        Stdio::null(),
    );
    let svc = d.service("flood", STACK);
    add_user(&d, "victim");
    let enrol = d.ctl("", &["--json", "enable-totp", "victim"]);
    let enrol: serde_json::Value = serde_json::from_slice(&enrol.stdout).unwrap();
    let secret = enrol["secret"].as_str().unwrap().to_string();
    let confirm = d.ctl("", &["confirm-totp", "victim", &oathtool(&secret, 0)]);
    assert!(confirm.status.success());

    const GUESSES: usize = 300;
    let start = Arc::new(Barrier::new(GUESSES + 1));
    let (written, all_written) = mpsc::channel();
    let guesses: Vec<_> = (0..GUESSES)
        .map(|i| {
            let mut stream = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
            let hello = Request::Hello(Hello {
                protocol: authd::protocol::PROTOCOL_VERSION,
                client: "flood".into(),
            });
            codec::write_frame_blocking(&mut stream, &codec::encode(&hello).unwrap()).unwrap();
            codec::read_frame_blocking(&mut stream).unwrap();
            let guess = Request::Verify(Verify {
                name: "victim".into(),
                password: Secret::new(format!("wrong-guess-number-{i}")),
                code: None,
                origin: Origin::default(),
            });
            let start = Arc::clone(&start);
            let written = written.clone();
            std::thread::spawn(move || {
                start.wait();
                codec::write_frame_blocking(&mut stream, &codec::encode(&guess).unwrap()).unwrap();
                written.send(()).unwrap();
                let payload = codec::read_frame_blocking(&mut stream).unwrap();
                codec::decode::<Response>(&payload).unwrap()
            })
        })
        .collect();
    start.wait();
    for _ in 0..GUESSES {
        all_written
            .recv_timeout(Duration::from_secs(60))
            .expect("a guess was never written");
    }
    let (ok, text) = pamtester(&svc, "victim", "authenticate", &[PW, &oathtool(&secret, 1)]);
    for guess in guesses {
        guess.join().unwrap();
    }
    assert!(!ok, "{text}");
    assert!(!text.contains("Verification code"), "{text}");
    assert!(text.contains("maximum number of retries"), "{text}");
}

/// An SSO account authenticates at its provider. With `auth required pam_authd.so`
/// followed by a module that succeeds, PAM_IGNORE would let it in with any password: the
/// default is to fail. `sso=ignore` is for stacks where another module authenticates SSO
/// users, and leaves the decision to it.
#[test]
fn sso_accounts_fail_by_default_and_are_ignored_only_on_request() {
    if !ready() {
        return;
    }
    let d = Authd::start();
    assert!(d
        .ctl("", &["add-user", "carol", "--sso", "corp"])
        .status
        .success());
    let permissive = d.service(
        "sso-default",
        "auth required MODULE socket=SOCKET\n\
         auth optional pam_permit.so\n",
    );
    let (ok, text) = pamtester(&permissive, "carol", "authenticate", &["any-password"]);
    assert!(!ok, "an SSO account logged in with any password: {text}");
    assert!(text.contains("sign in at your SSO provider"), "{text}");

    // The SSO module's place is taken by pam_permit here: it decides.
    let delegating = d.service(
        "sso-ignore",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET sso=ignore\n\
         auth required pam_permit.so\n",
    );
    let (ok, text) = pamtester(&delegating, "carol", "authenticate", &["any-password"]);
    assert!(ok, "PAM_IGNORE leaves SSO users to the next module: {text}");
    let denying = d.service(
        "sso-ignore-deny",
        "auth [success=done ignore=ignore default=die] MODULE socket=SOCKET sso=ignore\n\
         auth required pam_deny.so\n",
    );
    let (ok, text) = pamtester(&denying, "carol", "authenticate", &["any-password"]);
    assert!(!ok, "{text}");
}

#[test]
fn a_code_typed_after_the_idle_timeout_still_logs_in() {
    // A user slow to type the code outlasts the daemon's idle timeout: the module's
    // connection is closed meanwhile, and the code must still reach the daemon, once,
    // without the closed socket killing the PAM application (SIGPIPE).
    if !ready() {
        return;
    }
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("authd.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let d = Authd::start_with(&format!("idle_timeout = \"1s\"\n{CHEAP}"), Stdio::from(log));
    let svc = d.service("slow", STACK);
    add_user(&d, "alice");
    let enrol = d.ctl("", &["--json", "enable-totp", "alice"]);
    let enrol: serde_json::Value = serde_json::from_slice(&enrol.stdout).unwrap();
    let secret = enrol["secret"].as_str().unwrap().to_string();
    let confirm = d.ctl("", &["confirm-totp", "alice", &oathtool(&secret, 0)]);
    assert!(confirm.status.success());

    let timeouts = || {
        std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .matches("no request within the idle timeout")
            .count()
    };
    let before = timeouts();
    let mut child = Spawned::spawn(
        Command::new("pamtester")
            .args(["-v", &svc.name, "alice", "authenticate"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{PW}\n").as_bytes()).unwrap();
    // The password was checked; wait until the daemon has closed the idle connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    while timeouts() == before {
        assert!(
            Instant::now() < deadline,
            "the idle connection was never closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stdin
        .write_all(format!("{}\n", oathtool(&secret, 1)).as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{:?}: {text}", out.status);
    assert!(text.contains("Verification code"), "{text}");
}
