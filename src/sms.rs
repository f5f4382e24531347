//! SMS verification codes: six digits from the CSPRNG, stored only as keyed hashes,
//! valid for `sms.code_ttl`, at most `MAX_TRIES` tries each, rate limited per account;
//! and which countries' numbers may receive them. Pure functions of `now`.

use subtle::ConstantTimeEq;

use crate::config::SmsConfig;
use crate::error::Error;
use crate::store::records::PendingCode;
use crate::vault::{context, random_bytes, Vault, VaultError};

/// Wrong tries a code survives; the next wrong try voids it.
pub const MAX_TRIES: u8 = 3;
const DAY: u64 = 24 * 3600;

/// What checking a typed code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsCheck {
    Valid,
    Wrong,
    /// No code pending, or it expired or ran out of tries.
    Expired,
}

fn hash(vault: &Vault, account: &str, code: &str) -> [u8; 32] {
    vault.keyed_hash(&context("sms", account), code.as_bytes())
}

/// A fresh six-digit code and what to store for it.
pub fn new_code(
    vault: &Vault,
    account: &str,
    config: &SmsConfig,
    now: u64,
) -> Result<(String, PendingCode), VaultError> {
    let code = loop {
        if let Some(code) = code_from(u32::from_be_bytes(random_bytes::<4>()?)) {
            break code;
        }
    };
    let pending = PendingCode {
        hash: hash(vault, account, &code),
        expires: now + config.code_ttl.as_secs(),
        tries: 0,
    };
    Ok((code, pending))
}

/// Draws at or above this are rejected: below it, every code is equally likely.
const UNBIASED_BELOW: u32 = u32::MAX - u32::MAX % 1_000_000;

/// The six-digit code for a random draw `n`, or `None` to draw again (rejection sampling).
fn code_from(n: u32) -> Option<String> {
    (n < UNBIASED_BELOW).then(|| format!("{:06}", n % 1_000_000))
}

/// Check `code` against the pending one; a wrong try is counted, and the code is spent
/// by success or by its last allowed try (the caller stores the updated `pending`).
pub fn check(
    vault: &Vault,
    account: &str,
    pending: &mut Option<PendingCode>,
    code: &str,
    now: u64,
) -> SmsCheck {
    let Some(p) = pending.as_mut() else {
        return SmsCheck::Expired;
    };
    if p.expires <= now || p.tries >= MAX_TRIES {
        *pending = None;
        return SmsCheck::Expired;
    }
    if bool::from(hash(vault, account, code.trim()).ct_eq(&p.hash)) {
        *pending = None;
        return SmsCheck::Valid;
    }
    p.tries += 1;
    if p.tries >= MAX_TRIES {
        *pending = None;
    }
    SmsCheck::Wrong
}

/// Refuse a send within `min_interval` of the last one, or past the daily cap; `sent`
/// keeps the send times of the last day.
pub fn rate_check(config: &SmsConfig, sent: &mut Vec<u64>, now: u64) -> Result<(), Error> {
    sent.retain(|&t| t + DAY > now);
    if let Some(&last) = sent.last() {
        let next = last + config.min_interval.as_secs();
        if now < next {
            return Err(Error::SmsTooSoon { last, until: next });
        }
    }
    if sent.len() >= config.daily_limit as usize {
        return Err(Error::RateLimited {
            until: sent[0] + DAY,
        });
    }
    sent.push(now);
    Ok(())
}

/// The text of a code message: who sends it, the code, and not to share it.
pub fn message(issuer: &str, code: &str, ttl_minutes: u64) -> String {
    format!(
        "{issuer} verification code: {code}. It expires in {ttl_minutes} min. \
         Do not share it with anyone; {issuer} will never ask you for it."
    )
}

/// May this E.164 number receive codes under `sms.countries`?
pub fn check_country(config: &SmsConfig, e164: &str) -> Result<(), Error> {
    if config.countries.is_empty() {
        return Ok(());
    }
    let region = phonenumber::parse(None, e164)
        .ok()
        .and_then(|n| n.country().id())
        .map(|id| id.as_ref().to_string());
    match region {
        Some(r) if config.countries.iter().any(|c| c.eq_ignore_ascii_case(&r)) => Ok(()),
        other => Err(Error::SmsUnavailable(format!(
            "SMS verification is not available for phone numbers in {}; \
             use verification by authenticator app instead (authctl enable-totp)",
            other.as_deref().unwrap_or("that country")
        ))),
    }
}

