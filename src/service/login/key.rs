//! The key step of a login, inside the one login path: `key_login_start` turns a login
//! challenge (issued after the right password) into assertion options, the challenge
//! carrying webauthn-rs's state; `key_login_finish` spends the challenge and decides the
//! assertion in `Service::decide`, like a code: on the record as it is now, a refusal
//! counting toward the lockout, a counter at or below the stored one refused as a
//! possibly cloned key (audited `key-clone-suspected`). A finished key step is also
//! what a `FactorProof::Key` proves.

use std::time::Instant;

use webauthn_rs::prelude::{PublicKeyCredential, SecurityKeyAuthentication, WebauthnError};

use super::super::keys::Ceremony;
use super::super::{refuse_sso, Service};
use super::{detail_with, origin_detail, Attempt, Authn, Step};
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::protocol::{
    FactorProof, KeyAssertion, KeyLoginFinish, KeyLoginStart, Origin, Response, SecondFactor,
};
use crate::store::{Account, Decided};

/// A key's answer and the ceremony it answers.
pub(super) struct KeyAnswer {
    credential: PublicKeyCredential,
    state: Box<SecurityKeyAuthentication>,
}

impl Account {
    /// The key factor is on while the account has a key.
    pub(super) fn key_factor(&self, methods: &mut Vec<SecondFactor>) {
        if !self.security_keys.is_empty() {
            methods.push(SecondFactor::SecurityKey);
        }
    }
}

impl Service {
    /// Assertion options for a login challenge; the challenge carries the ceremony and
    /// still redeems once (by key or by code).
    pub async fn key_login_start(
        &self,
        caller: &Caller,
        req: KeyLoginStart,
    ) -> Result<Response, Error> {
        let KeyLoginStart { name, challenge } = req;
        let account = self.fetch_existing(&name).await?;
        refuse_sso(&account)?;
        if account.security_keys.is_empty() {
            return Err(Error::NotEnrolled(format!("`{name}` has no security key")));
        }
        let party = self.party()?;
        let keys = self.open_keys(&account)?;
        let (options, state) = party
            .webauthn
            .start_securitykey_authentication(&keys)
            .map_err(|e| Error::Internal(format!("starting a key assertion: {e}")))?;
        let uid = caller.peer().uid;
        let now = Instant::now();
        let ceremony = Ceremony::Authenticate(Box::new(state));
        let stamp = self
            .challenges
            .attach(&challenge, &name, uid, now, ceremony)?;
        if stamp != account.credential_stamp() {
            self.challenges.take(&challenge, &name, uid, now);
            return Err(Error::ChallengeExpired);
        }
        Ok(Response::KeyAssertionOptions {
            options: party.options_json(&options)?,
            origin: party.origin(),
        })
    }

    pub async fn key_login_finish(
        &self,
        caller: &Caller,
        req: KeyLoginFinish,
    ) -> Result<Response, Error> {
        let KeyLoginFinish { name, key, origin } = req;
        match self
            .key_step(caller, &name, key, &origin_detail(&origin), Some(&origin))
            .await?
        {
            Authn::Granted { change_required } => Ok(self.verified(name, change_required)),
            Authn::NeedsCode { .. } => Err(Error::CodeRequired),
        }
    }

    /// Proof by a code (with the password) or by a finished key login.
    pub(in crate::service) async fn require_factor_proof(
        &self,
        caller: &Caller,
        name: &str,
        proof: FactorProof,
        why: &str,
    ) -> Result<(), Error> {
        match proof {
            FactorProof::Code(proof) => self.require_proof(caller, name, proof, why).await,
            FactorProof::Key(key) => match self.key_step(caller, name, key, why, None).await? {
                Authn::Granted { .. } => Ok(()),
                Authn::NeedsCode { .. } => Err(Error::CodeRequired),
            },
        }
    }

