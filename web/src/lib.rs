//! authd-web: the browser side of authd, an unprivileged front end that talks to the
//! daemon over its socket (`authd_proto::async_client`). Today it serves the
//! password-reset landing page: the link in a reset mail leads to a form for the new
//! password, so a user who forgot theirs needs no shell.
//!
//! - [`args`]: flags, and the settings derived from them (the public URL's origin, which
//!   cookies are `Secure`).
//! - [`app`]: the router, its state, the listener.
//! - [`guard`]: what every response carries (security headers) and what every POST must
//!   pass (same origin, CSRF token, rate limit).
//! - [`cookies`]: reading and writing the few cookies, with the `__Host-` rules.
//! - [`rate`]: the per-IP POST limit.
//! - [`pages`]: the HTML, compiled in (maud), and the one embedded stylesheet.
//! - [`reset`]: the reset link, form and submission.
//!
//! No secret (reset token, password, CSRF token) is ever logged: the request log line
//! has the method, the path without its query, and the status.

pub mod app;
pub mod args;
pub mod cookies;
pub mod guard;
pub mod pages;
pub mod rate;
pub mod reset;
