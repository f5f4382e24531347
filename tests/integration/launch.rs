//! authd started the way a promise about the process itself needs it: under a chosen
//! umask and log filter. (`Daemon` always runs it with the test's umask and
//! `RUST_LOG=info`; a claim such as "authd sets its own umask" or "no secret in any log
//! line, even at debug level" needs the worst case instead.)

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use authd::client::Client;

use crate::daemon::*;

pub struct Launched {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    child: Option<Child>,
}

impl Launched {
    /// authd on a fresh directory with `body` as its configuration (socket and
    /// state_dir added), started through `sh` with `umask` and `RUST_LOG=rust_log`.
    pub fn start(body: &str, umask: &str, rust_log: &str) -> Launched {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
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
        let log = std::fs::File::create(dir.path().join("authd.log")).unwrap();
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg("umask \"$1\" && exec \"$2\" --config \"$3\"")
            .arg("sh")
            .arg(umask)
            .arg(AUTHD)
            .arg(&config)
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut launched = Launched {
            dir,
            socket,
            child: Some(child),
        };
        launched.wait_ready();
        launched
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Client::connect(&self.socket, "test", Duration::from_secs(5)).is_err() {
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

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("authd.log")).unwrap_or_default()
    }

    pub fn ctl(&self, args: &[&str]) -> Output {
        self.ctl_stdin("", args)
    }

    pub fn ctl_stdin(&self, input: &str, args: &[&str]) -> Output {
        run_ctl(Path::new(AUTHCTL), &self.socket, None, input, args)
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("authd running");
        signal(child.id(), "TERM");
        let status = wait_timeout(&mut child, Duration::from_secs(30));
        assert!(status.success(), "{status}:\n{}", self.log());
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
