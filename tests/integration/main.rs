//! Integration tests: each starts the real `authd` binary on a temp socket and state dir
//! and drives it through the real `authctl` and through the client library.

mod account_lifecycle;
mod accounts;
mod argv_secrets;
mod authz;
mod backup;
mod bad_input;
mod concurrency;
mod crash;
/// The shared daemon helper, and the built binaries as cargo names them to this
/// package's tests.
mod daemon {
    pub use crate::shared_daemon::*;

    pub const AUTHD: &str = env!("CARGO_BIN_EXE_authd");
    pub const AUTHCTL: &str = env!("CARGO_BIN_EXE_authctl");
}
mod disk_full;
mod email_rules;
mod fairness;
mod google_authenticator;
mod import;
mod integrity;
mod journal_logs;
mod json_output;
// The security-key tests: authctl runs authd-key's test build (its `softtoken` feature).
mod keys;
mod keys_portal;
mod keys_wire;
mod lifecycle;
mod lockout_race;
mod log_flood;
mod mail;
#[path = "../support/mailbox.rs"]
mod mailbox;
mod metrics;
#[path = "../support/oath.rs"]
mod oath;
mod old_store;
mod other_uids;
mod outbox;
mod outbox_admin;
mod outbox_delivered;
mod output_files;
mod own_factors;
mod packaging;
mod passwords;
#[path = "../support/peers.rs"]
mod peers;
#[path = "../support/pg_cluster.rs"]
mod pg_cluster;
use shared_daemon::suite_pg as pg;
mod pipelined;
mod portal;
mod portal_forgot;
mod portal_sms;
mod postgres;
mod postgres_bench;
mod postgres_many;
mod postgres_migrate;
mod postgres_outbox;
mod postgres_restart;
mod postgres_restore;
mod postgres_tls;
mod promises_access;
mod promises_backup;
mod promises_files;
mod promises_hashing;
mod promises_lockout;
mod promises_logs;
mod promises_reset;
mod promises_settings;
mod promises_sms;
mod promises_table;
mod qr_codes;
mod reload;
mod resend;
mod restore;
mod revocation;
mod secret_key;
#[path = "../support/daemon.rs"]
mod shared_daemon;
mod sms;
#[path = "../support/sms_gateway.rs"]
mod sms_gateway;
#[path = "../support/spawned.rs"]
mod spawned;
mod terminal;
mod terminal_safety;
mod two_factor;
