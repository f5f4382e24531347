//! The typed records kept in sled, and their versioned on-disk encoding.
//!
//! Each record is stored as a versioned enum (`V1(..)`), bincode-encoded, so a later
//! schema adds `V2` and a migration instead of misreading old bytes. bincode encodes by
//! position: these shapes are frozen (see the golden bytes in `records/golden.rs`), and
//! they are the store's own. No wire type (`protocol`) and no type of another module
//! appears in them: the service converts at its boundary (history becomes
//! `protocol::AuditEntry` there), and the rule modules work on these shapes (`lockout` on
//! `Account`, `sms` on `PendingCode`), so a change to the wire or to a rule cannot
//! silently change what is on disk.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One account. The password hash is an argon2id PHC string; never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub email: Option<String>,
    /// E.164, e.g. `+491701234567`.
    pub phone: Option<String>,
    /// SSO provider; such accounts have no password here.
    pub sso: Option<String>,
    pub password_hash: Option<String>,
    pub created: u64,
    pub updated: u64,
    /// Consecutive failed passwords or codes since the last success.
    pub failures: u32,
    pub locked_until: Option<u64>,
    /// Sequence number of the newest audit entry for this account.
    pub audit_seq: u64,
    /// Authenticator-app enrolment, pending until confirmed with a code.
    pub totp: Option<TotpEnrolment>,
    /// Keyed hashes of the unused recovery codes.
    pub recovery_codes: Vec<[u8; 32]>,
    /// Keyed hashes of outstanding password-reset tokens (index: the `reset_tokens` tree).
    pub reset_tokens: Vec<[u8; 32]>,
    /// When a reset mail was last requested, for `reset.min_interval`.
    pub last_reset_request: Option<u64>,
    /// SMS verification to the account's phone, pending until confirmed with a code.
    pub sms: Option<SmsEnrolment>,
    /// The SMS code the account is waiting for, if any.
    pub sms_code: Option<PendingCode>,
    /// When SMS codes were sent in the last day, for the rate limits.
    pub sms_sent: Vec<u64>,
    /// Registered security keys, oldest first (record version 2; see `v1`).
    pub security_keys: Vec<SecurityKeyRecord>,
    // Record version 3 (see `v2`): the account's lifecycle.
    /// Set by `disable`: every login and self-service request is refused.
    pub disabled: Option<Disabled>,
    /// Unix seconds after which logins are refused.
    pub expires: Option<u64>,
    /// An admin asked for a password change at the next login.
    pub must_change_password: bool,
    /// The account's own maximum password age; `None`: `[password] max_age` applies.
    pub max_password_age: Option<MaxPasswordAge>,
    /// When the password was last set, changed or reset (unknown before version 3).
    pub password_changed: Option<u64>,
    /// The last successful login.
    pub last_login: Option<LastLogin>,
}

/// Why and since when an account is disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disabled {
    pub since: u64,
    pub reason: Option<String>,
}

/// An account's own maximum password age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaxPasswordAge {
    Never,
    Days(u32),
}

/// When and through what (PAM service or client) the account last logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastLogin {
    pub at: u64,
    pub service: Option<String>,
}

/// One registered FIDO2/WebAuthn security key. The credential itself (webauthn-rs's
/// `SecurityKey`: the public key, the credential id, its counter and flags, as JSON) is
/// sealed by the vault and bound to the account, like the TOTP secret: it holds no
/// secret, but sealed it cannot be moved to another account or edited in place. The
/// fields beside it are what `keys` lists and what the login checks without opening it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityKeyRecord {
    /// What users name it by: 8 hex digits of a hash of the credential id.
    pub id: String,
    /// The name its owner gave it.
    pub name: String,
    /// The WebAuthn credential id, in the clear, to refuse a second registration.
    pub credential_id: Vec<u8>,
    pub sealed_credential: Vec<u8>,
    /// The highest signature counter seen; an assertion at or below it (but not 0 with
    /// 0) is refused as a possible clone.
    pub counter: u32,
    /// "usb", "nfc", "ble", "internal", "hybrid", as the key said at registration.
    pub transports: Vec<String>,
    pub created: u64,
    pub last_used: Option<u64>,
}

