//! The rest of the security settings in real headless Chromium, driven over WebDriver
//! (tests/support/webdriver.rs): a real authd whose portal is `nobody`, a real authd-web
//! running as `nobody` (setpriv). New recovery codes (the "recorded" box must be ticked),
//! turning two-step verification off (with its warning), signing another browser out from
//! the sessions list, signing out, and a session that ends while idle. Each page is
//! checked at 320 px. Needs root, setpriv, chromium, chromedriver and oathtool (missing
//! ones fail the test unless `AUTHD_TEST_ALLOW_SKIP=1`), and `cargo build --workspace`
//! first. With `AUTHD_REGENERATE=1` the screenshots are written to docs/screenshots/.

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

use browse::*;
use daemon::*;
use oath::{enrol, oathtool};
use web::*;
use webdriver::{Driver, Session};

/// authd (with `config` added to authd.toml) with `nobody` as its portal, authd-web
/// running as `nobody`, and chromedriver; `None` (skipped, when allowed) when a peer is
/// missing.
fn portal(config: &str) -> Option<(Daemon, Web, Driver)> {
    let able = peers::root()
        && peers::program("setpriv", "util-linux")
        && peers::program("oathtool", "oathtool");
    if !able {
        return None;
    }
    let driver = Driver::start()?;
    // These stories post more than the default per-address limit allows in a minute.
    let (d, web) = portal_as_nobody_with(config, &["--posts-per-minute", "100"]);
    Some((d, web, driver))
}

/// The text of the page's `role` message (`status` or `alert`), waiting for one.
fn said(s: &Session, role: &str) -> String {
    s.text(&format!("[role={role}]"))
}

/// Rows in the sessions list.
fn rows(s: &Session) -> u64 {
    let n = s.script("return document.querySelectorAll('#sessions tbody tr').length");
    n.as_u64().unwrap()
}

/// The browser is on the sign-in page, which says `message`, and holds no session.
fn on_login_saying(s: &Session, web: &Web, message: &str) {
    s.find("#login-form");
    assert_eq!(s.url(), format!("{}/login", web.base));
    let shown = said(s, "status");
    assert!(shown.contains(message), "{shown}");
    assert!(
        cookie(s, "authd-session").is_none(),
        "the cookie is cleared"
    );
    s.assert_same_origin(&web.base);
}

#[test]
fn new_recovery_codes_must_be_recorded_then_two_step_verification_goes_off() {
    let Some((d, web, driver)) = portal("") else {
        return;
    };
    d.user_with_password("hana");
    // Enrolled with the code of this time step: the sign-in takes the next one.
    let (secret, codes) = enrol(&d, "hana");
    let s = Session::new(&driver);
    sign_in(&s, &web, "hana", GOOD_PW, None);
    s.type_into("#code-form input[name=code]", &oathtool(&secret, 1));
    s.click("#code-form button[type=submit]");
    on_settings(&s, &web, "hana");

    s.type_into("#regenerate-codes-form input[name=password]", GOOD_PW);
    s.type_into("#regenerate-codes-form input[name=code]", &codes[0]);
    s.click("#regenerate-codes-form button[type=submit]");
    let shown = s.text("#recovery-codes");
    let fresh: Vec<&str> = shown.split_whitespace().collect();
    assert_eq!(fresh.len(), codes.len(), "{shown}");
    assert!(
        codes.iter().all(|c| !fresh.contains(&c.as_str())),
        "{shown}"
    );
    assert!(said(&s, "status").contains("old ones no longer work"));
    s.assert_same_origin(&web.base);
    s.screenshot("recovery-codes.png");
    s.assert_fits_320();

    // Leaving without ticking the box: the browser refuses (the box is required) ...
    let form_url = s.url();
    s.click("#recorded-form button[type=submit]");
    let missing = s.script("return document.getElementById('recorded').validity.valueMissing");
    assert_eq!(missing, true);
    assert_eq!(s.url(), form_url, "the form was sent");
    // ... and so does authd-web, for a browser that does not check: the codes again.
    s.script("document.getElementById('recorded').removeAttribute('required')");
    s.click("#recorded-form button[type=submit]");
    assert!(said(&s, "alert").contains("Tick"), "no refusal");
    assert_eq!(s.text("#recovery-codes"), shown);
    s.click("#recorded");
    s.click("#recorded-form button[type=submit]");
    on_settings(&s, &web, "hana");

    // Turning two-step verification off: the warning, then the proof; an old recovery
    // code no longer proves anything.
    s.scroll_to("#disable-2fa-title");
    let warning = s.text(".warning");
    assert!(warning.contains("lowers the protection"), "{warning}");
    s.screenshot("disable-2fa.png");
    s.type_into("#disable-2fa-form input[name=password]", GOOD_PW);
    s.type_into("#disable-2fa-form input[name=code]", &codes[1]);
    s.click("#disable-2fa-form button[type=submit]");
    assert!(said(&s, "alert").contains("not right"), "old code taken");
    assert_eq!(show(&d, "hana")["totp"], "on");
    s.type_into("#disable-2fa-form input[name=password]", GOOD_PW);
    s.type_into("#disable-2fa-form input[name=code]", fresh[0]);
    s.click("#disable-2fa-form button[type=submit]");
    assert!(said(&s, "status").contains("Two-step verification is off"));
    s.assert_fits_320();
    assert_eq!(show(&d, "hana")["totp"], "off");
    let log = web.log();
    for secret in [&secret, &codes[1], &fresh[0].to_string()] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret in authd-web's log"
        );
    }
}

