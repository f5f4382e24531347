//! The security key on authctl's side: hand authd's options to a key and bring back its
//! answer, presenting the origin authd named. In a normal build the key is a FIDO2 key
//! on USB (CTAP2 through webauthn-authenticator-rs, the PIN asked for on the terminal
//! when the key wants one). Built with the test-only `softtoken` feature (never in
//! release builds), the key is instead webauthn-authenticator-rs's `SoftToken` kept in
//! the file `$AUTHD_SOFTTOKEN` (created when missing); `AUTHD_SOFTTOKEN_ORIGIN` and
//! `AUTHD_SOFTTOKEN_RP_ID` then make it answer for another origin or rp_id, so the tests
//! can present wrong ones.

use std::time::Duration;

use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::AuthenticatorBackend;

use super::CtlError;

/// How long authctl waits for a key to be plugged in (or to answer the selection).
#[cfg_attr(feature = "softtoken", allow(dead_code))]
const FIND_TIMEOUT: Duration = Duration::from_secs(30);

/// What went wrong on the key's side.
#[derive(Debug)]
pub enum KeyFailure {
    /// No key was found, or none of the account's keys answered.
    NoKey(String),
    /// Anything else: the message says what.
    Failed(String),
}

impl From<KeyFailure> for CtlError {
    fn from(f: KeyFailure) -> CtlError {
        match f {
            KeyFailure::NoKey(m) | KeyFailure::Failed(m) => CtlError::Local(m),
        }
    }
}

fn origin_url(origin: &str) -> Result<Url, KeyFailure> {
    Url::parse(origin)
        .map_err(|e| KeyFailure::Failed(format!("authd named a bad origin `{origin}`: {e}")))
}

/// Register a new credential: the `RegisterPublicKeyCredential` JSON.
pub fn register(origin: &str, options: &str) -> Result<String, KeyFailure> {
    #[allow(unused_mut)]
    let mut options: CreationChallengeResponse = serde_json::from_str(options)
        .map_err(|e| KeyFailure::Failed(format!("authd's options are not valid: {e}")))?;
    let origin = origin_url(&device::origin(origin))?;
    #[cfg(feature = "softtoken")]
    if let Some(rp_id) = device::rp_id() {
        options.public_key.rp.id = rp_id;
    }
    with_key(move |key| {
        let answer = key
            .do_registration(origin, options)
            .map_err(|e| KeyFailure::Failed(format!("the security key refused: {e:?}")))?;
        serde_json::to_string(&answer)
            .map_err(|e| KeyFailure::Failed(format!("the key's answer: {e}")))
    })
}

/// Answer a login challenge: the `PublicKeyCredential` JSON.
pub fn assert(origin: &str, options: &str) -> Result<String, KeyFailure> {
    #[allow(unused_mut)]
    let mut options: RequestChallengeResponse = serde_json::from_str(options)
        .map_err(|e| KeyFailure::Failed(format!("authd's options are not valid: {e}")))?;
    let origin = origin_url(&device::origin(origin))?;
    #[cfg(feature = "softtoken")]
    if let Some(rp_id) = device::rp_id() {
        options.public_key.rp_id = rp_id;
    }
    with_key(move |key| {
        let answer = key.do_authentication(origin, options).map_err(|e| {
            use webauthn_authenticator_rs::error::CtapError;
            use webauthn_authenticator_rs::prelude::WebauthnCError as E;
            match e {
                E::NoSelectedToken | E::Cancelled | E::Ctap(CtapError::Ctap2NoCredentials) => {
                    KeyFailure::NoKey("none of the account's security keys answered".into())
                }
                // The soft token's answer when it holds none of the credentials.
                #[cfg(feature = "softtoken")]
                E::Internal => {
                    KeyFailure::NoKey("none of the account's security keys answered".into())
                }
                e => KeyFailure::Failed(format!("the security key refused: {e:?}")),
            }
        })?;
        serde_json::to_string(&answer)
            .map_err(|e| KeyFailure::Failed(format!("the key's answer: {e}")))
    })
}

#[cfg(not(feature = "softtoken"))]
mod device {
    //! A FIDO2 key on USB.

    use futures::StreamExt;
    use webauthn_authenticator_rs::ctap2::CtapAuthenticator;
    use webauthn_authenticator_rs::transport::{TokenEvent, Transport};
    use webauthn_authenticator_rs::types::{CableRequestType, CableState, EnrollSampleStatus};
    use webauthn_authenticator_rs::ui::UiCallback;
    use webauthn_authenticator_rs::usb::USBTransport;
    use webauthn_authenticator_rs::AuthenticatorBackend;

