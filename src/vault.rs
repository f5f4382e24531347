//! The daemon's 256-bit secret key, and the two things done with it: sealing secrets that
//! must be read back (TOTP seeds, ChaCha20-Poly1305) and keyed hashes of secrets that need
//! only be recognised (recovery codes, later SMS codes and reset tokens; HMAC-SHA256).
//!
//! The key lives in `state_dir/secret.key` (created 0600 on first start) or, under
//! systemd, in `$CREDENTIALS_DIRECTORY/authd.key`. A key file readable by group or others
//! is refused. Subkeys are derived per use, so the AEAD, the keyed hashes and the backup
//! MAC never share a key. This module never logs key material or plaintexts.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The MAC over a backup file (HMAC-SHA256 under the backup subkey), fed as it is written.
pub type BackupMac = Hmac<Sha256>;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
/// SHA-256's block size, the key size of HMAC-SHA256's infallible constructor.
const HMAC_BLOCK: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("secret key file {} is accessible to group or others (mode {mode:o}); run: chmod 600 {}", .path.display(), .path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("secret key file {} is missing but the store already holds data sealed with a key; restore the key file from your backup", .path.display())]
    Missing { path: PathBuf },
    #[error("secret key file {} must hold exactly {KEY_LEN} bytes, not {len}", .path.display())]
    WrongSize { path: PathBuf, len: usize },
    #[error("cannot read or create secret key file {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("sealing a secret failed")]
    Seal,
}

/// A sealed secret could not be opened: wrong key, tampered, or bound to another record.
#[derive(Debug, thiserror::Error)]
#[error("sealed secret does not open (tampered, moved to another record, or another key)")]
pub struct Unsealed;

pub struct Vault {
    seal_key: Zeroizing<[u8; KEY_LEN]>,
    mac_key: Zeroizing<[u8; KEY_LEN]>,
    backup_key: Zeroizing<[u8; KEY_LEN]>,
}

/// Fill a buffer from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(buf)
}

/// HMAC-SHA256 under a 256-bit key, through the constructor that cannot fail: it takes
/// a key of exactly one 64-byte block, and HMAC pads a shorter key with zeros to that
/// block anyway (RFC 2104), so the MAC is the one of the 32-byte key.
fn hmac(key: &[u8; KEY_LEN]) -> HmacSha256 {
    let mut block = Zeroizing::new([0u8; HMAC_BLOCK]);
    block[..KEY_LEN].copy_from_slice(key);
    <HmacSha256 as KeyInit>::new((&*block).into())
}