#[test]
fn another_browser_is_signed_out_from_the_sessions_list() {
    let Some((d, web, driver)) = portal("") else {
        return;
    };
    d.user_with_password("ivo");
    let first = Session::new(&driver);
    let second = Session::new(&driver);
    sign_in(&first, &web, "ivo", GOOD_PW, None);
    on_settings(&first, &web, "ivo");
    sign_in(&second, &web, "ivo", GOOD_PW, None);
    on_settings(&second, &web, "ivo");

    first.open(&format!("{}/settings", web.base));
    first.find("#sessions");
    assert_eq!(rows(&first), 2);
    let here = first.script("return document.querySelectorAll('#sessions tr.current').length");
    assert_eq!(here, 1, "this browser's session is marked");
    first.scroll_to("#sessions-title");
    first.screenshot("sessions.png");
    first.assert_fits_320();

    first.click("#sessions tbody tr:not(.current) button[type=submit]");
    on_settings(&first, &web, "ivo");
    assert_eq!(rows(&first), 1);
    assert_eq!(portal_sessions(&d, "ivo").len(), 1);

    second.open(&format!("{}/settings", web.base));
    on_login_saying(&second, &web, "Your session has ended");

    first.click("#logout");
    on_login_saying(&first, &web, "You are signed out.");
    first.screenshot("signed-out.png");
    first.assert_fits_320();
    assert!(portal_sessions(&d, "ivo").is_empty());
}

#[test]
fn an_idle_session_ends_in_the_browser() {
    let Some((d, web, driver)) = portal("[web]\nsession_idle = 2\n") else {
        return;
    };
    d.user_with_password("jo");
    let s = Session::new(&driver);
    sign_in(&s, &web, "jo", GOOD_PW, None);
    on_settings(&s, &web, "jo");
    // Any page load is a use: wait, without one, for the instant authd says it ends.
    wait_for_clock(session_instant(&d, "jo", "expires"));
    s.open(&format!("{}/settings", web.base));
    wait_until("the sign-in page", || {
        s.url().ends_with("/login").then_some(())
    });
    on_login_saying(&s, &web, "Your session has ended. Sign in again");
    s.screenshot("session-ended.png");
    s.assert_fits_320();
    assert!(portal_sessions(&d, "jo").is_empty());

    s.open(&format!("{}/login", web.base));
    s.find("#login-form");
    let again = s.script("return document.querySelector('[role=status]') === null");
    assert_eq!(again, true, "the notice is said once");
}
