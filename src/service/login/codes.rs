//! The code step of a login decision (`Service::decide`): a TOTP, SMS or recovery code
//! checked against the account as it is inside the store change that records it.

use super::{detail_with, Authn, Step};
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lockout;
use crate::protocol::Secret;
use crate::recovery;
use crate::service::Service;
use crate::sms::{self, SmsCheck};
use crate::store::{Account, Decided};
use crate::totp::{self, CodeCheck};

impl Service {
    /// Check a TOTP, SMS or recovery code inside a login decision: success clears the
    /// failure count (and spends a recovery or SMS code); a wrong or replayed code counts
    /// as a failure.
    pub(super) fn second_factor(
        &self,
        caller: &Caller,
        acc: &mut Account,
        code: &Secret,
        now: u64,
        context: &str,
    ) -> Result<Step, Error> {
        let code = code.expose().trim();
        if let Some(enrolment) = acc.totp.clone().filter(|t| t.active) {
            if totp::looks_like_code(code, &self.config().totp) {
                let secret = self.totp_secret(acc, &enrolment.sealed_secret)?;
                match totp::check(&secret, &self.config().totp, code, now, enrolment.last_step) {
                    CodeCheck::Valid { step } => {
                        if let Some(t) = acc.totp.as_mut() {
                            t.last_step = Some(step);
                        }
                        lockout::clear(acc);
                        let detail = detail_with(context, "password and totp code");
                        let event = Event::by(caller, Action::Verify, Outcome::Ok, detail);
                        return Ok(Decided::new(Ok(Authn::granted()), event));
                    }
                    CodeCheck::Replayed => {
                        let what = detail_with(context, "totp code replayed");
                        let event = self.failure(caller, acc, now, Outcome::Replayed, &what);
                        return Ok(Decided::new(Err(Error::CodeReused), event));
                    }
                    CodeCheck::Wrong => {}
                }
            }
        }
        let name = acc.name.clone();
        let sms_on = acc.sms.as_ref().is_some_and(|s| s.active);
        if sms_on
            && acc.sms_code.is_some()
            && code.len() == 6
            && code.bytes().all(|b| b.is_ascii_digit())
            && sms::check(&self.vault, &name, &mut acc.sms_code, code, now) == SmsCheck::Valid
        {
            lockout::clear(acc);
            let detail = detail_with(context, "password and sms code");
            let event = Event::by(caller, Action::Verify, Outcome::Ok, detail);
            return Ok(Decided::new(Ok(Authn::granted()), event));
        }
        if recovery::spend(&self.vault, &name, &mut acc.recovery_codes, code) {
            lockout::clear(acc);
            let left = acc.recovery_codes.len();
            let detail = detail_with(context, &format!("{left} left"));
            let event = Event::by(caller, Action::RecoveryCodeUsed, Outcome::Ok, detail);
            return Ok(Decided::new(Ok(Authn::granted()), event));
        }
        let what = detail_with(context, "wrong code");
        let event = self.failure(caller, acc, now, Outcome::Denied, &what);
        Ok(Decided::new(Err(Error::Denied), event))
    }
}
