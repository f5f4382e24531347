//! Tests only: a software token (webauthn-authenticator-rs's SoftToken) in the file
//! `$AUTHD_SOFTTOKEN`, created when missing. `AUTHD_SOFTTOKEN_ORIGIN` and
//! `AUTHD_SOFTTOKEN_RP_ID` make it answer for another origin or rp_id, so tests can
//! present wrong ones.

use std::fs::OpenOptions;

use webauthn_authenticator_rs::softtoken::{SoftToken, SoftTokenFile};
use webauthn_authenticator_rs::AuthenticatorBackend;

use crate::ceremony::Failure;
use crate::ui::Ui;

/// `AUTHD_SOFTTOKEN_ORIGIN`, else the origin authd named.
pub fn origin(named: &str) -> String {
    std::env::var("AUTHD_SOFTTOKEN_ORIGIN").unwrap_or_else(|_| named.to_string())
}

/// `AUTHD_SOFTTOKEN_RP_ID`: answer for this rp_id instead of authd's.
pub fn rp_id() -> Option<String> {
    std::env::var("AUTHD_SOFTTOKEN_RP_ID").ok()
}

pub fn with<T>(
    ui: &Ui,
    _wait: bool,
    act: impl FnOnce(&mut dyn AuthenticatorBackend) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let Some(path) = std::env::var_os("AUTHD_SOFTTOKEN") else {
        return Err(Failure::NoKey(
            "no security key (AUTHD_SOFTTOKEN names none)".into(),
        ));
    };
    let failed = |e: &dyn std::fmt::Debug| Failure::Failed(format!("soft token: {e:?}"));
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
    ui.touch();
    act(&mut token)
}
