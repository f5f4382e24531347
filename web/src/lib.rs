//! authd-web: the browser side of authd, an unprivileged front end that talks to the
//! daemon over its socket (`authd_proto::async_client`). Today it serves the
//! password-reset landing page (the link in a reset mail leads to a form for the new
//! password, so a user who forgot theirs needs no shell) and signing in (password, then
//! second factor, an SMS code texted on request, then a portal session authd issued), and
//! the security settings (change the password, turn on app or SMS verification, the
//! recovery codes shown once, turn 2FA off, the sessions).
//!
//! - [`args`]: flags, and the settings derived from them (the public URL's origin, which
//!   cookies are `Secure`).
//! - [`app`]: the router, its state, the listener.
//! - [`listen`]: `--listen` (TCP, or a Unix socket for a reverse proxy) and the peer.
//! - [`guard`]: what every response carries (security headers) and what every POST must
//!   pass (same origin, CSRF token, rate limit).
//! - [`cookies`]: reading and writing the few cookies, with the `__Host-` rules.
//! - [`rate`]: the per-IP POST limit.
//! - [`pages`]: the HTML, compiled in (maud), and the one embedded stylesheet.
//! - [`reset`]: the reset link, form and submission.
//! - [`signin`]: the sign-in form, the second-factor code, the session cookie.
//! - [`account`]: the signed-in settings page and signing out.
//! - [`settings`], [`settings_pages`]: changing the password, turning on app
//!   verification, the recovery codes shown once; [`qr`]: the QR code as a PNG `data:` URL.
//! - [`settings_sms`], [`settings_sms_pages`]: turning on SMS verification.
//! - [`settings_more`], [`settings_more_pages`]: turning 2FA off (all of it, or the app
//!   or SMS alone), new recovery codes, the sessions list.
//! - [`forgot`], [`help_pages`]: "Forgot your password?" (a reset mail from the sign-in
//!   page) and the "Lost your device?" help line; [`settings_mail`]: "email me a link
//!   instead" when signed in.
//! - [`keys`], [`keys_pages`]: security keys (WebAuthn): adding, listing and removing
//!   them in the settings, and the key step of a sign-in; the one script,
//!   `/static/keys.js`, talks to the authenticator.
//! - [`reply`]: what the handlers share (HTML answers, refusals, the CSRF form token,
//!   one call to authd).
//!
//! No secret (reset token, password, code, challenge, session token, CSRF token) is
//! ever logged: the request log line
//! has the method, the path without its query, and the status.

pub mod account;
pub mod app;
pub mod args;
pub mod cookies;
pub mod forgot;
pub mod guard;
pub mod help_pages;
pub mod keys;
pub mod keys_pages;
pub mod keys_prove;
pub mod listen;
pub mod pages;
pub mod qr;
pub mod rate;
pub mod reply;
pub mod reset;
pub mod settings;
pub mod settings_mail;
pub mod settings_more;
pub mod settings_more_pages;
pub mod settings_pages;
pub mod settings_sms;
pub mod settings_sms_pages;
pub mod signin;
