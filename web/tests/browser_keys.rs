//! Security keys in real headless Chromium, driven over WebDriver
//! (tests/support/webdriver.rs) with chromedriver's virtual authenticators (the WebDriver
//! WebAuthn extension): a real authd whose portal is `nobody`, a real authd-web running
//! as `nobody`, both at `http://localhost:PORT` (WebAuthn needs a domain name, not an
//! address, as its rp_id). Registering a key on the settings page, signing in with it
//! (`#key-signin`), a second, unregistered key refused with the code form still
//! offered, signing in with a recovery code instead, and removing the key.
//! Needs root, setpriv, chromium and chromedriver (missing ones fail the test unless
//! `AUTHD_TEST_ALLOW_SKIP=1`), and `cargo build --workspace` first. With
//! `AUTHD_REGENERATE=1` the screenshot is written to docs/screenshots/settings-keys.png.

#[path = "../../tests/support/daemon.rs"]
mod daemon;
#[path = "../../tests/support/mailbox.rs"]
mod mailbox;
#[path = "../../tests/support/peers.rs"]
mod peers;
#[path = "../../tests/support/sms_gateway.rs"]
#[allow(dead_code)]
mod sms_gateway;
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
use sms_gateway::{Gateway, PHONE};
use web::*;
use webdriver::{Driver, Session};

/// Wait until the script has shown the button `id` (it stays hidden without
/// JavaScript), then press it.
fn press_key_button(s: &Session, id: &str) {
    let shown = format!("const b = document.getElementById('{id}'); return !!b && !b.hidden");
    wait_until(id, || (s.script(&shown) == true).then_some(()));
    s.click(&format!("#{id}"));
}