    /// Spend the challenge and decide the key's answer.
    async fn key_step(
        &self,
        caller: &Caller,
        name: &str,
        key: KeyAssertion,
        context: &str,
        login: Option<&Origin>,
    ) -> Result<Authn, Error> {
        let taken =
            self.challenges
                .take_with(&key.challenge, name, caller.peer().uid, Instant::now());
        let Some((stamp, Some(Ceremony::Authenticate(state)))) = taken else {
            return Err(Error::ChallengeExpired);
        };
        let credential: PublicKeyCredential = serde_json::from_str(key.assertion.expose())
            .map_err(|e| Error::InvalidInput(format!("the key's answer is not valid: {e}")))?;
        let account = self.fetch_existing(name).await?;
        self.refuse_if_locked(caller, &account, context).await?;
        let answer = KeyAnswer { credential, state };
        let attempt = Attempt {
            password: None,
            code: None,
            key: Some(&answer),
            stamp: Some(stamp),
            login,
        };
        self.settle(caller, name, attempt, context, &account).await
    }

    /// Decide a key's answer inside a login decision (`decide`): success clears the
    /// failure count and records the new counter; any refusal counts as a failure.
    pub(super) fn key_answer(
        &self,
        caller: &Caller,
        acc: &mut Account,
        answer: &KeyAnswer,
        now: u64,
        context: &str,
    ) -> Result<Step, Error> {
        let party = self.party()?;
        let result = match party
            .webauthn
            .finish_securitykey_authentication(&answer.credential, &answer.state)
        {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return Ok(self.clone_suspected(caller, acc, now, context, "?"));
            }
            Err(e) => return Ok(self.key_refused(caller, acc, now, context, e.to_string())),
        };
        let name = acc.name.clone();
        let used: &[u8] = result.cred_id().as_ref();
        let Some(record) = acc
            .security_keys
            .iter_mut()
            .find(|k| k.credential_id == used)
        else {
            let why = "the key is not registered to this account".to_string();
            return Ok(self.key_refused(caller, acc, now, context, why));
        };
        let (seen, stored) = (result.counter(), record.counter);
        if (seen != 0 || stored != 0) && seen <= stored {
            let id = record.id.clone();
            return Ok(self.clone_suspected(caller, acc, now, context, &id));
        }
        if party.requires_verification() && !result.user_verified() {
            let why = "user verification (a PIN or fingerprint) is required".to_string();
            return Ok(self.key_refused(caller, acc, now, context, why));
        }
        record.counter = seen;
        record.last_used = Some(now);
        self.reseal_key(&name, record, &result)?;
        let id = record.id.clone();
        lockout::clear(acc);
        let detail = detail_with(context, &format!("password and security key {id}"));
        let event = Event::by(caller, Action::Verify, Outcome::Ok, detail);
        Ok(Decided::new(Ok(Authn::granted()), event))
    }

    fn key_refused(
        &self,
        caller: &Caller,
        acc: &mut Account,
        now: u64,
        context: &str,
        why: String,
    ) -> Step {
        let what = detail_with(context, &format!("security key refused: {why}"));
        let event = self.failure(caller, acc, now, Outcome::Denied, &what);
        Decided::new(Err(Error::KeyRefused(why)), event)
    }

    /// A counter at or below the stored one: another device may hold a copy of the key.
    /// Refused, counted, and audited as `key-clone-suspected`.
    fn clone_suspected(
        &self,
        caller: &Caller,
        acc: &mut Account,
        now: u64,
        context: &str,
        id: &str,
    ) -> Step {
        let what = detail_with(
            context,
            &format!("security key {id}: signature counter went backwards (a cloned key?)"),
        );
        tracing::warn!(target: "audit", account = %acc.name, "{what}");
        let mut event = self.failure(caller, acc, now, Outcome::Denied, &what);
        if event.action == Action::Verify {
            event.action = Action::KeyCloneSuspected;
        }
        let why = "its signature counter went backwards: the key may have been cloned";
        Decided::new(Err(Error::KeyRefused(why.into())), event)
    }
}
