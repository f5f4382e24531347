//! What a login decision leaves behind beyond itself: a refusal decided before any
//! hashing is recorded (its audit event) and answered, a granted login becomes the
//! account's last login (`show`, `list-users --long`) and says whether a new password is
//! due, and the half-way step (right password, code to come) is only logged.

use super::{Attempt, Authn, Step, ORIGIN_MAX};
use crate::authz::Caller;
use crate::error::Error;
use crate::lifecycle;
use crate::protocol::SecondFactor;
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

    /// The half-way step that changes nothing (right password, app code to come), decided
    /// on the current record: only logged, never written. `None`: anything else, which
    /// the store change decides again and records.
    pub(super) async fn halfway(
        &self,
        caller: &Caller,
        name: &str,
        attempt: &Attempt<'_>,
        now: u64,
        context: &str,
    ) -> Result<Option<Authn>, Error> {
        let current = self.fetch_existing(name).await?;
        let mut probe = current.clone();
        let mut effects = Effects::default();
        let Decided { value, event } =
            self.decide_login(caller, &mut probe, &mut effects, attempt, now, context)?;
        // Only an app-only account's half-way step stays out of the history (authd(8),
        // LOGGING); with SMS on it is kept, also when the rate limit or the country list
        // allowed no code, so the owner sees that someone had the right password.
        let sms_on = current.second_factors().contains(&SecondFactor::Sms);
        match value {
            Ok(needs @ Authn::NeedsCode { .. })
                if probe == current && effects.is_empty() && !sms_on =>
            {
                event.log(name);
                Ok(Some(needs))
            }
            _ => Ok(None),
        }
    }
}
