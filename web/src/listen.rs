//! Where authd-web listens (`--listen`): a TCP address, or a Unix socket a reverse proxy
//! on the same host connects to; and who the peer of a connection is.
//!
//! The Unix socket is created mode 0660, so the proxy reaches it through the socket's
//! group (run the proxy in authd-web's group, or set the directory's group). authd-web
//! refuses to start when the path exists and is not a socket (a planted file or
//! symlink), or is a socket another process listens on or another user owns; a stale
//! socket of its own (nobody listening) is replaced. Behind the socket the peer is
//! always the proxy, so its `X-Forwarded-For` names the client (`guard::client_ip`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::{TcpListener, UnixListener};

/// The mode of the Unix socket: the owner and the proxy's group.
pub const SOCKET_MODE: u32 = 0o660;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Listen {
    /// `ADDR:PORT` or `unix:/PATH`.
    pub fn parse(text: &str) -> Result<Listen, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(
                    "a Unix socket needs an absolute path: unix:/run/authd-web/http.sock".into(),
                );
            }
            return Ok(Listen::Unix(path));
        }
        text.parse()
            .map(Listen::Tcp)
            .map_err(|_| format!("`{text}` is neither ADDR:PORT nor unix:/PATH"))
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "{addr}"),
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A connection's peer: its address over TCP; `None` over the Unix socket, where the
/// peer is the reverse proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub Option<IpAddr>);

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer(Some(stream.remote_addr().ip()))
    }
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(_: IncomingStream<'_, UnixListener>) -> Self {
        Peer(None)
    }
}

/// Bind the Unix socket at `path` (see the module's rules). Call inside the runtime.
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    let refuse = |why: String| io::Error::new(io::ErrorKind::AlreadyExists, why);
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(refuse(format!(
                "{} exists and is not a socket: refusing to replace it",
                path.display()
            )))
        }
        Ok(meta) => {
            if meta.uid() != nix::unistd::geteuid().as_raw() {
                return Err(refuse(format!(
                    "{} is another user's socket: refusing to replace it",
                    path.display()
                )));
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(refuse(format!(
                    "{} is in use by another process",
                    path.display()
                )));
            }
            tracing::info!(socket = %path.display(), "removing a stale socket");
            std::fs::remove_file(path)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))?;
    listener.set_nonblocking(true)?;
    UnixListener::from_std(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_an_address_or_an_absolute_socket_path() {
        assert_eq!(
            Listen::parse("127.0.0.1:8080"),
            Ok(Listen::Tcp("127.0.0.1:8080".parse().unwrap()))
        );
        assert_eq!(
            Listen::parse("unix:/run/authd-web/http.sock"),
            Ok(Listen::Unix("/run/authd-web/http.sock".into()))
        );
        assert!(Listen::parse("unix:relative.sock").is_err());
        assert!(Listen::parse("localhost").is_err());
    }

    #[tokio::test]
    async fn a_planted_file_or_symlink_is_never_replaced_and_a_stale_socket_is() {
        let dir = std::env::temp_dir().join(format!("authd-web-listen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("file");
        std::fs::write(&file, "keep").unwrap();
        assert!(bind_unix(&file).is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(bind_unix(&link).is_err());
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let sock = dir.join("sock");
        let live = bind_unix(&sock).unwrap();
        let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, SOCKET_MODE);
        assert!(bind_unix(&sock).is_err(), "in use");
        drop(live);
        assert!(bind_unix(&sock).is_ok(), "stale, ours: replaced");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
