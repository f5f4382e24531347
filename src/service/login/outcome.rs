//! What a login decision leaves behind beyond itself: a refusal decided before any
//! hashing is recorded (its audit event) and answered, and a granted login becomes the
//! account's last login (`show`, `list-users --long`) and says whether a new password is
//! due.

use super::{Attempt, Authn, Step, ORIGIN_MAX};
use crate::authz::Caller;
use crate::error::Error;
use crate::lifecycle;
use crate::service::Service;
use crate::store::{Account, Decided, Effects, LastLogin};

impl Service {
    /// Record a refusal decided before any hashing (its audit event), and answer it.
    pub(in crate::service) async fn refuse(
        &self,
        name: &str,
        now: u64,
        refusal: Option<Decided<Error>>,
    ) -> Result<(), Error> {
        match refusal {
            Some(refusal) => Err(self.record(name, now, |_, _| Ok(refusal)).await?),
            None => Ok(()),
        }
    }

    /// `decide`, and a granted login is the account's last login.
    pub(super) fn decide_login(
        &self,
        caller: &Caller,
        acc: &mut Account,
        effects: &mut Effects,
        attempt: &Attempt<'_>,
        now: u64,
        context: &str,
    ) -> Result<Step, Error> {
        let mut step = self.decide(caller, acc, effects, attempt, now, context)?;
        let Ok(Authn::Granted { change_required }) = &mut step.value else {
            return Ok(step);
        };
        let max_age = self.config().password.max_age;
        *change_required = lifecycle::change_required(acc, max_age, now);
        if let Some(origin) = attempt.login {
            acc.last_login = Some(LastLogin {
                at: now,
                service: origin
                    .service
                    .as_deref()
                    .map(|s| crate::escape::clipped(s, ORIGIN_MAX)),
            });
        }
        Ok(step)
    }
}
