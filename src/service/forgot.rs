//! The portal's "forgot your password?" (`PortalForgot`) and "email me a link instead"
//! (`PortalAction::SendReset`): the reset mail `send-reset` queues, asked for from a
//! browser.
//!
//! `PortalForgot` comes from someone who is not signed in, so its answer is `Done`
//! whatever happened: an unknown name, an account without an address or an SSO account,
//! a reset mail too soon after the last one. The portal (and whoever drives it) learns
//! nothing about which names exist; what happened is in that account's audit log (an
//! unknown name only in the daemon's log, without the name).

use super::login::origin_detail;
use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{PortalForgot, Response};

impl Service {
    pub async fn portal_forgot(
        &self,
        caller: &Caller,
        req: PortalForgot,
    ) -> Result<Response, Error> {
        let PortalForgot { name, origin } = req;
        let origin = origin_detail(&origin);
        let how = match origin.is_empty() {
            true => "; forgot-password page".to_string(),
            false => format!("; forgot-password page, {origin}"),
        };
        let why = match self.can_mail_reset(&name) {
            Ok(()) => match self.queue_reset(caller, &name, &how).await {
                Ok(_) => return Ok(Response::Done),
                Err(e @ Error::RateLimited { .. }) => e.to_string(),
                Err(Error::NoSuchUser(_)) => return self.forgot_unknown(caller),
                Err(e) => return Err(e),
            },
            Err(Error::NoSuchUser(_)) => return self.forgot_unknown(caller),
            Err(e @ (Error::InvalidInput(_) | Error::SsoAccount(_))) => e.to_string(),
            Err(e) => return Err(e),
        };
        let detail = format!("no mail sent: {why}{how}");
        let event = Event::by(caller, Action::ResetRequested, Outcome::Denied, detail);
        match self
            .record(&name, crate::time::now(), |_, _| Ok(event.into()))
            .await
        {
            Ok(()) | Err(Error::NoSuchUser(_)) => Ok(Response::Done),
            Err(e) => Err(e),
        }
    }

    /// A forgot-password request for a name that is no account: logged (without the
    /// name, which may be a password typed into the wrong field), answered as any other.
    fn forgot_unknown(&self, caller: &Caller) -> Result<Response, Error> {
        self.warn_denied(caller, "forgot-password request for an unknown account");
        Ok(Response::Done)
    }
}
