//! The crypt(3) hashes of /etc/shadow that authd accepts on import, so a host can move
//! from pam_unix without a password reset: SHA-512-crypt (`$6$`), SHA-256-crypt (`$5$`)
//! and yescrypt (`$y$`, Debian's default since 11), through RustCrypto's `sha-crypt` and
//! `yescrypt`. Such a hash is verified as it is, on the hash pool like argon2
//! (`hasher`), and replaced by argon2id at the first successful login.
//!
//! A stored hash's parameters decide what checking it costs, so they are bounded like
//! argon2's (`check`): at most `MAX_SHA_ROUNDS` rounds, and yescrypt in its standard
//! flavour only, with at most `MAX_YESCRYPT_BYTES` of memory. Nothing here hashes a new
//! password: authd writes argon2id only.

use sha_crypt::{PasswordVerifier as _, ShaCrypt};
use yescrypt::{Mode, Params as YescryptParams, Yescrypt};

/// Most SHA-crypt rounds accepted (glibc's default is 5,000): about a second to check.
pub const MAX_SHA_ROUNDS: u32 = 1_000_000;
/// Most memory a yescrypt hash may ask for: Debian's default (`j9T`, cost 5) takes
/// 16 MiB, `mkpasswd -R 9` 256 MiB; `-R 10` and `-R 11` (512 MiB, 1 GiB) are refused.
pub const MAX_YESCRYPT_BYTES: u64 = 256 << 20;

/// The crypt(3) scheme of a stored hash, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Sha512,
    Sha256,
    Yescrypt,
}

impl Scheme {
    /// The scheme `stored` claims, or `None` when it is not a crypt(3) hash authd knows.
    pub fn of(stored: &str) -> Option<Scheme> {
        if stored.starts_with("$6$") {
            Some(Scheme::Sha512)
        } else if stored.starts_with("$5$") {
            Some(Scheme::Sha256)
        } else if stored.starts_with("$y$") {
            Some(Scheme::Yescrypt)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sha512 => "sha512-crypt",
            Scheme::Sha256 => "sha256-crypt",
            Scheme::Yescrypt => "yescrypt",
        }
    }
}

/// crypt(3)'s base64 alphabet.
fn is_crypt64(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// Is `stored` a well-formed crypt(3) hash of `scheme` within the cost bounds?
pub fn check(scheme: Scheme, stored: &str) -> Result<(), String> {
    let fields: Vec<&str> = stored.split('$').collect();
    match scheme {
        Scheme::Sha512 | Scheme::Sha256 => check_sha(scheme, &fields),
        Scheme::Yescrypt => check_yescrypt(&fields),
    }
}

/// `$6$[rounds=N$]salt$hash`: a salt of up to 16 characters, the digest in full.
fn check_sha(scheme: Scheme, fields: &[&str]) -> Result<(), String> {
    let name = scheme.name();
    let (salt, digest) = match fields {
        ["", _, rounds, salt, digest] => {
            let n = rounds
                .strip_prefix("rounds=")
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| format!("{name}: `{rounds}` is not rounds=N"))?;
            if !(1_000..=MAX_SHA_ROUNDS).contains(&n) {
                return Err(format!(
                    "{name}: {n} rounds, authd accepts 1000 to {MAX_SHA_ROUNDS}"
                ));
            }
            (*salt, *digest)
        }
        ["", _, salt, digest] => (*salt, *digest),
        _ => return Err(format!("{name}: not $id$[rounds=N$]salt$hash")),
    };
    let want = if scheme == Scheme::Sha512 { 86 } else { 43 };
    if salt.is_empty() || salt.len() > 16 || salt.contains(':') || salt.contains('\n') {
        return Err(format!("{name}: the salt must be 1 to 16 characters"));
    }
    if digest.len() != want || !is_crypt64(digest) {
        return Err(format!(
            "{name}: the hash must be {want} characters of crypt base64"
        ));
    }
    Ok(())
}

/// `$y$params$salt$hash`, the standard (RW) flavour with no extra time cost.
fn check_yescrypt(fields: &[&str]) -> Result<(), String> {
    let ["", "y", params, salt, digest] = fields else {
        return Err("yescrypt: not $y$params$salt$hash".into());
    };
    let parsed: YescryptParams = params
        .parse()
        .map_err(|_| format!("yescrypt: unreadable parameters `{params}`"))?;
    // Only what `Params::new` would write back: the standard flavour, t = 0, no ROM.
    let standard = YescryptParams::new(Mode::Rw, parsed.n(), parsed.r(), parsed.p())
        .map_err(|_| format!("yescrypt: parameters `{params}` are not supported"))?;
    if standard.to_string() != *params {
        return Err(format!(
            "yescrypt: parameters `{params}` are not the standard flavour authd supports"
        ));
    }
    let bytes = 128u64
        .saturating_mul(u64::from(parsed.r()))
        .saturating_mul(parsed.n());
    if bytes > MAX_YESCRYPT_BYTES {
        return Err(format!(
            "yescrypt: parameters `{params}` need {} MiB, authd accepts at most {} MiB",
            bytes >> 20,
            MAX_YESCRYPT_BYTES >> 20
        ));
    }
    if salt.is_empty() || !is_crypt64(salt) || digest.len() != 43 || !is_crypt64(digest) {
        return Err(
            "yescrypt: the salt or the hash is not crypt base64 of the right length".into(),
        );
    }
    Ok(())
}

