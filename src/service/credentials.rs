//! Passwords: set (admin), change (self, through the login path), and unlock — with the
//! policy, the lockout and the audit. Logins themselves are decided in `login`.

use super::login::Authn;
use super::refuse_sso;
use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::password::check_policy;
use crate::protocol::{ChangePassword, Response, Secret, SetPassword, Unlock};
use crate::store::Decided;
use crate::time;

impl Service {
    /// Hash `new` (after the policy accepts it) and store it as `action`; outstanding
    /// reset tokens die and the account is mailed a notice.
    pub(super) async fn store_password(
        &self,
        caller: &Caller,
        name: &str,
        new: Secret,
        action: Action,
    ) -> Result<(), Error> {
        let hash = self.hasher.hash(caller.hash_share(), new).await?;
        let now = time::now();
        let unsent = self
            .record(name, now, |acc, effects| {
                refuse_sso(acc)?;
                acc.password_hash = Some(hash.clone());
                crate::lifecycle::password_set(acc, now, action == Action::PasswordChanged);
                lockout::clear(acc);
                let how = match action {
                    Action::PasswordChanged => "changed with the current password",
                    _ => "set by an administrator",
                };
                let unsent = self.after_password_change(acc, effects, how, now)?;
                let event = Event::by(caller, action, Outcome::Ok, String::new());
                Ok(Decided::new(unsent, event))
            })
            .await?;
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
            .authenticate(
                caller,
                &name,
                current,
                code.as_ref(),
                "change-password",
                None,
            )
            .await?
        {
            Authn::Granted { .. } => {}
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
        self.record(&name, time::now(), |acc, _| {
            let detail = format!("cleared {} failures", acc.failures);
            lockout::clear(acc);
            Ok(Event::by(caller, Action::Unlocked, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }
}
