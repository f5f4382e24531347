//! Passwords: set (admin), change (self), verify, and unlock — with lockout and audit.
//!
//! `authenticate` is the one path that checks a password: lockout first (a locked
//! account is refused without hashing), then argon2 on the worker pool (a dummy hash for
//! unknown names), then one transaction that records the failure or clears the count.

use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::password::{check_policy, Verdict};
use crate::protocol::{Origin, Response, Secret};
use crate::store::Account;
use crate::time;

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
fn detail_with(context: &str, what: String) -> String {
    if context.is_empty() {
        what
    } else {
        format!("{context}; {what}")
    }
}

fn refuse_sso(account: &Account) -> Result<(), Error> {
    match account.sso {
        Some(_) => Err(Error::SsoAccount(account.name.clone())),
        None => Ok(()),
    }
}

impl Service {
    fn existing(&self, name: &str) -> Result<Account, Error> {
        self.store
            .account(name)?
            .ok_or_else(|| Error::NoSuchUser(name.to_string()))
    }

    /// Check `password` for `name`, counting failures toward the lockout.
    async fn authenticate(
        &self,
        caller: &Caller,
        name: &str,
        password: Secret,
        detail: &str,
    ) -> Result<(), Error> {
        let Some(account) = self.store.account(name)? else {
            // Same cost as a real check, so timing does not reveal which names exist.
            self.hasher.verify(password, None).await?;
            return Err(Error::NoSuchUser(name.to_string()));
        };
        refuse_sso(&account)?;
        let now = time::now();
        if let Some(until) = lockout::locked_until(&account, now) {
            let event = Event::by(caller, Action::Verify, Outcome::Locked, detail.into());
            self.store.update(name, now, |_| Ok(((), event.clone())))?;
            self.commit(name, &event).await?;
            return Err(Error::Locked {
                name: name.into(),
                until,
            });
        }
        let verdict = self
            .hasher
            .verify(password, account.password_hash.clone())
            .await?;
        let now = time::now();
        let config = &self.config.lockout;
        let (result, event) = self.store.update(name, now, |acc| {
            // Re-read inside the transaction: the account may have changed meanwhile.
            refuse_sso(acc)?;
            let (result, event) = match &verdict {
                Verdict::Right { rehash } => {
                    if let Some(fresh) = rehash {
                        if acc.password_hash == account.password_hash {
                            acc.password_hash = Some(fresh.clone());
                        }
                    }
                    lockout::clear(acc);
                    let event = Event::by(caller, Action::Verify, Outcome::Ok, detail.into());
                    (Ok(()), event)
                }
                Verdict::Wrong => match lockout::record_failure(acc, config, now) {
                    None => {
                        let d = detail_with(detail, format!("failure {}", acc.failures));
                        let event = Event::by(caller, Action::Verify, Outcome::Denied, d);
                        (Err(Error::Denied), event)
                    }
                    Some(until) => {
                        let d = detail_with(
                            detail,
                            format!(
                                "failure {}; locked until {}",
                                acc.failures,
                                time::format(until)
                            ),
                        );
                        let event = Event::by(caller, Action::LockedOut, Outcome::Denied, d);
                        (Err(Error::Denied), event)
                    }
                },
            };
            Ok(((result, event.clone()), event))
        })?;
        self.commit(name, &event).await?;
        result
    }

    pub async fn verify(
        &self,
        caller: &Caller,
        name: String,
        password: Secret,
        origin: Origin,
    ) -> Result<Response, Error> {
        self.authenticate(caller, &name, password, &origin_detail(&origin))
            .await?;
        Ok(Response::Verified { name })
    }

    /// Hash `new` (after the policy accepts it) and store it as `action`.
    async fn store_password(
        &self,
        caller: &Caller,
        name: &str,
        new: Secret,
        action: Action,
    ) -> Result<(), Error> {
        let hash = self.hasher.hash(new).await?;
        let event = Event::by(caller, action, Outcome::Ok, String::new());
        self.store.update(name, time::now(), |acc| {
            refuse_sso(acc)?;
            acc.password_hash = Some(hash.clone());
            lockout::clear(acc);
            Ok(((), event.clone()))
        })?;
        self.commit(name, &event).await
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
        new: Secret,
    ) -> Result<Response, Error> {
        refuse_sso(&self.existing(&name)?)?;
        check_policy(&self.config.password, &name, new.expose())?;
        if new == current {
            return Err(Error::WeakPassword(
                "the new password must differ from the current one".into(),
            ));
        }
        self.authenticate(caller, &name, current, "change-password")
            .await?;
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
