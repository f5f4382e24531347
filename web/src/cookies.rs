//! The cookies authd-web sets: a CSRF token; between the reset link and the form
//! submission, the reset token; between the password and the code of a sign-in, authd's
//! challenge; once signed in, the portal session token; and, on the way to the sign-in
//! page, why the browser was sent there (the notice shown once). All are `HttpOnly`, `SameSite=Strict` and `Path=/`;
//! behind https they are also `Secure` and named with the `__Host-` prefix (so no other
//! host or path can set them), which browsers refuse on plain http (loopback tests).

use axum::http::HeaderMap;

use crate::args::PublicUrl;

/// The CSRF token's cookie, bound to the token in each form.
pub const CSRF: &str = "authd-csrf";
/// The reset token, carried from the mail link to the form submission.
pub const RESET: &str = "authd-reset";

/// authd's challenge (and the account name) between the password and the code.
pub const SIGNIN: &str = "authd-signin";
/// The portal session token authd issued.
pub const SESSION: &str = "authd-session";
/// The number of that session (not a secret): marks "this browser" in the sessions list.
pub const SESSION_ID: &str = "authd-session-id";
/// Why the browser was sent to the sign-in page (a fixed word, not a secret).
pub const NOTICE: &str = "authd-notice";

/// How long the sign-in cookie lives: authd's challenge lifetime; authd decides.
pub const SIGNIN_MAX_AGE: u32 = 3 * 60;
/// How long the session cookie lives: the longest `[web] session_lifetime` authd takes
/// (a week); authd decides when the session itself ends.
pub const SESSION_MAX_AGE: u32 = 7 * 24 * 60 * 60;
/// How long the notice cookie lives: the way from one page to the sign-in page.
pub const NOTICE_MAX_AGE: u32 = 60;

/// How long the reset cookie lives: authd's default token lifetime; authd decides.
pub const RESET_MAX_AGE: u32 = 30 * 60;

/// The name as sent: `__Host-NAME` behind https.
pub fn name(public: &PublicUrl, base: &str) -> String {
    if public.secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set(public: &PublicUrl, base: &str, value: &str, max_age: u32) -> String {
    let secure = if public.secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict{secure}",
        name(public, base)
    )
}

/// The value of cookie `base` in the request, if sent.
pub fn get(headers: &HeaderMap, public: &PublicUrl, base: &str) -> Option<String> {
    let wanted = name(public, base);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == wanted)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A fresh random token (256 bits, hex), for CSRF.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_secure_and_host_prefixed() {
        let https = PublicUrl::parse("https://id.example.org").unwrap();
        let c = set(&https, CSRF, "v", 60);
        assert_eq!(
            c,
            "__Host-authd-csrf=v; Max-Age=60; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        let http = PublicUrl::parse("http://127.0.0.1:1").unwrap();
        assert_eq!(
            set(&http, RESET, "", 0),
            "authd-reset=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn cookies_are_read_by_their_full_name_only() {
        let https = PublicUrl::parse("https://id.example.org").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            "authd-csrf=plain; __Host-authd-csrf=good; other=x"
                .parse()
                .unwrap(),
        );
        assert_eq!(get(&h, &https, CSRF).as_deref(), Some("good"));
        assert_eq!(get(&h, &https, RESET), None);
        let http = PublicUrl::parse("http://127.0.0.1:1").unwrap();
        assert_eq!(get(&h, &http, CSRF).as_deref(), Some("plain"));
    }

    #[test]
    fn random_tokens_differ() {
        let a = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token().unwrap());
    }
}
