//! The listening socket's lifecycle: take one from systemd, or bind our own — removing a
//! stale socket first, never stealing one a live daemon holds — with mode 0666, and
//! remove it again at shutdown.

use std::io;
use std::os::fd::FromRawFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use super::ServerError;
use crate::config::dir_is_trusted;

pub struct Listener {
    pub socket: UnixListener,
    /// Set when we bound the path ourselves and so must remove it.
    owned_path: Option<PathBuf>,
}

impl Listener {
    /// The socket systemd passed (`LISTEN_FDS`), else a freshly bound `path`.
    pub fn open(path: &Path) -> Result<Listener, ServerError> {
        if let Some(socket) = from_systemd()? {
            tracing::info!("using the socket passed by systemd");
            return Ok(Listener {
                socket,
                owned_path: None,
            });
        }
        if let Some(dir) = path.parent() {
            // Every level we create must let clients through, whatever our umask.
            let created: Vec<PathBuf> = dir
                .ancestors()
                .take_while(|d| !d.exists())
                .map(Path::to_path_buf)
                .collect();
            let socket_err = |source| ServerError::Socket {
                path: dir.into(),
                source,
            };
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(socket_err)?;
            for level in created {
                std::fs::set_permissions(level, std::fs::Permissions::from_mode(0o755))
                    .map_err(socket_err)?;
            }
            // Someone else's directory (a squatted /tmp/authd-$UID) could swap our socket.
            if !dir_is_trusted(dir) {
                return Err(ServerError::UntrustedDir { path: dir.into() });
            }
        }
        clear_stale(path)?;
        let socket = UnixListener::bind(path).map_err(|source| ServerError::Socket {
            path: path.into(),
            source,
        })?;
        // The daemon does authorization itself (peer credentials), so anyone may connect.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(
            |source| ServerError::Socket {
                path: path.into(),
                source,
            },
        )?;
        tracing::info!(socket = %path.display(), "listening");
        Ok(Listener {
            socket,
            owned_path: Some(path.into()),
        })
    }

    /// Remove the socket file if we created it.
    pub fn remove(&self) {
        if let Some(path) = &self.owned_path {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::warn!(socket = %path.display(), error = %e, "cannot remove socket");
            }
        }
    }
}

fn from_systemd() -> Result<Option<UnixListener>, ServerError> {
    // `false`: leave LISTEN_* in place; changing the environment with threads running
    // is unsound.
    let passed = sd_notify::listen_fds_with_names(false).ok();
    let Some((fd, _name)) = passed.and_then(|mut fds| fds.next()) else {
        return Ok(None);
    };
    // SAFETY: systemd passed this descriptor to us (LISTEN_PID matched) and nothing else
    // in the process owns it.
    let std_listener = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    let activated = || -> io::Result<UnixListener> {
        std_listener.set_nonblocking(true)?;
        UnixListener::from_std(std_listener)
    };
    activated().map(Some).map_err(|source| ServerError::Socket {
        path: PathBuf::from("(systemd socket)"),
        source,
    })
}

/// A leftover socket from a daemon that died is removed; one that answers is not.
fn clear_stale(path: &Path) -> Result<(), ServerError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ServerError::Socket {
                path: path.into(),
                source,
            })
        }
    };
    if !meta.file_type().is_socket() {
        return Err(ServerError::NotASocket { path: path.into() });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(ServerError::AlreadyRunning { path: path.into() }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "removing stale socket");
            std::fs::remove_file(path).map_err(|source| ServerError::Socket {
                path: path.into(),
                source,
            })
        }
        Err(source) => Err(ServerError::Socket {
            path: path.into(),
            source,
        }),
    }
}
