//! The real authd-web binary next to a real authd, and a plain HTTP client for it
//! (ureq, no redirects followed, cookies kept by hand).

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::daemon::{assert_ok, command_as, exposed_copy, json, Daemon, TEST_CONFIG};
use crate::spawned::Spawned;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A daemon whose reset mails go to files and link to authd-web on `port`.
pub fn daemon_for(port: u16, extra: &str) -> Daemon {
    Daemon::start_with_config(&format!(
        "[web]\npublic_url = \"http://127.0.0.1:{port}\"\n{extra}\n{TEST_CONFIG}"
    ))
}

/// The uid/gid authd-web runs as in the portal tests, and the portal authd.toml names.
#[allow(dead_code)]
pub const NOBODY: (u32, u32) = (65534, 65534);

/// authd with `nobody` as its portal, and authd-web running as `nobody` (through
/// setpriv: needs root) with `extra` arguments.
#[allow(dead_code)]
pub fn portal_as_nobody(extra: &[&str]) -> (Daemon, Web) {
    portal_as_nobody_with("", extra)
}

/// As `portal_as_nobody`, with `config` (tables such as `[web]`) added to authd.toml.
#[allow(dead_code)]
pub fn portal_as_nobody_with(config: &str, extra: &[&str]) -> (Daemon, Web) {
    let d = Daemon::start_with(&format!("portal_users = [\"nobody\"]\n{config}"));
    let web = Web::start_as(&d, free_port(), extra, Some(NOBODY));
    (d, web)
}

pub struct Web {
    child: Spawned,
    pub base: String,
    log: PathBuf,
}

impl Web {
    /// Start authd-web on `port` against `daemon`, logging at trace level (the worst
    /// case for a secret in the log), and wait until it accepts connections.
    pub fn start(daemon: &Daemon, port: u16, extra: &[&str]) -> Web {
        Web::start_as(daemon, port, extra, None)
    }

    /// As `start`, but as uid/gid `ids` (through setpriv, needs root) when given: the
    /// portal uid authd's `portal_users` names.
    pub fn start_as(daemon: &Daemon, port: u16, extra: &[&str], ids: Option<(u32, u32)>) -> Web {
        Web::start_on(daemon, "127.0.0.1", port, extra, ids)
    }

    /// As `start_as`, its public URL at `host` (still listening on 127.0.0.1): security
    /// keys need a domain name, such as `localhost`, not an address.
    pub fn start_on(
        daemon: &Daemon,
        host: &str,
        port: u16,
        extra: &[&str],
        ids: Option<(u32, u32)>,
    ) -> Web {
        let log = daemon.dir.path().join("authd-web.log");
        let base = format!("http://{host}:{port}");
        let bin = match ids {
            Some(_) => exposed_copy(env!("CARGO_BIN_EXE_authd-web"), daemon.dir.path()),
            None => PathBuf::from(env!("CARGO_BIN_EXE_authd-web")),
        };
        let child = Spawned::spawn(
            command_as(&bin, ids)
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .arg("--socket")
                .arg(&daemon.socket)
                .args(["--public-url", &base])
                .args(extra)
                .env("RUST_LOG", "trace")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap()),
        );
        let mut web = Web { child, base, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = web.child.try_wait().unwrap() {
                panic!("authd-web exited early ({status}):\n{}", web.log());
            }
            assert!(
                Instant::now() < deadline,
                "authd-web not ready:\n{}",
                web.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        web
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The reset link of the `n`th reset mail (from 1) of `daemon`'s file transport,
/// waiting for it (other mails, such as "your password was changed", are passed over).
pub fn link_in_mail(daemon: &Daemon, n: usize) -> String {
    crate::mailbox::wait_for_reset_link(&daemon.state_dir().join("outbox/mail"), n)
}

/// The token a link carries.
pub fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_string()
}

/// One answer: status, headers (lower-case names, repeated ones joined by "\n"), body.
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// A browser-like client: keeps cookies, follows no redirect by itself.
#[derive(Default)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    fn agent() -> ureq::Agent {
        ureq::AgentBuilder::new().redirects(0).build()
    }

    fn take(&mut self, r: ureq::Response) -> Answer {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for name in r.headers_names() {
            let all = r.all(&name).join("\n");
            headers.insert(name.to_ascii_lowercase(), all);
        }
        for set in r.all("set-cookie") {
            let pair = set.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = r.status();
        let body = r.into_string().unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    fn send(&mut self, result: Result<ureq::Response, ureq::Error>) -> Answer {
        match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => self.take(r),
            Err(e) => panic!("HTTP request failed: {e}"),
        }
    }

    pub fn get(&mut self, url: &str) -> Answer {
        let r = Self::agent()
            .get(url)
            .set("cookie", &self.cookie_header())
            .call();
        self.send(r)
    }

    /// POST a form, with extra headers (e.g. `Origin`).
    pub fn post(&mut self, url: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
        let mut req = Self::agent().post(url).set("cookie", &self.cookie_header());
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let r = req.send_form(form);
        self.send(r)
    }
}

/// Sign `name` in through the forms with `password` and, when the account has a second
/// factor, `code`: the settings page (200).
#[allow(dead_code)]
pub fn sign_in_as(
    b: &mut Browser,
    web: &Web,
    name: &str,
    password: &str,
    code: Option<&str>,
) -> Answer {
    let url = format!("{}/login", web.base);
    let csrf = csrf_in(&b.get(&url).body);
    let fields = [("csrf", &*csrf), ("user", name), ("password", password)];
    let mut issued = b.post(&url, &fields, &[]);
    if let Some(code) = code {
        assert_eq!(issued.status, 200, "{}", issued.body);
        let csrf = csrf_in(&issued.body);
        let url = format!("{}/login/code", web.base);
        issued = b.post(&url, &[("csrf", &csrf), ("code", code)], &[]);
    }
    assert_eq!(issued.status, 303, "{}", issued.body);
    let page = b.get(&format!("{}/settings", web.base));
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// `name`'s portal sessions as `authctl --json sessions` lists them.
#[allow(dead_code)]
pub fn portal_sessions(d: &Daemon, name: &str) -> Vec<serde_json::Value> {
    let out = d.ctl(&["--json", "sessions", name]);
    assert_ok(&out);
    json(&out)["sessions"].as_array().unwrap().clone()
}

/// The instant `field` (`created`, `last_used`, `expires`) of the one portal session
/// `name` has, as unix seconds.
#[allow(dead_code)]
pub fn session_instant(d: &Daemon, name: &str, field: &str) -> u64 {
    let listed = portal_sessions(d, name);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let text = listed[0][field].as_str().unwrap();
    humantime::parse_rfc3339(text)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The CSRF token in a page's form.
pub fn csrf_in(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("no CSRF field in:\n{page}"));
    let rest = &page[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The repository root (for docs/screenshots).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}