/// The SMS code an account is waiting for: a keyed hash of it, never the code. The SMS
/// rules (`crate::sms`) make, check and spend it in this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    pub hash: [u8; 32],
    pub expires: u64,
    /// Wrong tries so far.
    pub tries: u8,
}

/// One line of an account's history. The service answers `log` with the wire's
/// `protocol::AuditEntry`, made from this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    /// Unix seconds.
    pub at: u64,
    pub action: String,
    pub outcome: String,
    /// Who asked: "uid 0 pid 1234", never a secret.
    pub actor: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsEnrolment {
    /// False while pending (a code was sent, not yet confirmed).
    pub active: bool,
    pub since: u64,
}

/// A password-reset token, found by its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetToken {
    pub account: String,
    pub expires: u64,
}

/// A TOTP secret, sealed by the vault and bound to the account name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub sealed_secret: Vec<u8>,
    /// False while pending (enrolled, not yet confirmed with a code).
    pub active: bool,
    /// The newest time step accepted; no step at or before it is accepted again.
    pub last_step: Option<u64>,
    pub since: u64,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("sso", &self.sso)
            .field("password_set", &self.password_hash.is_some())
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .field("totp_active", &self.totp.as_ref().map(|t| t.active))
            .field("recovery_codes", &self.recovery_codes.len())
            .field("sms_active", &self.sms.as_ref().map(|s| s.active))
            .field("security_keys", &self.security_keys.len())
            .field("disabled", &self.disabled.is_some())
            .field("expires", &self.expires)
            .field("must_change_password", &self.must_change_password)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// A digest of everything a login's credentials rest on: the account's identity
    /// (its creation time tells a re-created account of the same name apart), password,
    /// SSO state and second factors. Whatever was granted on the way to a login (a
    /// challenge) is void once this changes. Failure counts, replay steps and pending
    /// codes are left out: a login itself changes those.
    pub fn credential_stamp(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(self.name.as_bytes());
        field(&self.created.to_be_bytes());
        field(self.password_hash.as_deref().unwrap_or("").as_bytes());
        field(self.sso.as_deref().unwrap_or("\0none").as_bytes());
        match &self.totp {
            Some(t) => {
                field(&t.sealed_secret);
                field(&[u8::from(t.active)]);
            }
            None => field(b"\0none"),
        }
        match &self.sms {
            Some(s) => {
                field(&[u8::from(s.active)]);
                field(&s.since.to_be_bytes());
            }
            None => field(b"\0none"),
        }
        field(self.phone.as_deref().unwrap_or("").as_bytes());
        // Keys only when there are any, so that the stamp of an account without keys
        // stays what it was before keys existed.
        for key in &self.security_keys {
            field(key.id.as_bytes());
            field(&key.credential_id);
        }
        h.finalize().into()
    }

    pub fn new(name: String, now: u64) -> Account {
        Account {
            name,
            email: None,
            phone: None,
            sso: None,
            password_hash: None,
            created: now,
            updated: now,
            failures: 0,
            locked_until: None,
            audit_seq: 0,
            totp: None,
            recovery_codes: Vec::new(),
            reset_tokens: Vec::new(),
            last_reset_request: None,
            sms: None,
            sms_code: None,
            sms_sent: Vec::new(),
            security_keys: Vec::new(),
            disabled: None,
            expires: None,
            must_change_password: false,
            max_password_age: None,
            password_changed: None,
            last_login: None,
        }
    }

    /// Whether any field of record version 3 differs from its default: if not, the
    /// account is written in an older version.
    fn has_lifecycle(&self) -> bool {
        self.disabled.is_some()
            || self.expires.is_some()
            || self.must_change_password
            || self.max_password_age.is_some()
            || self.password_changed.is_some()
            || self.last_login.is_some()
    }
}