/// `authctl keys NAME`.
fn authctl_keys(d: &Daemon, name: &str) -> String {
    let out = d.ctl(&["keys", name]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// chromedriver, when this machine can run the test (root, setpriv; a missing peer
/// fails unless skipping is allowed).
fn browser() -> Option<Driver> {
    if !(peers::root() && peers::program("setpriv", "util-linux")) {
        return None;
    }
    Driver::start()
}

/// A daemon whose portal is `nobody` with `config` added, and authd-web for it at
/// `http://localhost:PORT`.
fn keys_portal(config: &str) -> (Daemon, Web) {
    let port = free_port();
    let d = Daemon::start_with(&format!(
        "portal_users = [\"nobody\"]\n[web]\npublic_url = \"http://localhost:{port}\"\n{config}"
    ));
    let extra = ["--posts-per-minute", "100"];
    let web = Web::start_on(&d, "localhost", port, &extra, Some(NOBODY));
    (d, web)
}

/// Signed in to the settings, register the authenticator as "blue key" with the
/// password as the fresh proof; its recovery codes when it is the first factor (the
/// page is the settings again after).
fn register_blue_key(s: &Session, web: &Web, name: &str) -> Vec<String> {
    s.scroll_to("#add-key-form");
    s.type_into("#key-name", "blue key");
    s.type_into("#add-key-password", GOOD_PW);
    s.click("#add-key");
    press_key_button(s, "add-key-start");
    let answered = first_of(s, "#recovery-codes, #key-note:not([hidden])");
    assert_eq!(answered, "recovery-codes", "{}", s.text("main"));
    let codes: Vec<String> = s
        .text("#recovery-codes")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    s.click("#recorded");
    s.click("#recorded-form button[type=submit]");
    on_settings(s, web, name);
    codes
}

#[test]
fn register_a_security_key_sign_in_with_it_and_remove_it() {
    let Some(driver) = browser() else {
        return;
    };
    let (d, web) = keys_portal("");
    d.user_with_password("kim");
    let s = Session::new(&driver);
    let first = s.add_authenticator(true);

    // Register: the name, the password (a fresh proof), then the key's answer.
    sign_in(&s, &web, "kim", GOOD_PW, None);
    on_settings(&s, &web, "kim");
    // The account's first second factor: its recovery codes, shown once.
    let codes = register_blue_key(&s, &web, "kim");
    assert!(codes.len() >= 2, "{codes:?}");
    let listed = s.text("#keys");
    assert!(listed.contains("blue key"), "{listed}");
    assert!(listed.contains("never used"), "{listed}");
    assert!(authctl_keys(&d, "kim").contains("blue key"));
    s.scroll_to("#keys-title");
    s.assert_fits_320();
    s.screenshot("settings-keys.png");

    // Sign in with the password and the key.
    s.click("#logout");
    s.find("#login-form");
    sign_in(&s, &web, "kim", GOOD_PW, None);
    s.find("#code-form");
    s.assert_fits_320();
    press_key_button(&s, "key-signin");
    on_settings(&s, &web, "kim");
    let listed = s.text("#keys");
    assert!(listed.contains("last used"), "{listed}");

    // Another key, never registered: refused, and the code form is still there.
    s.remove_authenticator(&first);
    s.add_authenticator(true);
    s.click("#logout");
    s.find("#login-form");
    sign_in(&s, &web, "kim", GOOD_PW, None);
    s.find("#code-form");
    press_key_button(&s, "key-signin");
    let refused = "const n = document.getElementById('key-note'); return !!n && !n.hidden";
    wait_until("the key refused", || {
        (s.script(refused) == true).then_some(())
    });
    let said = s.text("#key-note");
    assert!(said.contains("did not answer"), "{said}");
    assert_eq!(s.attribute("#key-note", "role"), "alert");
    // The code form is still there, for the same sign-in: a recovery code.
    s.type_into("#code-form input[name=code]", &codes[0]);
    s.click("#code-form button[type=submit]");
    on_settings(&s, &web, "kim");

    // Remove the key (the sign-in just now is a fresh proof).
    s.scroll_to("#remove-key-form");
    s.click("#remove-key");
    s.find("main p[role]");
    let said = s.text("main");
    assert!(said.contains("removed"), "{said}");
    assert!(!authctl_keys(&d, "kim").contains("blue key"));
    assert!(!web.log().contains(&codes[0]), "a recovery code in the log");
}

#[test]
fn the_key_stays_offered_after_asking_for_a_code_by_sms() {
    let Some(driver) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (gw, sms) = Gateway::new(dir.path());
    let (d, web) = keys_portal(&format!("{sms}min_interval = \"0s\"\n"));
    d.user_with_password("lena");
    let s = Session::new(&driver);
    s.add_authenticator(true);
    sign_in(&s, &web, "lena", GOOD_PW, None);
    on_settings(&s, &web, "lena");
    register_blue_key(&s, &web, "lena");
    // SMS as the account's second second factor, by the admin.
    let enable = d.ctl(&["enable-sms", "lena", "--phone", PHONE]);
    assert!(enable.status.success(), "{enable:?}");
    let confirmed = d.ctl(&["confirm-sms", "lena", &gw.code(1)]);
    assert!(confirmed.status.success(), "{confirmed:?}");
    s.click("#logout");
    s.find("#login-form");

    // The password step offers the key; a code by SMS is asked for.
    sign_in(&s, &web, "lena", GOOD_PW, None);
    s.find("#code-form");
    s.find("#key-signin");
    let texted = gw.messages().len();
    s.script("window.beforeSms = true; return true");
    s.click("#send-sms-form button[type=submit]");
    let reloaded =
        "return window.beforeSms === undefined && !!document.getElementById('code-form')";
    wait_until("the code page after the SMS", || {
        (s.script(reloaded) == true).then_some(())
    });
    assert!(s.text("[role=status]").contains("+49*****820"));
    gw.code(texted + 1);
    // The key is still offered on that page, and signs in.
    press_key_button(&s, "key-signin");
    on_settings(&s, &web, "lena");
    let listed = s.text("#keys");
    assert!(listed.contains("last used"), "{listed}");
}

#[test]
fn a_key_only_account_proves_again_with_its_password_and_a_touch() {
    let Some(driver) = browser() else {
        return;
    };
    // A sign-in or proof counts as fresh for 4 seconds only.
    let (d, web) = keys_portal("fresh_proof = 4\n");
    d.user_with_password("mia");
    let s = Session::new(&driver);
    s.add_authenticator(true);
    sign_in(&s, &web, "mia", GOOD_PW, None);
    on_settings(&s, &web, "mia");
    register_blue_key(&s, &web, "mia");

    // Wait until starting another key without a password (harmless while the sign-in
    // is fresh) asks for a fresh proof.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answered = "if (document.getElementById('add-key-start')) { return 'fresh'; } \
                    const p = document.querySelector('main p[role=alert]'); \
                    return p && p.textContent.includes('For your security') ? 'stale' : null";
    loop {
        s.open(&format!("{}/settings", web.base));
        s.scroll_to("#add-key-form");
        s.type_into("#key-name", "probe");
        s.click("#add-key");
        let state = wait_until("the add-key answer", || {
            s.script(answered).as_str().map(str::to_string)
        });
        if state == "stale" {
            let said = s.text("main");
            assert!(said.contains("security key on the settings page"), "{said}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sign-in stayed fresh"
        );
    }

    // A wrong password is refused before the key is asked.
    s.open(&format!("{}/settings", web.base));
    s.scroll_to("#prove-key-form");
    s.type_into("#prove-key-password", "not-the-password");
    s.click("#prove-key");
    s.find("main p[role=alert]");
    assert!(s.text("main").contains("not right"), "{}", s.text("main"));

    // The password and a touch of the key: a fresh proof, and the key can be removed.
    s.open(&format!("{}/settings", web.base));
    s.scroll_to("#prove-key-form");
    s.type_into("#prove-key-password", GOOD_PW);
    s.click("#prove-key");
    s.assert_fits_320();
    press_key_button(&s, "prove-key-start");
    let confirmed = "const p = document.querySelector('main p[role=status]'); \
                     return !!p && p.textContent.includes('confirmed it is you')";
    wait_until("the proof by key", || {
        (s.script(confirmed) == true).then_some(())
    });
    s.open(&format!("{}/settings", web.base));
    s.scroll_to("#remove-key-form");
    s.click("#remove-key");
    s.find("main p[role]");
    let said = s.text("main");
    assert!(said.contains("removed"), "{said}");
    assert!(!authctl_keys(&d, "mia").contains("blue key"));
    assert!(!web.log().contains(GOOD_PW), "a password in the log");
}

/// The content of one DER TLV at the start of `der`, and what follows it.
fn der_tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
    let (tag, first) = (der[0], der[1] as usize);
    let (len, head) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let len = der[2..2 + n]
            .iter()
            .fold(0, |acc, b| acc << 8 | *b as usize);
        (len, 2 + n)
    };
    (tag, &der[head..head + len], &der[head + len..])
}

/// The SEC1 `ECPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (what the soft token keeps).
fn sec1_of_pkcs8(der: &[u8]) -> Vec<u8> {
    let (_, info, _) = der_tlv(der);
    let (_, _, rest) = der_tlv(info); // version
    let (_, _, rest) = der_tlv(rest); // algorithm
    let (tag, key, _) = der_tlv(rest);
    assert_eq!(tag, 0x04, "PKCS#8 without an OCTET STRING key");
    key.to_vec()
}

/// Copy the browser's credential (id and private key, as chromedriver exports it) into
/// the soft token file `file` (webauthn-authenticator-rs's CBOR `SoftToken`, which keeps
/// credential id -> SEC1 key in `tokens`), its counter past the browser's.
fn copy_into_soft_token(file: &std::path::Path, credential: &serde_json::Value) {
    use base64::Engine;
    use serde_cbor_2::Value;
    let b64 = |field: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(credential[field].as_str().unwrap().trim_end_matches('='))
            .unwrap()
    };
    let (id, key) = (b64("credentialId"), sec1_of_pkcs8(&b64("privateKey")));
    let mut token: Value = serde_cbor_2::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let Value::Map(fields) = &mut token else {
        panic!("a soft token is a map: {token:?}")
    };
    let bytes = |b: &[u8]| Value::Array(b.iter().map(|x| Value::Integer((*x).into())).collect());
    let Some(Value::Map(tokens)) = fields.get_mut(&Value::Text("tokens".into())) else {
        panic!("no tokens in the soft token")
    };
    assert!(
        tokens.keys().all(|k| matches!(k, Value::Array(_))),
        "credential ids are kept as arrays of bytes: {tokens:?}"
    );
    tokens.insert(bytes(&id), bytes(&key));
    let count = credential["signCount"].as_i64().unwrap();
    fields.insert(
        Value::Text("counter".into()),
        Value::Integer((count + 100).into()),
    );
    std::fs::write(file, serde_cbor_2::to_vec(&token).unwrap()).unwrap();
}

