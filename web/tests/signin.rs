//! Signing in through authd-web end to end: a real authd whose portal is `nobody`, a
//! real authd-web running as `nobody` (setpriv), name and password, then an oathtool
//! code, the settings page, and signing out. Needs root (for setpriv) and oathtool, and
//! `cargo build --workspace` first (authd and authctl are another package's binaries).

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

use daemon::*;
use oath::{enrol, oathtool};
use web::*;

/// authd with `nobody` as its portal and authd-web running as `nobody`; `None` (the
/// test skipped, when allowed) without root, setpriv or oathtool.
fn portal() -> Option<(Daemon, Web)> {
    portal_with(&[])
}

/// As `portal`, with authd-web started with `extra` arguments.
fn portal_with(extra: &[&str]) -> Option<(Daemon, Web)> {
    let able = peers::root()
        && peers::program("setpriv", "util-linux")
        && peers::program("oathtool", "oathtool");
    able.then(|| portal_as_nobody(extra))
}

/// Load the sign-in form: its CSRF token.
fn login_form(b: &mut Browser, web: &Web) -> String {
    let form = b.get(&format!("{}/login", web.base));
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(r#"id="login-form""#), "{}", form.body);
    let csp = form.header("content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(form.header("referrer-policy"), "no-referrer");
    assert_eq!(form.header("cache-control"), "no-store");
    assert!(form.body.contains(r#"name="user""#) && form.body.contains(r#"name="password""#));
    csrf_in(&form.body)
}

fn sign_in(b: &mut Browser, web: &Web, user: &str, password: &str) -> Answer {
    let csrf = login_form(b, web);
    let url = format!("{}/login", web.base);
    b.post(
        &url,
        &[("csrf", &csrf), ("user", user), ("password", password)],
        &[],
    )
}

/// alice, with GOOD_PW and an authenticator app: its secret and recovery codes.
fn alice_with_app(d: &Daemon) -> (String, Vec<String>) {
    d.user_with_password("alice");
    enrol(d, "alice")
}

fn sessions(d: &Daemon, name: &str) -> usize {
    let listed = json(&d.ctl(&["--json", "sessions", name]));
    listed["sessions"].as_array().unwrap().len()
}

#[test]
fn a_wrong_name_or_password_gets_one_generic_alert() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("bob");
    let mut b = Browser::default();
    let wrong = sign_in(&mut b, &web, "bob", "not-the-password-1");
    let unknown = sign_in(&mut b, &web, "nosuchuser", GOOD_PW);
    for answer in [&wrong, &unknown] {
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert!(
            answer
                .body
                .contains(r#"<p role="alert">The account name or the password is not right.</p>"#),
            "{}",
            answer.body
        );
        assert!(answer.body.contains(r#"id="login-form""#));
        assert!(!answer.header("set-cookie").contains("authd-session"));
    }
    assert_eq!(sessions(&d, "bob"), 0);
}

#[test]
fn password_and_app_code_lead_to_the_settings_and_sign_out_ends_the_session() {
    let Some((d, web)) = portal() else { return };
    let (secret, _codes) = alice_with_app(&d);
    let mut b = Browser::default();

    // Not signed in: the settings send the browser to the sign-in page.
    let away = b.get(&format!("{}/settings", web.base));
    assert_eq!((away.status, away.header("location")), (303, "/login"));

    let asked = sign_in(&mut b, &web, "alice", GOOD_PW);
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains(r#"id="code-form""#), "{}", asked.body);
    assert!(asked.body.contains(r#"name="code""#));
    let pending = asked.header("set-cookie");
    assert!(pending.contains("authd-signin="), "{pending}");
    for attr in ["HttpOnly", "SameSite=Strict"] {
        assert!(pending.contains(attr), "{attr} missing: {pending}");
    }
    let csrf = csrf_in(&asked.body);
    let issued = b.post(
        &format!("{}/login/code", web.base),
        &[("csrf", &csrf), ("code", &oathtool(&secret, 1))],
        &[],
    );
    assert_eq!(issued.status, 303, "{}", issued.body);
    assert_eq!(issued.header("location"), "/settings");
    let set = issued.header("set-cookie").to_string();
    let cookie = set
        .lines()
        .find(|l| l.starts_with("authd-session="))
        .unwrap_or_else(|| panic!("no session cookie: {set}"));
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    let token = b.cookies["authd-session"].clone();
    assert!(
        !b.cookies.contains_key("authd-signin"),
        "the challenge is spent"
    );
    assert_eq!(sessions(&d, "alice"), 1);

    let page = b.get(&format!("{}/settings", web.base));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"id="settings""#), "{}", page.body);
    assert!(page.body.contains("<dd>alice</dd>"), "{}", page.body);
    assert!(page.body.contains(r#"id="logout""#));
    assert_eq!(page.header("cache-control"), "no-store");

    // Signing out without the CSRF token is refused, and the session lives on.
    let url = format!("{}/logout", web.base);
    let forged = b.post(&url, &[], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(sessions(&d, "alice"), 1);

    let csrf = csrf_in(&page.body);
    let out = b.post(&url, &[("csrf", &csrf)], &[]);
    assert_eq!((out.status, out.header("location")), (303, "/login"));
    assert!(
        !b.cookies.contains_key("authd-session"),
        "the cookie is cleared"
    );
    assert_eq!(sessions(&d, "alice"), 0, "authd ended the session");

    // The old token, sent again, is no session: back to the sign-in page.
    b.cookies.insert("authd-session".into(), token.clone());
    let stale = b.get(&format!("{}/settings", web.base));
    assert_eq!((stale.status, stale.header("location")), (303, "/login"));

    let log = web.log();
    assert!(log.contains("signed in through the web"), "{log}");
    assert!(
        !log.contains(&token),
        "the session token is in authd-web's log"
    );
    assert!(!log.contains(&secret));
}

#[test]
fn a_wrong_code_means_signing_in_again_and_a_recovery_code_works() {
    let Some((d, web)) = portal() else { return };
    let (secret, codes) = alice_with_app(&d);
    let mut b = Browser::default();
    let asked = sign_in(&mut b, &web, "alice", GOOD_PW);
    let csrf = csrf_in(&asked.body);
    let wrong = if oathtool(&secret, 1) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = b.post(
        &format!("{}/login/code", web.base),
        &[("csrf", &csrf), ("code", wrong)],
        &[],
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains(r#"role="alert""#) && refused.body.contains("sign in again"));
    assert!(refused.body.contains(r#"id="login-form""#));
    assert!(!b.cookies.contains_key("authd-signin"));
    assert_eq!(sessions(&d, "alice"), 0);

    let asked = sign_in(&mut b, &web, "alice", GOOD_PW);
    let csrf = csrf_in(&asked.body);
    let recovered = b.post(
        &format!("{}/login/code", web.base),
        &[("csrf", &csrf), ("code", &codes[0])],
        &[],
    );
    assert_eq!(recovered.status, 303, "{}", recovered.body);
    assert_eq!(recovered.header("location"), "/settings");
    assert_eq!(sessions(&d, "alice"), 1);
    assert!(!web.log().contains(&codes[0]));
}

#[test]
fn sign_in_posts_without_the_csrf_token_are_refused() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("bob");
    let mut b = Browser::default();
    login_form(&mut b, &web);
    let url = format!("{}/login", web.base);
    let forged = b.post(&url, &[("user", "bob"), ("password", GOOD_PW)], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    let code = b.post(
        &format!("{}/login/code", web.base),
        &[("code", "123456")],
        &[],
    );
    assert_eq!(code.status, 403, "{}", code.body);
    assert_eq!(sessions(&d, "bob"), 0);
}

#[test]
fn sso_accounts_go_to_their_provider_and_locked_accounts_are_told() {
    // authd's own lockout is what this test is about: authd-web's per-account limit
    // (default 10 a minute) is above authd's lockout threshold (5), so authd speaks first.
    let Some((d, web)) = portal_with(&[]) else {
        return;
    };
    assert_ok(&d.ctl(&["add-user", "erin", "--sso", "corp-oidc"]));
    let mut b = Browser::default();
    let sso = sign_in(&mut b, &web, "erin", GOOD_PW);
    assert_eq!(sso.status, 422, "{}", sso.body);
    assert!(sso.body.contains(r#"role="alert""#), "{}", sso.body);
    assert!(
        sso.body.contains("single sign-on (SSO) provider"),
        "{}",
        sso.body
    );

    // The default lockout: five wrong passwords, then even the right one is refused.
    d.user_with_password("bob");
    for _ in 0..5 {
        let wrong = sign_in(&mut b, &web, "bob", "not-the-password-1");
        assert!(wrong.body.contains("is not right"), "{}", wrong.body);
    }
    let locked = sign_in(&mut b, &web, "bob", GOOD_PW);
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains(r#"role="alert""#), "{}", locked.body);
    assert!(
        locked.body.to_lowercase().contains("locked"),
        "{}",
        locked.body
    );
    assert_eq!(sessions(&d, "bob"), 0);
}
