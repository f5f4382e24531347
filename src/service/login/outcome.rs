//! What a login decision leaves behind beyond itself: a refusal decided before any
//! hashing is recorded (its audit event) and answered, and a granted login becomes the
//! account's last login (`show`, `list-users --long`).

use super::{Attempt, Authn, Step, ORIGIN_MAX};
use crate::authz::Caller;
use crate::error::Error;
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
        let step = self.decide(caller, acc, effects, attempt, now, context)?;
        if let (Some(origin), Ok(Authn::Granted)) = (attempt.login, &step.value) {
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
