//! SMS verification in real headless Chromium, driven over WebDriver
//! (tests/support/webdriver.rs): a real authd whose SMS go through the test `command`
//! gateway and whose portal is `nobody`, a real authd-web running as `nobody`. Turning
//! SMS on from the settings page with the texted code, then signing in with a code:
//! the one texted at the password step, and a new one asked for with `#send-sms-form`.
//! Needs root, setpriv, chromium and chromedriver (missing ones fail the test unless
//! `AUTHD_TEST_ALLOW_SKIP=1`), and `cargo build --workspace` first. With
//! `AUTHD_REGENERATE=1` the screenshot is written to docs/screenshots/settings-sms.png.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/sms_gateway.rs"]
#[allow(dead_code)]
mod sms_gateway;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "support/browse.rs"]
mod browse;
#[path = "reset/web.rs"]
#[allow(dead_code)]
mod web;
#[path = "support/webdriver.rs"]
mod webdriver;

use browse::*;
use daemon::*;
use sms_gateway::{Gateway, PHONE};
use web::*;
use webdriver::{Driver, Session};

#[test]
fn turn_on_sms_verification_and_sign_in_with_texted_codes() {
    if !(peers::root() && peers::program("setpriv", "util-linux")) {
        return;
    }
    let Some(driver) = Driver::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (gw, sms) = Gateway::new(dir.path());
    let config = format!("{sms}countries = [\"DE\"]\nmin_interval = \"0s\"\n");
    let (d, web) = portal_as_nobody_with(&config, &[]);
    d.user_with_password("greta");
    let s = Session::new(&driver);

    sign_in(&s, &web, "greta", GOOD_PW, None);
    on_settings(&s, &web, "greta");
    s.scroll_to("#enable-sms-form");
    s.type_into("#enable-sms-form input[name=phone]", PHONE);
    s.click("#enable-sms");
    prove_if_asked(&s, "#confirm-sms-form");
    s.assert_same_origin(&web.base);
    let said = s.text("[role=status]");
    assert!(
        said.contains("A code was sent by SMS to +49*****820"),
        "{said}"
    );
    s.assert_fits_320();
    s.screenshot("settings-sms.png");

    s.type_into("#confirm-sms-form input[name=code]", &gw.code(1));
    s.click("#confirm-sms-form button[type=submit]");
    let codes = s.text("#recovery-codes");
    assert!(!codes.trim().is_empty(), "no recovery codes shown");
    assert_eq!(show(&d, "greta")["sms"], "on");
    s.click("#recorded");
    s.click("#recorded-form button[type=submit]");
    on_settings(&s, &web, "greta");
    let gone = s.script("return document.getElementById('enable-sms-form') === null");
    assert_eq!(gone, true, "SMS verification is still offered");
    s.click("#logout");
    s.find("#login-form");

    // The password step texted a code; a new one is asked for, and the newest signs in.
    sign_in(&s, &web, "greta", GOOD_PW, None);
    s.find("#code-form");
    assert!(s.text("[role=status]").contains("+49*****820"));
    gw.code(2);
    s.click("#send-sms-form button[type=submit]");
    s.find("#code-form");
    s.assert_fits_320();
    s.type_into("#code-form input[name=code]", &gw.code(3));
    s.click("#code-form button[type=submit]");
    on_settings(&s, &web, "greta");
    s.assert_fits_320();
    assert!(
        !web.log().contains(&gw.code(3)),
        "a code in authd-web's log"
    );
}
