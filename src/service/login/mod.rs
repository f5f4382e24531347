//! The one login path: every outcome that depends on a password or a second-factor code
//! (verify, the code step after a challenge, change-password, and the proof that
//! enable-totp, enable-sms, disable-2fa, recovery-codes and send-reset ask for) is
//! decided here, by [`decide`], against the account as it is *after* the password hash
//! finished. Everything that decision needs lives here too: the password check, the
//! challenge that lets the code follow (`challenge`: issue and take), the TOTP, SMS and
//! recovery-code check, the failure count and the lock checks. Enrolment, passwords and
//! resets call in (`authenticate`, `require_proof`, `prove_own`, `locked_step`,
//! `failure`); nothing here calls back into them.
//!
//! Order: a locked account is refused before hashing (cheap); then argon2 runs on the
//! worker pool (a dummy hash for unknown names); then the decision reads the current
//! record, so a guess that was in flight when other guesses locked the account is
//! answered `locked` whatever factor follows, and a password checked against a hash that
//! was replaced meanwhile never counts as right. The half-way step (right password, an
//! app code still to come) changes nothing on the record and so writes nothing; every
//! other decision is taken again inside the store change that records it, which runs
//! against the record with every earlier change applied (`store::staging`). On a store
//! shared by several daemons that change is written only over the record it was decided
//! on (`Backend::change_retrying`), and decided again when another change came first, so
//! the decision must depend on nothing but the record and the attempt.
//!
//! [`decide`]: Service::decide

pub(super) mod challenge;
mod codes;
mod key;
mod outcome;

use std::time::Instant;

use zeroize::Zeroizing;

use super::{refuse_sso, Service};
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::password::Verdict;
use crate::protocol::{Origin, Proof, Response, SecondFactor, Secret, Verify, VerifyCode};
use crate::store::{Account, Decided, Effects};
use crate::time;
use crate::vault::context;
use challenge::Holder;

/// How much of a client-supplied PAM service or remote host name goes into an audit
/// detail: the client chose their size, and the detail keeps `audit::MAX_DETAIL`
/// characters, so one huge field must not push the other out of it.
const ORIGIN_MAX: usize = 48;

/// Where an attempt came from, for the audit detail: clipped and escaped.
pub(crate) fn origin_detail(origin: &Origin) -> String {
    let mut parts = Vec::new();
    if let Some(service) = &origin.service {
        parts.push(format!(
            "service={}",
            crate::escape::clipped(service, ORIGIN_MAX)
        ));
    }
    if let Some(host) = &origin.remote_host {
        parts.push(format!(
            "rhost={}",
            crate::escape::clipped(host, ORIGIN_MAX)
        ));
    }
    parts.join(" ")
}

/// `context` (where the attempt came from), then what happened.
pub(crate) fn detail_with(context: &str, what: &str) -> String {
    if context.is_empty() {
        what.to_string()
    } else {
        format!("{context}; {what}")
    }
}

/// The vault context an account's TOTP secret is sealed under.
pub(super) fn totp_context(name: &str) -> Vec<u8> {
    context("totp", name)
}

impl Account {
    /// The second factors that are active (confirmed) on this account, as the wire names
    /// them: here, at the service boundary, so the store knows no wire type.
    pub(super) fn second_factors(&self) -> Vec<SecondFactor> {
        let mut methods = Vec::new();
        if self.totp.as_ref().is_some_and(|t| t.active) {
            methods.push(SecondFactor::Totp);
        }
        if self.sms.as_ref().is_some_and(|s| s.active) {
            methods.push(SecondFactor::Sms);
        }
        self.key_factor(&mut methods);
        methods
    }
}

