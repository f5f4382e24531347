//! `[webauthn] allowed_aaguids`: which models of key may register. The AAGUID is what
//! the key reports in its attested credential data (authenticator data bytes 37..53,
//! present when flag AT, 0x40, is set). Without attestation (authd asks for none) it is
//! the key's own claim, not proven: the list keeps honest keys of other models out, it
//! does not stop a forged one. Browsers may replace it with zeros when no attestation is
//! asked for; such a key is refused while the list is set.

use webauthn_rs::prelude::{RegisterPublicKeyCredential, Uuid};

use crate::error::Error;

/// The AAGUID a registration reports.
pub(super) fn reported(answer: &RegisterPublicKeyCredential) -> Result<Uuid, Error> {
    let bad = || Error::KeyRefused("the key's attestation object cannot be read".into());
    let object: serde_cbor_2::Value =
        serde_cbor_2::from_slice(&answer.response.attestation_object).map_err(|_| bad())?;
    let serde_cbor_2::Value::Map(map) = object else {
        return Err(bad());
    };
    let Some(serde_cbor_2::Value::Bytes(auth_data)) =
        map.get(&serde_cbor_2::Value::Text("authData".into()))
    else {
        return Err(bad());
    };
    from_auth_data(auth_data).ok_or_else(bad)
}

/// rpIdHash (32), flags (1), counter (4), then with AT set: the AAGUID (16).
fn from_auth_data(auth_data: &[u8]) -> Option<Uuid> {
    const ATTESTED: u8 = 0x40;
    let flags = *auth_data.get(32)?;
    if flags & ATTESTED == 0 {
        return None;
    }
    let bytes: [u8; 16] = auth_data.get(37..53)?.try_into().ok()?;
    Some(Uuid::from_bytes(bytes))
}

/// Refuse a key whose model is not in `allowed` (when the list is set).
pub(super) fn check(allowed: &[Uuid], answer: &RegisterPublicKeyCredential) -> Result<(), Error> {
    if allowed.is_empty() {
        return Ok(());
    }
    let aaguid = reported(answer)?;
    if allowed.contains(&aaguid) {
        return Ok(());
    }
    Err(Error::KeyRefused(format!(
        "this model of key (AAGUID {aaguid}) is not in [webauthn] allowed_aaguids"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aaguid_follows_the_flags_and_the_counter() {
        let mut data = vec![0u8; 32];
        data.push(0x41);
        data.extend_from_slice(&[0, 0, 0, 7]);
        data.extend_from_slice(&[0xab; 16]);
        assert_eq!(from_auth_data(&data), Some(Uuid::from_bytes([0xab; 16])));
        data[32] = 0x01;
        assert_eq!(from_auth_data(&data), None, "no attested credential data");
        data[32] = 0x41;
        assert_eq!(from_auth_data(&data[..40]), None, "cut short");
    }
}
