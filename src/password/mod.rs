//! Passwords: the policy a new password must meet, and argon2id hashing on a bounded
//! pool of worker threads, shared fairly between uids; crypt(3) hashes imported from
//! /etc/shadow are checked there too, and replaced by argon2id. Nothing here stores anything; the
//! service persists the PHC strings these functions produce.

mod crypt;
mod fair;
mod hasher;
mod policy;

pub use crypt::Scheme as CryptScheme;
pub use fair::Share;
pub use hasher::{check_stored, Hasher, Verdict};
pub use policy::check as check_policy;
