//! Recovery codes: shown once when 2FA is first enabled, each good for one login when the
//! phone is lost. 80 random bits as `XXXX-XXXX-XXXX-XXXX` in Crockford base32 (no I, L,
//! O, U; input is case- and dash-insensitive), stored only as keyed hashes.
//!
//! The 8-digit scratch codes of a pam_google_authenticator file, once imported
//! (`import-google-authenticator`), are recovery codes too: hashed the same way, beside
//! authd's own, each good for one login. Their form (eight digits) can never be the
//! normal form of one of authd's codes (sixteen characters), so the two never mix.

use base32::Alphabet;
use subtle::ConstantTimeEq;

use crate::vault::{context, random_bytes, Vault, VaultError};

const CODE_BYTES: usize = 10;
const CODE_CHARS: usize = 16;
/// An imported pam_google_authenticator scratch code: eight decimal digits.
const SCRATCH_DIGITS: usize = 8;

/// One new code, e.g. `7Q2M-0XKD-9R4T-HB3C`.
fn new_code() -> Result<String, VaultError> {
    Ok(encode(random_bytes::<CODE_BYTES>()?))
}

/// 80 bits as four dash-separated groups of four Crockford base32 characters, most
/// significant bits first.
fn encode(bytes: [u8; CODE_BYTES]) -> String {
    let compact = base32::encode(Alphabet::Crockford, &bytes);
    let groups: Vec<&str> = (0..CODE_CHARS)
        .step_by(4)
        .filter_map(|i| compact.get(i..i + 4))
        .collect();
    groups.join("-")
}

/// The canonical form of typed input, or `None` if it cannot be a recovery code: dashes
/// and spaces dropped, then Crockford's decoding (either case, O read as 0, I and L as 1)
/// and encoding again; eight digits (an imported scratch code) stay as they are.
pub fn normalize(input: &str) -> Option<String> {
    let compact: String = input.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if compact.len() == SCRATCH_DIGITS && compact.bytes().all(|b| b.is_ascii_digit()) {
        return Some(compact);
    }
    if compact.len() != CODE_CHARS {
        return None;
    }
    let bytes = base32::decode(Alphabet::Crockford, &compact)?;
    Some(base32::encode(Alphabet::Crockford, &bytes))
}

fn hash(vault: &Vault, account: &str, normalized: &str) -> [u8; 32] {
    vault.keyed_hash(&context("recovery", account), normalized.as_bytes())
}

/// A fresh set: the codes to show once, and the hashes to store.
pub fn generate(
    vault: &Vault,
    account: &str,
    count: u32,
) -> Result<(Vec<String>, Vec<[u8; 32]>), VaultError> {
    let codes = (0..count)
        .map(|_| new_code())
        .collect::<Result<Vec<_>, _>>()?;
    let hashes = codes
        .iter()
        .map(|c| hash(vault, account, &normalize(c).unwrap_or_default()))
        .collect();
    Ok((codes, hashes))
}

/// The stored hash of an imported pam_google_authenticator scratch code; `None` unless
/// `code` is eight digits.
pub fn imported(vault: &Vault, account: &str, code: &str) -> Option<[u8; 32]> {
    let normalized = normalize(code).filter(|n| n.len() == SCRATCH_DIGITS)?;
    Some(hash(vault, account, &normalized))
}

