//! Queueing mail and SMS codes inside account transactions, waking the couriers, and
//! the `outbox` listing. Delivery itself is the outbox's (`crate::outbox`).

use super::Service;
use crate::error::Error;
use crate::outbox::mail::{self, ComposeError, Composed};
use crate::protocol::{request, OutboxEntry, Response, MAX_PAGE};
use crate::sms;
use crate::store::{Account, Channel, Effects, OutboxItem};
use crate::vault::context;

impl Service {
    /// Compose a mail and add it to `effects`, sealed, to be queued with the account
    /// change. For requests whose whole point is the mail (a reset link): an address
    /// that cannot be mailed refuses the request (`InvalidInput`), saying what to fix.
    pub(super) fn queue_mail(
        &self,
        effects: &mut Effects,
        account: &str,
        to: &str,
        subject: &str,
        body: String,
        now: u64,
    ) -> Result<(), Error> {
        let composed = self.compose_mail(to, subject, body).map_err(|e| match e {
            ComposeError::To(why) => Error::InvalidInput(format!(
                "account `{account}`'s email address cannot be mailed ({why}); give it \
                 another with `authctl set-user {account} --email ADDRESS`"
            )),
            other => Error::Internal(format!("cannot compose mail: {other}")),
        })?;
        self.queue_composed(effects, account, composed, now)
    }

    pub(super) fn compose_mail(
        &self,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<Composed, ComposeError> {
        mail::compose(&self.config().mail.from, to, subject, body)
    }

    /// Add a composed mail to `effects`, sealed for the outbox.
    pub(super) fn queue_composed(
        &self,
        effects: &mut Effects,
        account: &str,
        composed: Composed,
        now: u64,
    ) -> Result<(), Error> {
        let sealed = self
            .vault
            .seal(&context("mail", account), &composed.bytes)?;
        let channel = Channel::Mail {
            from: composed.from,
            to: composed.to,
            subject: composed.subject,
        };
        effects
            .messages
            .push(OutboxItem::queued(account, channel, sealed, now));
        Ok(())
    }

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

    /// Tell the couriers there is something new (once it is durable).
    pub(super) fn wake_outbox(&self) {
        self.outbox.wake();
    }

    pub fn outbox(&self, req: request::Outbox) -> Result<Response, Error> {
        let request::Outbox { after, limit } = req;
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let (items, more) = self.store.outbox(after, limit)?;
        let next = if more {
            items.last().map(|i| i.id)
        } else {
            None
        };
        let messages = items
            .into_iter()
            .map(|i| {
                let (to, subject) = match &i.channel {
                    Channel::Mail { to, subject, .. } => (to.clone(), subject.clone()),
                    Channel::Sms { to } => (to.clone(), "login code".to_string()),
                };
                OutboxEntry {
                    id: i.id,
                    account: i.account,
                    channel: i.channel.kind().as_str().into(),
                    to,
                    subject,
                    created: i.created,
                    attempts: i.attempts,
                    next_attempt: i.next_attempt,
                    last_error: i.last_error,
                    failed: i.failed,
                    delivered: i.delivered,
                }
            })
            .collect();
        Ok(Response::Outbox { messages, next })
    }
}
