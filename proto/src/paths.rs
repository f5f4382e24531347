//! Where the daemon listens by default, and which socket a client trusts.
//!
//! Root daemons use the system socket; anyone else's daemon listens under
//! `$XDG_RUNTIME_DIR` (or `/tmp/authd-$UID`). A client takes a user socket only from a
//! directory that nobody but its owner (or root) can write, so another local user
//! cannot plant a socket where authctl would send a password.

use std::path::{Path, PathBuf};

/// The system socket, used by root daemons and as a client's last resort.
pub const SYSTEM_SOCKET: &str = "/run/authd/authd.sock";

pub(crate) fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// An environment variable that names an absolute path, if set and not empty.
pub fn env_dir(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// Root: `/run/authd/authd.sock`; anyone else: `$XDG_RUNTIME_DIR/authd/authd.sock`,
/// falling back to `/tmp/authd-$UID/authd.sock`.
pub fn default_socket() -> PathBuf {
    if is_root() {
        PathBuf::from(SYSTEM_SOCKET)
    } else {
        user_socket()
    }
}

/// The socket a non-root daemon of the current user listens on by default.
pub fn user_socket() -> PathBuf {
    match env_dir("XDG_RUNTIME_DIR") {
        Some(dir) => dir.join("authd/authd.sock"),
        None => PathBuf::from(format!("/tmp/authd-{}/authd.sock", nix::unistd::geteuid())),
    }
}

/// Is `dir` safe to hold a socket we trust: owned by the current user or root, and not
/// writable by group or others? (A `/tmp/authd-$UID` made by someone else is not.)
pub fn dir_is_trusted(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::geteuid().as_raw();
    std::fs::metadata(dir)
        .is_ok_and(|m| m.is_dir() && (m.uid() == me || m.uid() == 0) && m.mode() & 0o022 == 0)
}

/// The socket a client uses when none is given: (not root) your own daemon's socket if
/// it exists in a directory only you (or root) control, else the system socket.
pub fn client_socket() -> PathBuf {
    client_socket_explained().0
}

/// `client_socket`, and why that one, in words for a message such as "authd is not
/// running at PATH (WHY)".
pub fn client_socket_explained() -> (PathBuf, String) {
    if is_root() {
        return (
            PathBuf::from(SYSTEM_SOCKET),
            "the system socket, root's default".into(),
        );
    }
    let mine = user_socket();
    let whose = match env_dir("XDG_RUNTIME_DIR") {
        Some(_) => "$XDG_RUNTIME_DIR/authd/authd.sock",
        None => "/tmp/authd-$UID/authd.sock, as XDG_RUNTIME_DIR is not set",
    };
    let why = if !mine.exists() {
        "is not there"
    } else if !mine.parent().is_some_and(dir_is_trusted) {
        "is in a directory that others can write, so it is not trusted"
    } else {
        return (mine, format!("your own daemon's socket, {whose}"));
    };
    let reason = format!(
        "the system socket: your own daemon's socket {} ({whose}) {why}",
        mine.display()
    );
    (PathBuf::from(SYSTEM_SOCKET), reason)
}

/// Where `make install` puts authd-key, the security-key helper that authctl and
/// pam_authd run (the build's `AUTHD_LIBEXECDIR`, else `/usr/local/libexec/authd`).
pub const KEY_HELPER_DIR: &str = match option_env!("AUTHD_LIBEXECDIR") {
    Some(dir) => dir,
    None => "/usr/local/libexec/authd",
};

/// The helper's file name.
pub const KEY_HELPER: &str = "authd-key";
