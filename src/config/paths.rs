//! Where authd keeps things when the config does not say: the socket (decided in
//! `authd_proto::paths`, which clients share, with the check of which socket directory
//! a client trusts) and the state directory. Reads the environment and the user
//! database; creates nothing.

use std::path::PathBuf;

use authd_proto::paths::env_dir as non_empty_env;
pub use authd_proto::paths::{default_socket, dir_is_trusted, user_socket, SYSTEM_SOCKET};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Root: `/var/lib/authd`; anyone else: `$XDG_STATE_HOME/authd`, falling back to
/// `~/.local/state/authd`.
pub fn default_state_dir() -> PathBuf {
    if is_root() {
        return PathBuf::from("/var/lib/authd");
    }
    if let Some(dir) = non_empty_env("XDG_STATE_HOME") {
        return dir.join("authd");
    }
    let home = non_empty_env("HOME").or_else(|| {
        nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.dir)
    });
    home.unwrap_or_else(|| PathBuf::from("/tmp"))
        .join(".local/state/authd")
}
