//! What a valid account looks like: names, email addresses and phone numbers, and the
//! public view `show` gives. Pure validation; nothing here reads or writes the store.

use crate::error::Error;
use crate::protocol::{AccountInfo, Change, FactorState};
use crate::store::Account;

pub const MAX_NAME: usize = 64;
const MAX_PROVIDER: usize = 64;

/// 1-64 of `a-z 0-9 . _ - @`, starting with a letter or digit.
pub fn check_name(name: &str) -> Result<(), Error> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c);
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.len() <= MAX_NAME && starts_well && name.chars().all(valid_char) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid account name `{}`: use 1-{MAX_NAME} of a-z, 0-9, '.', '_', '-', '@', \
             starting with a letter or digit",
            crate::escape::clipped(name, MAX_NAME)
        )))
    }
}

/// An address authd can mail (`email::mailable`), in the form to store: as given, with
/// an internationalised domain in punycode.
pub fn check_email(email: &str) -> Result<String, Error> {
    match crate::email::mailable(email) {
        Ok(address) => Ok(address.to_string()),
        // Too long to be worth echoing back.
        Err(e @ crate::email::AddressError::TooLong) => {
            Err(Error::InvalidInput(format!("invalid email address: {e}")))
        }
        Err(e) => Err(Error::InvalidInput(format!(
            "invalid email address `{}`: {e}",
            crate::escape::clipped(email, 254)
        ))),
    }
}

/// A valid international number, returned in E.164 (`+491701234567`).
pub fn check_phone(phone: &str) -> Result<String, Error> {
    let invalid = || {
        Error::InvalidInput(format!(
            "invalid phone number `{}`: give it in international form, e.g. +44 7911 123456",
            crate::escape::clipped(phone, 32)
        ))
    };
    if phone.len() > 32 {
        return Err(invalid());
    }
    let number = phonenumber::parse(None, phone).map_err(|_| invalid())?;
    if !number.is_valid() {
        return Err(invalid());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// An edit of one optional field, checked by `check` and in the form to store.
pub fn check_change(
    change: Change<String>,
    check: fn(&str) -> Result<String, Error>,
) -> Result<Change<String>, Error> {
    Ok(match change {
        Change::Set(value) => Change::Set(check(&value)?),
        other => other,
    })
}

/// SSO provider names: short printable identifiers.
pub fn check_provider(provider: &str) -> Result<String, Error> {
    let ok = !provider.is_empty()
        && provider.len() <= MAX_PROVIDER
        && provider
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c));
    if ok {
        Ok(provider.to_string())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid SSO provider `{}`: use 1-{MAX_PROVIDER} of letters, digits, '.', '_', '-', ':'",
            crate::escape::clipped(provider, MAX_PROVIDER)
        )))
    }
}

/// The view `show` returns: state, never secrets.
pub fn info(account: &Account, now: u64) -> AccountInfo {
    AccountInfo {
        name: account.name.clone(),
        email: account.email.clone(),
        phone: account.phone.clone(),
        sso: account.sso.clone(),
        password_set: account.password_hash.is_some(),
        totp: match &account.totp {
            None => FactorState::Off,
            Some(t) if t.active => FactorState::On,
            Some(_) => FactorState::Pending,
        },
        sms: match &account.sms {
            None => FactorState::Off,
            Some(s) if s.active => FactorState::On,
            Some(_) => FactorState::Pending,
        },
        recovery_codes_left: account.recovery_codes.len() as u32,
        sms_number: account
            .sms
            .as_ref()
            .and(account.phone.as_deref())
            .map(crate::sms::mask_phone),
        locked_until: crate::lockout::locked_until(account, now),
        failures: account.failures,
        created: account.created,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["alice", "a", "0day", "j.doe_2-x@corp", &"a".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Alice",
            "no spaces",
            ".hidden",
            "-x",
            "@x",
            "ä",
            "a/b",
            "a\0b",
            &"a".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert!(check_email("alice@example.org").is_ok());
        assert_eq!(
            check_email("a@Bücher.example").unwrap(),
            "a@xn--bcher-kva.example"
        );
        for bad in ["", "alice", "alice@", "@example.org", "a b@example.org"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        let message = check_email("\"a\u{202E}b\"@example.org")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "invalid email address `\"a\\u{202e}b\"@example.org`: contains a \
             bidirectional formatting character (U+202E)"
        );
        let long = format!("{}@example.org", "\u{1b}".repeat(300));
        assert_eq!(
            check_email(&long).unwrap_err().to_string(),
            "invalid email address: longer than 254 bytes"
        );
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(check_phone("+44 7911 123456").unwrap(), "+447911123456");
        assert_eq!(check_phone("+1 (202) 555-0143").unwrap(), "+12025550143");
        for bad in [
            "",
            "12345",
            "+999 1234",
            "not a number",
            "+44 1",
            "+44 7700 900123",
        ] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }
}
