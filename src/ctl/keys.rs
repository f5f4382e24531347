//! The security-key commands: `add-key` (touch the key to register it), `keys` (the
//! list), `remove-key` (needs proof, from admins too), and the key step of `verify`.
//! Proof on an account with a key is a touch of the key after the password (a whole
//! login by key); without a key, or when no key answers, the password and a code.

use super::output::Outcome;
use super::secrets::CodeArg;
use super::session::{Session, CODE_PROMPT};
use super::token::{self, KeyFailure};
use super::{unexpected, CtlError};
use authd_proto::protocol::{
    FactorProof, KeyAssertion, KeyLoginFinish, KeyLoginStart, KeyRegisterFinish, KeyRegisterStart,
    ListKeys, Origin, Proof, RemoveKey, Request, Response, SecondFactor, Secret, Verify,
};

/// What a key is called when `add-key` is given no `--name`.
const DEFAULT_KEY_NAME: &str = "security key";

pub fn add_key(
    s: &mut Session,
    name: String,
    key_name: Option<String>,
    code: Option<String>,
) -> Result<Outcome, CtlError> {
    let proof = if super::factors::is_own_account(&name) {
        Some(factor_proof(s, &name, CodeArg::new(code))?)
    } else {
        None
    };
    let key_name = key_name.unwrap_or_else(|| DEFAULT_KEY_NAME.into());
    let request = Request::KeyRegisterStart(KeyRegisterStart {
        name: name.clone(),
        key_name: key_name.clone(),
        proof,
    });
    let (challenge, options, origin) = match s.call(request)? {
        Response::KeyRegistration {
            challenge,
            options,
            origin,
        } => (challenge, options, origin),
        other => return Err(unexpected(other)),
    };
    let credential = token::register(&origin, &options)?;
    let request = Request::KeyRegisterFinish(KeyRegisterFinish {
        name: name.clone(),
        challenge,
        credential,
    });
    let codes = match s.call(request)? {
        Response::Confirmed { recovery_codes } => recovery_codes,
        other => return Err(unexpected(other)),
    };
    let id = match list(s, &name)?.last() {
        Some(key) => format!(" (id {})", key.id),
        None => String::new(),
    };
    Ok(Outcome::RecoveryCodes {
        message: format!("security key \"{key_name}\"{id} registered for {name}"),
        codes: codes.iter().map(|c| c.expose().to_string()).collect(),
    })
}

pub(super) fn list(
    s: &mut Session,
    name: &str,
) -> Result<Vec<authd_proto::protocol::KeyInfo>, CtlError> {
    match s.call(Request::ListKeys(ListKeys { name: name.into() }))? {
        Response::Keys { keys } => Ok(keys),
        other => Err(unexpected(other)),
    }
}

pub fn keys(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let keys = list(s, &name)?;
    Ok(Outcome::Keys(name, keys))
}

pub fn remove_key(
    s: &mut Session,
    name: String,
    id: String,
    code: Option<String>,
) -> Result<Outcome, CtlError> {
    let proof = factor_proof(s, &name, CodeArg::new(code))?;
    let message = format!("security key {id} of {name} removed");
    s.done(Request::RemoveKey(RemoveKey { name, id, proof }), message)
}

/// Proof of holding the account: with a key (and no `--code`), the password and a
/// touch; else (or when no key answers) the password and a code when 2FA is on.
fn factor_proof(s: &mut Session, name: &str, code: CodeArg) -> Result<FactorProof, CtlError> {
    if matches!(code, CodeArg::Absent) && s.has_keys(name)? {
        let password = s.secrets.read("Password: ")?;
        let request = Request::Verify(Verify {
            name: name.into(),
            password: password.clone(),
            code: None,
            origin: Origin::default(),
        });
        let challenge = match s.client.call(&request)? {
            Response::SecondFactorRequired {
                challenge: Some(challenge),
                ..
            } => challenge,
            other => return Err(unexpected(other)),
        };
        match touch(s, name, &challenge) {
            Ok(assertion) => {
                return Ok(FactorProof::Key(KeyAssertion {
                    challenge,
                    assertion,
                }))
            }
            Err(TouchFailed::Key(KeyFailure::NoKey(why))) => {
                eprintln!("authctl: {why}; a code will do instead");
                let code = s.secrets.code(CodeArg::Absent, true, CODE_PROMPT)?;
                return Ok(FactorProof::Code(Proof { password, code }));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(FactorProof::Code(s.proof(name, code, "Password: ")?))
}

/// Why a touch brought no answer.
enum TouchFailed {
    /// authd refused (its error says why).
    Daemon(CtlError),
    /// The key side failed.
    Key(KeyFailure),
}

impl From<TouchFailed> for CtlError {
    fn from(t: TouchFailed) -> CtlError {
        match t {
            TouchFailed::Daemon(e) => e,
            TouchFailed::Key(f) => f.into(),
        }
    }
}

/// The assertion options for `challenge`, answered by a key.
fn touch(s: &mut Session, name: &str, challenge: &Secret) -> Result<Secret, TouchFailed> {
    let request = Request::KeyLoginStart(KeyLoginStart {
        name: name.into(),
        challenge: challenge.clone(),
    });
    let (options, origin) = match s.call(request).map_err(TouchFailed::Daemon)? {
        Response::KeyAssertionOptions { options, origin } => (options, origin),
        other => return Err(TouchFailed::Daemon(unexpected(other))),
    };
    let assertion = token::assert(&origin, &options).map_err(TouchFailed::Key)?;
    Ok(Secret::new(assertion))
}

/// `verify`'s second step when the account has a key: a touch; when no key answers,
/// the other factors (a code for the same challenge).
pub fn verify_second_step(
    s: &mut Session,
    name: String,
    challenge: Secret,
    methods: Vec<SecondFactor>,
) -> Result<Outcome, CtlError> {
    match touch(s, &name, &challenge) {
        Ok(assertion) => {
            let request = Request::KeyLoginFinish(KeyLoginFinish {
                name,
                key: KeyAssertion {
                    challenge,
                    assertion,
                },
                origin: Origin::default(),
            });
            match s.call(request)? {
                Response::Verified { name } => Ok(Outcome::Verified(name, None)),
                Response::VerifiedChangeRequired { name, reason } => {
                    Ok(Outcome::Verified(name, Some(reason)))
                }
                other => Err(unexpected(other)),
            }
        }
        Err(TouchFailed::Key(KeyFailure::NoKey(why))) => {
            eprintln!("authctl: {why}; enter a code instead (app, SMS or recovery code)");
            super::session::code_step(s, name, challenge, methods)
        }
        Err(e) => Err(e.into()),
    }
}
