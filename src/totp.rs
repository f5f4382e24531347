//! Time-based one-time passwords (RFC 6238, via totp-rs): secrets, the otpauth URI that
//! authenticator apps scan, and checking a code against a window of time steps with
//! replay protection.
//!
//! Pure functions of `now`; the caller decrypts the secret and persists `last_step`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::config::TotpConfig;

/// 160-bit secrets, as RFC 4226 recommends and Google Authenticator expects.
pub const SECRET_LEN: usize = 20;

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Valid for this time step, which was never used before.
    Valid {
        step: u64,
    },
    /// Valid, but for a step at or before the last one accepted: a replay.
    Replayed,
    Wrong,
}

fn generator(secret: &[u8], config: &TotpConfig) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        config.digits as usize,
        0,
        config.period,
        secret.to_vec(),
    )
}

/// The code for time step `step`.
pub fn code_at_step(secret: &[u8], config: &TotpConfig, step: u64) -> String {
    generator(secret, config).generate(step * config.period)
}

/// Does `code` match a step within `skew` of `now`? Steps at or before `last_step` are
/// replays. Every candidate is compared in constant time. A code that matches several
/// steps (two steps share a code about once in a million) is taken for the earliest
/// unused one, so the later step's own code stays good.
pub fn check(
    secret: &[u8],
    config: &TotpConfig,
    code: &str,
    now: u64,
    last_step: Option<u64>,
) -> CodeCheck {
    let current = now / config.period;
    let gen = generator(secret, config);
    let mut unused = None;
    let mut replayed = false;
    let first = current.saturating_sub(config.skew as u64);
    for step in first..=current + config.skew as u64 {
        let expected = gen.generate(step * config.period);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            if last_step.is_some_and(|last| step <= last) {
                replayed = true;
            } else if unused.is_none() {
                unused = Some(step);
            }
        }
    }
    match (unused, replayed) {
        (Some(step), _) => CodeCheck::Valid { step },
        (None, true) => CodeCheck::Replayed,
        (None, false) => CodeCheck::Wrong,
    }
}

/// RFC 4648 base32 without padding, as authenticator apps take it for manual entry.
const MANUAL_ENTRY: ::base32::Alphabet = ::base32::Alphabet::Rfc4648 { padding: false };

/// What an otpauth label and issuer keep unescaped: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The secret as typed for manual entry: RFC 4648 base32, no padding.
pub fn base32(secret: &[u8]) -> String {
    ::base32::encode(MANUAL_ENTRY, secret)
}

/// Decode the secret as shown for manual entry; `None` for anything else.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    ::base32::decode(MANUAL_ENTRY, text)
}

/// `otpauth://totp/ISSUER:USER?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`
///
/// Not totp-rs's `get_url`: that leaves out the parameters at their defaults and orders
/// them otherwise, and this shape is documented in authctl(1) and checked byte for byte.
pub fn otpauth_uri(config: &TotpConfig, account: &str, secret: &[u8]) -> String {
    let issuer = utf8_percent_encode(&config.issuer, UNRESERVED);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={}&period={}",
        utf8_percent_encode(account, UNRESERVED),
        base32(secret),
        config.digits,
        config.period
    )
}