/// Does `password` match `stored`? A hash that `check` refuses never matches.
pub fn matches(scheme: Scheme, stored: &str, password: &[u8]) -> bool {
    if check(scheme, stored).is_err() {
        return false;
    }
    match scheme {
        Scheme::Sha512 | Scheme::Sha256 => ShaCrypt::default()
            .verify_password(password, stored)
            .is_ok(),
        Scheme::Yescrypt => {
            use yescrypt::PasswordVerifier as _;
            Yescrypt::default()
                .verify_password(password, stored)
                .is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Hasher, Share, Verdict};
    use super::*;
    use crate::protocol::Secret;

    // Made with `openssl passwd -6 -salt saltsalt hunter22`, `openssl passwd -5 -salt
    // saltsalt hunter22` and `mkpasswd -m yescrypt hunter22` (whois 5.5.17).
    const SHA512: &str =
        "$6$saltsalt$5mR43xQaRO8UqNJiGE2zcmprBTlO9lTdMHosy2oRT70EPekI6VsnFfjuo.EkgAwlkxAXJglqAax0P4w5f3EVa.";
    const SHA256: &str = "$5$saltsalt$L.JQzIaW.1ihQsg0PkX0QHWbo330iXQVSS37QeaNikA";
    const YESCRYPT: &str =
        "$y$j9T$pPV9T6uUDtzO68z1F6Aho1$Cpbr/Wy.caetcNT16dcsZt99S/1cgALfxwg2h12sgP8";

    #[test]
    fn shadow_hashes_verify_as_they_are() {
        for (stored, scheme) in [
            (SHA512, Scheme::Sha512),
            (SHA256, Scheme::Sha256),
            (YESCRYPT, Scheme::Yescrypt),
        ] {
            assert_eq!(Scheme::of(stored), Some(scheme));
            assert_eq!(check(scheme, stored), Ok(()), "{stored}");
            assert!(matches(scheme, stored, b"hunter22"), "{stored}");
            assert!(!matches(scheme, stored, b"hunter23"), "{stored}");
        }
    }

    #[test]
    fn costly_or_malformed_hashes_are_refused() {
        let rounds = SHA512.replace("$6$", "$6$rounds=5000000$");
        assert!(check(Scheme::Sha512, &rounds)
            .unwrap_err()
            .contains("rounds"));
        // `mkpasswd -m yescrypt -R 11 hunter22`: 1 GiB a check.
        let huge = "$y$jFT$rjw3TZ3ku2PzqkupmBX2B1$x.Je4dNIFnaBGvwHGzQULA6/91OebQTKCUCcr2uNwI2";
        assert!(check(Scheme::Yescrypt, huge)
            .unwrap_err()
            .contains("1024 MiB"));
        for bad in ["$6$", "$6$salt$short", "$6$$", "$y$j9T$salt", "$5$a$b$c$d"] {
            let scheme = Scheme::of(bad).unwrap();
            assert!(check(scheme, bad).is_err(), "{bad}");
            assert!(!matches(scheme, bad, b"hunter22"), "{bad}");
        }
        assert_eq!(Scheme::of("$1$md5$x"), None);
        assert_eq!(Scheme::of("!"), None);
    }

    #[tokio::test]
    async fn a_shadow_hash_verifies_on_the_pool_and_is_replaced_by_argon2id() {
        let shadow = SHA512;
        assert_eq!(super::super::check_stored(shadow), Ok(()));
        let config = crate::config::PasswordConfig {
            argon2_m_kib: 64,
            argon2_t: 1,
            ..crate::config::PasswordConfig::default()
        };
        let h = Hasher::start(&config, 1).unwrap();
        match h
            .verify(
                Share::exempt(0),
                Secret::new("hunter22"),
                Some(shadow.into()),
            )
            .await
            .unwrap()
        {
            Verdict::Right { rehash: Some(r) } => {
                assert!(r.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{r}")
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
        assert_eq!(
            h.verify(
                Share::exempt(0),
                Secret::new("hunter23"),
                Some(shadow.into())
            )
            .await
            .unwrap(),
            Verdict::Wrong
        );
        assert_eq!(h.hashes(), 2, "both checks ran on the pool");
    }
}
