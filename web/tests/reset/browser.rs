//! Real headless Chromium (tests/support/webdriver.rs): the user's path from the mail's
//! link to the new password. With AUTHD_REGENERATE=1 the screenshots are written to
//! docs/screenshots/.

use crate::webdriver::{Driver, Session};

/// Click the mail's `link` on a page of another origin (as in a webmail), type
/// `password` twice, submit, see the success message.
pub fn reset_in_chromium(driver: &Driver, link: &str, password: &str, base: &str) {
    let s = Session::new(driver);
    let mail = format!("data:text/html,<p>Your reset mail: <a id=link href=\"{link}\">{link}</a>");
    s.open(&mail);
    s.click("#link");
    s.find("#reset-form");
    assert_eq!(s.url(), format!("{base}/reset"), "the token left the URL");
    s.assert_same_origin(base);
    s.assert_fits_320();

    s.type_into("#reset-form input[name=password]", password);
    s.type_into("#reset-form input[name=password2]", password);
    s.screenshot("reset.png");
    s.click("#reset-form button[type=submit]");
    s.find("main > h1");
    let page = s.source();
    assert!(
        page.contains(r#"role="status""#),
        "no success message:\n{page}"
    );
    let status = s.text("[role=status]");
    assert!(status.contains("was changed"), "{status}");
    s.screenshot("reset-done.png");
}