fn derive(master: &[u8; KEY_LEN], purpose: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
    let mut mac = hmac(master);
    mac.update(purpose);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

impl Vault {
    pub fn from_key(master: &[u8; KEY_LEN]) -> Vault {
        Vault {
            seal_key: derive(master, b"authd seal v1"),
            mac_key: derive(master, b"authd mac v1"),
            backup_key: derive(master, b"authd backup v1"),
        }
    }

    /// Where the key comes from: systemd's credential if there is one, else the state dir.
    pub fn key_path(state_dir: &Path) -> PathBuf {
        key_path_in(
            std::env::var_os("CREDENTIALS_DIRECTORY").as_deref(),
            state_dir,
        )
    }

    /// Load the key at `path`, creating it (0600) if it does not exist yet and
    /// `may_create` (a new, empty store): a lost key is never silently replaced.
    pub fn open_or_create(path: &Path, may_create: bool) -> Result<Vault, VaultError> {
        let io = |source| VaultError::Io {
            path: path.into(),
            source,
        };
        if !path.exists() && !may_create {
            return Err(VaultError::Missing { path: path.into() });
        }
        if !path.exists() {
            let key = Zeroizing::new(random_bytes::<KEY_LEN>()?);
            // Whole or not at all, never replacing a key that appeared meanwhile.
            match crate::private_file::write_new(path, |f| f.write_all(&*key)) {
                Ok(()) => tracing::info!(key = %path.display(), "created a new secret key"),
                Err(crate::private_file::PrivateFileError::Exists { .. }) => {}
                Err(e) => return Err(io(std::io::Error::other(e))),
            }
        }
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(VaultError::Exposed {
                path: path.into(),
                mode: mode & 0o777,
            });
        }
        let bytes = Zeroizing::new(std::fs::read(path).map_err(io)?);
        let key: &[u8; KEY_LEN] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::WrongSize {
                    path: path.into(),
                    len: bytes.len(),
                })?;
        Ok(Vault::from_key(key))
    }

    /// Encrypt `plaintext` bound to `context` (e.g. "totp\0alice"): nonce || ciphertext.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let cipher = ChaCha20Poly1305::new(<&Key>::from(&*self.seal_key));
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypt what `seal` produced for the same `context`.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unsealed> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or(Unsealed)?;
        let cipher = ChaCha20Poly1305::new(<&Key>::from(&*self.seal_key));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Unsealed)
    }

    /// Identifies the key without revealing it: a keyed hash of a fixed label. The store
    /// records it at creation, so a start with another key is refused.
    pub fn check_value(&self) -> [u8; 32] {
        self.keyed_hash(b"key check", b"authd key check value v1")
    }

    /// A fresh MAC for a backup file: whoever holds the key can make and check one, so a
    /// restore can tell a backup this daemon wrote from a file made or changed by anyone
    /// else.
    pub fn backup_mac(&self) -> BackupMac {
        hmac(&self.backup_key)
    }

    /// HMAC-SHA256 of `secret` under the MAC subkey, separated by `context`.
    pub fn keyed_hash(&self, context: &[u8], secret: &[u8]) -> [u8; 32] {
        let mut mac = hmac(&self.mac_key);
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context);
        mac.update(secret);
        mac.finalize().into_bytes().into()
    }
}

/// `key_path` given `$CREDENTIALS_DIRECTORY` (unset or empty: no credentials).
fn key_path_in(credentials: Option<&std::ffi::OsStr>, state_dir: &Path) -> PathBuf {
    match credentials.filter(|d| !d.is_empty()) {
        Some(dir) if Path::new(dir).join("authd.key").exists() => Path::new(dir).join("authd.key"),
        _ => state_dir.join("secret.key"),
    }
}

