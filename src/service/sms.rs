//! SMS verification: enrolling a phone, confirming it with a code, and sending login
//! codes — each send rate limited and queued through the durable outbox.

use super::login::refuse_sso;
use super::Service;
use crate::account::check_phone;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{ConfirmSms, EnableSms, Response, Secret, SendCode};
use crate::sms::{self, SmsCheck};
use crate::store::{Account, Channel, Effects, OutboxItem, SmsEnrolment};
use crate::time;
use crate::vault::context;

impl Service {
    /// Make a fresh code for `acc`, queue it by SMS (rate limits apply), and return the
    /// masked number and when the code expires.
    pub(super) fn queue_sms_code(
        &self,
        acc: &mut Account,
        effects: &mut Effects,
        now: u64,
    ) -> Result<(String, u64), Error> {
        let phone = acc.phone.clone().ok_or_else(|| {
            Error::InvalidInput(format!("account `{}` has no phone number", acc.name))
        })?;
        // The policy may have changed since enrolment.
        sms::check_country(&self.config().sms, &phone)?;
        sms::rate_check(&self.config().sms, &mut acc.sms_sent, now)?;
        let (code, pending) = sms::new_code(&self.vault, &acc.name, &self.config().sms, now)?;
        let expires = pending.expires;
        acc.sms_code = Some(pending);
        let ttl_minutes = self.config().sms.code_ttl.as_secs().div_ceil(60);
        let text = sms::message(&self.config().totp.issuer, &code, ttl_minutes);
        let sealed = self
            .vault
            .seal(&context("sms", &acc.name), text.as_bytes())?;
        let channel = Channel::Sms { to: phone.clone() };
        effects
            .messages
            .push(OutboxItem::queued(&acc.name, channel, sealed, now));
        Ok((sms::mask_phone(&phone), expires))
    }

    /// A code is queued: make it durable, wake the couriers, tell the client.
    async fn code_sent(
        &self,
        name: &str,
        event: &Event,
        (to, expires): (String, u64),
    ) -> Result<Response, Error> {
        self.commit(name, event).await?;
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
        let now = time::now();
        let (sent, event) = self.store.update_with(&name, now, |acc, effects| {
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
            Ok(((sent, event.clone()), event))
        })?;
        self.code_sent(&name, &event, sent).await
    }

    pub async fn confirm_sms(&self, caller: &Caller, req: ConfirmSms) -> Result<Response, Error> {
        let ConfirmSms { name, code } = req;
        self.refuse_if_locked(caller, &self.existing(&name)?, "confirm-sms")
            .await?;
        let now = time::now();
        let (result, event) = self.store.update(&name, now, |acc| {
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
            if let Some((error, event)) = self.locked_step(caller, acc, now, "confirm-sms") {
                return Ok(((Err(error), event.clone()), event));
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
                    return Ok(((Err(error), event.clone()), event));
                }
            }
            let (codes, event) = self.activate(caller, acc, Action::SmsConfirmed, |acc| {
                acc.sms = Some(SmsEnrolment {
                    active: true,
                    since: now,
                });
            })?;
            Ok(((Ok(codes), event.clone()), event))
        })?;
        self.commit(&name, &event).await?;
        let codes = result?;
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
        let (sent, event) = self.store.update_with(&name, now, |acc, effects| {
            if acc.sms.is_none() {
                return Err(Error::NotEnrolled(format!(
                    "`{}` has no SMS verification; run enable-sms first",
                    acc.name
                )));
            }
            let sent = self.queue_sms_code(acc, effects, now)?;
            let detail = format!("code sent to {}", sent.0);
            let event = Event::by(caller, Action::SmsCodeSent, Outcome::Ok, detail);
            Ok(((sent, event.clone()), event))
        })?;
        self.code_sent(&name, &event, sent).await
    }
}
