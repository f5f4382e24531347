//! Passwords and logins: set (admin), change (self), verify (password, then a second
//! factor when the account has one), and unlock — with lockout and audit.
//!
//! `authenticate` is the one path that checks a password: lockout first (a locked
//! account is refused without hashing), then argon2 on the worker pool (a dummy hash for
//! unknown names), then one transaction that checks the code if one is due and records
//! the failure or clears the count.

use std::time::Instant;

use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::password::{check_policy, Verdict};
use crate::protocol::{Origin, Response, SecondFactor, Secret};
use crate::store::Account;
use crate::time;

/// Where an attempt came from, for the audit detail.
fn origin_detail(origin: &Origin) -> String {
    let mut parts = Vec::new();
    if let Some(service) = &origin.service {
        parts.push(format!("service={}", service.escape_debug()));
    }
    if let Some(host) = &origin.remote_host {
        parts.push(format!("rhost={}", host.escape_debug()));
    }
    parts.join(" ")
}

/// `context` (where the attempt came from), then what happened.
pub(super) fn detail_with(context: &str, what: &str) -> String {
    if context.is_empty() {
        what.to_string()
    } else {
        format!("{context}; {what}")
    }
}

pub(super) fn refuse_sso(account: &Account) -> Result<(), Error> {
    match account.sso {
        Some(_) => Err(Error::SsoAccount(account.name.clone())),
        None => Ok(()),
    }
}

/// A guess that passed the lock check while other guesses locked the account: its
/// verdict is thrown away unseen, so concurrency never buys extra guesses.
fn locked_meanwhile(
    caller: &Caller,
    acc: &Account,
    now: u64,
    context: &str,
) -> Option<(Step, Event)> {
    let until = lockout::locked_until(acc, now)?;
    let event = Event::by(caller, Action::Verify, Outcome::Locked, context.into());
    let error = Error::Locked {
        name: acc.name.clone(),
        until,
    };
    Some(((Err(error), event.clone()), event))
}

/// How far a login got.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Authn {
    Granted,
    /// The password was right; one of these factors must follow.
    NeedsCode {
        methods: Vec<SecondFactor>,
        /// The masked number a login code was just sent to, for SMS.
        sms_sent_to: Option<String>,
    },
}

/// What one step of a login decided, and the audit event that says so.
pub(super) type Step = (Result<Authn, Error>, Event);

