//! `[password]`: the length and strength policy and the argon2 parameters, with their
//! bounds.

use serde::{Deserialize, Serialize};

use super::{bad, ConfigError};

/// The longest password any config may allow; the client refuses longer input itself.
pub const PASSWORD_HARD_MAX: usize = 1024;

/// The largest argon2 parameters authd accepts (`password.argon2_*`); a stored hash
/// beyond them is not one authd made.
pub const ARGON2_MAX_M_KIB: u32 = 4 * 1024 * 1024;
pub const ARGON2_MAX_T: u32 = 100;
pub const ARGON2_MAX_P: u32 = 16;

/// The longest maximum password age, in days (about 100 years).
pub const MAX_AGE_DAYS: u32 = 36_500;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub min_length: usize,
    pub max_length: usize,
    /// Minimum zxcvbn score (0-4).
    pub min_score: u8,
    pub argon2_m_kib: u32,
    pub argon2_t: u32,
    pub argon2_p: u32,
    /// Threads hashing at once; 0 = one per CPU.
    pub hash_workers: usize,
    /// Days a password may be used before a login asks for a change, for accounts
    /// without their own (`set-user --max-password-age`); unset = never.
    pub max_age: Option<u32>,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            min_length: 10,
            max_length: 256,
            min_score: 3,
            argon2_m_kib: 19456,
            argon2_t: 2,
            argon2_p: 1,
            hash_workers: 0,
            max_age: None,
        }
    }
}

impl PasswordConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let p = self;
        if p.min_length == 0 {
            return bad("password.min_length", "must be at least 1");
        }
        if p.max_length < p.min_length || p.max_length > PASSWORD_HARD_MAX {
            return bad(
                "password.max_length",
                &format!("must be between min_length and {PASSWORD_HARD_MAX}"),
            );
        }
        if p.min_score > 4 {
            return bad("password.min_score", "must be 0 to 4 (a zxcvbn score)");
        }
        if p.argon2_p == 0 || p.argon2_p > ARGON2_MAX_P {
            return bad("password.argon2_p", "must be 1 to 16");
        }
        if p.argon2_m_kib < 8 * p.argon2_p || p.argon2_m_kib > ARGON2_MAX_M_KIB {
            return bad("password.argon2_m_kib", "must be 8 x argon2_p to 4194304");
        }
        if p.argon2_t == 0 || p.argon2_t > ARGON2_MAX_T {
            return bad("password.argon2_t", "must be 1 to 100");
        }
        if p.max_age
            .is_some_and(|days| days == 0 || days > MAX_AGE_DAYS)
        {
            return bad(
                "password.max_age",
                &format!("must be 1 to {MAX_AGE_DAYS} days (leave it out for never)"),
            );
        }
        if p.hash_workers > 256 {
            return bad("password.hash_workers", "must be 0 (one per CPU) to 256");
        }
        Ok(())
    }
}
