//! "Forgot your password?", "email me a link instead", the per-account limit, the Unix
//! socket and the reset page reached from a mail an SMTP server received, end to end: a
//! real authd whose portal is `nobody`, a real authd-web running as `nobody`
//! (setpriv). Needs root (for setpriv), aiosmtpd, and `cargo build --workspace` first.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "reset/web.rs"]
#[allow(dead_code)]
mod web;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use daemon::*;
use web::*;

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";
const SENT: &str =
    r#"<p role="status">If that account has an email address, a link is on its way.</p>"#;

/// authd (portal `nobody`, reset links to authd-web) and authd-web as `nobody` with
/// `extra`; `None` without root or setpriv (when a skip is allowed).
fn portal(extra: &[&str]) -> Option<(Daemon, Web)> {
    if !(peers::root() && peers::program("setpriv", "util-linux")) {
        return None;
    }
    let port = free_port();
    let d = Daemon::start_with(&format!(
        "portal_users = [\"nobody\"]\n[web]\npublic_url = \"http://127.0.0.1:{port}\"\n"
    ));
    let web = Web::start_as(&d, port, extra, Some(NOBODY));
    Some((d, web))
}

fn alice_with_email(d: &Daemon) {
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl_stdin(&pw(), &["set-password", "alice"]));
}

fn forgot(b: &mut Browser, web: &Web, user: &str) -> Answer {
    let url = format!("{}/forgot", web.base);
    let form = b.get(&url);
    assert_eq!(form.status, 200, "{}", form.body);
    b.post(&url, &[("csrf", &csrf_in(&form.body)), ("user", user)], &[])
}