    use super::{KeyFailure, FIND_TIMEOUT};

    /// The origin authd named is the one presented.
    pub fn origin(named: &str) -> String {
        named.to_string()
    }

    /// Prompts on the terminal (standard error), never on standard output.
    #[derive(Debug)]
    struct Prompts;

    impl UiCallback for Prompts {
        fn request_pin(&self) -> Option<String> {
            rpassword::prompt_password("Security key PIN: ").ok()
        }
        fn request_touch(&self) {
            eprintln!("Touch your security key.");
        }
        fn processing(&self) {}
        fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
        fn cable_qr_code(&self, _: CableRequestType, _: String) {}
        fn dismiss_qr_code(&self) {}
        fn cable_status_update(&self, _: CableState) {}
    }

    pub fn with<T>(
        act: impl FnOnce(&mut dyn AuthenticatorBackend) -> Result<T, KeyFailure>,
    ) -> Result<T, KeyFailure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KeyFailure::Failed(format!("cannot start: {e}")))?;
        runtime.block_on(async move {
            let transport = USBTransport::new()
                .await
                .map_err(|e| KeyFailure::NoKey(format!("cannot look for USB keys: {e:?}")))?;
            let mut tokens = transport
                .watch()
                .await
                .map_err(|e| KeyFailure::NoKey(format!("cannot look for USB keys: {e:?}")))?;
            let ui = Prompts;
            let find = async {
                while let Some(event) = tokens.next().await {
                    match event {
                        TokenEvent::Added(token) => {
                            if let Some(key) = CtapAuthenticator::new(token, &ui).await {
                                return Some(key);
                            }
                        }
                        TokenEvent::EnumerationComplete => {
                            eprintln!("Plug in your security key.");
                        }
                        TokenEvent::Removed(_) => {}
                    }
                }
                None
            };
            let mut key = match tokio::time::timeout(FIND_TIMEOUT, find).await {
                Ok(Some(key)) => key,
                Ok(None) | Err(_) => {
                    return Err(KeyFailure::NoKey("no security key was found".into()))
                }
            };
            eprintln!("Touch your security key.");
            act(&mut key)
        })
    }
}

#[cfg(feature = "softtoken")]
mod device {
    //! Tests only: a software token in the file `$AUTHD_SOFTTOKEN`.

    use std::fs::OpenOptions;

    use webauthn_authenticator_rs::softtoken::{SoftToken, SoftTokenFile};
    use webauthn_authenticator_rs::AuthenticatorBackend;

    use super::KeyFailure;

    /// `AUTHD_SOFTTOKEN_ORIGIN`, else the origin authd named.
    pub fn origin(named: &str) -> String {
        std::env::var("AUTHD_SOFTTOKEN_ORIGIN").unwrap_or_else(|_| named.to_string())
    }

    /// `AUTHD_SOFTTOKEN_RP_ID`: answer for this rp_id instead of authd's.
    pub fn rp_id() -> Option<String> {
        std::env::var("AUTHD_SOFTTOKEN_RP_ID").ok()
    }

    pub fn with<T>(
        act: impl FnOnce(&mut dyn AuthenticatorBackend) -> Result<T, KeyFailure>,
    ) -> Result<T, KeyFailure> {
        let Some(path) = std::env::var_os("AUTHD_SOFTTOKEN") else {
            return Err(KeyFailure::NoKey(
                "no security key (AUTHD_SOFTTOKEN names none)".into(),
            ));
        };
        let failed = |e: &dyn std::fmt::Debug| KeyFailure::Failed(format!("soft token: {e:?}"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| failed(&e))?;
        let empty = file.metadata().map_err(|e| failed(&e))?.len() == 0;
        let mut token = if empty {
            let (token, _) = SoftToken::new(false).map_err(|e| failed(&e))?;
            SoftTokenFile::new(token, file)
        } else {
            SoftTokenFile::open(file).map_err(|e| failed(&e))?
        };
        eprintln!("Touch your security key.");
        act(&mut token)
    }
}

/// Run `act` with a key (a USB key, or the test build's soft token), presenting the
/// test build's overrides where set.
fn with_key<T>(
    act: impl FnOnce(&mut dyn AuthenticatorBackend) -> Result<T, KeyFailure>,
) -> Result<T, KeyFailure> {
    device::with(act)
}

// The software token is for test builds only: a release build must reach real keys.
#[cfg(all(feature = "softtoken", not(debug_assertions)))]
compile_error!("the `softtoken` feature is for test builds only, never for release builds");
