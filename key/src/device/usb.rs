//! A FIDO2 key on USB (CTAP2 over HID).

use std::time::Duration;

use futures::StreamExt;
use webauthn_authenticator_rs::ctap2::CtapAuthenticator;
use webauthn_authenticator_rs::transport::{TokenEvent, Transport};
use webauthn_authenticator_rs::usb::USBTransport;
use webauthn_authenticator_rs::AuthenticatorBackend;

use crate::ceremony::Failure;
use crate::ui::Ui;

/// How long to wait for a key to be plugged in (or to answer the selection).
const FIND_TIMEOUT: Duration = Duration::from_secs(30);

/// The origin authd named is the one presented.
pub fn origin(named: &str) -> String {
    named.to_string()
}

/// Run `act` with the first key found; without `wait`, only a key already plugged in.
pub fn with<T>(
    ui: &Ui,
    wait: bool,
    act: impl FnOnce(&mut dyn AuthenticatorBackend) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start: {e}")))?;
    runtime.block_on(async move {
        let looking = |e| Failure::NoKey(format!("cannot look for USB keys: {e:?}"));
        let transport = USBTransport::new().await.map_err(looking)?;
        let mut tokens = transport.watch().await.map_err(looking)?;
        let find = async {
            while let Some(event) = tokens.next().await {
                match event {
                    TokenEvent::Added(token) => {
                        if let Some(key) = CtapAuthenticator::new(token, ui).await {
                            return Some(key);
                        }
                    }
                    TokenEvent::EnumerationComplete if !wait => return None,
                    TokenEvent::EnumerationComplete => ui.plug(),
                    TokenEvent::Removed(_) => {}
                }
            }
            None
        };
        let mut key = match tokio::time::timeout(FIND_TIMEOUT, find).await {
            Ok(Some(key)) => key,
            Ok(None) | Err(_) => return Err(Failure::NoKey("no security key was found".into())),
        };
        ui.touch();
        act(&mut key)
    })
}
