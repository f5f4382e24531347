//! Integration tests: each starts the real `authd` binary on a temp socket and state dir
//! and drives it through the real `authctl` and through the client library.

mod accounts;
mod authz;
mod backup;
mod bad_input;
mod concurrency;
mod crash;
mod daemon;
mod fairness;
mod lifecycle;
mod mail;
mod other_uids;
mod packaging;
mod passwords;
mod sms;
mod terminal;
mod two_factor;
