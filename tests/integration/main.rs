//! Integration tests: each starts the real `authd` binary on a temp socket and state dir
//! and drives it through the real `authctl` and through the client library.

mod accounts;
mod argv_secrets;
mod authz;
mod backup;
mod bad_input;
mod concurrency;
mod crash;
mod daemon;
mod disk_full;
mod email_rules;
mod fairness;
mod integrity;
mod launch;
mod lifecycle;
mod lockout_race;
mod log_flood;
mod mail;
mod old_store;
mod other_uids;
mod outbox;
mod output_files;
mod own_factors;
mod packaging;
mod passwords;
#[path = "../support/peers.rs"]
mod peers;
mod pipelined;
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
mod reload;
mod resend;
mod restore;
mod revocation;
mod sms;
#[path = "../support/spawned.rs"]
mod spawned;
mod terminal;
mod terminal_safety;
mod two_factor;
