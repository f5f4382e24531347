//! The rest of the security settings through authd-web end to end (a real authd whose
//! portal is `nobody`, a real authd-web running as `nobody`): turning two-step
//! verification off needs the password and a right code, new recovery codes replace the
//! old ones, the sessions are listed and another one can be signed out, and every POST
//! without the CSRF token is refused. Needs root, setpriv and oathtool, and
//! `cargo build --workspace` first.

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

fn portal() -> Option<(Daemon, Web)> {
    let able = peers::root()
        && peers::program("setpriv", "util-linux")
        && peers::program("oathtool", "oathtool");
    // These stories post more than the default per-address limit allows in a minute.
    able.then(|| portal_as_nobody(&["--posts-per-minute", "100"]))
}

/// Sign `name` in with GOOD_PW and `code` (when asked for one): the settings page.
fn signed_in(b: &mut Browser, web: &Web, name: &str, code: Option<&str>) -> Answer {
    sign_in_as(b, web, name, GOOD_PW, code)
}

fn verifies_with(d: &Daemon, name: &str, code: &str) -> bool {
    d.ctl_stdin(&pw(), &["verify", name, "--code", code])
        .status
        .success()
}

fn a_wrong_code(secret: &str) -> &'static str {
    match (-1..=2).any(|step| oathtool(secret, step) == "000000") {
        true => "111111",
        false => "000000",
    }
}

