//! authd-proto: what authctl, pam_authd and the daemon share to talk to each other.
//!
//! - [`protocol`]: the `Request`/`Response` pair, error codes, redacted secrets.
//! - [`codec`]: length-prefixed bincode frames with a hard size limit (blocking; the
//!   async reader behind the `tokio` feature).
//! - [`client`]: the blocking client (handshake, timeouts, safe resend).
//! - `async_client` (the `tokio` feature): the async client authd-web uses.
//! - [`paths`]: default socket paths and which socket directory a client trusts.
//! - [`escape`]: the one rule for showing foreign text on a terminal.
//! - [`time`]: unix seconds, and how they are shown.
//! - [`logging`]: colour or not (`NO_COLOR`), and the daemons' log set-up (the `logging`
//!   feature; journald priorities when standard error is the journal).
//!
//! This crate runs inside sshd, sudo and login (through pam_authd), so it keeps its
//! dependencies few and never panics: `unwrap`, `expect` and `panic!` are denied.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "tokio")]
pub mod async_client;
pub mod client;
pub mod codec;
pub mod escape;
pub mod logging;
pub mod paths;
pub mod protocol;
pub mod time;
