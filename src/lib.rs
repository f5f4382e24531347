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
//! - [`protocol`], [`codec`], [`client`], [`escape`], [`time`]: re-exported from the
//!   `authd-proto` crate (the wire types, frames, the blocking client), which authctl
//!   and pam_authd share with the daemon.
//! - [`config`]: `authd.toml`, defaults and validation.
//! - [`authz`]: peer credentials -> `Caller`, and the access table.
//! - [`server`]: listener, connections, dispatch, shutdown.
//! - [`service`]: the domain operations behind each request.
//! - [`store`]: the only code that touches sled.
//! - [`account`], [`email`], [`password`], [`lockout`], [`lifecycle`], [`audit`], [`totp`],
//!   [`recovery`], [`sms`]: domain rules;
//!   [`import_line`]: what a valid `authctl import` line is (authctl and authd check it).
//! - [`google_authenticator`]: reading a pam_google_authenticator file to import it.
//! - [`vault`]: the secret key; sealed TOTP secrets and keyed hashes.
//! - [`portal`]: portal sessions (authd-web): tokens, expiry, fresh proofs.
//! - [`reset`]: password-reset tokens and mails; [`outbox`]: durable mail and SMS queue,
//!   delivered by one courier per channel.
//! - [`bench`]: `authd-bench`, the load generator.
//! - [`ctl`]: the authctl command line; [`qr`]: QR codes for enrolment.
//! - [`restore`]: `authd restore`, a backup into a new state directory or an empty
//!   PostgreSQL database (offline);
//!   [`migrate`]: `authd migrate`, a sled store into an empty PostgreSQL database.
//! - [`private_file`]: how every file authctl and authd write is written (0600, atomic,
//!   never through a planted file or symlink).
//! - [`metrics`]: counters and gauges, in Prometheus text format (`authctl metrics`).
//! - [`words`]: counted nouns and borrowed sentences in messages.

pub use authd_proto::{client, codec, escape, protocol, time};

pub mod account;
pub mod audit;
pub mod authz;
pub mod backup_file;
pub mod bench;
pub mod config;
pub mod ctl;
pub mod email;
pub mod error;
pub mod exit;
pub mod google_authenticator;
pub mod import_line;
pub mod lifecycle;
pub mod lockout;
pub mod log_limit;
pub mod metrics;
pub mod migrate;
pub mod outbox;
pub mod password;
pub mod portal;
pub mod private_file;
pub mod qr;
pub mod recovery;
pub mod reset;
pub mod restore;
pub mod server;
pub mod service;
pub mod sms;
pub mod store;
pub mod totp;
pub mod vault;
pub mod words;
