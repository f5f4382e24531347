//! SMS verification through authd-web end to end: a real authd whose SMS go through the
//! test `command` gateway and whose portal is `nobody`, and a real authd-web running as
//! `nobody`. Turning SMS on from the settings page (a country outside `[sms] countries`
//! refused, the code read from the gateway, the recovery codes shown once), signing in
//! with the code texted at the password step, asking for one with `#send-sms-form`
//! (and the rate limit's message), and turning SMS alone off when the app stays on.
//! Needs root, setpriv and oathtool, and `cargo build --workspace` first.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/oath.rs"]
mod oath;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/sms_gateway.rs"]
#[allow(dead_code)]
mod sms_gateway;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "reset/web.rs"]
#[allow(dead_code)]
mod web;

use daemon::*;
use oath::enrol;
use sms_gateway::{Gateway, PHONE};
use web::*;

/// The masked number authd shows for `PHONE`.
const MASKED: &str = "+49*****820";

/// authd (SMS through the gateway, `sms` keys added to `[sms]`) and authd-web.
fn portal(sms: &str) -> Option<(Daemon, Web, Gateway, tempfile::TempDir)> {
    let able = peers::root()
        && peers::program("setpriv", "util-linux")
        && peers::program("oathtool", "oathtool");
    if !able {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let (gw, config) = Gateway::new(dir.path());
    let (d, web) =
        portal_as_nobody_with(&format!("{config}{sms}\n"), &["--posts-per-minute", "100"]);
    Some((d, web, gw, dir))
}

/// POST a settings form with the page's CSRF token.
fn post(b: &mut Browser, web: &Web, page: &Answer, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = csrf_in(&page.body);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&format!("{}{path}", web.base), &all, &[])
}