/// The codes in `#recovery-codes`.
fn codes_in(page: &str) -> Vec<String> {
    let at = page
        .find(r#"id="recovery-codes""#)
        .unwrap_or_else(|| panic!("no codes in:\n{page}"));
    let list = &page[at..at + page[at..].find("</ul>").unwrap()];
    list.split("<code>")
        .skip(1)
        .map(|c| c[..c.find("</code>").unwrap()].to_string())
        .collect()
}

#[test]
fn turning_two_step_verification_off_needs_a_right_code() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("erin");
    let (secret, codes) = enrol(&d, "erin");
    let mut b = Browser::default();
    let page = signed_in(&mut b, &web, "erin", Some(&codes[0]));
    assert!(
        page.body.contains(r#"id="disable-2fa-form""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("lowers the protection"));
    let csrf = csrf_in(&page.body);
    let url = format!("{}/settings/2fa/disable", web.base);

    let forged = b.post(&url, &[("password", GOOD_PW), ("code", "1")], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);

    let wrong = a_wrong_code(&secret);
    let fields = [("csrf", &*csrf), ("password", GOOD_PW), ("code", wrong)];
    let refused = b.post(&url, &fields, &[]);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
    assert!(refused.body.contains(r#"id="disable-2fa-form""#));
    assert_eq!(show(&d, "erin")["totp"], "on");

    let right = oathtool(&secret, 1);
    let fields = [("csrf", &*csrf), ("password", GOOD_PW), ("code", &*right)];
    let done = b.post(&url, &fields, &[]);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains(r#"role="status""#), "{}", done.body);
    assert_eq!(show(&d, "erin")["totp"], "off");
    let page = b.get(&format!("{}/settings", web.base));
    assert!(!page.body.contains(r#"id="disable-2fa-form""#));

    let log = web.log();
    assert!(log.contains("two-step verification turned off"), "{log}");
    for secret in [&right, &codes[0], &secret, &b.cookies["authd-session"]] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret in the log:\n{log}"
        );
    }
}

#[test]
fn new_recovery_codes_replace_the_old_ones_and_are_shown_once() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("fred");
    let (secret, old) = enrol(&d, "fred");
    let mut b = Browser::default();
    let page = signed_in(&mut b, &web, "fred", Some(&old[0]));
    assert!(page.body.contains(r#"id="regenerate-codes-form""#));
    let csrf = csrf_in(&page.body);
    let url = format!("{}/settings/recovery-codes", web.base);

    let forged = b.post(&url, &[("password", GOOD_PW)], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);

    let wrong = a_wrong_code(&secret);
    let fields = [("csrf", &*csrf), ("password", GOOD_PW), ("code", wrong)];
    let refused = b.post(&url, &fields, &[]);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
    assert!(
        verifies_with(&d, "fred", &old[1]),
        "the old codes still work"
    );

    let right = oathtool(&secret, 1);
    let fields = [("csrf", &*csrf), ("password", GOOD_PW), ("code", &*right)];
    let shown = b.post(&url, &fields, &[]);
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.header("cache-control"), "no-store");
    assert!(shown.body.contains(r#"role="status""#), "{}", shown.body);
    assert!(shown.body.contains(r#"id="recorded""#));
    let new = codes_in(&shown.body);
    assert!(
        !new.is_empty() && new.iter().all(|c| !old.contains(c)),
        "{new:?}"
    );
    assert!(
        !verifies_with(&d, "fred", &old[2]),
        "an old code still works"
    );
    assert!(
        verifies_with(&d, "fred", &new[0]),
        "a new code does not work"
    );

    // The "recorded" box must be ticked before going on (the flow of the first codes).
    let recorded = format!("{}/settings/recorded", web.base);
    let joined = new.join(" ");
    let unticked = b.post(&recorded, &[("csrf", &*csrf), ("codes", &joined)], &[]);
    assert_eq!(unticked.status, 422, "{}", unticked.body);
    assert_eq!(codes_in(&unticked.body), new);
    let fields = [("csrf", &*csrf), ("codes", &*joined), ("recorded", "yes")];
    let on = b.post(&recorded, &fields, &[]);
    assert_eq!((on.status, on.header("location")), (303, "/settings"));

    let log = web.log();
    assert!(log.contains("recovery codes replaced"), "{log}");
    for code in new.iter().chain(&old).chain([&right]) {
        assert!(!log.contains(code.as_str()), "a code in the log:\n{log}");
    }
}

#[test]
fn the_sessions_are_listed_and_another_one_can_be_signed_out() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("gail");
    let mut here = Browser::default();
    let mut there = Browser::default();
    signed_in(&mut there, &web, "gail", None);
    let page = signed_in(&mut here, &web, "gail", None);
    let listed = json(&d.ctl(&["--json", "sessions", "gail"]));
    let ids: Vec<u64> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    let (theirs, mine) = (
        there.cookies["authd-session-id"].clone(),
        here.cookies["authd-session-id"].clone(),
    );
    assert!(page.body.contains(r#"id="sessions""#), "{}", page.body);
    for id in &ids {
        let button = format!(r#"name="id" value="{id}""#);
        assert!(
            page.body.contains(&button),
            "{id} not listed:\n{}",
            page.body
        );
    }
    let marked = format!(r#"<td data-label="Session">{mine} (this browser)</td>"#);
    assert!(page.body.contains(&marked), "{}", page.body);
    assert!(!page.body.contains(&format!(
        r#"<td data-label="Session">{theirs} (this browser)"#
    )));
    assert!(page.body.contains(r#"id="sign-out-everywhere""#));

    let url = format!("{}/settings/sessions/end", web.base);
    let forged = here.post(&url, &[("id", &theirs)], &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    let away = there.get(&format!("{}/settings", web.base));
    assert_eq!(away.status, 200, "the forged POST ended a session");

    let csrf = csrf_in(&page.body);
    let ended = here.post(&url, &[("csrf", &csrf), ("id", &theirs)], &[]);
    assert_eq!((ended.status, ended.header("location")), (303, "/settings"));
    let away = there.get(&format!("{}/settings", web.base));
    assert_eq!((away.status, away.header("location")), (303, "/login"));
    let still = here.get(&format!("{}/settings", web.base));
    assert_eq!(still.status, 200, "{}", still.body);
    assert!(!still.body.contains(&format!(r#"value="{theirs}""#)));

    // Everywhere: this one too.
    signed_in(&mut there, &web, "gail", None);
    let all = here.post(&url, &[("csrf", &csrf), ("id", "all")], &[]);
    assert_eq!(all.status, 303, "{}", all.body);
    let listed = json(&d.ctl(&["--json", "sessions", "gail"]));
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 0, "{listed}");
    for b in [&mut here, &mut there] {
        let away = b.get(&format!("{}/settings", web.base));
        assert_eq!((away.status, away.header("location")), (303, "/login"));
    }
    assert!(!web.log().contains(&csrf));
}
