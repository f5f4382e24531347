//! Portal session limits end to end, with short `[web] session_idle`,
//! `session_lifetime` and `fresh_proof` in authd.toml: a real authd whose portal is
//! `nobody`, a real authd-web running as `nobody` (setpriv). An idle session ends, a busy
//! one ends at its lifetime, a reload shortens the sessions already open, and a sensitive
//! act after the proof went stale asks for the password again. Each waits on what the
//! daemon reports (the `expires` instant `authctl sessions` lists), never a fixed sleep.
//! Needs root and setpriv, and `cargo build --workspace` first.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/spawned.rs"]
mod spawned;

#[path = "reset/web.rs"]
#[allow(dead_code)]
mod web;

use daemon::*;
use serde_json::Value;
use web::*;

const NEW_PW: &str = "Purple-Otter-Lantern-42";

/// authd (with `config` in authd.toml) and authd-web, both for real.
fn portal(config: &str) -> Option<(Daemon, Web)> {
    let able = peers::root() && peers::program("setpriv", "util-linux");
    able.then(|| portal_as_nobody_with(config, &[]))
}

/// The settings page now sends the browser to the sign-in page, which says (once) that
/// the session ended; authd lists no session and recorded why it ended.
fn ended(d: &Daemon, b: &mut Browser, web: &Web, name: &str, why: &str) {
    let away = b.get(&format!("{}/settings", web.base));
    assert_eq!((away.status, away.header("location")), (303, "/login"));
    assert!(!b.cookies.contains_key("authd-session"), "the cookie stays");
    let login = b.get(&format!("{}/login", web.base));
    assert_eq!(login.status, 200);
    assert!(
        login
            .body
            .contains(r#"<p role="status">Your session has ended. Sign in again"#),
        "{}",
        login.body
    );
    assert!(login.body.contains(r#"id="login-form""#));
    let again = b.get(&format!("{}/login", web.base));
    assert!(!again.body.contains("has ended"), "said once only");
    assert_eq!(portal_sessions(d, name), Vec::<Value>::new());
    let events = d.events(name, "portal-session-ended");
    let said = events.iter().any(|e| e.to_string().contains(why));
    assert!(said, "no {why:?} in {events:?}");
}

#[test]
fn an_idle_session_ends_and_the_sign_in_page_says_so() {
    let Some((d, web)) = portal("[web]\nsession_idle = 2\n") else {
        return;
    };
    d.user_with_password("ida");
    let mut b = Browser::default();
    sign_in_as(&mut b, &web, "ida", GOOD_PW, None);
    let expires = session_instant(&d, "ida", "expires");
    let last_used = session_instant(&d, "ida", "last_used");
    assert_eq!(expires, last_used + 2, "session_idle = 2");
    wait_for_clock(expires);
    ended(&d, &mut b, &web, "ida", "expired");
}

#[test]
fn a_busy_session_ends_at_its_lifetime() {
    let config = "[web]\nsession_idle = 2\nsession_lifetime = 5\nfresh_proof = 5\n";
    let Some((d, web)) = portal(config) else {
        return;
    };
    d.user_with_password("bea");
    let mut b = Browser::default();
    sign_in_as(&mut b, &web, "bea", GOOD_PW, None);
    let created = session_instant(&d, "bea", "created");
    // Used again and again: each use restarts the idle clock, until the lifetime is up.
    let mut last_ok = created;
    let end = wait_until("the session's end", || {
        let page = b.get(&format!("{}/settings", web.base));
        let now = authd::time::now();
        match page.status {
            200 => {
                last_ok = now;
                None
            }
            _ => Some((page, now)),
        }
    });
    let (page, at) = end;
    assert_eq!((page.status, page.header("location")), (303, "/login"));
    assert!(at >= created + 5, "ended at +{}", at - created);
    assert!(
        last_ok >= created + 3,
        "served until +{}: longer than idle",
        last_ok - created
    );
    let login = b.get(&format!("{}/login", web.base));
    assert!(
        login.body.contains("Your session has ended"),
        "{}",
        login.body
    );
    assert_eq!(portal_sessions(&d, "bea"), Vec::<Value>::new());
    let events = d.events("bea", "portal-session-ended");
    assert!(events.iter().any(|e| e.to_string().contains("expired")));
}

#[test]
fn a_reload_applies_new_limits_to_open_sessions() {
    let Some((d, web)) = portal("") else { return };
    d.user_with_password("rhea");
    let mut b = Browser::default();
    sign_in_as(&mut b, &web, "rhea", GOOD_PW, None);
    let before = session_instant(&d, "rhea", "expires");
    let last_used = session_instant(&d, "rhea", "last_used");
    assert_eq!(before, last_used + 15 * 60, "the default idle limit");

    let mut config = std::fs::read_to_string(&d.config).unwrap();
    config.push_str("[web]\nsession_idle = 2\n");
    std::fs::write(&d.config, config).unwrap();
    signal(d.pid(), "HUP");
    wait_until("the reload", || {
        d.log().contains("configuration reloaded").then_some(())
    });
    assert!(d.log().contains("web.session_idle"), "{}", d.log());
    let after = session_instant(&d, "rhea", "expires");
    assert_eq!(after, last_used + 2, "the open session is judged anew");
    wait_for_clock(after);
    ended(&d, &mut b, &web, "rhea", "expired");
}

/// Sign `name` in and wait until the sign-in no longer counts as a fresh proof
/// (`fresh_proof = 2`); the settings page's CSRF token.
fn stale(d: &Daemon, b: &mut Browser, web: &Web, name: &str) -> String {
    let page = sign_in_as(b, web, name, GOOD_PW, None);
    wait_for_clock(session_instant(d, name, "created") + 2);
    csrf_in(&page.body)
}

// A proof counts for `fresh_proof` seconds and authd counts whole seconds: with 1, the
// retry's proof and its act would have to fall in the same second; 2 leaves at least one.
const FRESH: &str = "[web]\nfresh_proof = 2\n";

#[test]
fn after_the_proof_went_stale_app_verification_asks_for_the_password_again() {
    let Some((d, web)) = portal(FRESH) else {
        return;
    };
    d.user_with_password("fay");
    let mut b = Browser::default();
    let csrf = stale(&d, &mut b, &web, "fay");
    let url = format!("{}/settings/totp", web.base);

    let asked = b.post(&url, &[("csrf", &csrf)], &[]);
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains(r#"id="prove-form""#), "{}", asked.body);
    assert!(!asked.body.contains(r#"id="totp-qr""#));

    let wrong = [("csrf", &*csrf), ("password", "not-the-password-1")];
    let refused = b.post(&url, &wrong, &[]);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused
        .body
        .contains(r#"<p role="alert">The current password"#));
    assert!(refused.body.contains(r#"id="prove-form""#));
    assert!(!refused.body.contains(r#"id="totp-qr""#));
    let still = b.post(&url, &[("csrf", &csrf)], &[]);
    assert!(
        still.body.contains(r#"id="prove-form""#),
        "a wrong password is no proof"
    );
    assert_ne!(show(&d, "fay")["totp"], "on");

    let right = [("csrf", &*csrf), ("password", GOOD_PW)];
    let enrolment = b.post(&url, &right, &[]);
    assert_eq!(enrolment.status, 200, "{}", enrolment.body);
    assert!(
        enrolment.body.contains(r#"id="totp-qr""#),
        "{}",
        enrolment.body
    );
    assert!(enrolment.body.contains(r#"id="confirm-totp-form""#));
}

#[test]
fn after_the_proof_went_stale_the_current_password_still_changes_it() {
    let Some((d, web)) = portal(FRESH) else {
        return;
    };
    d.user_with_password("gil");
    let mut b = Browser::default();
    let csrf = stale(&d, &mut b, &web, "gil");
    let url = format!("{}/settings/password", web.base);
    let change = |b: &mut Browser, current: &str| {
        let fields = [
            ("csrf", &*csrf),
            ("current", current),
            ("password", NEW_PW),
            ("password2", NEW_PW),
        ];
        b.post(&url, &fields, &[])
    };

    let refused = change(&mut b, "not-the-password-1");
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused
        .body
        .contains(r#"<p role="alert">The current password"#));
    let old = d.ctl_stdin(&pw(), &["verify", "gil"]);
    assert_ok(&old);

    let done = change(&mut b, GOOD_PW);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains(r#"role="status""#), "{}", done.body);
    let new = d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "gil"]);
    assert_ok(&new);
}
