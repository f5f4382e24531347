//! The security settings through authd-web end to end: a real authd whose portal is
//! `nobody`, a real authd-web running as `nobody` (setpriv). Changing the password (the
//! old one stops working, the new one works, the user must sign in again), turning on
//! app verification from the page's QR image (decoded by zbarimg, the code computed by
//! oathtool), the recovery codes shown once, and CSRF refusals. Needs root, setpriv,
//! oathtool and zbarimg, and `cargo build --workspace` first.

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

#[path = "reset/web.rs"]
#[allow(dead_code)]
mod web;

use std::process::Command;

use base64::Engine;
use daemon::*;
use oath::oathtool;
use web::*;

const NEW_PW: &str = "Purple-Otter-Lantern-42";

fn portal() -> Option<(Daemon, Web)> {
    let able = peers::root()
        && peers::program("setpriv", "util-linux")
        && peers::program("oathtool", "oathtool")
        && peers::program("zbarimg", "zbar-tools");
    // These stories post more than the default per-address limit allows in a minute.
    able.then(|| portal_as_nobody(&["--posts-per-minute", "100"]))
}

/// Sign `name` in with `password` (no second factor): the settings page.
fn signed_in(b: &mut Browser, web: &Web, name: &str, password: &str) -> Answer {
    let form = b.get(&format!("{}/login", web.base));
    let csrf = csrf_in(&form.body);
    let url = format!("{}/login", web.base);
    let issued = b.post(
        &url,
        &[("csrf", &csrf), ("user", name), ("password", password)],
        &[],
    );
    assert_eq!(issued.status, 303, "{}", issued.body);
    let page = b.get(&format!("{}/settings", web.base));
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), "no-store");
    page
}

fn verifies(d: &Daemon, name: &str, password: &str) -> bool {
    d.ctl_stdin(&format!("{password}\n"), &["verify", name])
        .status
        .success()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in:\n{text}"))
        + start.len();
    &text[at..at + text[at..].find(end).unwrap()]
}

