//! authd: a local authentication service.
//!
//! A long-running daemon (`authd`) keeps accounts in an embedded sled database and
//! answers requests on a Unix socket; `authctl` is the CLI over it. Data flow:
//!
//! ```text
//! authctl/PAM -> client -> codec frame -> socket -> server::connection (peer creds once)
//!   -> server::dispatch (authz, one match) -> service (domain) -> store (sled, flushed)
//!   -> Response -> frame -> client -> printed / exit code
//! ```
//!
//! Modules:
//! - [`protocol`]: the `Request`/`Response` pair, error codes, redacted secrets.
//! - [`codec`]: length-prefixed bincode frames with a hard size limit.
//! - [`config`]: `authd.toml`, defaults and validation.
//! - [`authz`]: peer credentials -> `Caller`, and the access table.
//! - [`server`]: listener, connections, dispatch, shutdown.
//! - [`service`]: the domain operations behind each request.
//! - [`store`]: the only code that touches sled.
//! - [`account`], [`email`], [`password`], [`lockout`], [`audit`], [`totp`], [`recovery`], [`sms`]: domain rules.
//! - [`vault`]: the secret key; sealed TOTP secrets and keyed hashes.
//! - [`reset`]: password-reset tokens and mails; [`outbox`]: durable mail and SMS queue,
//!   delivered by one courier per channel.
//! - [`client`]: blocking client for authctl, PAM and tests; [`bench`]: authd-bench.
//! - [`ctl`]: the authctl command line; [`qr`]: QR codes for enrolment; [`escape`]: the
//!   one rule for showing foreign text on a terminal (controls, bidi as visible escapes).
//! - [`restore`]: `authd restore`, a backup into a new state directory (offline).
//! - [`private_file`]: how every file authctl and authd write is written (0600, atomic,
//!   never through a planted file or symlink).

pub mod account;
pub mod audit;
pub mod authz;
pub mod bench;
pub mod client;
pub mod codec;
pub mod config;
pub mod ctl;
pub mod email;
pub mod error;
pub mod escape;
pub mod lockout;
pub mod log_limit;
pub mod outbox;
pub mod password;
pub mod private_file;
pub mod protocol;
pub mod qr;
pub mod recovery;
pub mod reset;
pub mod restore;
pub mod server;
pub mod service;
pub mod sms;
pub mod store;
pub mod time;
pub mod totp;
pub mod vault;
