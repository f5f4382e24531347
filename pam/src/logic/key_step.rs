//! The security-key step of `auth`: after the password, when the account has a key and
//! the session is local, authd's assertion options go to the key (through `Keys`) and
//! its answer back to authd. No key, no answer in time, or a remote session: the other
//! factors are asked for instead (a code from the app, SMS or a recovery code), for the
//! same challenge. Nothing here can succeed without authd checking the key's answer.

use authd_proto::client::ClientError;
use authd_proto::protocol::{
    ErrorCode, KeyAssertion, KeyLoginFinish, KeyLoginStart, Origin, Request, Response, Secret,
};

use super::{Authd, Pam};
use crate::key::{KeyOutcome, Keys};

/// Where the key step leaves the login.
pub enum KeyStep {
    /// authd's answer to the key's assertion (or to the step's start).
    Finished(Result<Response, ClientError>),
    /// Ask for a code instead.
    Code,
}

/// A key plugged in here cannot answer for a login from elsewhere: PAM_RHOST is set
/// (sshd), or the application runs inside an ssh session (sudo over ssh).
fn remote(pam: &impl Pam) -> bool {
    pam.remote_host().is_some_and(|h| !h.is_empty()) || pam.in_ssh_session()
}

/// An answer authd cannot read is a failed login, not an unknown user (which is what
/// `invalid_input` means for the name).
fn malformed_is_denied(error: ClientError) -> ClientError {
    match error {
        ClientError::Remote(mut wire) if wire.code == ErrorCode::InvalidInput => {
            wire.code = ErrorCode::Denied;
            ClientError::Remote(wire)
        }
        other => other,
    }
}

const INSTEAD: &str = "enter a code instead (app, SMS or recovery code).";

pub fn run(
    pam: &mut impl Pam,
    authd: &mut impl Authd,
    keys: &mut dyn Keys,
    user: &str,
    challenge: &Secret,
    origin: &Origin,
) -> KeyStep {
    if remote(pam) {
        pam.info(&format!(
            "A security key cannot be used for a remote login; {INSTEAD}"
        ));
        return KeyStep::Code;
    }
    let start = Request::KeyLoginStart(KeyLoginStart {
        name: user.into(),
        challenge: challenge.clone(),
    });
    let (options, webauthn_origin) = match authd.call(&start) {
        Ok(Response::KeyAssertionOptions { options, origin }) => (options, origin),
        other => return KeyStep::Finished(other),
    };
    let why = match keys.assert(pam, &webauthn_origin, &options) {
        KeyOutcome::Answer(assertion) => {
            let finish = Request::KeyLoginFinish(KeyLoginFinish {
                name: user.into(),
                key: KeyAssertion {
                    challenge: challenge.clone(),
                    assertion,
                },
                origin: origin.clone(),
            });
            return KeyStep::Finished(authd.call(&finish).map_err(malformed_is_denied));
        }
        KeyOutcome::NoKey(why) | KeyOutcome::Failed(why) => why,
    };
    let why = authd_proto::escape::escaped(&why);
    pam.info(&format!("{why}; {INSTEAD}"));
    KeyStep::Code
}
