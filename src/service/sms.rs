//! SMS verification: enrolling a phone, confirming it with a code, and sending login
//! codes — each send rate limited and queued through the durable outbox. The portal
//! sends a login code for a pending sign-in (`PortalSendCode`): the challenge its
//! `PortalSignIn` got must be live and bound to that account and portal uid; it is
//! looked at, not spent, so the code then goes with it in `PortalCode`.

use std::time::Instant;

use super::{refuse_sso, Service};
use crate::account::check_phone;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{
    ConfirmSms, EnableSms, PortalSendCode, Response, SecondFactor, Secret, SendCode,
};
use crate::sms::{self, SmsCheck};
use crate::store::{Decided, SmsEnrolment};
use crate::time;

impl Service {
    /// A code is queued and durable: wake the couriers, tell the client.
    fn code_sent(&self, (to, expires): (String, u64)) -> Result<Response, Error> {
        self.wake_outbox();
        Ok(Response::SmsSent { to, expires })
    }

    pub async fn enable_sms(&self, caller: &Caller, req: EnableSms) -> Result<Response, Error> {
        let EnableSms { name, phone, proof } = req;
        let account = self.existing(&name)?;
        if account.sso.is_some() {
            return Err(Error::SsoTwoFactor(name));
        }
        let phone = phone.as_deref().map(check_phone).transpose()?;
        self.prove_own(caller, &name, proof, "enable-sms").await?;
        self.start_sms(caller, &name, phone).await
    }

    /// A pending SMS enrolment (to `phone`, or the account's number) and its code, once
    /// the caller has proved itself (or is an admin, or a portal session with a fresh
    /// proof). `phone` is already checked.
    pub(super) async fn start_sms(
        &self,
        caller: &Caller,
        name: &str,
        phone: Option<String>,
    ) -> Result<Response, Error> {
        let now = time::now();
        let sent = self.record(name, now, |acc, effects| {
            refuse_sso(acc)?;
            if acc.sms.as_ref().is_some_and(|s| s.active) {
                return Err(Error::AlreadyEnrolled(format!(
                    "SMS verification is already on for `{}`; disable it first to change the number",
                    acc.name
                )));
            }
            let mut detail = String::new();
            if let Some(p) = &phone {
                if acc.phone.as_ref() != Some(p) {
                    acc.phone = Some(p.clone());
                    detail.push_str("phone number changed; ");
                }
            }
            let number = acc.phone.clone().ok_or_else(|| {
                Error::InvalidInput(format!(
                    "account `{}` has no phone number: give one with --phone",
                    acc.name
                ))
            })?;
            sms::check_country(&self.config().sms, &number)?;
            acc.sms = Some(SmsEnrolment {
                active: false,
                since: now,
            });
            let sent = self.queue_sms_code(acc, effects, now)?;
            detail.push_str(&format!("pending; code sent to {}", sent.0));
            let event = Event::by(caller, Action::SmsEnrolled, Outcome::Ok, detail);
            Ok(Decided::new(sent, event))
        })
        .await?;
        self.code_sent(sent)
    }

    pub async fn confirm_sms(&self, caller: &Caller, req: ConfirmSms) -> Result<Response, Error> {
        let ConfirmSms { name, code } = req;
        self.refuse_if_locked(caller, &self.existing(&name)?, "confirm-sms")
            .await?;
        let now = time::now();
        let confirmed = self
            .record(&name, now, |acc, _| {
                match &acc.sms {
                    None => {
                        return Err(Error::NotEnrolled(format!(
                            "`{}` has no pending SMS enrolment; run enable-sms first",
                            acc.name
                        )))
                    }
                    Some(s) if s.active => {
                        return Err(Error::AlreadyEnrolled(format!(
                            "SMS verification is already on for `{}`",
                            acc.name
                        )))
                    }
                    Some(_) => {}
                }
                if let Some(locked) = self.locked_step(caller, acc, now, "confirm-sms") {
                    return Ok(locked.map(Err));
                }
                let name = acc.name.clone();
                match sms::check(&self.vault, &name, &mut acc.sms_code, code.expose(), now) {
                    SmsCheck::Valid => {}
                    outcome => {
                        let what = if outcome == SmsCheck::Expired {
                            "confirm-sms: no valid code (expired or used up)"
                        } else {
                            "confirm-sms: wrong code"
                        };
                        let event = self.failure(caller, acc, now, Outcome::Denied, what);
                        let error = if outcome == SmsCheck::Expired {
                            Error::SmsCodeExpired
                        } else {
                            Error::Denied
                        };
                        return Ok(Decided::new(Err(error), event));
                    }
                }
                let activated = self.activate(caller, acc, Action::SmsConfirmed, |acc| {
                    acc.sms = Some(SmsEnrolment {
                        active: true,
                        since: now,
                    });
                })?;
                Ok(activated.map(Ok))
            })
            .await?;
        // Recorded either way: a refusal (a wrong code, a lockout) counts, then is answered.
        let codes = confirmed?;
        Ok(Response::Confirmed {
            recovery_codes: codes.into_iter().map(Secret::new).collect(),
        })
    }

    pub async fn send_code(&self, caller: &Caller, req: SendCode) -> Result<Response, Error> {
        let SendCode { name } = req;
        let account = self.existing(&name)?;
        refuse_sso(&account)?;
        self.refuse_if_locked(caller, &account, "send-code").await?;
        let now = time::now();
        let sent = self
            .record(&name, now, |acc, effects| {
                if acc.sms.is_none() {
                    return Err(Error::NotEnrolled(format!(
                        "`{}` has no SMS verification; run enable-sms first",
                        acc.name
                    )));
                }
                let sent = self.queue_sms_code(acc, effects, now)?;
                let detail = format!("code sent to {}", sent.0);
                let event = Event::by(caller, Action::SmsCodeSent, Outcome::Ok, detail);
                Ok(Decided::new(sent, event))
            })
            .await?;
        self.code_sent(sent)
    }

    /// The portal asks for a login code for a pending sign-in: only with the live
    /// challenge of that account's sign-in through this portal uid, for an account whose
    /// SMS verification is on. Anything else is `denied` and sends nothing.
    pub async fn portal_send_code(
        &self,
        caller: &Caller,
        req: PortalSendCode,
    ) -> Result<Response, Error> {
        let PortalSendCode { name, challenge } = req;
        let uid = caller.peer().uid;
        let Some(stamp) = self.challenges.peek(&challenge, &name, uid, Instant::now()) else {
            let what = "portal request with an unknown, spent or another account's challenge";
            self.warn_denied(caller, what);
            return Err(Error::ChallengeExpired);
        };
        let account = self.existing(&name)?;
        if account.credential_stamp() != stamp {
            return Err(Error::ChallengeExpired);
        }
        if !account.second_factors().contains(&SecondFactor::Sms) {
            return Err(Error::NotEnrolled(format!(
                "`{name}` has no SMS verification"
            )));
        }
        self.send_code(caller, SendCode { name }).await
    }
}
