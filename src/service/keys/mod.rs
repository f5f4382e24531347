//! Security keys (FIDO2/WebAuthn): authd as the relying party, on webauthn-rs. This
//! module owns the relying party built from `[webauthn]`, the ceremony state that rides
//! on login challenges, and the conversion between webauthn-rs's `SecurityKey` and the
//! stored, sealed `SecurityKeyRecord`. Registration, the list and removal are in
//! `register`; the key step of a login is decided in `login::key`, inside the one login
//! path.
//!
//! Never here: a software token, or any trust in what a client says about a key beyond
//! what webauthn-rs verifies (origin, rp_id hash, challenge, signature, counter).

mod aaguid;
mod register;

use std::time::Duration;

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration, Uuid, Webauthn,
    WebauthnBuilder,
};

use super::Service;
use crate::config::{RelyingParty, UserVerification};
use crate::error::Error;
use crate::store::{Account, SecurityKeyRecord};
use crate::vault::context;

/// How long a key may take to answer (the options' `timeout`): well inside a challenge's
/// lifetime (`challenge::CHALLENGE_TTL`).
const KEY_TIMEOUT: Duration = Duration::from_secs(120);

/// A ceremony under way, carried by a login challenge (in memory only).
pub enum Ceremony {
    /// A registration: webauthn-rs's state and the name the key is to get.
    Register {
        state: Box<SecurityKeyRegistration>,
        key_name: String,
    },
    /// An assertion, for a login or a proof.
    Authenticate(Box<SecurityKeyAuthentication>),
}

/// The relying party in force, and what it asks of keys.
pub(super) struct Party {
    pub webauthn: Webauthn,
    pub rp: RelyingParty,
}

impl Party {
    /// Options JSON for the client, with `userVerification` set to what the config
    /// asks: webauthn-rs's security-key ceremonies say "preferred" (or "discouraged");
    /// "required" is asked here and enforced after the key answered.
    pub fn options_json<T: serde::Serialize>(&self, options: &T) -> Result<String, Error> {
        let mut value = serde_json::to_value(options)
            .map_err(|e| Error::Internal(format!("WebAuthn options do not serialise: {e}")))?;
        if self.rp.user_verification == UserVerification::Required {
            let public_key = &mut value["publicKey"];
            if public_key.get("authenticatorSelection").is_some() {
                public_key["authenticatorSelection"]["userVerification"] = "required".into();
            } else {
                public_key["userVerification"] = "required".into();
            }
        }
        Ok(value.to_string())
    }

    pub fn requires_verification(&self) -> bool {
        self.rp.user_verification == UserVerification::Required
    }

    pub fn origin(&self) -> String {
        self.rp.origin.as_str().trim_end_matches('/').to_string()
    }
}

/// The vault context an account's key credentials are sealed under.
fn key_context(name: &str) -> Vec<u8> {
    context("security-key", name)
}

/// The id users name a key by: 8 hex digits of a hash of its credential id.
fn key_id(credential_id: &[u8]) -> String {
    let digest = Sha256::digest(credential_id);
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The WebAuthn user handle of an account: stable for the account, different for a
/// re-created account of the same name, and revealing neither.
fn user_handle(account: &Account) -> Uuid {
    let mut h = Sha256::new();
    h.update(b"authd webauthn user\0");
    h.update(account.name.as_bytes());
    h.update([0]);
    h.update(account.created.to_be_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

impl Service {
    /// The relying party `[webauthn]` describes now (it follows SIGHUP).
    pub(super) fn party(&self) -> Result<Party, Error> {
        let config = self.config();
        let rp = config
            .webauthn
            .relying_party(&config.web)
            .map_err(|e| Error::Internal(format!("[webauthn]: {e}")))?;
        let builder = WebauthnBuilder::new(&rp.rp_id, &rp.origin)
            .map_err(|e| Error::Internal(format!("[webauthn]: {e}")))?
            .rp_name("authd")
            .timeout(KEY_TIMEOUT)
            .danger_set_user_presence_only_security_keys(
                rp.user_verification == UserVerification::Discouraged,
            );
        let webauthn = builder
            .build()
            .map_err(|e| Error::Internal(format!("[webauthn]: {e}")))?;
        Ok(Party { webauthn, rp })
    }

    /// Seal a credential for `name`'s record.
    fn seal_key(&self, name: &str, key: &SecurityKey) -> Result<Vec<u8>, Error> {
        let json = serde_json::to_vec(key)
            .map_err(|e| Error::Internal(format!("a key credential does not serialise: {e}")))?;
        Ok(self.vault.seal(&key_context(name), &json)?)
    }

    /// Open a stored key; failure means tampering or a wrong key file.
    pub(super) fn open_key(
        &self,
        name: &str,
        record: &SecurityKeyRecord,
    ) -> Result<SecurityKey, Error> {
        let corrupt = |what: &str| {
            tracing::error!(account = %name, key = %record.id, "security key {what}");
            Error::Internal(format!(
                "security key {} of `{name}` cannot be read",
                record.id
            ))
        };
        let json = self
            .vault
            .open(&key_context(name), &record.sealed_credential)
            .map_err(|_| corrupt("does not decrypt"))?;
        serde_json::from_slice(&json).map_err(|_| corrupt("does not decode"))
    }

    /// Every key of the account, opened.
    pub(super) fn open_keys(&self, account: &Account) -> Result<Vec<SecurityKey>, Error> {
        account
            .security_keys
            .iter()
            .map(|record| self.open_key(&account.name, record))
            .collect()
    }

    /// After a good assertion: the stored credential with its new counter, sealed again.
    pub(super) fn reseal_key(
        &self,
        name: &str,
        record: &mut SecurityKeyRecord,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> Result<(), Error> {
        let mut key = self.open_key(name, record)?;
        if key.update_credential(result) == Some(true) {
            record.sealed_credential = self.seal_key(name, &key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_short_stable_and_differ() {
        assert_eq!(key_id(b"cred"), key_id(b"cred"));
        assert_ne!(key_id(b"cred"), key_id(b"cred2"));
        assert_eq!(key_id(b"cred").len(), 8);
    }

    #[test]
    fn a_re_created_account_gets_another_user_handle() {
        let a = Account::new("alice".into(), 1);
        let b = Account::new("alice".into(), 2);
        assert_eq!(user_handle(&a), user_handle(&a.clone()));
        assert_ne!(user_handle(&a), user_handle(&b));
    }
}
