//! Passwords: set (admin), change (self, through the login path), and unlock — with the
//! policy, the lockout and the audit. Logins themselves are decided in `login`.

use super::login::{refuse_sso, Authn};
use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::password::check_policy;
use crate::protocol::{ChangePassword, Response, Secret, SetPassword, Unlock};
use crate::store::Account;
use crate::time;

impl Service {
    pub(super) fn existing(&self, name: &str) -> Result<Account, Error> {
        self.store
            .account(name)?
            .ok_or_else(|| Error::NoSuchUser(name.to_string()))
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
        let unsent = self.store.update_with(name, now, |acc, effects| {
            refuse_sso(acc)?;
            acc.password_hash = Some(hash.clone());
            lockout::clear(acc);
            let how = match action {
                Action::PasswordChanged => "changed with the current password",
                _ => "set by an administrator",
            };
            let unsent = self.after_password_change(acc, effects, how, now)?;
            Ok((unsent, event.clone()))
        })?;
        self.commit(name, &event).await?;
        self.report_unsent(name, unsent);
        self.wake_outbox();
        Ok(())
    }

    pub async fn set_password(&self, caller: &Caller, req: SetPassword) -> Result<Response, Error> {
        let SetPassword { name, password } = req;
        refuse_sso(&self.existing(&name)?)?;
        check_policy(&self.config().password, &name, password.expose())?;
        self.store_password(caller, &name, password, Action::PasswordSet)
            .await?;
        Ok(Response::Done)
    }

    pub async fn change_password(
        &self,
        caller: &Caller,
        req: ChangePassword,
    ) -> Result<Response, Error> {
        let ChangePassword {
            name,
            current,
            code,
            new,
        } = req;
        refuse_sso(&self.existing(&name)?)?;
        check_policy(&self.config().password, &name, new.expose())?;
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
                ..
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

    pub async fn unlock(&self, caller: &Caller, req: Unlock) -> Result<Response, Error> {
        let Unlock { name } = req;
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
