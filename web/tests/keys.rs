//! The security-key endpoints' guards over plain HTTP (no browser): a real authd whose
//! portal is `nobody`, a real authd-web running as `nobody`. Every key POST is refused
//! without the CSRF token or from a foreign Origin; a forged registration answer and a
//! forged sign-in assertion are said in `role=alert` (422), never a 500; the script is
//! served from the binary under the one CSP. Needs root and setpriv, and
//! `cargo build --workspace` first.

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
use web::*;

const FORGED: &str = r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"},"extensions":{}}"#;

fn portal() -> Option<(Daemon, Web)> {
    let able = peers::root() && peers::program("setpriv", "util-linux");
    able.then(|| portal_as_nobody(&["--posts-per-minute", "100"]))
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn key_posts_need_the_csrf_token_and_our_origin() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("ida");
    let mut b = Browser::default();
    let page = sign_in_as(&mut b, &web, "ida", GOOD_PW, None);
    assert!(page.body.contains("id=\"add-key-form\""), "{}", page.body);
    assert!(page.body.contains("id=\"keys\""), "{}", page.body);
    let csrf = csrf_in(&page.body);
    let foreign = [("Origin", "https://evil.example")];
    for path in [
        "/settings/keys",
        "/settings/keys/finish",
        "/settings/keys/remove",
        "/login/key",
    ] {
        let url = format!("{}{path}", web.base);
        let fields = [
            ("key_name", "k"),
            ("id", "00000000"),
            ("credential", FORGED),
        ];
        let none = b.post(&url, &fields, &[]);
        assert_eq!(none.status, 403, "{path} without CSRF: {}", none.body);
        assert!(none.body.contains("role=\"alert\""), "{}", none.body);
        let mut with = fields.to_vec();
        with.push(("csrf", &csrf));
        let away = b.post(&url, &with, &foreign);
        assert_eq!(
            away.status, 403,
            "{path} from a foreign origin: {}",
            away.body
        );
    }
    assert!(d.ctl(&["keys", "ida"]).status.success());
}

#[test]
fn forged_key_answers_are_refused_in_words() {
    let Some((d, web)) = portal() else { return };
    d.user_with_password("jo");
    let mut b = Browser::default();
    let page = sign_in_as(&mut b, &web, "jo", GOOD_PW, None);
    let csrf = csrf_in(&page.body);

    // A registration answer for no registration under way.
    let url = format!("{}/settings/keys/finish", web.base);
    let fields = [
        ("csrf", &*csrf),
        ("challenge", "NOSUCHCHALLENGE"),
        ("credential", FORGED),
    ];
    let forged = b.post(&url, &fields, &[]);
    assert_eq!(forged.status, 422, "{}", forged.body);
    assert!(forged.body.contains("role=\"alert\""), "{}", forged.body);
    let empty = b.post(&url, &[("csrf", &*csrf), ("challenge", "X")], &[]);
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body.contains("needs JavaScript"), "{}", empty.body);

    // The script comes from the binary, under the one policy.
    let script = b.get(&format!("{}/static/keys.js", web.base));
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").starts_with("text/javascript"));
    assert!(script.body.contains("navigator.credentials"));
    assert!(script
        .header("content-security-policy")
        .starts_with("default-src 'self'"));

    // A forged assertion for a made-up pending sign-in: refused, the sign-in page again.
    let pending = format!("{}.NOSUCHCHALLENGE", hex("jo"));
    b.cookies.insert("authd-signin".into(), pending);
    let url = format!("{}/login/key", web.base);
    let forged = b.post(&url, &[("csrf", &*csrf), ("credential", FORGED)], &[]);
    assert_eq!(forged.status, 422, "{}", forged.body);
    assert!(forged.body.contains("role=\"alert\""), "{}", forged.body);
    assert!(forged.body.contains("id=\"login-form\""), "{}", forged.body);
    assert!(
        !b.cookies.contains_key("authd-signin"),
        "the sign-in cookie stays"
    );
    assert!(
        !web.log().contains("NOSUCHCHALLENGE"),
        "a challenge in the log"
    );
}