#[track_caller]
fn says(page: &Answer, role: &str, text: &str) {
    let at = page
        .body
        .find(&format!(r#"role="{role}""#))
        .unwrap_or_else(|| panic!("no role={role} in:\n{}", page.body));
    let end = at + page.body[at..].find("</p>").unwrap();
    assert!(page.body[at..end].contains(text), "{}", &page.body[at..end]);
}

/// The sign-in's password step: the code page.
fn password_step(b: &mut Browser, web: &Web, name: &str) -> Answer {
    let url = format!("{}/login", web.base);
    let csrf = csrf_in(&b.get(&url).body);
    let page = b.post(
        &url,
        &[("csrf", &csrf), ("user", name), ("password", GOOD_PW)],
        &[],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"id="code-form""#), "{}", page.body);
    page
}

/// The code step: signed in (303 to the settings).
fn code_step(b: &mut Browser, web: &Web, page: &Answer, code: &str) {
    let issued = post(b, web, page, "/login/code", &[("code", code)]);
    assert_eq!(issued.status, 303, "{}", issued.body);
    assert_eq!(issued.header("location"), "/settings");
}

#[test]
fn sms_is_turned_on_in_the_pages_and_signs_in_by_text() {
    let Some((d, web, gw, _dir)) = portal("countries = [\"DE\"]\nmin_interval = \"0s\"") else {
        return;
    };
    d.user_with_password("alice");
    let mut b = Browser::default();
    let settings = sign_in_as(&mut b, &web, "alice", GOOD_PW, None);
    assert!(settings
        .body
        .contains(r#"<form id="enable-sms-form" method="post""#));
    assert!(settings.body.contains(r#"<label for="sms-phone">"#));

    // A number in a country outside `[sms] countries`: use the app; nothing is sent.
    let abroad = post(
        &mut b,
        &web,
        &settings,
        "/settings/sms",
        &[("phone", "+33612345678")],
    );
    assert_eq!(abroad.status, 422, "{}", abroad.body);
    says(
        &abroad,
        "alert",
        "not available for phone numbers in that country",
    );
    says(&abroad, "alert", "authenticator app");
    assert!(abroad.body.contains(r#"id="enable-sms-form""#));
    assert!(gw.messages().is_empty());
    assert_eq!(show(&d, "alice")["sms"], "off");

    // A German number: a code is texted, the page asks for it.
    let sent = post(
        &mut b,
        &web,
        &settings,
        "/settings/sms",
        &[("phone", PHONE)],
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    says(
        &sent,
        "status",
        &format!("A code was sent by SMS to {MASKED}"),
    );
    assert!(sent
        .body
        .contains(r#"<form id="confirm-sms-form" method="post""#));
    assert_eq!(show(&d, "alice")["sms"], "pending");
    let wrong = post(
        &mut b,
        &web,
        &sent,
        "/settings/sms/confirm",
        &[("code", "000000")],
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    says(&wrong, "alert", "not right");
    let on = post(
        &mut b,
        &web,
        &sent,
        "/settings/sms/confirm",
        &[("code", &gw.code(1))],
    );
    assert_eq!(on.status, 200, "{}", on.body);
    says(&on, "status", "SMS verification is on.");
    assert_eq!(on.body.matches("<li><code>").count(), 10, "{}", on.body);
    assert!(on.body.contains(r#"<ul id="recovery-codes">"#));
    let at = on.body.find("<li><code>").unwrap() + "<li><code>".len();
    let recovery = on.body[at..at + on.body[at..].find('<').unwrap()].to_string();
    let unticked = post(&mut b, &web, &on, "/settings/recorded", &[]);
    assert_eq!(unticked.status, 422);
    let ticked = post(
        &mut b,
        &web,
        &on,
        "/settings/recorded",
        &[("recorded", "yes")],
    );
    assert_eq!(ticked.status, 303);
    assert_eq!(show(&d, "alice")["sms"], "on");
    let settings = b.get(&format!("{}/settings", web.base));
    assert!(!settings.body.contains("enable-sms-form"), "SMS is on now");

    // SMS only: the password step texts a code; it signs in.
    let mut b = Browser::default();
    let page = password_step(&mut b, &web, "alice");
    says(
        &page,
        "status",
        &format!("A code was sent by SMS to {MASKED}"),
    );
    assert!(page.body.contains(r#"id="send-sms-form""#));
    code_step(&mut b, &web, &page, &gw.code(2));

    // With the app as well, no code is texted until asked for with #send-sms-form.
    enrol(&d, "alice");
    let mut b = Browser::default();
    let page = password_step(&mut b, &web, "alice");
    assert!(!page.body.contains("A code was sent"), "{}", page.body);
    assert_eq!(gw.messages().len(), 2);
    let asked = post(&mut b, &web, &page, "/login/sms", &[]);
    assert_eq!(asked.status, 200, "{}", asked.body);
    says(
        &asked,
        "status",
        &format!("A code was sent by SMS to {MASKED}"),
    );
    assert!(asked.body.contains(r#"id="code-form""#));
    code_step(&mut b, &web, &asked, &gw.code(3));

    // Both on: turning 2FA off asks which; SMS alone goes, the app stays.
    let settings = b.get(&format!("{}/settings", web.base));
    assert!(settings.body.contains(r#"name="method" value="sms""#));
    let fields = [
        ("method", "sms"),
        ("password", GOOD_PW),
        ("code", recovery.as_str()),
    ];
    let off = post(&mut b, &web, &settings, "/settings/2fa/disable", &fields);
    assert_eq!(off.status, 200, "{}", off.body);
    says(
        &off,
        "status",
        "SMS verification is off. App verification stays on.",
    );
    let state = show(&d, "alice");
    assert_eq!(
        (state["sms"].as_str(), state["totp"].as_str()),
        (Some("off"), Some("on"))
    );
    assert!(
        !web.log().contains(&gw.code(3)),
        "a code in authd-web's log"
    );
}

#[test]
fn a_second_code_within_the_minute_is_refused_with_when() {
    let Some((d, web, gw, _dir)) = portal("") else {
        return;
    };
    d.user_with_password("alice");
    assert_ok(&d.ctl(&["enable-sms", "alice", "--phone", PHONE]));
    assert_ok(&d.ctl(&["confirm-sms", "alice", &gw.code(1)]));

    // The enrolment's code went out a moment ago: the password step sends none, and
    // asking for one is refused with when a new one can go.
    let mut b = Browser::default();
    let page = password_step(&mut b, &web, "alice");
    assert!(
        !page.body.contains("A code was sent by SMS to"),
        "{}",
        page.body
    );
    let asked = post(&mut b, &web, &page, "/login/sms", &[]);
    assert_eq!(asked.status, 429, "{}", asked.body);
    says(
        &asked,
        "alert",
        "No new code was sent (an SMS code was sent at ",
    );
    says(&asked, "alert", "a new one can be sent after");
    assert!(asked.body.contains(r#"id="code-form""#));
    assert!(asked.body.contains(r#"id="send-sms-form""#));
    assert_eq!(gw.messages().len(), 1, "nothing more was sent");

    // Without a sign-in under way there is nothing to text a code for.
    let mut stranger = Browser::default();
    let login = stranger.get(&format!("{}/login", web.base));
    let alone = post(&mut stranger, &web, &login, "/login/sms", &[]);
    assert_eq!(alone.status, 400, "{}", alone.body);
    says(&alone, "alert", "please sign in again");
}

#[test]
fn a_stale_proof_asks_for_the_password_and_keeps_the_number() {
    let Some((d, web, gw, _dir)) = portal("min_interval = \"0s\"\n[web]\nfresh_proof = 2") else {
        return;
    };
    d.user_with_password("fay");
    let mut b = Browser::default();
    let settings = sign_in_as(&mut b, &web, "fay", GOOD_PW, None);
    wait_for_clock(session_instant(&d, "fay", "created") + 2);

    let asked = post(
        &mut b,
        &web,
        &settings,
        "/settings/sms",
        &[("phone", PHONE)],
    );
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked
        .body
        .contains(r#"<form id="prove-form" method="post" action="/settings/sms">"#));
    assert!(asked
        .body
        .contains(&format!(r#"name="phone" value="{PHONE}""#)));
    assert!(gw.messages().is_empty(), "texted without a fresh proof");

    let wrong = [("phone", PHONE), ("password", "not-the-password-1")];
    let refused = post(&mut b, &web, &asked, "/settings/sms", &wrong);
    assert_eq!(refused.status, 422, "{}", refused.body);
    says(&refused, "alert", "The current password");
    assert!(gw.messages().is_empty());

    let right = [("phone", PHONE), ("password", GOOD_PW)];
    let sent = post(&mut b, &web, &asked, "/settings/sms", &right);
    assert_eq!(sent.status, 200, "{}", sent.body);
    says(
        &sent,
        "status",
        &format!("A code was sent by SMS to {MASKED}"),
    );
    assert!(sent.body.contains(r#"id="confirm-sms-form""#));
    gw.code(1);
    assert_eq!(show(&d, "fay")["phone"], PHONE);
}
