//! Security keys (FIDO2/WebAuthn) on the wire: registration, the list, removal, and the
//! key step of a login.
//!
//! authd is the relying party; the WebAuthn structures travel as the JSON the WebAuthn
//! spec (and webauthn-rs) gives them, in plain strings, so that this crate pulls in no
//! WebAuthn or crypto library and a browser can hand them to `navigator.credentials`
//! as they are:
//!
//! | field | JSON of |
//! |---|---|
//! | `KeyRegistration::options` | `CreationChallengeResponse` (`{"publicKey": ...}`) |
//! | `KeyRegisterFinish::credential` | `RegisterPublicKeyCredential` |
//! | `KeyAssertionOptions::options` | `RequestChallengeResponse` (`{"publicKey": ...}`) |
//! | `KeyAssertion::assertion` | `PublicKeyCredential` |
//!
//! A login by key: `Verify` (or `PortalSignIn`) answers `SecondFactorRequired` with
//! `SecondFactor::SecurityKey` among the methods and a challenge; `KeyLoginStart` with
//! that challenge answers the assertion options (the challenge stays valid, now carrying
//! the ceremony, and still redeems a code through `VerifyCode` when no key answers);
//! `KeyLoginFinish` with the key's answer spends it. Native clients (authctl, PAM)
//! present `origin` as the WebAuthn origin; a browser presents its own, which authd
//! checks against the same configured origin.

use serde::{Deserialize, Serialize};

use super::request::{Origin, Proof};
use super::Secret;

/// A login finished by a key: the challenge `SecondFactorRequired` handed out after the
/// right password (and that `KeyLoginStart` turned into assertion options), and the
/// key's answer to those options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAssertion {
    pub challenge: Secret,
    /// `PublicKeyCredential` JSON. Not secret (it answers a one-time challenge), but
    /// long: kept out of log lines like one.
    pub assertion: Secret,
}

/// Proof that the caller is the account holder: the password and a code (`Proof`), or a
/// whole login by key (which proved the password when its challenge was issued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorProof {
    Code(Proof),
    Key(KeyAssertion),
}

/// Start registering a key for `name`, to be called `key_name`. Self-service needs
/// `proof` (as for `EnableTotp`); admins may omit it. -> `KeyRegistration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRegisterStart {
    pub name: String,
    pub key_name: String,
    pub proof: Option<FactorProof>,
}

/// Finish the registration with the key's answer to `KeyRegistration::options`.
/// -> `Confirmed` (with recovery codes when this is the account's first second factor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRegisterFinish {
    pub name: String,
    /// `KeyRegistration::challenge`: single use, bound to the account and caller.
    pub challenge: Secret,
    /// `RegisterPublicKeyCredential` JSON.
    pub credential: String,
}

/// The account's keys (admin or self). -> `Keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListKeys {
    pub name: String,
}

/// Remove the key `id` (as `Keys` shows it). Needs proof, from admins too, as
/// `DisableTwoFactor` does. -> `Done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveKey {
    pub name: String,
    pub id: String,
    pub proof: FactorProof,
}

/// The assertion options for a login challenge (from `SecondFactorRequired`).
/// -> `KeyAssertionOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLoginStart {
    pub name: String,
    pub challenge: Secret,
}

/// The key step of a login: spends the challenge. -> `Verified`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLoginFinish {
    pub name: String,
    pub key: KeyAssertion,
    pub origin: Origin,
}

/// One registered key as `authctl keys` shows it (never its public key). Times are unix
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// What users name it by (`remove-key USER ID`): 8 hex digits, stable.
    pub id: String,
    /// The name its owner gave it.
    pub name: String,
    pub created: u64,
    pub last_used: Option<u64>,
    /// The key's signature counter as last seen.
    pub counter: u32,
    /// How the key said it can be reached ("usb", "nfc", ...).
    pub transports: Vec<String>,
}
