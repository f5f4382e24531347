//! Queueing mail inside account transactions, and delivering what is due.

use tokio_util::sync::CancellationToken;

use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::error::Error;
use crate::outbox::{expired, mail, mask_address, next_attempt};
use crate::protocol::{OutboxEntry, Response, MAX_PAGE};
use crate::store::{Channel, Effects, OutboxItem};
use crate::time;
use crate::vault::context;

const DAEMON: &str = "authd";

/// How a queued message is named in logs and audit events.
struct Described {
    kind: &'static str,
    subject: String,
    masked: String,
    delivered: Action,
    failed: Action,
}

impl Described {
    fn of(channel: &Channel) -> Described {
        match channel {
            Channel::Mail { to, subject, .. } => Described {
                kind: "mail",
                subject: subject.clone(),
                masked: mask_address(to),
                delivered: Action::MailDelivered,
                failed: Action::MailFailed,
            },
            Channel::Sms { to } => Described {
                kind: "sms",
                subject: "login code".into(),
                masked: crate::sms::mask_phone(to),
                delivered: Action::SmsDelivered,
                failed: Action::SmsFailed,
            },
        }
    }
}

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

    /// Tell the delivery task there is something new.
    pub(super) fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }

    /// Resolves when a message was queued since the last call.
    pub async fn outbox_queued(&self) {
        self.outbox_wake.notified().await
    }

    /// Try every message that is due, until `stop` is cancelled; returns when the next
    /// retry falls due.
    pub async fn deliver_due(&self, stop: &CancellationToken) -> Result<Option<u64>, Error> {
        let (items, _) = self.store.outbox(None, usize::MAX)?;
        let mut next_due: Option<u64> = None;
        for item in items.into_iter().filter(|i| !i.failed) {
            if stop.is_cancelled() {
                break;
            }
            let now = time::now();
            let retry = if item.next_attempt <= now {
                self.deliver(item, now).await?
            } else {
                Some(item.next_attempt)
            };
            if let Some(at) = retry {
                next_due = Some(next_due.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next_due)
    }

    /// One attempt; returns when to try again, if ever.
    async fn deliver(&self, mut item: OutboxItem, now: u64) -> Result<Option<u64>, Error> {
        let described = Described::of(&item.channel);
        let (subject, masked) = (described.subject, described.masked);
        let sent = match self
            .vault
            .open(&context(described.kind, &item.account), &item.sealed)
        {
            Err(e) => Err(e.to_string()),
            Ok(bytes) => {
                let (mail, sms) = (self.mail.clone(), self.sms.clone());
                let (channel, id) = (item.channel.clone(), item.id);
                tokio::task::spawn_blocking(move || match channel {
                    Channel::Mail { from, to, .. } => mail.send(&from, &to, &bytes),
                    Channel::Sms { to } => sms.send(id, &to, &bytes),
                })
                .await
                .unwrap_or_else(|e| Err(format!("delivery task failed: {e}")))
            }
        };
        let (retry, event) = match sent {
            Ok(()) => {
                tracing::info!(id = item.id, account = %item.account, to = %masked, subject, "message delivered");
                let detail = format!("{subject} to {masked}");
                let event = Event::new(described.delivered, Outcome::Ok, DAEMON, detail);
                self.store
                    .outbox_settle(item.id, None, &item.account, Some(&event), now)?;
                (None, Some(event))
            }
            Err(error) => {
                item.attempts += 1;
                item.last_error = Some(error.chars().take(300).collect());
                // A login code is worthless once expired: stop trying then.
                let give_up = match item.channel {
                    Channel::Sms { .. } => {
                        self.config().outbox.give_up.min(self.config().sms.code_ttl)
                    }
                    Channel::Mail { .. } => self.config().outbox.give_up,
                };
                if expired(give_up, item.created, now) {
                    item.failed = true;
                    tracing::error!(id = item.id, account = %item.account, to = %masked, %error, "message failed; giving up");
                    let detail = format!(
                        "{subject} to {masked}: gave up after {} attempts",
                        item.attempts
                    );
                    let event = Event::new(described.failed, Outcome::Denied, DAEMON, detail);
                    self.store.outbox_settle(
                        item.id,
                        Some(&item),
                        &item.account,
                        Some(&event),
                        now,
                    )?;
                    (None, Some(event))
                } else {
                    item.next_attempt = next_attempt(&self.config().outbox, item.attempts, now);
                    tracing::warn!(id = item.id, to = %masked, %error, retry_at = %time::format(item.next_attempt), "message not delivered; will retry");
                    self.store
                        .outbox_settle(item.id, Some(&item), &item.account, None, now)?;
                    (Some(item.next_attempt), None)
                }
            }
        };
        self.store.durable().await?;
        if let Some(event) = event {
            event.log(&item.account);
        }
        Ok(retry)
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
                    channel: Described::of(&i.channel).kind.into(),
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