/// How far a login got.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Authn {
    Granted {
        /// Why the password must be changed now, if it must (`lifecycle`): taken from
        /// the record the login wrote, so answering needs no second read.
        change_required: Option<String>,
    },
    /// The password was right; one of these factors must follow.
    NeedsCode {
        methods: Vec<SecondFactor>,
        /// The masked number a login code was just sent to, for SMS.
        sms_sent_to: Option<String>,
        /// The account's credential stamp, for the challenge that lets the code follow.
        stamp: [u8; 32],
    },
}

impl Authn {
    /// Granted; `decide_login` says whether a new password is due.
    fn granted() -> Authn {
        Authn::Granted {
            change_required: None,
        }
    }
}

/// What one step of a login decided, and the audit event that says so.
pub(super) type Step = Decided<Result<Authn, Error>>;

/// What a login attempt brings.
struct Attempt<'a> {
    /// The password's verdict and the stored hash it was checked against; `None` when a
    /// challenge already proved the password.
    password: Option<(&'a Verdict, &'a Option<String>)>,
    code: Option<&'a Secret>,
    /// A security key's answer (`key`), instead of a code.
    key: Option<&'a key::KeyAnswer>,
    /// For the code step: the credential stamp the challenge was issued for.
    stamp: Option<[u8; 32]>,
    /// A login (not a proof for another request): where from, for `last_login`.
    login: Option<&'a Origin>,
}

impl Service {
    /// Count a failed password or code; the event says whether it locked the account.
    pub(super) fn failure(
        &self,
        caller: &Caller,
        account: &mut Account,
        now: u64,
        outcome: Outcome,
        what: &str,
    ) -> Event {
        let detail = format!("{what}; failure {}", account.failures + 1);
        match lockout::record_failure(account, &self.config().lockout, now) {
            None => Event::by(caller, Action::Verify, outcome, detail),
            Some(until) => Event::by(
                caller,
                Action::LockedOut,
                outcome,
                format!("{detail}; locked until {}", time::format(until)),
            ),
        }
    }

    /// The answer for an attempt on an account locked at `now`, if it is: the attempt's
    /// own verdict is never looked at, so concurrency never buys extra guesses.
    pub(super) fn locked_step(
        &self,
        caller: &Caller,
        acc: &Account,
        now: u64,
        context: &str,
    ) -> Option<Decided<Error>> {
        let until = lockout::locked_until(acc, now)?;
        let event = Event::by(caller, Action::Verify, Outcome::Locked, context.into());
        let error = Error::Locked {
            name: acc.name.clone(),
            until,
        };
        Some(Decided::new(error, event))
    }

    /// Refuse (and audit) an attempt on a locked account, before any hashing.
    pub(super) async fn refuse_if_locked(
        &self,
        caller: &Caller,
        account: &Account,
        context: &str,
    ) -> Result<(), Error> {
        let now = time::now();
        let locked = self.locked_step(caller, account, now, context);
        self.refuse(&account.name, now, locked).await
    }

