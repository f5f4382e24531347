//! One authctl run's connection and secrets, and proving who you are: the password, then
//! a code when the account has a second factor (`--code CODE`, `--code -`, or asked).

use super::output::Outcome;
use super::secrets::{CodeArg, Secrets};
use super::{unexpected, CtlError};
use authd_proto::client::Client;
use authd_proto::protocol::{
    FactorState, ListKeys, Origin, Proof, Request, Response, SecondFactor, Secret, SendCode,
    ShowUser, Verify, VerifyCode,
};

pub const CODE_PROMPT: &str = "Verification code: ";

pub struct Session {
    pub client: Client,
    pub secrets: Secrets,
}

impl Session {
    /// One request; a second factor still missing at this point is a denial (exit 1).
    pub fn call(&mut self, request: Request) -> Result<Response, CtlError> {
        match self.client.call(&request)? {
            Response::SecondFactorRequired { methods, .. } => Err(CtlError::SecondFactorRequired(
                methods,
                self.secrets.interactive(),
            )),
            response => Ok(response),
        }
    }

    /// Does the account have an active second factor (so a code must be supplied)?
    /// When SMS is its only one and we are about to ask on a terminal, a code is sent
    /// first, so there is something to type.
    pub fn has_second_factor(&mut self, name: &str, code_given: bool) -> Result<bool, CtlError> {
        let account = match self.call(Request::ShowUser(ShowUser { name: name.into() }))? {
            Response::Account(a) => a,
            other => return Err(unexpected(other)),
        };
        let (totp, sms) = (
            account.totp == FactorState::On,
            account.sms == FactorState::On,
        );
        if !totp && !sms && self.has_keys(name)? {
            // A key's touch proves only where the request takes a key proof
            // (`keys`); elsewhere a recovery code stands in for it.
            return Ok(true);
        }
        if sms && !totp && !code_given && self.secrets.interactive() {
            // Rate limited: the code sent a moment ago is still good.
            if let Ok(Response::SmsSent { to, .. }) =
                self.call(Request::SendCode(SendCode { name: name.into() }))
            {
                eprintln!(
                    "A verification code was sent by SMS to {}.",
                    authd_proto::escape::escaped(&to)
                );
            }
        }
        Ok(totp || sms)
    }

    /// Does the account have a security key?
    pub fn has_keys(&mut self, name: &str) -> Result<bool, CtlError> {
        match self.call(Request::ListKeys(ListKeys { name: name.into() }))? {
            Response::Keys { keys } => Ok(!keys.is_empty()),
            other => Err(unexpected(other)),
        }
    }

    /// The password, then a code if the account has a second factor (or `--code -`
    /// asks for one): proof of holding it. `prompt` names the password.
    pub fn proof(&mut self, name: &str, code: CodeArg, prompt: &str) -> Result<Proof, CtlError> {
        let needs_code = self.has_second_factor(name, code.is_given())?;
        let password = self.secrets.read(prompt)?;
        let code = self.secrets.code(code, needs_code, CODE_PROMPT)?;
        Ok(Proof { password, code })
    }

    pub fn done(&mut self, request: Request, message: String) -> Result<Outcome, CtlError> {
        match self.call(request)? {
            Response::Done => Ok(Outcome::Done(message)),
            other => Err(unexpected(other)),
        }
    }
}

/// Password first (with the code when given or `-`); when a code is due and not given,
/// ask for it and answer the challenge, so the password is sent (and hashed) once. With a
/// security key on the account, the key is asked for a touch first (`keys`).
pub fn verify(s: &mut Session, name: String, code: CodeArg) -> Result<Outcome, CtlError> {
    let password = s.secrets.read("Password: ")?;
    let code = s.secrets.code(code, false, CODE_PROMPT)?;
    let request = Request::Verify(Verify {
        name: name.clone(),
        password,
        code,
        origin: Origin::default(),
    });
    let (methods, challenge) = match s.client.call(&request)? {
        Response::Verified { name } => return Ok(Outcome::Verified(name, None)),
        Response::VerifiedChangeRequired { name, reason } => {
            return Ok(Outcome::Verified(name, Some(reason)))
        }
        Response::SecondFactorRequired {
            methods,
            challenge: Some(challenge),
            sms_sent_to,
        } => {
            if let Some(to) = sms_sent_to {
                eprintln!(
                    "A verification code was sent by SMS to {}.",
                    authd_proto::escape::escaped(&to)
                );
            }
            (methods, challenge)
        }
        other => return Err(unexpected(other)),
    };
    if methods.contains(&SecondFactor::SecurityKey) {
        return super::keys::verify_second_step(s, name, challenge, methods);
    }
    code_step(s, name, challenge, methods)
}

/// The code for a login challenge: asked for (or the next stdin line), then sent.
pub fn code_step(
    s: &mut Session,
    name: String,
    challenge: Secret,
    methods: Vec<SecondFactor>,
) -> Result<Outcome, CtlError> {
    let Some(code) = s.secrets.code(CodeArg::Absent, true, CODE_PROMPT)? else {
        return Err(CtlError::SecondFactorRequired(
            methods,
            s.secrets.interactive(),
        ));
    };
    let request = Request::VerifyCode(VerifyCode {
        name,
        challenge,
        code,
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