/// Does this look like a TOTP code (as opposed to a recovery code)?
pub fn looks_like_code(input: &str, config: &TotpConfig) -> bool {
    input.len() == config.digits as usize && input.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(digits: u32) -> TotpConfig {
        TotpConfig {
            digits,
            ..TotpConfig::default()
        }
    }

    /// RFC 6238 appendix B, the SHA1 rows (8 digits, 30 s, seed "12345678901234567890").
    #[test]
    fn rfc6238_sha1_test_vectors() {
        let seed = b"12345678901234567890";
        let rows = [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ];
        for (time, code) in rows {
            assert_eq!(code_at_step(seed, &config(8), time / 30), code, "T={time}");
            assert_eq!(
                check(seed, &config(8), code, time, None),
                CodeCheck::Valid { step: time / 30 }
            );
        }
    }

    #[test]
    fn skew_accepts_neighbouring_steps_only() {
        let seed = [1u8; SECRET_LEN];
        let c = config(6);
        let now = 1_800_000_000;
        let step = now / 30;
        for (offset, ok) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at_step(&seed, &c, (step as i64 + offset) as u64);
            let valid = matches!(check(&seed, &c, &code, now, None), CodeCheck::Valid { .. });
            assert_eq!(valid, ok, "offset {offset}");
        }
        assert_eq!(check(&seed, &c, "12345", now, None), CodeCheck::Wrong);
    }

    #[test]
    fn a_step_once_used_is_a_replay() {
        let seed = [2u8; SECRET_LEN];
        let c = config(6);
        let now = 1_800_000_000;
        let code = code_at_step(&seed, &c, now / 30);
        assert_eq!(
            check(&seed, &c, &code, now, Some(now / 30)),
            CodeCheck::Replayed
        );
        let previous = code_at_step(&seed, &c, now / 30 - 1);
        assert_eq!(
            check(&seed, &c, &previous, now, Some(now / 30)),
            CodeCheck::Replayed
        );
        let next = code_at_step(&seed, &c, now / 30 + 1);
        assert_eq!(
            check(&seed, &c, &next, now, Some(now / 30)),
            CodeCheck::Valid { step: now / 30 + 1 }
        );
    }

    #[test]
    fn a_code_two_steps_share_is_taken_for_the_earliest_unused_one() {
        // With one digit, neighbouring steps often share a code: find a seed where the
        // previous and the current step do.
        let c = config(1);
        let now = 1_800_000_000;
        let step = now / 30;
        let seed = (0u8..=255)
            .map(|k| [k; SECRET_LEN])
            .find(|seed| {
                let shared = code_at_step(seed, &c, step - 1);
                shared == code_at_step(seed, &c, step) && shared != code_at_step(seed, &c, step + 1)
            })
            .expect("a seed whose previous and current steps share a code");
        let shared = code_at_step(&seed, &c, step - 1);
        // Both unused: the earlier step, so the current step's code is still good after.
        assert_eq!(
            check(&seed, &c, &shared, now, Some(step - 2)),
            CodeCheck::Valid { step: step - 1 }
        );
        // The earlier one used: the code is still good for the current step.
        assert_eq!(
            check(&seed, &c, &shared, now, Some(step - 1)),
            CodeCheck::Valid { step }
        );
        // Both used: a replay.
        assert_eq!(
            check(&seed, &c, &shared, now, Some(step)),
            CodeCheck::Replayed
        );
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&[0u8; 20]).len(), 32);
        for data in [&b""[..], b"f", b"foobar", &[0xffu8; 20]] {
            assert_eq!(base32_decode(&base32(data)).unwrap(), data);
        }
        assert_eq!(base32_decode("not base32!"), None);
    }

    #[test]
    fn only_a_string_of_exactly_digits_digits_looks_like_a_code() {
        let six = config(6);
        assert!(looks_like_code("012345", &six));
        assert!(!looks_like_code("01234", &six), "too short");
        assert!(!looks_like_code("0123456", &six), "too long");
        assert!(!looks_like_code("01234a", &six), "not all digits");
        assert!(
            !looks_like_code("ABCD-EFGH-JKMN-PQRS", &six),
            "a recovery code"
        );
        assert!(looks_like_code("01234567", &config(8)));
    }

    #[test]
    fn otpauth_uri_has_the_documented_shape() {
        let uri = otpauth_uri(
            &TotpConfig::default(),
            "j.doe@corp",
            b"12345678901234567890",
        );
        assert_eq!(
            uri,
            "otpauth://totp/authd:j.doe%40corp?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=authd&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn issuer_and_label_keep_only_unreserved_characters() {
        let config = TotpConfig {
            issuer: "Acme & Co.".into(),
            ..TotpConfig::default()
        };
        let uri = otpauth_uri(&config, "j doe:x/y?z#\u{e9}~_-", &[0u8; 5]);
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20%26%20Co.:j%20doe%3Ax%2Fy%3Fz%23%C3%A9~_-?secret=AAAAAAAA\
             &issuer=Acme%20%26%20Co.&algorithm=SHA1&digits=6&period=30"
        );
    }
}
