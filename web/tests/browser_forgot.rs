//! "Forgot your password?" and "Email me a link instead" in real headless Chromium,
//! driven over WebDriver (tests/support/webdriver.rs): a real authd whose portal is
//! `nobody`, a real authd-web running as `nobody` (setpriv). From the sign-in page's
//! link to the forgot page, the answer, the mail's link to a new password; signed in, the
//! email-link form. Each page is checked at 320 px. Needs root, setpriv, chromium and
//! chromedriver (missing ones fail the test unless `AUTHD_TEST_ALLOW_SKIP=1`), and
//! `cargo build --workspace` first. With `AUTHD_REGENERATE=1` the screenshots are
//! written to docs/screenshots/.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
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

use daemon::*;
use web::*;
use webdriver::{Driver, Session};

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

#[test]
fn a_user_who_forgot_the_password_gets_a_link_from_the_sign_in_page() {
    if !(peers::root() && peers::program("setpriv", "util-linux")) {
        return;
    }
    let Some(driver) = Driver::start() else {
        return;
    };
    let port = free_port();
    let d = Daemon::start_with(&format!(
        "portal_users = [\"nobody\"]\n[web]\npublic_url = \"http://127.0.0.1:{port}\"\n\
         [reset]\nmin_interval = \"0s\"\n"
    ));
    let help = ["--support-text", "Call the service desk at 555-0100."];
    let web = Web::start_as(&d, port, &help, Some(NOBODY));
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl_stdin(&pw(), &["set-password", "alice"]));

    let s = Session::new(&driver);
    s.open(&format!("{}/login", web.base));
    s.click("#forgot-link");
    s.find("#forgot-form");
    assert_eq!(s.url(), format!("{}/forgot", web.base));
    assert!(s
        .text("#support")
        .contains("Lost your device? Call the service desk"));
    s.assert_fits_320();
    s.type_into("#forgot-form input[name=user]", "alice");
    s.screenshot("forgot.png");
    s.click("#forgot-form button[type=submit]");
    let said = s.text("[role=status]");
    assert_eq!(
        said,
        "If that account has an email address, a link is on its way."
    );
    s.assert_same_origin(&web.base);
    s.assert_fits_320();

    s.open(&link_in_mail(&d, 1));
    s.find("#reset-form");
    s.type_into("#reset-form input[name=password]", NEW_PW);
    s.type_into("#reset-form input[name=password2]", NEW_PW);
    s.click("#reset-form button[type=submit]");
    assert!(s.text("[role=status]").contains("was changed"));

    // Signed in, the other way to the same mail.
    browse::sign_in(&s, &web, "alice", NEW_PW, None);
    s.find("#settings");
    s.click("#email-link-form button[type=submit]");
    let said = s.text("[role=status]");
    assert!(
        said.starts_with("A link to choose a new password is on its way to "),
        "{said}"
    );
    assert!(!said.contains("alice@"), "the address is masked: {said}");
    s.assert_fits_320();
    s.screenshot("email-link.png");
}