/// Each account is written in the oldest version that holds it, so that the bytes of
/// an account stay exactly what they were (an older authd still reads them): version 1
/// without security keys and lifecycle state, version 2 adds the keys, version 3 the
/// lifecycle (disabled, expiry, password age, last login).
#[derive(Serialize, Deserialize)]
enum AccountRecord {
    V1(v1::AccountV1),
    V2(v2::AccountV2),
    V3(Account),
}

#[derive(Serialize, Deserialize)]
enum AuditRecord {
    V1(AuditEntry),
}

#[derive(Serialize, Deserialize)]
enum TokenRecord {
    V1(ResetToken),
}

fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // Encoding plain structs into a Vec cannot fail.
    bincode::serde::encode_to_vec(record, bincode::config::standard())
        .unwrap_or_else(|e| unreachable!("bincode encode into Vec failed: {e}"))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Error> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(v, _)| v)
        .map_err(|source| Error::Corrupt {
            what: what.to_string(),
            source,
        })
}

pub fn encode_account(account: &Account) -> Vec<u8> {
    if account.has_lifecycle() {
        encode(&AccountRecord::V3(account.clone()))
    } else if account.security_keys.is_empty() {
        encode(&AccountRecord::V1(v1::AccountV1::from(account.clone())))
    } else {
        encode(&AccountRecord::V2(v2::AccountV2::from(account.clone())))
    }
}

pub fn decode_account(bytes: &[u8]) -> Result<Account, Error> {
    match decode(bytes, "account")? {
        AccountRecord::V1(a) => Ok(a.into()),
        AccountRecord::V2(a) => Ok(a.into()),
        AccountRecord::V3(a) => Ok(a),
    }
}

pub fn encode_audit(entry: &AuditEntry) -> Vec<u8> {
    encode(&AuditRecord::V1(entry.clone()))
}

pub fn decode_audit(bytes: &[u8]) -> Result<AuditEntry, Error> {
    match decode(bytes, "audit entry")? {
        AuditRecord::V1(e) => Ok(e),
    }
}

pub fn encode_token(token: &ResetToken) -> Vec<u8> {
    encode(&TokenRecord::V1(token.clone()))
}

pub fn decode_token(bytes: &[u8]) -> Result<ResetToken, Error> {
    match decode(bytes, "reset token")? {
        TokenRecord::V1(t) => Ok(t),
    }
}

pub use outbox_v1::{decode_outbox, encode_outbox};

/// Audit keys: account name, a NUL (never in a name), then the big-endian sequence, so
/// one account's history is one contiguous, ordered range.
pub fn audit_key(name: &str, seq: u64) -> Vec<u8> {
    let mut key = audit_prefix(name);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn audit_prefix(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 9);
    key.extend_from_slice(name.as_bytes());
    key.push(0);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_round_trips_and_debug_hides_the_hash() {
        let mut a = Account::new("alice".into(), 7);
        a.password_hash = Some("$argon2id$v=19$secret-hash".into());
        let back = decode_account(&encode_account(&a)).unwrap();
        assert!(back == a);
        assert!(!format!("{a:?}").contains("argon2id"));
    }

    #[test]
    fn garbage_is_a_corrupt_record_not_a_panic() {
        assert!(matches!(
            decode_account(&[9, 9, 9]),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn audit_keys_sort_by_sequence_within_an_account() {
        assert!(audit_key("al", 2) < audit_key("al", 10));
        assert!(audit_key("al", u64::MAX) < audit_key("al.b", 0));
        assert!(audit_key("al", 1).starts_with(&audit_prefix("al")));
        assert!(!audit_key("alice", 1).starts_with(&audit_prefix("al")));
    }
}

#[cfg(test)]
mod golden;

mod outbox;
mod outbox_v1;
mod v1;
mod v2;

pub use outbox::{Channel, ChannelKind, OutboxItem, OutboxState};