/// Context strings that bind a secret to its kind and account.
pub fn context(kind: &str, account: &str) -> Vec<u8> {
    let mut c = Vec::with_capacity(kind.len() + account.len() + 1);
    c.extend_from_slice(kind.as_bytes());
    c.push(0);
    c.extend_from_slice(account.as_bytes());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_key(&[7u8; KEY_LEN])
    }

    #[test]
    fn sealed_secrets_open_only_in_their_own_context() {
        let v = vault();
        let sealed = v.seal(&context("totp", "alice"), b"seed").unwrap();
        assert_eq!(
            &*v.open(&context("totp", "alice"), &sealed).unwrap(),
            b"seed"
        );
        assert!(v.open(&context("totp", "bob"), &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(v.open(&context("totp", "alice"), &tampered).is_err());
        let other = Vault::from_key(&[8u8; KEY_LEN]);
        assert!(other.open(&context("totp", "alice"), &sealed).is_err());
        for short in [&[][..], &[0u8; NONCE_LEN - 1], &sealed[..NONCE_LEN]] {
            assert!(v.open(&context("totp", "alice"), short).is_err());
        }
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let v = vault();
        let a = v.seal(b"ctx", b"seed").unwrap();
        let b = v.seal(b"ctx", b"seed").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(a.len(), NONCE_LEN + 4 + 16, "nonce, ciphertext, tag");
    }

    #[test]
    fn contexts_bind_kind_and_account_unambiguously() {
        assert_eq!(context("totp", "alice"), b"totp\0alice");
        assert_ne!(context("totp", "alice"), context("totpa", "lice"));
    }

    #[test]
    fn the_padded_key_block_gives_the_mac_of_the_key_itself() {
        for key in [[0u8; KEY_LEN], [7u8; KEY_LEN], [0xffu8; KEY_LEN]] {
            let mut padded = hmac(&key);
            padded.update(b"message");
            let mut plain = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            plain.update(b"message");
            assert_eq!(
                padded.finalize().into_bytes(),
                plain.finalize().into_bytes()
            );
        }
        // RFC 4231 test case 2: the key "Jefe", shorter than a block, padded the same way.
        let mut jefe = [0u8; KEY_LEN];
        jefe[..4].copy_from_slice(b"Jefe");
        let mut mac = hmac(&jefe);
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn subkeys_differ_by_purpose() {
        let master = [7u8; KEY_LEN];
        let v = vault();
        assert_ne!(*v.seal_key, *v.mac_key);
        assert_ne!(*v.mac_key, *v.backup_key);
        assert_ne!(*v.seal_key, master);
        let mut mac = v.backup_mac();
        mac.update(b"backup");
        let mut plain = <HmacSha256 as Mac>::new_from_slice(&master).unwrap();
        plain.update(b"backup");
        assert_ne!(
            mac.finalize().into_bytes(),
            plain.finalize().into_bytes(),
            "the backup MAC uses its own subkey"
        );
    }

    #[test]
    fn the_key_comes_from_systemd_credentials_when_there_is_one() {
        let state = Path::new("/var/lib/authd");
        let default = state.join("secret.key");
        assert_eq!(key_path_in(None, state), default);
        assert_eq!(key_path_in(Some("".as_ref()), state), default);
        let creds = tempfile::tempdir().unwrap();
        assert_eq!(
            key_path_in(Some(creds.path().as_os_str()), state),
            default,
            "a credentials directory without authd.key"
        );
        std::fs::write(creds.path().join("authd.key"), [0u8; KEY_LEN]).unwrap();
        assert_eq!(
            key_path_in(Some(creds.path().as_os_str()), state),
            creds.path().join("authd.key")
        );
        assert_eq!(
            Vault::key_path(state),
            key_path_in(std::env::var_os("CREDENTIALS_DIRECTORY").as_deref(), state),
            "key_path reads $CREDENTIALS_DIRECTORY"
        );
    }

    #[test]
    fn keyed_hashes_depend_on_key_and_context() {
        let v = vault();
        let h = v.keyed_hash(b"recovery\0alice", b"CODE");
        assert_eq!(h, v.keyed_hash(b"recovery\0alice", b"CODE"));
        assert_ne!(h, v.keyed_hash(b"recovery\0bob", b"CODE"));
        assert_ne!(
            h,
            Vault::from_key(&[8u8; KEY_LEN]).keyed_hash(b"recovery\0alice", b"CODE")
        );
        assert_eq!(v.check_value(), vault().check_value());
        assert_ne!(
            v.check_value(),
            Vault::from_key(&[8u8; KEY_LEN]).check_value()
        );
    }

    #[test]
    fn key_file_is_created_private_and_refused_when_exposed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        assert!(matches!(
            Vault::open_or_create(&path, false),
            Err(VaultError::Missing { .. })
        ));
        let v1 = Vault::open_or_create(&path, true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let v2 = Vault::open_or_create(&path, false).unwrap();
        assert_eq!(v1.keyed_hash(b"x", b"y"), v2.keyed_hash(b"x", b"y"));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
        assert!(matches!(
            Vault::open_or_create(&path, false),
            Err(VaultError::Exposed { mode: 0o620, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
        assert!(matches!(
            Vault::open_or_create(&path, true),
            Err(VaultError::Exposed { mode: 0o604, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            Vault::open_or_create(&path, false),
            Err(VaultError::WrongSize { len: 5, .. })
        ));
    }
}