/// `+447911123456` -> `+44*******456`.
pub fn mask_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().collect();
    if digits.len() <= 6 {
        return "***".into();
    }
    let keep_start = 3;
    let keep_end = 3;
    let mut out: String = digits[..keep_start].iter().collect();
    out.extend(std::iter::repeat_n(
        '*',
        digits.len() - keep_start - keep_end,
    ));
    out.extend(&digits[digits.len() - keep_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn vault() -> Vault {
        Vault::from_key(&[4u8; 32])
    }

    #[test]
    fn a_code_is_six_digits_single_use_and_expires() {
        let config = SmsConfig::default();
        let v = vault();
        let (code, pending) = new_code(&v, "alice", &config, 100).unwrap();
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
        let mut p = Some(pending.clone());
        assert_eq!(check(&v, "alice", &mut p, &code, 101), SmsCheck::Valid);
        assert_eq!(check(&v, "alice", &mut p, &code, 101), SmsCheck::Expired);
        let mut p = Some(pending.clone());
        assert_eq!(check(&v, "bob", &mut p, &code, 101), SmsCheck::Wrong);
        let mut p = Some(pending);
        assert_eq!(
            check(&v, "alice", &mut p, &code, 100 + 300),
            SmsCheck::Expired
        );
    }

    #[test]
    fn the_third_wrong_try_voids_the_code() {
        let v = vault();
        let (code, pending) = new_code(&v, "alice", &SmsConfig::default(), 0).unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let mut p = Some(pending);
        for tries in 1..=3 {
            assert_eq!(check(&v, "alice", &mut p, wrong, 1), SmsCheck::Wrong);
            assert_eq!(p.as_ref().map(|p| p.tries), (tries < 3).then_some(tries));
        }
        assert_eq!(p, None, "voided by the third wrong try");
        assert_eq!(check(&v, "alice", &mut p, &code, 1), SmsCheck::Expired);
    }

    #[test]
    fn draws_map_to_codes_without_bias() {
        assert_eq!(UNBIASED_BELOW, 4_294_000_000);
        assert_eq!(UNBIASED_BELOW % 1_000_000, 0);
        assert_eq!(code_from(0).as_deref(), Some("000000"));
        assert_eq!(code_from(42).as_deref(), Some("000042"));
        assert_eq!(code_from(1_234_567).as_deref(), Some("234567"));
        assert_eq!(code_from(UNBIASED_BELOW - 1).as_deref(), Some("999999"));
        assert_eq!(code_from(UNBIASED_BELOW), None);
        assert_eq!(code_from(u32::MAX), None);
    }

    #[test]
    fn a_code_that_ran_out_of_tries_is_expired_even_when_right() {
        let v = vault();
        let (code, pending) = new_code(&v, "alice", &SmsConfig::default(), 0).unwrap();
        let mut p = Some(PendingCode {
            tries: MAX_TRIES,
            ..pending.clone()
        });
        assert_eq!(check(&v, "alice", &mut p, &code, 1), SmsCheck::Expired);
        assert_eq!(p, None);
        let mut p = Some(PendingCode {
            tries: MAX_TRIES - 1,
            ..pending
        });
        assert_eq!(check(&v, "alice", &mut p, &code, 1), SmsCheck::Valid);
        assert_eq!(p, None, "spent");
    }

    #[test]
    fn rate_limits_interval_and_daily_cap() {
        let config = SmsConfig {
            min_interval: Duration::from_secs(60),
            daily_limit: 3,
            ..SmsConfig::default()
        };
        let mut sent = Vec::new();
        rate_check(&config, &mut sent, 1000).unwrap();
        assert!(matches!(
            rate_check(&config, &mut sent, 1030),
            Err(Error::SmsTooSoon {
                last: 1000,
                until: 1060
            })
        ));
        rate_check(&config, &mut sent, 1060).unwrap();
        rate_check(&config, &mut sent, 1120).unwrap();
        assert!(matches!(
            rate_check(&config, &mut sent, 2000),
            Err(Error::RateLimited { until: 87_400 })
        ));
        assert!(
            rate_check(&config, &mut sent, 87_399).is_err(),
            "a send 24 h ago still counts"
        );
        rate_check(&config, &mut sent, 87_400).unwrap();
    }

    #[test]
    fn countries_are_checked_by_the_numbers_region() {
        let config = SmsConfig {
            countries: vec!["DE".into(), "fr".into()],
            ..SmsConfig::default()
        };
        check_country(&config, "+4930901820").unwrap();
        check_country(&config, "+33612345678").unwrap();
        let err = check_country(&config, "+12025550143")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("US") && err.contains("authenticator app"),
            "{err}"
        );
        check_country(&SmsConfig::default(), "+447911123456").unwrap();
    }

    #[test]
    fn messages_and_masks() {
        let m = message("authd", "123456", 5);
        assert!(m.contains("authd") && m.contains("123456") && m.contains("Do not share"));
        assert_eq!(mask_phone("+447911123456"), "+44*******456");
        assert_eq!(mask_phone("+1234567"), "+12**567");
        assert_eq!(mask_phone("+123456"), "+12*456");
        assert_eq!(mask_phone("+12345"), "***", "too short to show any of it");
        assert_eq!(mask_phone(""), "***");
    }
}
