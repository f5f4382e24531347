//! The reset landing page end to end: a real authd mails a real link (file transport),
//! a real authd-web answers it, and the new password works with `authctl verify`.
//! Needs `cargo build --workspace` first (authd and authctl are another package's
//! binaries). `reset/browser.rs` drives headless Chromium through the same path
//! (tests/support/webdriver.rs).

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "reset/browser.rs"]
mod browser;
#[path = "reset/web.rs"]
mod web;
#[path = "support/webdriver.rs"]
mod webdriver;

use daemon::*;
use web::*;

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

/// alice, with a password and an address, and a reset mail on its way.
fn alice_asks_for_a_reset(d: &Daemon, n: usize) -> String {
    if n == 1 {
        assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
        assert_ok(&d.ctl_stdin(&pw(), &["set-password", "alice"]));
    }
    assert_ok(&d.ctl(&["send-reset", "alice"]));
    link_in_mail(d, n)
}

fn verifies(d: &Daemon, password: &str) -> bool {
    d.ctl_stdin(&format!("{password}\n"), &["verify", "alice"])
        .status
        .success()
}

/// Follow `link` and load the form: the CSRF token.
fn open_link(b: &mut Browser, link: &str, base: &str) -> String {
    let moved = b.get(link);
    assert_eq!(moved.status, 303, "{}", moved.body);
    assert_eq!(moved.header("location"), "/reset");
    let form = b.get(&format!("{base}{}", moved.header("location")));
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(r#"id="reset-form""#), "{}", form.body);
    csrf_in(&form.body)
}

#[test]
fn a_mailed_link_leads_to_a_new_password_and_works_once() {
    let port = free_port();
    let d = daemon_for(port, "");
    let web = Web::start(&d, port, &[]);
    let link = alice_asks_for_a_reset(&d, 1);
    assert!(
        link.starts_with(&format!("{}/reset/link?token=", web.base)),
        "{link}"
    );
    let token = token_of(&link);

    let mut b = Browser::default();
    let moved = b.get(&link);
    let cookie = moved.header("set-cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    let csrf = open_link(&mut b, &link, &web.base);
    let url = format!("{}/reset", web.base);

    // Two different passwords: asked again, nothing changed.
    let differ = b.post(
        &url,
        &[("csrf", &csrf), ("password", NEW_PW), ("password2", "x")],
        &[],
    );
    assert_eq!(differ.status, 422);
    assert!(differ.body.contains(r#"role="alert""#) && differ.body.contains("differ"));

    // A weak password: the policy's reasons, and the token still works.
    let weak = b.post(
        &url,
        &[
            ("csrf", &csrf),
            ("password", "alice"),
            ("password2", "alice"),
        ],
        &[],
    );
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert!(weak.body.contains(r#"role="alert""#), "{}", weak.body);
    assert!(weak.body.contains("password rejected"), "{}", weak.body);
    assert!(weak.body.contains(r#"id="reset-form""#));

    let origin = [("origin", web.base.as_str())];
    let done = b.post(
        &url,
        &[("csrf", &csrf), ("password", NEW_PW), ("password2", NEW_PW)],
        &origin,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done
        .body
        .contains(r#"<p role="status">The password of account alice was changed"#));
    assert!(verifies(&d, NEW_PW), "the new password works");
    assert!(!verifies(&d, GOOD_PW), "the old one does not");

    // The same link again: explained, with the way to a new mail.
    let csrf = open_link(&mut b, &link, &web.base);
    let again = b.post(
        &url,
        &[
            ("csrf", &csrf),
            ("password", "Another-Long-Pass-77"),
            ("password2", "Another-Long-Pass-77"),
        ],
        &[],
    );
    assert_eq!(again.status, 400);
    assert!(
        again.body.contains("expired or was already used"),
        "{}",
        again.body
    );
    assert!(again.body.contains("authctl send-reset"), "{}", again.body);
    assert!(verifies(&d, NEW_PW));

    let log = web.log();
    assert!(log.contains("/reset/link"), "requests are logged:\n{log}");
    assert!(
        !log.contains(&token),
        "the token is in authd-web's log:\n{log}"
    );
    assert!(
        !log.contains(NEW_PW) && !log.contains(&csrf),
        "a secret in the log:\n{log}"
    );
    assert!(!d.log().contains(&token), "the token is in authd's log");
}

#[test]
fn an_expired_link_is_explained() {
    let port = free_port();
    let d = daemon_for(port, "[reset]\ntoken_ttl = \"1s\"");
    let web = Web::start(&d, port, &[]);
    let link = alice_asks_for_a_reset(&d, 1);
    let mut b = Browser::default();
    let csrf = open_link(&mut b, &link, &web.base);
    wait_for_clock(authd::time::now() + 2);
    let form = [
        ("csrf", csrf.as_str()),
        ("password", NEW_PW),
        ("password2", NEW_PW),
    ];
    let late = b.post(&format!("{}/reset", web.base), &form, &[]);
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(late.body.contains(r#"role="alert""#) && late.body.contains("expired"));
    assert!(late.body.contains("authctl send-reset"));
    assert!(verifies(&d, GOOD_PW), "nothing changed");
}

#[test]
fn posts_without_the_csrf_token_or_from_another_origin_are_refused() {
    let port = free_port();
    let d = daemon_for(port, "");
    let web = Web::start(&d, port, &[]);
    let link = alice_asks_for_a_reset(&d, 1);
    let url = format!("{}/reset", web.base);
    let mut b = Browser::default();
    let csrf = open_link(&mut b, &link, &web.base);
    let pw = [("password", NEW_PW), ("password2", NEW_PW)];

    let none = b.post(&url, &pw, &[]);
    assert_eq!(none.status, 403, "no token: {}", none.body);
    let wrong = b.post(
        &url,
        &[("csrf", "0".repeat(64).as_str()), pw[0], pw[1]],
        &[],
    );
    assert_eq!(wrong.status, 403, "a wrong token");
    let cross = [("origin", "https://evil.example")];
    let evil = b.post(&url, &[("csrf", csrf.as_str()), pw[0], pw[1]], &cross);
    assert_eq!(evil.status, 403, "another origin");
    // The CSRF cookie of another browser does not go with this form's token.
    let mut other = Browser::default();
    other.cookies.insert("authd-reset".into(), token_of(&link));
    let _ = other.get(&url);
    let stolen = other.post(&url, &[("csrf", csrf.as_str()), pw[0], pw[1]], &[]);
    assert_eq!(stolen.status, 403, "a token bound to another cookie");
    assert!(verifies(&d, GOOD_PW), "nothing changed");

    let body = format!("csrf={csrf}&password={}", "a".repeat(20 * 1024));
    let big = ureq::post(&url)
        .set("content-type", "application/x-www-form-urlencoded")
        .send_string(&body);
    assert!(
        matches!(big, Err(ureq::Error::Status(413, _))),
        "a 20 KiB body"
    );
}

#[test]
fn every_answer_carries_the_security_headers() {
    let port = free_port();
    let d = daemon_for(port, "");
    let web = Web::start(
        &d,
        port,
        &["--posts-per-minute", "2", "--trusted-proxy", "127.0.0.1"],
    );
    let mut b = Browser::default();
    let form = b.get(&format!("{}/reset", web.base));
    let css = b.get(&format!("{}/static/style.css", web.base));
    let bad_link = b.get(&format!("{}/reset/link?token=a;b", web.base));
    let missing = b.get(&format!("{}/nothing", web.base));
    for page in [&form, &css, &bad_link, &missing] {
        assert_eq!(
            page.header("content-security-policy"),
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        );
        assert_eq!(page.header("referrer-policy"), "no-referrer");
        assert_eq!(page.header("x-content-type-options"), "nosniff");
    }
    assert_eq!(form.header("cache-control"), "no-store");
    assert_eq!(bad_link.status, 400);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(form.header("set-cookie").contains("authd-csrf="));
    assert!(
        !form.body.contains("<script")
            && !form.body.contains("http://")
            && !form.body.contains("https://"),
        "no script, nothing from another origin:\n{}",
        form.body
    );
    assert!(
        form.body.contains(r#"<label for="password">"#)
            && form.body.contains(r#"<label for="password2">"#)
    );

    // The per-address POST limit.
    let csrf = csrf_in(&form.body);
    let url = format!("{}/reset", web.base);
    let f = [("csrf", csrf.as_str())];
    assert_eq!(b.post(&url, &f, &[]).status, 400, "no reset cookie");
    assert_eq!(b.post(&url, &f, &[]).status, 400);
    let third = b.post(&url, &f, &[]);
    assert_eq!(third.status, 429);
    assert!(third.body.contains(r#"role="alert""#));
    assert!(!third.header("retry-after").is_empty());
    // Behind a trusted proxy, each forwarded client has its own count.
    let other = [("x-forwarded-for", "198.51.100.1, 192.0.2.9")];
    assert_eq!(b.post(&url, &f, &other).status, 400, "another client");
    let forged = [("x-forwarded-for", "192.0.2.9, 127.0.0.1")];
    assert_eq!(
        b.post(&url, &f, &forged).status,
        400,
        "the proxy's own entry passed over"
    );
    assert_eq!(
        b.post(&url, &f, &other).status,
        429,
        "192.0.2.9's two are used up"
    );
}

#[test]
fn browser_sets_a_new_password_from_a_real_mail() {
    let Some(driver) = webdriver::Driver::start() else {
        return;
    };
    let port = free_port();
    let d = daemon_for(port, "");
    let web = Web::start(&d, port, &[]);
    let link = alice_asks_for_a_reset(&d, 1);
    browser::reset_in_chromium(&driver, &link, NEW_PW, &web.base);
    assert!(
        verifies(&d, NEW_PW),
        "the password set in the browser works"
    );
    assert!(
        !web.log().contains(&token_of(&link)),
        "the token is in authd-web's log"
    );
}

#[test]
fn an_unreachable_authd_is_a_page_that_says_try_again_later() {
    let port = free_port();
    let mut d = daemon_for(port, "");
    let web = Web::start(&d, port, &[]);
    let link = alice_asks_for_a_reset(&d, 1);
    let mut b = Browser::default();
    let csrf = open_link(&mut b, &link, &web.base);
    d.stop();
    let form = [
        ("csrf", csrf.as_str()),
        ("password", NEW_PW),
        ("password2", NEW_PW),
    ];
    let down = b.post(&format!("{}/reset", web.base), &form, &[]);
    assert_eq!(down.status, 503, "{}", down.body);
    assert!(down.body.contains(r#"role="alert""#) && down.body.contains("try again"));
    assert!(
        b.cookies.contains_key("authd-reset"),
        "the link stays usable"
    );
    assert!(!web.log().contains(&token_of(&link)));
}