impl Service {
    pub(super) fn existing(&self, name: &str) -> Result<Account, Error> {
        self.store
            .account(name)?
            .ok_or_else(|| Error::NoSuchUser(name.to_string()))
    }

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
        match lockout::record_failure(account, &self.config.lockout, now) {
            None => Event::by(caller, Action::Verify, outcome, detail),
            Some(until) => Event::by(
                caller,
                Action::LockedOut,
                outcome,
                format!("{detail}; locked until {}", time::format(until)),
            ),
        }
    }

    /// Refuse (and audit) an attempt on a locked account, before any hashing.
    pub(super) async fn refuse_if_locked(
        &self,
        caller: &Caller,
        account: &Account,
        context: &str,
    ) -> Result<(), Error> {
        let now = time::now();
        let Some(until) = lockout::locked_until(account, now) else {
            return Ok(());
        };
        let event = Event::by(caller, Action::Verify, Outcome::Locked, context.into());
        self.store
            .update(&account.name, now, |_| Ok(((), event.clone())))?;
        self.commit(&account.name, &event).await?;
        Err(Error::Locked {
            name: account.name.clone(),
            until,
        })
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
    ) -> Result<Authn, Error> {
        let Some(account) = self.store.account(name)? else {
            // Same cost as a real check, so timing does not reveal which names exist.
            self.hasher
                .verify(caller.hash_share(), password, None)
                .await?;
            return Err(Error::NoSuchUser(name.to_string()));
        };
        refuse_sso(&account)?;
        self.refuse_if_locked(caller, &account, context).await?;
        let verdict = self
            .hasher
            .verify(caller.hash_share(), password, account.password_hash.clone())
            .await?;
        let now = time::now();
        // Right password, an app code still to come, nothing to store: the login's outcome
        // is recorded when the code arrives, so this half-way step writes nothing (it is
        // logged) and costs no disk flush.
        let methods = account.second_factors();
        if verdict == (Verdict::Right { rehash: None })
            && code.is_none()
            && !methods.is_empty()
            && !methods.contains(&SecondFactor::Sms)
            && lockout::locked_until(&account, now).is_none()
        {
            let detail = detail_with(context, "password ok");
            Event::by(caller, Action::Verify, Outcome::Challenged, detail).log(name);
            return Ok(Authn::NeedsCode {
                methods,
                sms_sent_to: None,
            });
        }
        let (result, event) = self.store.update_with(name, now, |acc, effects| {
            // Decide on the record as it is now: it may have changed while hashing.
            refuse_sso(acc)?;
            if let Some(step) = locked_meanwhile(caller, acc, now, context) {
                return Ok(step);
            }
            let step = match &verdict {
                Verdict::Wrong => {
                    let event = self.failure(
                        caller,
                        acc,
                        now,
                        Outcome::Denied,
                        &detail_with(context, "wrong password"),
                    );
                    (Err(Error::Denied), event)
                }
                Verdict::Right { rehash } => {
                    if let Some(fresh) = rehash {
                        if acc.password_hash == account.password_hash {
                            acc.password_hash = Some(fresh.clone());
                        }
                    }
                    let methods = acc.second_factors();
                    match code {
                        _ if methods.is_empty() => {
                            lockout::clear(acc);
                            let event =
                                Event::by(caller, Action::Verify, Outcome::Ok, context.into());
                            (Ok(Authn::Granted), event)
                        }
                        None => {
                            // SMS-only accounts get a fresh code now (with an app too,
                            // the app code is asked for; send-code sends one on request).
                            // If the rate limit says no, the code sent a moment ago is
                            // still good.
                            let sms_sent_to = if methods == [SecondFactor::Sms] {
                                self.queue_sms_code(acc, effects, now).ok().map(|s| s.0)
                            } else {
                                None
                            };
                            let mut detail = detail_with(context, "password ok");
                            if let Some(to) = &sms_sent_to {
                                detail.push_str(&format!("; sms code sent to {to}"));
                            }
                            let event =
                                Event::by(caller, Action::Verify, Outcome::Challenged, detail);
                            let needs = Authn::NeedsCode {
                                methods,
                                sms_sent_to,
                            };
                            (Ok(needs), event)
                        }
                        Some(code) => self.second_factor(caller, acc, code, now, context)?,
                    }
                }
            };
            let (result, event) = step;
            Ok(((result, event.clone()), event))
        })?;
        self.commit(name, &event).await?;
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

    pub async fn verify(
        &self,
        caller: &Caller,
        name: String,
        password: Secret,
        code: Option<Secret>,
        origin: Origin,
    ) -> Result<Response, Error> {
        let context = origin_detail(&origin);
        match self
            .authenticate(caller, &name, password, code.as_ref(), &context)
            .await?
        {
            Authn::Granted => Ok(Response::Verified { name }),
            Authn::NeedsCode {
                methods,
                sms_sent_to,
            } => {
                let challenge = self
                    .challenges
                    .issue(&name, caller.peer().uid, Instant::now())?;
                Ok(Response::SecondFactorRequired {
                    methods,
                    challenge: Some(challenge),
                    sms_sent_to,
                })
            }
        }
    }

    /// The second step of a login: a code for a challenge from `verify`.
    pub async fn verify_code(
        &self,
        caller: &Caller,
        name: String,
        challenge: Secret,
        code: Secret,
        origin: Origin,
    ) -> Result<Response, Error> {
        if !self
            .challenges
            .take(&challenge, &name, caller.peer().uid, Instant::now())
        {
            return Err(Error::ChallengeExpired);
        }
        let account = self.existing(&name)?;
        let context = origin_detail(&origin);
        self.refuse_if_locked(caller, &account, &context).await?;
        let now = time::now();
        let (result, event) = self.store.update(&name, now, |acc| {
            refuse_sso(acc)?;
            if let Some(step) = locked_meanwhile(caller, acc, now, &context) {
                return Ok(step);
            }
            let (result, event) = self.second_factor(caller, acc, &code, now, &context)?;
            Ok(((result, event.clone()), event))
        })?;
        self.commit(&name, &event).await?;
        result?;
        Ok(Response::Verified { name })
    }

    /// Hash `new` (after the policy accepts it) and store it as `action`; outstanding
    /// reset tokens die and the account is mailed a notice.
    async fn store_password(
        &self,
        caller: &Caller,
        name: &str,
        new: Secret,
        action: Action,
    ) -> Result<(), Error> {
        let hash = self.hasher.hash(caller.hash_share(), new).await?;
        let event = Event::by(caller, action, Outcome::Ok, String::new());
        let now = time::now();
        self.store.update_with(name, now, |acc, effects| {
            refuse_sso(acc)?;
            acc.password_hash = Some(hash.clone());
            lockout::clear(acc);
            let how = match action {
                Action::PasswordChanged => "changed with the current password",
                _ => "set by an administrator",
            };
            self.after_password_change(acc, effects, how, now)?;
            Ok(((), event.clone()))
        })?;
        self.commit(name, &event).await?;
        self.wake_outbox();
        Ok(())
    }

    pub async fn set_password(
        &self,
        caller: &Caller,
        name: String,
        password: Secret,
    ) -> Result<Response, Error> {
        refuse_sso(&self.existing(&name)?)?;
        check_policy(&self.config.password, &name, password.expose())?;
        self.store_password(caller, &name, password, Action::PasswordSet)
            .await?;
        Ok(Response::Done)
    }

    pub async fn change_password(
        &self,
        caller: &Caller,
        name: String,
        current: Secret,
        code: Option<Secret>,
        new: Secret,
    ) -> Result<Response, Error> {
        refuse_sso(&self.existing(&name)?)?;
        check_policy(&self.config.password, &name, new.expose())?;
        if new == current {
            return Err(Error::WeakPassword(
                "the new password must differ from the current one".into(),
            ));
        }
        match self
            .authenticate(caller, &name, current, code.as_ref(), "change-password")
            .await?
        {
            Authn::Granted => {}
            Authn::NeedsCode {
                methods,
                sms_sent_to,
            } => {
                return Ok(Response::SecondFactorRequired {
                    methods,
                    challenge: None,
                    sms_sent_to,
                })
            }
        }
        self.store_password(caller, &name, new, Action::PasswordChanged)
            .await?;
        Ok(Response::Done)
    }

    pub async fn unlock(&self, caller: &Caller, name: String) -> Result<Response, Error> {
        let event = self.store.update(&name, time::now(), |acc| {
            let detail = format!("cleared {} failures", acc.failures);
            lockout::clear(acc);
            let event = Event::by(caller, Action::Unlocked, Outcome::Ok, detail);
            Ok((event.clone(), event))
        })?;
        self.commit(&name, &event).await?;
        Ok(Response::Done)
    }
}
