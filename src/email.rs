//! Email addresses as delivery uses them: one rule, applied where an address comes in
//! (add-user, set-user, `mail.from`) and again where a message is composed, so an address
//! authd accepts is one it can always write into a `To:` header and an SMTP envelope.
//!
//! lettre's own parser is wider than its message builder (it takes quoted local parts
//! such as `"a,b"@example.org`, which a `Mailbox` then refuses) and than our delivery
//! (non-ASCII local parts need the SMTPUTF8 extension, which authd does not use). So an
//! address here is a plain RFC 5321 dot-atom: an ASCII local part, and a host name whose
//! internationalised labels (IDN) are converted to punycode, once, at the door. Control
//! characters (C0, DEL, C1), white space and invisible or bidirectional formatting
//! characters are refused with their code point named. Nothing here logs or touches the
//! store.

use lettre::message::Mailbox;
use lettre::Address;

use crate::escape::{is_bidi, is_invisible};

/// RFC 5321: a path is at most 256 octets including `<>`; an address at most 254.
pub const MAX_ADDRESS: usize = 254;
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;

/// Why an address cannot be mailed. The text names the rule, never the address (the
/// caller decides how to show that, escaped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("longer than {MAX_ADDRESS} bytes")]
    TooLong,
    #[error("contains a control character ({})", code_point(*.0))]
    Control(char),
    #[error("contains a bidirectional formatting character ({})", code_point(*.0))]
    Bidi(char),
    #[error("contains an invisible formatting character ({})", code_point(*.0))]
    Invisible(char),
    #[error("contains white space ({})", code_point(*.0))]
    WhiteSpace(char),
    #[error("needs one `@` between the local part and the domain")]
    NoAt,
    #[error("quoted local parts (\"...\"@) are not accepted")]
    Quoted,
    #[error(
        "the local part (before `@`) must be ASCII: a non-ASCII local part needs SMTPUTF8, \
         which authd's mail delivery does not use"
    )]
    NonAsciiLocal,
    #[error("the local part (before `@`) must be 1-{MAX_LOCAL} bytes")]
    LocalLength,
    #[error(
        "the local part (before `@`) may hold letters, digits, !#$%&'*+-/=?^_`{{|}}~ and \
         dots (not first, last or doubled)"
    )]
    LocalSyntax,
    #[error("address literals ([...]) are not accepted: give a host name")]
    Literal,
    #[error(
        "the domain must be a host name: dot-separated labels of 1-{MAX_LABEL} letters, \
         digits and hyphens (not first or last), at most {MAX_DOMAIN} bytes"
    )]
    Domain,
    #[error("mail delivery cannot use it ({0})")]
    Delivery(String),
}

fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// The first character that would hide or reshape text (controls, bidi, invisible).
fn hidden_char(text: &str) -> Result<(), AddressError> {
    for c in text.chars() {
        if c.is_control() {
            return Err(AddressError::Control(c));
        }
        if is_bidi(c) {
            return Err(AddressError::Bidi(c));
        }
        if is_invisible(c) {
            return Err(AddressError::Invisible(c));
        }
    }
    Ok(())
}

/// RFC 5322 `atext`, ASCII only.
fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn check_local(local: &str) -> Result<(), AddressError> {
    if local.starts_with('"') {
        return Err(AddressError::Quoted);
    }
    if !local.is_ascii() {
        return Err(AddressError::NonAsciiLocal);
    }
    if local.is_empty() || local.len() > MAX_LOCAL {
        return Err(AddressError::LocalLength);
    }
    if local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext))
    {
        Ok(())
    } else {
        Err(AddressError::LocalSyntax)
    }
}

