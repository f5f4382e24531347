//! Integration tests: each starts the real `authd` binary on a temp socket and state dir
//! and drives it through the real `authctl` and through the client library.

mod accounts;
mod authz;
mod backup;
mod bad_input;
mod concurrency;
mod crash;
mod daemon;
mod email_rules;
mod lifecycle;
mod lockout_race;
mod mail;
mod outbox;
mod packaging;
mod passwords;
mod reload;
mod revocation;
mod sms;
mod terminal;
mod two_factor;