    /// The login decision, on the account as it is now. It may change the record
    /// (failure count, rehash, replay step, spent codes) and ask for an SMS.
    fn decide(
        &self,
        caller: &Caller,
        acc: &mut Account,
        effects: &mut Effects,
        attempt: &Attempt<'_>,
        now: u64,
        context: &str,
    ) -> Result<Step, Error> {
        refuse_sso(acc)?;
        if let Some(closed) = self.closed_step(caller, acc, now, context) {
            return Ok(closed.map(Err));
        }
        if attempt
            .stamp
            .is_some_and(|stamp| stamp != acc.credential_stamp())
        {
            // The password, SSO state or factors changed since the challenge was issued.
            return Err(Error::ChallengeExpired);
        }
        if let Some(locked) = self.locked_step(caller, acc, now, context) {
            return Ok(locked.map(Err));
        }
        if let Some((verdict, checked)) = attempt.password {
            if acc.password_hash != *checked {
                // Checked against a password that was replaced meanwhile: neither right
                // nor a guess against the current one.
                let what = detail_with(context, "password changed during the check");
                let event = Event::by(caller, Action::Verify, Outcome::Denied, what);
                return Ok(Decided::new(Err(Error::Denied), event));
            }
            match verdict {
                Verdict::Wrong => {
                    let what = detail_with(context, "wrong password");
                    let event = self.failure(caller, acc, now, Outcome::Denied, &what);
                    return Ok(Decided::new(Err(Error::Denied), event));
                }
                Verdict::Right { rehash } => {
                    if let Some(fresh) = rehash {
                        acc.password_hash = Some(fresh.clone());
                    }
                }
            }
        }
        let methods = acc.second_factors();
        if methods.is_empty() {
            lockout::clear(acc);
            let event = Event::by(caller, Action::Verify, Outcome::Ok, context.into());
            return Ok(Decided::new(Ok(Authn::granted()), event));
        }
        if let Some(code) = attempt.code {
            return self.second_factor(caller, acc, code, now, context);
        }
        if let Some(answer) = attempt.key {
            return self.key_answer(caller, acc, answer, now, context);
        }
        // SMS-only accounts get a fresh code now (with an app too, the app code is asked
        // for; send-code sends one on request). If the rate limit says no, the code sent
        // a moment ago is still good.
        let sent = (methods == [SecondFactor::Sms]).then(|| self.queue_sms_code(acc, effects, now));
        let mut detail = detail_with(context, "password ok");
        let sms_sent_to = match sent {
            Some(Ok((to, _))) => {
                detail.push_str(&format!("; sms code sent to {to}"));
                Some(to)
            }
            Some(Err(e)) => {
                detail.push_str(&format!("; no new sms code ({})", e.code().as_str()));
                None
            }
            None => None,
        };
        let event = Event::by(caller, Action::Verify, Outcome::Challenged, detail);
        let needs = Authn::NeedsCode {
            methods,
            sms_sent_to,
            stamp: acc.credential_stamp(),
        };
        Ok(Decided::new(Ok(needs), event))
    }

    /// Decide `attempt` on the current record and record the outcome durably. A half-way
    /// step that changes nothing (right password, app code to come) is only logged.
    /// `seen`: the account as read before the hash; the decision is written only over
    /// the record it was taken on, so it may be taken again (`record_retrying`).
    async fn settle(
        &self,
        caller: &Caller,
        name: &str,
        attempt: Attempt<'_>,
        context: &str,
        seen: &Account,
    ) -> Result<Authn, Error> {
        let now = time::now();
        // A code or a key's answer is always recorded (a spent step or code, or a
        // failure): only a password alone can end half-way, so only then is there
        // something to find out before the store change.
        if attempt.code.is_none() && attempt.key.is_none() {
            if let Some(halfway) = self.halfway(caller, name, &attempt, now, context).await? {
                return Ok(halfway);
            }
        }
        let result = self
            .record_retrying(name, now, Some(seen), |acc, effects| {
                self.decide_login(caller, acc, effects, &attempt, now, context)
            })
            .await?;
        if matches!(
            result,
            Ok(Authn::NeedsCode {
                sms_sent_to: Some(_),
                ..
            })
        ) {
            self.wake_outbox();
        }
        result
    }

    /// Check `password`, and `code` when the account has a second factor, counting
    /// failures toward the lockout.
    pub(super) async fn authenticate(
        &self,
        caller: &Caller,
        name: &str,
        password: Secret,
        code: Option<&Secret>,
        context: &str,
        login: Option<&Origin>,
    ) -> Result<Authn, Error> {
        let Some(account) = self.store.fetch_account(name).await? else {
            // Same cost as a real check, so timing does not reveal which names exist.
            self.hasher
                .verify(caller.hash_share(), password, None)
                .await?;
            return Err(Error::NoSuchUser(name.to_string()));
        };
        refuse_sso(&account)?;
        self.refuse_if_closed(caller, &account, context).await?;
        self.refuse_if_locked(caller, &account, context).await?;
        let checked = account.password_hash.clone();
        let verdict = self
            .hasher
            .verify(caller.hash_share(), password, checked.clone())
            .await?;
        let attempt = Attempt {
            password: Some((&verdict, &checked)),
            code,
            key: None,
            stamp: None,
            login,
        };
        self.settle(caller, name, attempt, context, &account).await
    }

