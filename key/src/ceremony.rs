//! The two ceremonies: hand authd's options to a key, presenting the origin authd named,
//! and bring back the key's answer as JSON.

use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};

use crate::device;
use crate::ui::Ui;

/// What went wrong.
#[derive(Debug)]
pub enum Failure {
    /// No key was found, or none of the account's keys answered: the caller may fall
    /// back to another factor.
    NoKey(String),
    /// authd's options or origin are not valid.
    Data(String),
    /// Anything else: the message says what.
    Failed(String),
}

fn origin_url(origin: &str) -> Result<Url, Failure> {
    Url::parse(origin).map_err(|e| Failure::Data(format!("not a valid origin `{origin}`: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(options: &str) -> Result<T, Failure> {
    serde_json::from_str(options)
        .map_err(|e| Failure::Data(format!("authd's options are not valid: {e}")))
}

fn to_json(answer: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(answer).map_err(|e| Failure::Failed(format!("the key's answer: {e}")))
}

/// Register a new credential: the `RegisterPublicKeyCredential` JSON.
pub fn register(ui: &Ui, origin: &str, options: &str, wait: bool) -> Result<String, Failure> {
    #[allow(unused_mut)]
    let mut options: CreationChallengeResponse = parse(options)?;
    let origin = origin_url(&device::origin(origin))?;
    #[cfg(feature = "softtoken")]
    if let Some(rp_id) = device::rp_id() {
        options.public_key.rp.id = rp_id;
    }
    device::with(ui, wait, move |key| {
        let answer = key
            .do_registration(origin, options)
            .map_err(|e| Failure::Failed(format!("the security key refused: {e:?}")))?;
        to_json(&answer)
    })
}

/// Answer a login challenge: the `PublicKeyCredential` JSON.
pub fn assert(ui: &Ui, origin: &str, options: &str, wait: bool) -> Result<String, Failure> {
    #[allow(unused_mut)]
    let mut options: RequestChallengeResponse = parse(options)?;
    let origin = origin_url(&device::origin(origin))?;
    #[cfg(feature = "softtoken")]
    if let Some(rp_id) = device::rp_id() {
        options.public_key.rp_id = rp_id;
    }
    device::with(ui, wait, move |key| {
        let answer = key.do_authentication(origin, options).map_err(|e| {
            use webauthn_authenticator_rs::error::CtapError;
            use webauthn_authenticator_rs::prelude::WebauthnCError as E;
            match e {
                E::NoSelectedToken | E::Cancelled | E::Ctap(CtapError::Ctap2NoCredentials) => {
                    Failure::NoKey("none of the account's security keys answered".into())
                }
                // The soft token's answer when it holds none of the credentials.
                #[cfg(feature = "softtoken")]
                E::Internal => {
                    Failure::NoKey("none of the account's security keys answered".into())
                }
                e => Failure::Failed(format!("the security key refused: {e:?}")),
            }
        })?;
        to_json(&answer)
    })
}