fn audit(d: &Daemon, name: &str) -> String {
    let out = d.ctl(&["log", name]);
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Follow a reset link and set `NEW_PW` on the landing page.
fn reset_through(b: &mut Browser, link: &str) {
    let landed = b.get(link);
    assert_eq!(landed.status, 303, "{}", landed.body);
    assert_eq!(landed.header("location"), "/reset");
    let base = link.split("/reset/link").next().unwrap();
    let page = b.get(&format!("{base}/reset"));
    assert!(page.body.contains(r#"id="reset-form""#), "{}", page.body);
    let csrf = csrf_in(&page.body);
    let fields = [
        ("csrf", &*csrf),
        ("password", NEW_PW),
        ("password2", NEW_PW),
    ];
    let done = b.post(&format!("{base}/reset"), &fields, &[]);
    assert_eq!(done.status, 200, "{}", done.body);
}

fn verifies(d: &Daemon, name: &str, password: &str) -> bool {
    d.ctl_stdin(&format!("{password}\n"), &["verify", name])
        .status
        .success()
}

#[test]
fn forgot_mails_a_link_and_answers_every_name_alike() {
    let desk = [
        "--support-text",
        "Call the service desk",
        "--support-url",
        "https://help.example.org/desk",
    ];
    let Some((d, web)) = portal(&desk) else {
        return;
    };
    alice_with_email(&d);
    d.user_with_password("bob"); // no address
    let mut b = Browser::default();
    let login = b.get(&format!("{}/login", web.base));
    assert!(
        login
            .body
            .contains(r#"<a id="forgot-link" href="/forgot">"#),
        "{}",
        login.body
    );
    let page = b.get(&format!("{}/forgot", web.base));
    assert!(
        page.body.contains(r#"id="forgot-form""#) && page.body.contains(r#"<label for="user">"#)
    );
    assert!(
        page.body.contains(r#"Lost your device? <a href="https://help.example.org/desk" rel="noreferrer">Call the service desk</a>"#),
        "{}",
        page.body
    );

    let first = forgot(&mut b, &web, "alice");
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains(SENT), "{}", first.body);
    let link = link_in_mail(&d, 1);
    assert!(
        link.starts_with(&format!("{}/reset/link?token=", web.base)),
        "{link}"
    );

    // An unknown name, an account without an address, a mail too soon: the same page.
    for name in ["nosuchuser", "bob", "alice"] {
        let again = forgot(&mut b, &web, name);
        assert_eq!(
            (again.status, &again.body),
            (first.status, &first.body),
            "{name}"
        );
    }
    let bob = audit(&d, "bob");
    assert!(
        bob.contains("no mail sent") && bob.contains("no email address"),
        "{bob}"
    );
    let alice = audit(&d, "alice");
    assert!(alice.contains("no mail sent: too soon"), "{alice}");
    assert!(alice.contains("forgot-password page"), "{alice}");
    assert!(d
        .log()
        .contains("forgot-password request for an unknown account"));
    assert!(
        !d.log().contains("nosuchuser"),
        "the unknown name is not logged"
    );

    reset_through(&mut b, &link);
    assert!(verifies(&d, "alice", NEW_PW));
    for bad in [" ", "../etc"] {
        let refused = forgot(&mut b, &web, bad);
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(
            refused.body.contains(r#"<p role="alert">"#),
            "{}",
            refused.body
        );
        assert!(refused.body.contains(r#"id="forgot-form""#));
    }
}

#[test]
fn email_me_a_link_says_where_it_went_then_the_rate_limit() {
    let Some((d, web)) = portal(&[]) else { return };
    alice_with_email(&d);
    let mut b = Browser::default();
    let settings = sign_in_as(&mut b, &web, "alice", GOOD_PW, None);
    assert!(
        settings.body.contains(r#"id="email-link-form""#),
        "{}",
        settings.body
    );
    let csrf = csrf_in(&settings.body);
    let url = format!("{}/settings/password/email", web.base);
    let sent = b.post(&url, &[("csrf", &csrf)], &[]);
    assert_eq!(sent.status, 200, "{}", sent.body);
    let status = sent
        .body
        .split(r#"<p role="status">"#)
        .nth(1)
        .unwrap_or_else(|| panic!("{}", sent.body));
    assert!(
        status.starts_with("A link to choose a new password is on its way to "),
        "{status}"
    );
    assert!(
        status.contains("@example.org") && !status.contains("alice@"),
        "masked: {status}"
    );
    let link = link_in_mail(&d, 1);
    let again = b.post(&url, &[("csrf", &csrf)], &[]);
    assert_eq!(again.status, 429, "{}", again.body);
    assert!(
        again
            .body
            .contains(r#"<p role="alert">A reset mail was sent a moment ago"#),
        "{}",
        again.body
    );
    reset_through(&mut Browser::default(), &link);
    assert!(verifies(&d, "alice", NEW_PW));
    assert!(audit(&d, "alice").contains("settings page"));
}

#[test]
fn sign_in_posts_are_limited_per_account_name() {
    let Some((d, web)) = portal(&["--posts-per-account-per-minute", "2"]) else {
        return;
    };
    d.user_with_password("bob");
    let wrong = "Wrong-Secret-77";
    let mut b = Browser::default();
    let url = format!("{}/login", web.base);
    let mut post = |user: &str| {
        let csrf = csrf_in(&b.get(&url).body);
        b.post(
            &url,
            &[("csrf", &csrf), ("user", user), ("password", wrong)],
            &[],
        )
    };
    assert_eq!(post("bob").status, 422);
    assert_eq!(post("bob").status, 422);
    let limited = post("bob");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        limited
            .body
            .contains(r#"<p role="alert">Too many attempts for this account"#),
        "{}",
        limited.body
    );
    assert!(limited.header("retry-after").parse::<u64>().unwrap() > 0);
    assert_eq!(post("carol").status, 422, "another name has its own count");
    let log = web.log();
    assert!(
        log.contains("sign-in refused: rate limited (for this account)"),
        "{log}"
    );
    assert!(!log.contains(wrong), "no password in the log");
    // authd saw only the two attempts that passed.
    assert_eq!(
        audit(&d, "bob").matches("denied").count(),
        2,
        "{}",
        audit(&d, "bob")
    );
}

/// One HTTP/1.1 exchange over a Unix socket: the whole answer as text.
fn over_unix(socket: &Path, request: &str) -> String {
    let mut s = UnixStream::connect(socket).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

fn header<'a>(answer: &'a str, name: &str) -> Vec<&'a str> {
    answer
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn a_unix_socket_serves_the_proxy_and_believes_its_forwarded_for() {
    if !(peers::root() && peers::program("setpriv", "util-linux")) {
        return;
    }
    let d = Daemon::start_with("portal_users = [\"nobody\"]\n");
    d.user_with_password("bob");
    let dir = d.dir.path().join("web");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let planted = dir.join("planted");
    std::fs::write(&planted, "keep").unwrap();
    let bin = exposed_copy(env!("CARGO_BIN_EXE_authd-web"), d.dir.path());
    let start = |listen: &Path| {
        let mut c = command_as(&bin, Some(NOBODY));
        c.arg("--listen")
            .arg(format!("unix:{}", listen.display()))
            .arg("--socket")
            .arg(&d.socket)
            .args(["--public-url", "http://127.0.0.1:9"]);
        c
    };
    let refused = start(&planted).stderr(Stdio::piped()).output().unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("exists and is not a socket"), "{why}");
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "keep");

    let socket = dir.join("http.sock");
    let _web = spawned::Spawned::spawn(start(&socket).stdout(Stdio::null()).stderr(Stdio::null()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while UnixStream::connect(&socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "authd-web did not listen on {socket:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let page = over_unix(
        &socket,
        "GET /forgot HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains(r#"id="forgot-form""#), "{page}");
    let cookie = header(&page, "set-cookie")[0]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body_at = page.find("\r\n\r\n").unwrap();
    let csrf = csrf_in(&page[body_at..]);
    let form = format!("csrf={csrf}&user=bob");
    let post = format!(
        "POST /forgot HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\nCookie: {cookie}\r\n\
         X-Forwarded-For: 198.51.100.23\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let sent = over_unix(&socket, &post);
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    let bob = audit(&d, "bob");
    assert!(
        bob.contains("rhost=198.51.100.23"),
        "the proxy's word: {bob}"
    );
}

#[test]
fn the_reset_page_from_a_mail_an_smtp_server_received() {
    if !mailbox::aiosmtpd_available() {
        return;
    }
    let (smtp_port, web_port) = (free_port(), free_port());
    let inbox = tempfile::tempdir().unwrap();
    let _sink = mailbox::SmtpSink::start(smtp_port, inbox.path());
    let d = Daemon::start_with_config(&format!(
        "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {smtp_port}\n\
         tls = \"none\"\nfrom = \"authd@example.org\"\n\
         [web]\npublic_url = \"http://127.0.0.1:{web_port}\"\n{TEST_CONFIG}"
    ));
    let web = Web::start(&d, web_port, &[]);
    alice_with_email(&d);
    assert_ok(&d.ctl(&["send-reset", "alice"]));
    let link = mailbox::wait_for_reset_link(inbox.path(), 1);
    assert!(
        link.starts_with(&format!("{}/reset/link?token=", web.base)),
        "{link}"
    );
    reset_through(&mut Browser::default(), &link);
    assert!(verifies(&d, "alice", NEW_PW));
    assert!(!verifies(&d, "alice", GOOD_PW));
}

#[test]
fn a_support_link_that_is_not_https_and_a_socket_without_a_public_url_are_refused() {
    let web = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_authd-web"))
            .args(args)
            .output()
            .unwrap()
    };
    for (args, said) in [
        (
            &["--support-url", "javascript:alert(1)"][..],
            "--support-url javascript:alert(1): must start with https://",
        ),
        (
            &["--support-url", "http://help.example.org"][..],
            "loopback",
        ),
        (
            &["--support-text", ""][..],
            "--support-text must not be empty",
        ),
        (
            &["--listen", "unix:/run/x.sock"][..],
            "--public-url is needed",
        ),
        (&["--posts-per-account-per-minute", "0"][..], "at least 1"),
    ] {
        let out = web(args);
        assert_eq!(out.status.code(), Some(78), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    let relative = web(&["--listen", "unix:relative.sock"]);
    assert!(!relative.status.success());
    assert!(String::from_utf8_lossy(&relative.stderr).contains("absolute path"));
}
