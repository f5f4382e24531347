//! What every response carries and what every POST must pass.
//!
//! Every response: a Content-Security-Policy that allows only this origin's own files
//! (no inline script, no framing; a page may set a wider one of its own, as the
//! enrolment page does for its inline QR image), no Referer sent anywhere, no MIME sniffing, and
//! `Cache-Control: no-store` unless the response set its own (the stylesheet). Each
//! request is logged as method, path (never the query, where a reset link carries its
//! token) and status.
//!
//! Every POST: refused (403) when the browser says it comes from another origin
//! (`Origin`, `Sec-Fetch-Site`), when its form's CSRF token does not match the CSRF
//! cookie, and (429) when its address is over the rate limit. Under `Referrer-Policy:
//! no-referrer` browsers send `Origin: null` even for our own forms, so `null` is no
//! refusal by itself: `Sec-Fetch-Site` (sent by current browsers) and the CSRF token
//! decide.

use std::net::IpAddr;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::args::PublicUrl;
use crate::cookies;
use crate::listen::Peer;
use crate::rate::RateLimit;

pub const CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Middleware: the security headers, and one log line per request.
pub async fn headers(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    tracing::info!(%method, path, status = response.status().as_u16(), "request");
    let h = response.headers_mut();
    // A page may widen the policy for itself (the enrolment page's `data:` image).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    let fixed = [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The client's address: the peer's, or, when the peer is a trusted reverse proxy, the
/// address that proxy put last in `X-Forwarded-For` (read from the right, past further
/// trusted proxies). Entries to the left of it are the client's own words and ignored;
/// an entry that is not an address ends the search at the peer. Over the Unix socket
/// the peer is always the proxy (`Peer(None)`): its header is believed, and without one
/// every client counts as the one address `0.0.0.0`.
pub fn client_ip(peer: Peer, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let unix = IpAddr::from([0, 0, 0, 0]);
    let peer = match peer.0 {
        Some(ip) if !trusted.contains(&ip) => return ip,
        Some(ip) => ip,
        None => unix,
    };
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in entries.into_iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

/// Why a POST is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 403: another origin, or no matching CSRF token.
    Forbidden(&'static str),
    /// 429: this many seconds until the address may post again.
    TooMany(u64),
    /// 429: this many seconds until anyone may post for this account name again.
    TooManyForAccount(u64),
}

/// The per-account-name limit on sign-in and reset-mail POSTs, after `check_post`.
pub fn check_account(limit: &RateLimit<String>, name: &str) -> Result<(), Refusal> {
    limit
        .allow(name.to_string(), Instant::now())
        .map_err(Refusal::TooManyForAccount)
}

/// The checks every POST passes before its form is looked at.
pub fn check_post(
    headers: &HeaderMap,
    public: &PublicUrl,
    limit: &RateLimit<IpAddr>,
    ip: IpAddr,
    form_csrf: &str,
) -> Result<(), Refusal> {
    limit.allow(ip, Instant::now()).map_err(Refusal::TooMany)?;
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(origin) = text("origin") {
        if origin != public.origin && origin != "null" {
            return Err(Refusal::Forbidden("the form was sent from another site"));
        }
    }
    if let Some(site) = text("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Err(Refusal::Forbidden("the form was sent from another site"));
        }
    }
    let cookie = cookies::get(headers, public, cookies::CSRF).unwrap_or_default();
    if cookie.is_empty() || !bool::from(cookie.as_bytes().ct_eq(form_csrf.as_bytes())) {
        return Err(Refusal::Forbidden(
            "the form has expired or was not sent from this site; load the page again",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn a_post_needs_our_origin_and_the_matching_csrf_token() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let limit = RateLimit::new(100);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let cookie = ("cookie", "__Host-authd-csrf=abc");
        let check = |h: &HeaderMap, t: &str| check_post(h, &public, &limit, ip, t);
        assert_eq!(check(&request(&[cookie]), "abc"), Ok(()));
        let same = request(&[cookie, ("origin", "https://id.example.org")]);
        assert_eq!(check(&same, "abc"), Ok(()));
        assert!(check(&request(&[cookie]), "abd").is_err(), "wrong token");
        assert!(check(&request(&[cookie]), "").is_err(), "no token");
        assert!(check(&request(&[]), "").is_err(), "no cookie, no token");
        let ours = request(&[
            cookie,
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(
            check(&ours, "abc"),
            Ok(()),
            "our own form under no-referrer"
        );
        let evil = request(&[cookie, ("origin", "https://evil.example")]);
        assert!(check(&evil, "abc").is_err(), "another origin");
        let cross = request(&[cookie, ("sec-fetch-site", "cross-site")]);
        assert!(check(&cross, "abc").is_err(), "a cross-site request");
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let h = request(&[("x-forwarded-for", "203.0.113.9, 192.0.2.7")]);
        assert_eq!(
            client_ip(Peer(Some(proxy)), &h, &[proxy]),
            client,
            "the proxy's word"
        );
        assert_eq!(
            client_ip(Peer(Some(client)), &h, &[proxy]),
            client,
            "an untrusted peer"
        );
        assert_eq!(
            client_ip(Peer(Some(proxy)), &h, &[]),
            proxy,
            "no trusted proxy"
        );
        let two = request(&[("x-forwarded-for", "192.0.2.7, 10.0.0.2")]);
        let both: [IpAddr; 2] = [proxy, "10.0.0.2".parse().unwrap()];
        assert_eq!(
            client_ip(Peer(Some(proxy)), &two, &both),
            client,
            "through two proxies"
        );
        let junk = request(&[("x-forwarded-for", "192.0.2.7, unknown")]);
        assert_eq!(client_ip(Peer(Some(proxy)), &junk, &[proxy]), proxy);
        assert_eq!(client_ip(Peer(Some(proxy)), &request(&[]), &[proxy]), proxy);
        assert_eq!(
            client_ip(Peer(None), &h, &[]),
            client,
            "the Unix socket's proxy"
        );
        let none: IpAddr = [0, 0, 0, 0].into();
        assert_eq!(client_ip(Peer(None), &request(&[]), &[]), none);
    }

    #[test]
    fn the_rate_limit_comes_first() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let limit = RateLimit::new(1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let h = request(&[]);
        assert!(matches!(
            check_post(&h, &public, &limit, ip, ""),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            check_post(&h, &public, &limit, ip, ""),
            Err(Refusal::TooMany(_))
        ));
    }
}