fn unescape(html: &str) -> String {
    html.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[test]
fn changing_the_password_needs_the_current_one_and_signs_out() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("carol");
    let mut b = Browser::default();
    let page = signed_in(&mut b, &web, "carol", GOOD_PW);
    assert!(
        page.body.contains(r#"id="change-password-form""#),
        "{}",
        page.body
    );
    for field in ["current", "password", "password2"] {
        assert!(page.body.contains(&format!(r#"name="{field}""#)), "{field}");
    }
    let csrf = csrf_in(&page.body);
    let url = format!("{}/settings/password", web.base);

    let forged = b.post(
        &url,
        &[
            ("current", GOOD_PW),
            ("password", NEW_PW),
            ("password2", NEW_PW),
        ],
        &[],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);

    let mismatch = b.post(
        &url,
        &[
            ("csrf", &csrf),
            ("current", GOOD_PW),
            ("password", NEW_PW),
            ("password2", "x"),
        ],
        &[],
    );
    assert_eq!(mismatch.status, 422, "{}", mismatch.body);
    assert!(mismatch
        .body
        .contains(r#"<p role="alert">The two new passwords"#));

    let wrong = b.post(
        &url,
        &[
            ("csrf", &csrf),
            ("current", "not-the-password-1"),
            ("password", NEW_PW),
            ("password2", NEW_PW),
        ],
        &[],
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong
            .body
            .contains(r#"<p role="alert">The current password"#),
        "{}",
        wrong.body
    );

    let weak = b.post(
        &url,
        &[
            ("csrf", &csrf),
            ("current", GOOD_PW),
            ("password", "password"),
            ("password2", "password"),
        ],
        &[],
    );
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert!(weak.body.contains(r#"role="alert""#), "{}", weak.body);
    assert!(verifies(&d, "carol", GOOD_PW), "nothing changed yet");

    let done = b.post(
        &url,
        &[
            ("csrf", &csrf),
            ("current", GOOD_PW),
            ("password", NEW_PW),
            ("password2", NEW_PW),
        ],
        &[],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains(r#"role="status""#) && done.body.contains("Sign in again"));
    assert!(
        !b.cookies.contains_key("authd-session"),
        "the cookie is cleared"
    );
    assert!(
        !verifies(&d, "carol", GOOD_PW),
        "the old password still works"
    );
    assert!(
        verifies(&d, "carol", NEW_PW),
        "the new password does not work"
    );
    let away = b.get(&format!("{}/settings", web.base));
    assert_eq!((away.status, away.header("location")), (303, "/login"));

    let log = web.log();
    assert!(!log.contains(NEW_PW) && !log.contains(GOOD_PW), "{log}");
}

#[test]
fn app_verification_from_the_qr_code_then_recovery_codes_once() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("dora");
    let mut b = Browser::default();
    let page = signed_in(&mut b, &web, "dora", GOOD_PW);
    assert!(page.body.contains(r#"id="enable-totp""#), "{}", page.body);
    let csrf = csrf_in(&page.body);
    let url = format!("{}/settings/totp", web.base);

    let forged = b.post(&url, &[], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);

    // The password form's POST (what a stale proof leads to) proves first: a wrong
    // password is said and the form shown again.
    let wrong = b.post(
        &url,
        &[("csrf", &csrf), ("password", "not-the-password-1")],
        &[],
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains(r#"id="prove-form""#), "{}", wrong.body);
    assert!(wrong
        .body
        .contains(r#"<p role="alert">The current password"#));
    assert_eq!(json(&d.ctl(&["--json", "show", "dora"]))["totp"], "off");

    // Just signed in: the proof is fresh, the enrolment starts at once.
    let shown = b.post(&url, &[("csrf", &csrf)], &[]);
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.header("cache-control"), "no-store");
    let csp = shown.header("content-security-policy");
    assert!(
        csp.contains("img-src 'self' data:") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    assert!(
        !page.header("content-security-policy").contains("data:"),
        "only this page"
    );

    let secret = between(&shown.body, r#"<code id="totp-secret">"#, "<").to_string();
    let link = unescape(between(&shown.body, r#"id="totp-link" href=""#, "\""));
    assert!(link.starts_with("otpauth://totp/"), "{link}");
    assert!(link.contains(&format!("secret={secret}")), "{link}");
    let src = between(&shown.body, r#"<img id="totp-qr" src=""#, "\"");
    let b64 = src
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URL");
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let file = d.dir.path().join("qr.png");
    std::fs::write(&file, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "zbarimg found no code");
    let scanned = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(scanned, link, "the QR code is the otpauth link");
    assert!(
        scanned.contains(&format!("secret={secret}&"))
            || scanned.ends_with(&format!("secret={secret}"))
    );

    let confirm = format!("{}/settings/totp/confirm", web.base);
    let csrf = csrf_in(&shown.body);
    let forged = b.post(&confirm, &[("code", &oathtool(&secret, 0))], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    let wrong = if oathtool(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = b.post(&confirm, &[("csrf", &csrf), ("code", wrong)], &[]);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains(r#"role="alert""#) && refused.body.contains("confirm-totp-form"));

    let on = b.post(
        &confirm,
        &[("csrf", &csrf), ("code", &oathtool(&secret, 0))],
        &[],
    );
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(on.header("cache-control"), "no-store");
    assert!(on.body.contains(r#"role="status""#), "{}", on.body);
    let list = between(&on.body, r#"<ul id="recovery-codes">"#, "</ul>");
    let codes: Vec<String> = list
        .split("<code>")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].to_string())
        .collect();
    assert!(!codes.is_empty(), "{}", on.body);
    assert!(on.body.contains(r#"id="recorded""#) && on.body.contains("only this once"));
    let shown = json(&d.ctl(&["--json", "show", "dora"]));
    assert_eq!(shown["totp"], "on", "{shown}");

    // Continue is refused until the box is ticked; the codes stay on the page.
    let recorded = format!("{}/settings/recorded", web.base);
    let csrf = csrf_in(&on.body);
    let joined = codes.join(" ");
    let not_yet = b.post(&recorded, &[("csrf", &csrf), ("codes", &joined)], &[]);
    assert_eq!(not_yet.status, 422, "{}", not_yet.body);
    assert!(not_yet.body.contains(r#"role="alert""#) && not_yet.body.contains(&codes[0]));
    let ticked = b.post(
        &recorded,
        &[("csrf", &csrf), ("codes", &joined), ("recorded", "yes")],
        &[],
    );
    assert_eq!(
        (ticked.status, ticked.header("location")),
        (303, "/settings")
    );
    let after = b.get(&format!("{}/settings", web.base));
    assert!(
        !after.body.contains(r#"id="enable-totp""#),
        "{}",
        after.body
    );

    // A recovery code from the page signs in.
    let mut other = Browser::default();
    let form = other.get(&format!("{}/login", web.base));
    let csrf = csrf_in(&form.body);
    let asked = other.post(
        &format!("{}/login", web.base),
        &[("csrf", &csrf), ("user", "dora"), ("password", GOOD_PW)],
        &[],
    );
    let csrf = csrf_in(&asked.body);
    let recovered = other.post(
        &format!("{}/login/code", web.base),
        &[("csrf", &csrf), ("code", &codes[0])],
        &[],
    );
    assert_eq!(recovered.status, 303, "{}", recovered.body);

    let log = web.log();
    assert!(!log.contains(&secret), "the secret is in authd-web's log");
    for code in &codes {
        assert!(
            !log.contains(code.as_str()),
            "a recovery code is in the log"
        );
    }
    let token = &b.cookies["authd-session"];
    assert!(
        !log.contains(token.as_str()),
        "the session token is in the log"
    );
}
