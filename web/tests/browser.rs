//! Signing in and turning on app verification in real headless Chromium, driven over
//! WebDriver (tests/support/webdriver.rs): a real authd whose portal is `nobody`, a real
//! authd-web running as `nobody` (setpriv). The QR code is read from a screenshot of the
//! page by zbarimg, the codes are computed by oathtool. Needs root, setpriv, chromium,
//! chromedriver, oathtool and zbarimg (missing ones fail the test unless
//! `AUTHD_TEST_ALLOW_SKIP=1`), and `cargo build --workspace` first. With
//! `AUTHD_REGENERATE=1` the screenshots are written to docs/screenshots/.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/oath.rs"]
mod oath;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "support/browse.rs"]
mod browse;
#[path = "reset/web.rs"]
#[allow(dead_code)]
mod web;
#[path = "support/webdriver.rs"]
mod webdriver;

use std::process::Command;

use browse::*;
use daemon::*;
use oath::oathtool;
use web::*;
use webdriver::{Driver, Session};

/// authd with `nobody` as its portal, authd-web running as `nobody`, and chromedriver;
/// `None` (the test skipped, when allowed) when a peer is missing.
fn portal() -> Option<(Daemon, Web, Driver)> {
    let able = peers::root()
        && peers::program("setpriv", "util-linux")
        && peers::program("oathtool", "oathtool")
        && peers::program("zbarimg", "zbar-tools");
    if !able {
        return None;
    }
    let driver = Driver::start()?;
    let (d, web) = portal_as_nobody(&[]);
    Some((d, web, driver))
}

/// What zbarimg reads in the PNG `png` (a whole-window screenshot).
fn scan(d: &Daemon, png: &[u8]) -> String {
    let file = d.dir.path().join("screenshot.png");
    std::fs::write(&file, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zbarimg found no code in the screenshot"
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The value of the query parameter `name` in `uri`.
fn param<'a>(uri: &'a str, name: &str) -> &'a str {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {uri}"))
}

/// The TOTP time step now.
fn step() -> u64 {
    authd::time::now() / 30
}

#[test]
fn sign_in_turn_on_app_verification_from_a_screenshot_and_sign_in_with_a_code() {
    let Some((d, web, driver)) = portal() else {
        return;
    };
    d.user_with_password("frida");
    let s = Session::new(&driver);

    // No second factor yet: name and password lead straight to the settings.
    sign_in(&s, &web, "frida", GOOD_PW, Some("signin.png"));
    on_settings(&s, &web, "frida");
    s.assert_fits_320();
    s.screenshot("settings.png");

    s.click("#enable-totp");
    prove_if_asked(&s, "#totp-qr");
    s.assert_same_origin(&web.base);
    let scanned = scan(&d, &s.screenshot("settings-totp.png"));
    let secret = s.text("#totp-secret");
    assert!(scanned.starts_with("otpauth://totp/"), "{scanned}");
    assert_eq!(param(&scanned, "secret"), secret, "the QR code's secret");
    assert_eq!(scanned, s.attribute("#totp-link", "href"));

    s.type_into("#confirm-totp-form input[name=code]", &oathtool(&secret, 0));
    let confirmed = step();
    s.click("#confirm-totp-form button[type=submit]");
    let codes = s.text("#recovery-codes");
    assert!(!codes.trim().is_empty(), "no recovery codes shown");
    assert_eq!(json(&d.ctl(&["--json", "show", "frida"]))["totp"], "on");
    s.click("#recorded");
    s.click("#recorded-form button[type=submit]");
    on_settings(&s, &web, "frida");
    let gone = s.script("return document.getElementById('enable-totp') === null");
    assert_eq!(gone, true, "app verification is still offered");

    s.click("#logout");
    s.find("#login-form");
    assert_eq!(s.url(), format!("{}/login", web.base));
    assert!(
        cookie(&s, "authd-session").is_none(),
        "the cookie is cleared"
    );

    // Now the password leads to the code form; a code of a later time step than the one
    // that confirmed the enrolment (authd takes each step once) leads to the settings.
    sign_in(&s, &web, "frida", GOOD_PW, None);
    s.find("#code-form");
    s.assert_same_origin(&web.base);
    assert_hidden_cookie(&s, "authd-signin");
    s.screenshot("signin-code.png");
    wait_until("the next TOTP time step", || {
        (step() > confirmed).then_some(())
    });
    s.type_into("#code-form input[name=code]", &oathtool(&secret, 0));
    s.click("#code-form button[type=submit]");
    on_settings(&s, &web, "frida");

    let log = web.log();
    assert!(!log.contains(&secret), "the secret is in authd-web's log");
}