/// If `input` is one of the stored codes, remove it (single use) and return true.
/// Every stored hash is compared, in constant time.
pub fn spend(vault: &Vault, account: &str, stored: &mut Vec<[u8; 32]>, input: &str) -> bool {
    let Some(normalized) = normalize(input) else {
        return false;
    };
    let candidate = hash(vault, account, &normalized);
    let mut hit = None;
    for (i, h) in stored.iter().enumerate() {
        if bool::from(h.ct_eq(&candidate)) {
            hit = Some(i);
        }
    }
    match hit {
        Some(i) => {
            stored.remove(i);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_documented_form_and_80_bits() {
        let vault = Vault::from_key(&[3u8; 32]);
        let (codes, hashes) = generate(&vault, "alice", 10).unwrap();
        assert_eq!((codes.len(), hashes.len()), (10, 10));
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.matches('-').count(), 3);
            assert_eq!(normalize(code).unwrap().len(), 16);
        }
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
    }

    #[test]
    fn every_one_of_the_80_bits_shows_in_its_place() {
        assert_eq!(encode([0; CODE_BYTES]), "0000-0000-0000-0000");
        assert_eq!(encode([0xff; CODE_BYTES]), "ZZZZ-ZZZZ-ZZZZ-ZZZZ");
        // 0x0123456789abcdef0123 in groups of five bits: 0 4 17 20 10 25 28 9 21 15 6 30 30 0 9 3
        let bytes = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23];
        assert_eq!(encode(bytes), "04HM-ASW9-NF6Y-Y093");
        let one = encode([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(one, "0000-0000-0000-0001");
        let top = encode([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(top, "G000-0000-0000-0000");
    }

    #[test]
    fn input_is_case_and_dash_insensitive_with_crockford_aliases() {
        assert_eq!(
            normalize("abcd-efgh-jkmn-pqrs").as_deref(),
            Some("ABCDEFGHJKMNPQRS")
        );
        assert_eq!(
            normalize("O0IL 1111 2222 3333").as_deref(),
            Some("0011111122223333")
        );
        assert_eq!(normalize("ABCD-EFGH-JKMN-PQRU"), None); // U is not Crockford
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("1234 5678").as_deref(), Some("12345678"));
        assert_eq!(normalize("1234567A"), None);
    }

    #[test]
    fn every_ascii_character_reads_as_crockford_says() {
        for c in (0u8..128)
            .map(char::from)
            .filter(|c| !matches!(c, '-' | ' '))
        {
            let expected = match c.to_ascii_uppercase() {
                'O' => Some('0'),
                'I' | 'L' => Some('1'),
                u if "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(u) => Some(u),
                _ => None,
            };
            for (i, input) in [format!("{c}ZZZZZZZZZZZZZZZ"), format!("ZZZZZZZZZZZZZZZ{c}")]
                .iter()
                .enumerate()
            {
                let read = normalize(input).and_then(|n| n.chars().nth(15 * i));
                assert_eq!(read, expected, "{c:?} in {input:?}");
            }
        }
    }

    #[test]
    fn a_code_is_spent_once_and_only_for_its_account() {
        let vault = Vault::from_key(&[3u8; 32]);
        let (codes, mut stored) = generate(&vault, "alice", 3).unwrap();
        let mut bobs = stored.clone();
        assert!(!spend(&vault, "bob", &mut bobs, &codes[1]));
        assert!(spend(
            &vault,
            "alice",
            &mut stored,
            &codes[1].to_lowercase()
        ));
        assert_eq!(stored.len(), 2);
        assert!(!spend(&vault, "alice", &mut stored, &codes[1]));
        assert!(spend(
            &vault,
            "alice",
            &mut stored,
            &codes[0].replace('-', "")
        ));
    }

    #[test]
    fn imported_scratch_codes_are_spent_once_beside_the_own_codes() {
        let vault = Vault::from_key(&[3u8; 32]);
        let (codes, mut stored) = generate(&vault, "alice", 2).unwrap();
        assert_eq!(imported(&vault, "alice", &codes[0]), None);
        assert_eq!(imported(&vault, "alice", "1234567"), None);
        stored.push(imported(&vault, "alice", "66570032").unwrap());
        assert!(!spend(&vault, "bob", &mut stored.clone(), "66570032"));
        assert!(spend(&vault, "alice", &mut stored, "66570032"));
        assert!(!spend(&vault, "alice", &mut stored, "66570032"));
        assert!(spend(&vault, "alice", &mut stored, &codes[1]));
        assert_eq!(stored.len(), 1);
    }
}
