//! Other uids, for the attacks that need them: raw connections opened by a process that
//! runs as another uid, handed to the test, and throwaway Unix users and groups.
//!
//! A connection's peer credentials are fixed when it connects, so a tiny program run as
//! the other uid (`setpriv`, then python3) connects and passes each socket back over
//! SCM_RIGHTS. The test then drives those sockets itself with `authd::codec`: the daemon
//! sees the other uid on every request, and the test keeps exact control of timing and
//! order without a second protocol to a helper process.

use std::io::{IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authd::codec;
use authd::protocol::{Hello, Request, Response, PROTOCOL_VERSION};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

use crate::daemon::*;

/// The system's python3 (Debian's), reachable for every uid.
const PYTHON: &str = "/usr/bin/python3";

/// Can this run open connections as other uids: root, setpriv, `nobody`, python3?
#[track_caller]
pub fn can_connect_as_others() -> bool {
    crate::authz::can_switch_uid()
        && crate::peers::need(
            std::path::Path::new(PYTHON).exists(),
            &format!("{PYTHON} (Debian package python3)"),
        )
}

/// Connect to the socket (argv[1]) argv[2] times and send each socket over stdin.
const CONNECTOR: &str = r#"
import socket, sys
back = socket.socket(fileno=0)
for _ in range(int(sys.argv[2])):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sys.argv[1])
    socket.send_fds(back, [b"c"], [c.fileno()])
    c.close()
"#;

/// `n` connections to `d` opened by a process running as `ids` (uid, gid), not yet
/// past the handshake. Needs root, setpriv and python3.
pub fn connections_as(ids: (u32, u32), d: &Daemon, n: usize) -> Vec<UnixStream> {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut child = crate::spawned::Spawned::spawn(
        command_as(std::path::Path::new(PYTHON), Some(ids))
            .arg("-c")
            .arg(CONNECTOR)
            .arg(&d.socket)
            .arg(n.to_string())
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let mut streams = Vec::with_capacity(n);
    while streams.len() < n {
        let mut byte = [0u8; 1];
        let mut iov = [IoSliceMut::new(&mut byte)];
        let mut space = nix::cmsg_space!(std::os::fd::RawFd);
        let msg = recvmsg::<()>(
            ours.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .unwrap();
        let mut fds = Vec::new();
        for cmsg in msg.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(passed) = cmsg {
                fds.extend(passed);
            }
        }
        if msg.bytes == 0 {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the connector as {ids:?} stopped after {} of {n}: {}",
                streams.len(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for fd in fds {
            // SAFETY: the kernel just gave us this descriptor (SCM_RIGHTS); nothing else owns it.
            streams.push(UnixStream::from(unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    assert!(child.wait().unwrap().success());
    for s in &streams {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    }
    streams
}

pub fn send(s: &mut UnixStream, request: &Request) -> std::io::Result<()> {
    s.write_all(&codec::encode(request).unwrap())
}

/// The next response, or `None` when the daemon closed the connection.
pub fn receive(s: &mut UnixStream) -> Option<Response> {
    let payload = codec::read_frame_blocking(s).ok()?;
    Some(codec::decode(&payload).unwrap())
}

/// Send `request` and wait for its response.
pub fn call(s: &mut UnixStream, request: &Request) -> Option<Response> {
    // A refused connection may already be closed for writing; its answer is still there.
    let _ = send(s, request);
    receive(s)
}

pub fn hello() -> Request {
    Request::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "other-uid".into(),
    })
}

/// Run a user/group admin command, retrying while another process holds the lock on
/// /etc/passwd or /etc/group (other test suites may be adding users too).
fn admin(program: &str, args: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(program).args(args).output().unwrap();
        if out.status.success() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A Unix group that exists until dropped.
pub struct UnixGroup {
    pub name: String,
}

impl UnixGroup {
    pub fn create(name: &str) -> UnixGroup {
        // Left over from an aborted run: start clean.
        let _ = Command::new("groupdel").arg(name).output();
        admin("groupadd", &[name]);
        UnixGroup { name: name.into() }
    }

    pub fn add(&self, user: &UnixUser) {
        admin("gpasswd", &["-a", &user.name, &self.name]);
    }

    pub fn remove(&self, user: &UnixUser) {
        admin("gpasswd", &["-d", &user.name, &self.name]);
    }
}

impl Drop for UnixGroup {
    fn drop(&mut self) {
        let _ = Command::new("groupdel").arg(&self.name).output();
    }
}

/// A Unix user (no home, no login shell, no group of its own) that exists until dropped.
pub struct UnixUser {
    pub name: String,
    pub ids: (u32, u32),
}

impl UnixUser {
    pub fn create(name: &str) -> UnixUser {
        let _ = Command::new("userdel").arg(name).output();
        admin(
            "useradd",
            &[
                "--no-create-home",
                "--no-user-group",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
        );
        let user = nix::unistd::User::from_name(name).unwrap().unwrap();
        UnixUser {
            name: name.into(),
            ids: (user.uid.as_raw(), user.gid.as_raw()),
        }
    }
}

impl Drop for UnixUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}