#[test]
fn a_key_registered_in_the_browser_verifies_through_authctl() {
    let Some(driver) = browser() else {
        return;
    };
    let (d, web) = keys_portal("");
    d.user_with_password("noor");
    let s = Session::new(&driver);
    // Without user verification: the soft token cannot verify its user.
    let browser_key = s.add_authenticator(false);
    sign_in(&s, &web, "noor", GOOD_PW, None);
    on_settings(&s, &web, "noor");
    register_blue_key(&s, &web, "noor");

    // The same credential in a soft token file, which authctl answers with (a throwaway
    // account's key first makes the file).
    let file = d.dir.path().join("copy.softtoken");
    d.user_with_password("zed");
    let env = [("AUTHD_SOFTTOKEN", file.to_str().unwrap())];
    let made = run_ctl_env(
        &built("authctl"),
        &d.socket,
        None,
        &env,
        "",
        &["add-key", "zed"],
    );
    assert!(made.status.success(), "{made:?}");
    let path = format!("webauthn/authenticator/{browser_key}/credentials");
    let credentials = s.get(&path);
    let credentials = credentials.as_array().unwrap();
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    assert_eq!(credentials[0]["rpId"], "localhost");
    copy_into_soft_token(&file, &credentials[0]);

    // authctl presents authd's origin (the browser's) and rp_id: the same credential.
    let pw = format!("{GOOD_PW}\n");
    let args = ["--json", "verify", "noor"];
    let out = run_ctl_env(&built("authctl"), &d.socket, None, &env, &pw, &args);
    assert!(out.status.success(), "{out:?}");
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["verified"], true, "{said}");
    assert!(authctl_keys(&d, "noor").contains("last used"));
}
