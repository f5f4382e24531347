//! Flags, and the settings derived from them.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::listen::Listen;

/// The password-reset landing page for authd, served over HTTP (TLS is the reverse
/// proxy's job).
#[derive(Debug, Parser)]
#[command(name = "authd-web", version)]
pub struct Args {
    /// Address and port to listen on, or `unix:/PATH` for a Unix socket a reverse proxy
    /// connects to (created mode 0660: give the proxy's group access to it).
    #[arg(long, value_name = "ADDR:PORT|unix:/PATH", default_value = "127.0.0.1:8080",
          value_parser = Listen::parse)]
    pub listen: Listen,
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
    /// POST requests to sign in or ask for a reset mail per account name per minute,
    /// whatever the address (in front of authd's lockout).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub posts_per_account_per_minute: u32,
    /// Who helps a user who lost their device or cannot sign in, in a sentence (shown
    /// after "Lost your device?") [default: contact your administrator].
    #[arg(long, value_name = "TEXT")]
    pub support_text: Option<String>,
    /// Where that help is: an https:// URL (http:// only for a loopback host), linked
    /// from the text.
    #[arg(long, value_name = "URL")]
    pub support_url: Option<String>,
}

/// What the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: Listen,
    pub socket: PathBuf,
    pub public: PublicUrl,
    pub posts_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub posts_per_account_per_minute: u32,
    pub support: Support,
}

/// The help for a user who lost their device: a sentence, and where to go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Support {
    pub text: Option<String>,
    pub url: Option<String>,
}

/// Longest `--support-text`.
const MAX_SUPPORT_TEXT: usize = 300;

impl Support {
    pub fn new(text: Option<&str>, url: Option<&str>) -> Result<Support, String> {
        let text = match text.map(str::trim) {
            Some("") => return Err("--support-text must not be empty".into()),
            Some(t) if t.len() > MAX_SUPPORT_TEXT || t.chars().any(char::is_control) => {
                return Err(format!(
                    "--support-text must be one line of at most {MAX_SUPPORT_TEXT} bytes"
                ))
            }
            t => t.map(str::to_string),
        };
        let url = match url {
            Some(u) => Some(support_url(u).map_err(|e| format!("--support-url {u}: {e}"))?),
            None => None,
        };
        Ok(Support { text, url })
    }
}

/// A link a page may carry: https, or http to a loopback host; no other scheme
/// (`javascript:`, `data:`), no spaces or control characters.
fn support_url(url: &str) -> Result<String, String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must have no spaces or control characters".into());
    }
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = scheme(&lower)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("must name a host, with no user".into());
    }
    if !secure && !loopback(authority) {
        return Err("must be https:// unless the host is a loopback address".into());
    }
    Ok(url.to_string())
}

/// `https://` (true) or `http://` (false), and what follows it; any other scheme is
/// refused.
fn scheme(url: &str) -> Result<(bool, &str), String> {
    if let Some(rest) = url.strip_prefix("https://") {
        Ok((true, rest))
    } else if let Some(rest) = url.strip_prefix("http://") {
        Ok((false, rest))
    } else {
        Err("must start with https:// (or http:// for a loopback address)".into())
    }
}

/// Is the host of `authority` (`host[:port]`, `[v6][:port]`) a loopback one?
fn loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Args {
    pub fn settings(&self) -> Result<Settings, String> {
        let url = match (&self.public_url, &self.listen) {
            (Some(url), _) => url.clone(),
            (None, Listen::Tcp(addr)) => format!("http://{addr}"),
            (None, Listen::Unix(_)) => {
                return Err("--public-url is needed with --listen unix:PATH".into())
            }
        };
        let public = PublicUrl::parse(&url).map_err(|e| format!("--public-url {url}: {e}"))?;
        if self.posts_per_minute == 0 {
            return Err("--posts-per-minute must be at least 1".into());
        }
        if self.posts_per_account_per_minute == 0 {
            return Err("--posts-per-account-per-minute must be at least 1".into());
        }
        let support = Support::new(self.support_text.as_deref(), self.support_url.as_deref())?;
        Ok(Settings {
            listen: self.listen.clone(),
            socket: self
                .socket
                .clone()
                .unwrap_or_else(authd_proto::paths::client_socket),
            public,
            posts_per_minute: self.posts_per_minute,
            trusted_proxies: self.trusted_proxies.clone(),
            posts_per_account_per_minute: self.posts_per_account_per_minute,
            support,
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
        let (secure, rest) = scheme(url)?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
            return Err("must name a host, with no user, query or fragment".into());
        }
        if path.contains(['?', '#']) {
            return Err("must have no query or fragment".into());
        }
        if !secure && !loopback(authority) {
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

    #[test]
    fn support_links_are_https_or_loopback_http_and_never_script() {
        let ok = |u: &str| Support::new(None, Some(u)).map(|s| s.url);
        assert_eq!(
            ok("https://help.example.org/desk?x=1"),
            Ok(Some("https://help.example.org/desk?x=1".into()))
        );
        assert!(ok("http://127.0.0.1:9/help").is_ok());
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "http://help.example.org",
            "https://",
            "https://u@evil.example",
            "https://x.example/a b",
            "mailto:help@example.org",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        assert!(Support::new(Some("  "), None).is_err());
        assert!(Support::new(Some("a\nb"), None).is_err());
        assert!(Support::new(Some(&"x".repeat(301)), None).is_err());
        let s = Support::new(Some(" Call the desk "), None).unwrap();
        assert_eq!(s.text.as_deref(), Some("Call the desk"));
    }
}
