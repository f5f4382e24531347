//! Queueing mail inside account transactions, waking the couriers, and the `outbox`
//! listing. Delivery itself is the outbox's (`crate::outbox`).

use super::Service;
use crate::error::Error;
use crate::outbox::mail;
use crate::protocol::{OutboxEntry, Response, MAX_PAGE};
use crate::store::{Channel, Effects, OutboxItem};
use crate::vault::context;

impl Service {
    /// Add a mail to `effects`, sealed, to be queued with the account change.
    pub(super) fn queue_mail(
        &self,
        effects: &mut Effects,
        account: &str,
        to: &str,
        subject: &str,
        body: String,
        now: u64,
    ) -> Result<(), Error> {
        let composed = mail::compose(&self.config().mail.from, to, subject, body)?;
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

    /// Tell the couriers there is something new (once it is durable).
    pub(super) fn wake_outbox(&self) {
        self.outbox.wake();
    }

    pub fn outbox(&self, after: Option<u64>, limit: u32) -> Result<Response, Error> {
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
                }
            })
            .collect();
        Ok(Response::Outbox { messages, next })
    }
}