    /// The password and, when the account has 2FA, a code: all of `Proof`.
    pub(super) async fn require_proof(
        &self,
        caller: &Caller,
        name: &str,
        proof: Proof,
        why: &str,
    ) -> Result<(), Error> {
        match self
            .authenticate(caller, name, proof.password, proof.code.as_ref(), why, None)
            .await?
        {
            Authn::Granted { .. } => Ok(()),
            Authn::NeedsCode { .. } => Err(Error::CodeRequired),
        }
    }

    /// Proof for a change to one's own second factors (or recovery codes): the password,
    /// and a code when a factor is on already. Admins may act without; anyone else with
    /// only a session on the account (a stolen terminal) may not.
    pub(super) async fn prove_own(
        &self,
        caller: &Caller,
        name: &str,
        proof: Option<Proof>,
        why: &str,
    ) -> Result<(), Error> {
        match proof {
            Some(proof) => self.require_proof(caller, name, proof, why).await,
            None if caller.is_admin() => Ok(()),
            None => Err(Error::ProofRequired),
        }
    }

    /// Open an account's sealed TOTP secret; failure means tampering or a wrong key.
    pub(super) fn totp_secret(
        &self,
        account: &Account,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.vault
            .open(&totp_context(&account.name), sealed)
            .map_err(|e| {
                tracing::error!(account = %account.name, "TOTP secret does not decrypt: {e}");
                Error::Internal(format!(
                    "the TOTP secret of `{}` cannot be decrypted",
                    account.name
                ))
            })
    }

    pub async fn verify(&self, caller: &Caller, req: Verify) -> Result<Response, Error> {
        let Verify {
            name,
            password,
            code,
            origin,
        } = req;
        let context = origin_detail(&origin);
        match self
            .authenticate(
                caller,
                &name,
                password,
                code.as_ref(),
                &context,
                Some(&origin),
            )
            .await?
        {
            Authn::Granted { change_required } => Ok(self.verified(name, change_required)),
            Authn::NeedsCode {
                methods,
                sms_sent_to,
                stamp,
            } => {
                let holder = Holder {
                    account: &name,
                    uid: caller.peer().uid,
                    // The portal signs in many people through one uid: like root
                    // running PAM for everyone, it is bounded per account only.
                    limited: !matches!(caller, Caller::Admin { .. } | Caller::Portal { .. }),
                    stamp,
                };
                let challenge = self.challenges.issue(holder, Instant::now())?;
                Ok(Response::SecondFactorRequired {
                    methods,
                    challenge: Some(challenge),
                    sms_sent_to,
                })
            }
        }
    }

    /// The second step of a login: a code for a challenge from `verify`.
    pub async fn verify_code(&self, caller: &Caller, req: VerifyCode) -> Result<Response, Error> {
        let VerifyCode {
            name,
            challenge,
            code,
            origin,
        } = req;
        let Some(stamp) =
            self.challenges
                .take(&challenge, &name, caller.peer().uid, Instant::now())
        else {
            return Err(Error::ChallengeExpired);
        };
        let context = origin_detail(&origin);
        let account = self.fetch_existing(&name).await?;
        self.refuse_if_locked(caller, &account, &context).await?;
        let attempt = Attempt {
            password: None,
            code: Some(&code),
            key: None,
            stamp: Some(stamp),
            login: Some(&origin),
        };
        match self
            .settle(caller, &name, attempt, &context, &account)
            .await?
        {
            Authn::Granted { change_required } => Ok(self.verified(name, change_required)),
            Authn::NeedsCode { .. } => Err(Error::CodeRequired),
        }
    }
}
