//! Flags, and the settings derived from them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

/// The password-reset landing page for authd, served over HTTP (TLS is the reverse
/// proxy's job).
#[derive(Debug, Parser)]
#[command(name = "authd-web", version)]
pub struct Args {
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// authd's socket [default: your own daemon's socket, else /run/authd/authd.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The URL users reach this service at (the `[web] public_url` of authd.toml); used
    /// in links and for the origin and cookie checks [default: http://LISTEN].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// POST requests one client address may make per minute.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub posts_per_minute: u32,
    /// A reverse proxy whose `X-Forwarded-For` names the client (repeatable); from any
    /// other peer the header is ignored.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<IpAddr>,
}

/// What the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub socket: PathBuf,
    pub public: PublicUrl,
    pub posts_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
}

impl Args {
    pub fn settings(&self) -> Result<Settings, String> {
        let url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        let public = PublicUrl::parse(&url).map_err(|e| format!("--public-url {url}: {e}"))?;
        if self.posts_per_minute == 0 {
            return Err("--posts-per-minute must be at least 1".into());
        }
        Ok(Settings {
            listen: self.listen,
            socket: self
                .socket
                .clone()
                .unwrap_or_else(authd_proto::paths::client_socket),
            public,
            posts_per_minute: self.posts_per_minute,
            trusted_proxies: self.trusted_proxies.clone(),
        })
    }
}

/// The public URL, split into what the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub origin: String,
    /// The path it is served under, without a trailing slash ("" at the root).
    pub prefix: String,
    /// https: cookies are `Secure` and `__Host-` prefixed. Plain http is accepted only
    /// for a loopback host (tests, a local try-out).
    pub secure: bool,
}

impl PublicUrl {
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err("must start with https:// (or http:// for a loopback address)".into());
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
            return Err("must name a host, with no user, query or fragment".into());
        }
        if path.contains(['?', '#']) {
            return Err("must have no query or fragment".into());
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => authority.split(':').next().unwrap_or(""),
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !secure && !loopback {
            return Err("must be https:// unless the host is a loopback address".into());
        }
        Ok(PublicUrl {
            origin: format!(
                "{}://{}",
                if secure { "https" } else { "http" },
                authority.to_ascii_lowercase()
            ),
            prefix: path.trim_end_matches('/').to_string(),
            secure,
        })
    }

    /// An absolute path under the public URL, e.g. `path("/reset")`.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_give_origin_prefix_and_cookie_rules() {
        let u = PublicUrl::parse("https://ID.example.org/auth/").unwrap();
        assert_eq!(u.origin, "https://id.example.org");
        assert_eq!(u.path("/reset"), "/auth/reset");
        assert!(u.secure);
        let local = PublicUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(local.origin, "http://127.0.0.1:8080");
        assert_eq!(local.path("/reset"), "/reset");
        assert!(!local.secure);
        assert!(PublicUrl::parse("http://[::1]:80/").is_ok());
        assert!(PublicUrl::parse("http://localhost:1").is_ok());
        for bad in [
            "http://id.example.org",
            "ftp://x",
            "https://",
            "https://u@x",
            "https://x/?q",
            "id.example.org",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