/// The domain in ASCII: IDN labels become punycode (UTS #46, strict STD3 rules).
fn ascii_domain(domain: &str) -> Result<String, AddressError> {
    if domain.starts_with('[') {
        return Err(AddressError::Literal);
    }
    let ascii = if domain.is_ascii() {
        domain.to_string()
    } else {
        idna::domain_to_ascii_strict(domain).map_err(|_| AddressError::Domain)?
    };
    let label_ok = |l: &str| {
        (1..=MAX_LABEL).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if ascii.len() <= MAX_DOMAIN && ascii.split('.').all(label_ok) {
        Ok(ascii)
    } else {
        Err(AddressError::Domain)
    }
}

/// The address exactly as delivery will use it, or why it cannot be mailed.
///
/// The result's text (`to_string()`) is the form to store: the same input always gives
/// the same address, and checking a result again gives it back unchanged.
pub fn mailable(input: &str) -> Result<Address, AddressError> {
    if input.len() > MAX_ADDRESS {
        return Err(AddressError::TooLong);
    }
    hidden_char(input)?;
    if let Some(c) = input.chars().find(|c| c.is_whitespace()) {
        return Err(AddressError::WhiteSpace(c));
    }
    // A quoted local part may itself hold `@`; it is refused either way.
    let (local, domain) = input.rsplit_once('@').ok_or(AddressError::NoAt)?;
    check_local(local)?;
    let domain = ascii_domain(domain)?;
    if local.len() + 1 + domain.len() > MAX_ADDRESS {
        return Err(AddressError::TooLong);
    }
    let address =
        Address::new(local, &domain).map_err(|e| AddressError::Delivery(e.to_string()))?;
    // What the couriers do with the queued text: parse it back as a mailbox.
    match address.to_string().parse::<Mailbox>() {
        Ok(m) if m.name.is_none() && m.email == address => Ok(address),
        Ok(_) => Err(AddressError::Delivery(
            "it does not read back the same".into(),
        )),
        Err(e) => Err(AddressError::Delivery(e.to_string())),
    }
}

/// A sender (`mail.from`): an optional display name and a mailable address, e.g.
/// `Auth Daemon <authd@example.org>`.
pub fn mailable_sender(input: &str) -> Result<Mailbox, AddressError> {
    hidden_char(input)?;
    let mailbox: Mailbox = input
        .parse()
        .map_err(|e: lettre::address::AddressError| AddressError::Delivery(e.to_string()))?;
    let email = mailable(mailbox.email.as_ref())?;
    Ok(Mailbox::new(mailbox.name, email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_are_kept_as_given() {
        for good in [
            "alice@example.org",
            "Alice.Smith+tag@Example.ORG",
            "root@localhost",
            "o'brien@example.co.uk",
            "x!#$%&'*+-/=?^_`{|}~@a-b.example",
            &format!("{}@example.org", "a".repeat(64)),
        ] {
            assert_eq!(mailable(good).unwrap().to_string(), good);
        }
    }

    #[test]
    fn an_idn_domain_becomes_punycode_once() {
        let a = mailable("ivan@Bücher.example").unwrap();
        assert_eq!(a.to_string(), "ivan@xn--bcher-kva.example");
        assert_eq!(mailable(a.as_ref()).unwrap(), a);
        assert_eq!(
            mailable("x@пример.рф").unwrap().to_string(),
            "x@xn--e1afmkfd.xn--p1ai"
        );
    }

    #[test]
    fn forms_lettre_accepts_but_cannot_compose_are_refused() {
        use AddressError::*;
        for (bad, why) in [
            ("\"a,b\"@example.org", Quoted),
            ("\"a b\"@example.org", WhiteSpace(' ')),
            ("\"a\tb\"@example.org", Control('\t')),
            ("\"a@b\"@example.org", Quoted),
            ("\"ab\"@example.org", Quoted),
        ] {
            assert!(bad.parse::<Address>().is_ok(), "lettre takes {bad:?}");
            assert_eq!(mailable(bad).unwrap_err(), why, "{bad:?}");
        }
    }

    #[test]
    fn controls_bidi_and_invisible_characters_are_named() {
        use AddressError::*;
        for (bad, why) in [
            ("a\u{202E}b@example.org", Bidi('\u{202E}')),
            ("a\u{202A}b@example.org", Bidi('\u{202A}')),
            ("a\u{2066}b@example.org", Bidi('\u{2066}')),
            ("a\u{2069}b@example.org", Bidi('\u{2069}')),
            ("a\u{200E}b@example.org", Bidi('\u{200E}')),
            ("a@exa\u{200F}mple.org", Bidi('\u{200F}')),
            ("a\u{061C}b@example.org", Bidi('\u{061C}')),
            ("a\u{85}b@example.org", Control('\u{85}')),
            ("a\u{9B}b@example.org", Control('\u{9B}')),
            ("a\u{1B}[31mb@example.org", Control('\u{1B}')),
            ("a\u{7F}b@example.org", Control('\u{7F}')),
            ("a@example.org\n", Control('\n')),
            ("a\0@example.org", Control('\0')),
            ("a\u{200B}b@example.org", Invisible('\u{200B}')),
            ("a@b\u{00AD}c.example", Invisible('\u{00AD}')),
            ("a@example.org\u{FEFF}", Invisible('\u{FEFF}')),
            ("a\u{E0041}@example.org", Invisible('\u{E0041}')),
            ("a\u{A0}b@example.org", WhiteSpace('\u{A0}')),
            ("a\u{2028}b@example.org", WhiteSpace('\u{2028}')),
            ("a b@example.org", WhiteSpace(' ')),
        ] {
            assert_eq!(mailable(bad).unwrap_err(), why, "{bad:?}");
        }
        assert!(Bidi('\u{202E}').to_string().contains("U+202E"));
    }

    #[test]
    fn smtputf8_and_malformed_addresses_are_refused() {
        use AddressError::*;
        for (bad, why) in [
            ("jörg@example.org", NonAsciiLocal),
            ("用户@例子.广告", NonAsciiLocal),
            ("", NoAt),
            ("alice", NoAt),
            ("alice@", Domain),
            ("@example.org", LocalLength),
            (".a@example.org", LocalSyntax),
            ("a.@example.org", LocalSyntax),
            ("a..b@example.org", LocalSyntax),
            ("a(b)@example.org", LocalSyntax),
            ("a<b>@example.org", LocalSyntax),
            ("Alice <a@example.org>", WhiteSpace(' ')),
            ("a@b@example.org", LocalSyntax),
            ("a@[192.0.2.1]", Literal),
            ("a@-x.example", Domain),
            ("a@x-.example", Domain),
            ("a@x..example", Domain),
            ("a@example.org.", Domain),
            ("a@ex_ample.org", Domain),
            ("a@exa%mple.org", Domain),
            (&format!("{}@example.org", "a".repeat(65)), LocalLength),
            (&format!("a@{}.org", "b".repeat(64)), Domain),
            (&format!("a@{}", vec!["b".repeat(60); 5].join(".")), TooLong),
        ] {
            assert_eq!(mailable(bad).unwrap_err(), why, "{bad:?}");
        }
    }

    #[test]
    fn lengths_are_measured_after_punycode() {
        let label = format!("{}ü", "a".repeat(28));
        let domain = [label.as_str(); 7].join(".");
        let long = format!("a@{domain}");
        assert!(long.len() <= MAX_ADDRESS);
        assert!(idna::domain_to_ascii(&domain).unwrap().len() > MAX_DOMAIN);
        assert_eq!(mailable(&long).unwrap_err(), AddressError::Domain);
    }

    #[test]
    fn the_sender_may_have_a_display_name() {
        let m = mailable_sender("Auth Daemon <authd@example.org>").unwrap();
        assert_eq!(m.email.to_string(), "authd@example.org");
        assert_eq!(m.name.as_deref(), Some("Auth Daemon"));
        assert!(mailable_sender("authd@example.org").is_ok());
        assert!(mailable_sender("\"a,b\"@example.org").is_err());
        assert!(mailable_sender("Auth <jörg@example.org>").is_err());
        assert!(mailable_sender("Auth\u{202E} <a@example.org>").is_err());
    }
}
