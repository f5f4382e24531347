//! What the browser tests do on authd-web's pages in Chromium: sign in, check the
//! settings page and its cookies, wait for one of several elements.
//!
//! Shared by the browser tests (`#[path]`-included, beside the `daemon`, `web` and
//! `webdriver` support modules at the crate root).

#![allow(dead_code)]

use crate::daemon::{wait_until, GOOD_PW};
use crate::web::Web;
use crate::webdriver::Session;

/// The cookie `name` as the browser keeps it (WebDriver's view, not the page's), if any.
pub fn cookie(s: &Session, name: &str) -> Option<serde_json::Value> {
    let all = s.get("cookie");
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
}

/// The browser holds the cookie `name`, `HttpOnly` and `SameSite=Strict`, and the page's
/// script cannot read it.
pub fn assert_hidden_cookie(s: &Session, name: &str) {
    let kept = cookie(s, name).unwrap_or_else(|| panic!("no {name} cookie"));
    assert_eq!(kept["httpOnly"], true, "{kept}");
    assert_eq!(kept["sameSite"], "Strict", "{kept}");
    let seen = s.script("return document.cookie");
    let seen = seen.as_str().unwrap();
    assert!(!seen.contains(name), "script reads {name}: {seen}");
}

/// Open the sign-in page, type `user` and `password`, submit (a screenshot first, as
/// `shot`, when given).
pub fn sign_in(s: &Session, web: &Web, user: &str, password: &str, shot: Option<&str>) {
    s.open(&format!("{}/login", web.base));
    s.find("#login-form");
    s.assert_same_origin(&web.base);
    s.type_into("#login-form input[name=user]", user);
    s.type_into("#login-form input[name=password]", password);
    if let Some(name) = shot {
        s.screenshot(name);
    }
    s.click("#login-form button[type=submit]");
}

/// The settings page is shown, for `user`, and only loaded from its own origin.
pub fn on_settings(s: &Session, web: &Web, user: &str) {
    s.find("#settings");
    assert_eq!(s.url(), format!("{}/settings", web.base));
    let shown = s.text("#settings");
    assert!(shown.contains(user), "{shown}");
    s.assert_same_origin(&web.base);
    assert_hidden_cookie(s, "authd-session");
}

/// The first element of `css` (a selector list) on the page, by id, waiting for one.
pub fn first_of(s: &Session, css: &str) -> String {
    let script = format!("const e = document.querySelector('{css}'); return e ? e.id : null");
    wait_until(css, || s.script(&script).as_str().map(str::to_string))
}

/// After a click that leads to `css`, or to `#prove-form` when authd wants a fresh
/// proof: prove with the password there, and wait for `css`.
pub fn prove_if_asked(s: &Session, css: &str) {
    if first_of(s, &format!("{css}, #prove-form")) == "prove-form" {
        s.type_into("#prove-form input[name=password]", GOOD_PW);
        s.click("#prove-form button[type=submit]");
    }
    s.find(css);
}
