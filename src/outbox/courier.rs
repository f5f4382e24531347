//! A courier: delivers the messages of one channel, one at a time, the earliest due
//! first, paging through the due index (nothing else is read), and records each outcome
//! with its audit event. It wakes when a message is queued, when a retry falls due, and
//! at least once a minute.
//!
//! Couriers share nothing but the store: a stalled mail server holds up only mail. At
//! shutdown a courier finishes the attempt in hand (bounded by `attempt_timeout`) and
//! stops; the rest stay queued for the next start.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{expired, mask_address, next_attempt, Outbox, SendError};
use crate::audit::{Action, Event, Outcome};
use crate::error::Error;
use crate::store::{Channel, ChannelKind, OutboxItem};
use crate::time;
use crate::vault::context;

/// Longest sleep between looks at the queue (a safety net; queuing wakes the courier).
const MAX_IDLE: Duration = Duration::from_secs(60);

/// Due messages read from the index at a time.
const PAGE: usize = 32;

/// The actor of the delivery audit events.
const DAEMON: &str = "authd";

pub(super) async fn run(outbox: Arc<Outbox>, kind: ChannelKind, shutdown: CancellationToken) {
    loop {
        let next_due = match deliver_due(&outbox, kind, &shutdown).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(channel = kind.as_str(), error = %crate::error::DisplayChain(&e), "outbox delivery failed");
                Some(time::now() + 5)
            }
        };
        let wait = next_due
            .map(|at| Duration::from_secs(at.saturating_sub(time::now())))
            .unwrap_or(MAX_IDLE)
            .min(MAX_IDLE);
        tokio::select! {
            _ = outbox.wake_signal(kind).notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Attempt every message on `kind` that is due, page by page, until none is due or
/// `stop` is cancelled; returns when the next one falls due.
async fn deliver_due(
    outbox: &Outbox,
    kind: ChannelKind,
    stop: &CancellationToken,
) -> Result<Option<u64>, Error> {
    loop {
        // Each attempt takes its message out of the due range (delivered, failed, or
        // due again later), so the next page starts at the front again.
        let page = outbox.store.outbox_due(kind, time::now(), PAGE)?;
        if page.is_empty() {
            break;
        }
        for item in page {
            if stop.is_cancelled() {
                return Ok(None);
            }
            attempt(outbox, item).await?;
        }
    }
    outbox.store.outbox_next_due(kind)
}

/// How a queued message is named in logs and audit events.
struct Described {
    subject: String,
    masked: String,
    delivered: Action,
    failed: Action,
}

impl Described {
    fn of(channel: &Channel) -> Described {
        match channel {
            Channel::Mail { to, subject, .. } => Described {
                subject: subject.clone(),
                masked: mask_address(to),
                delivered: Action::MailDelivered,
                failed: Action::MailFailed,
            },
            Channel::Sms { to } => Described {
                subject: "login code".into(),
                masked: crate::sms::mask_phone(to),
                delivered: Action::SmsDelivered,
                failed: Action::SmsFailed,
            },
        }
    }
}

/// One attempt, and its outcome recorded durably.
async fn attempt(outbox: &Outbox, mut item: OutboxItem) -> Result<(), Error> {
    let settings = outbox.settings();
    let kind = item.channel.kind();
    let Described {
        subject,
        masked,
        delivered,
        failed,
    } = Described::of(&item.channel);
    let sent = match outbox
        .vault
        .open(&context(kind.as_str(), &item.account), &item.sealed)
    {
        Err(e) => Err(SendError::Transient(e.to_string())),
        Ok(bytes) => {
            let (settings, channel, id) = (Arc::clone(&settings), item.channel.clone(), item.id);
            // Bounded by the transport (attempt_timeout), so awaiting it is too.
            tokio::task::spawn_blocking(move || match channel {
                Channel::Mail { from, to, .. } => settings.mail.send(&from, &to, &bytes),
                Channel::Sms { to } => settings.sms.send(id, &to, &bytes),
            })
            .await
            .unwrap_or_else(|e| Err(SendError::Transient(format!("delivery task failed: {e}"))))
        }
    };
    // Retries count from the end of this attempt.
    let now = time::now();
    let (id, account) = (item.id, item.account.clone());
    let event = match sent {
        Ok(()) => {
            tracing::info!(id, account = %account, to = %masked, subject, "message delivered");
            let detail = format!("{subject} to {masked}");
            let event = Event::new(delivered, Outcome::Ok, DAEMON, detail);
            // Kept without its body for `outbox.keep_delivered`, or removed now.
            let kept = (!settings.retry.keep_delivered.is_zero()).then(|| item.delivered_at(now));
            outbox
                .store
                .outbox_settle(id, kept.as_ref(), &account, Some(&event), now)?;
            Some(event)
        }
        Err(error) => {
            item.attempts += 1;
            item.last_error = Some(error.to_string().chars().take(300).collect());
            let give_up = match &error {
                SendError::Permanent(_) => Some(format!(
                    "{subject} to {masked}: refused (permanent failure), not retried"
                )),
                SendError::Transient(_) if expired(settings.give_up(kind), item.created, now) => {
                    Some(format!(
                        "{subject} to {masked}: gave up after {}",
                        crate::words::count(item.attempts, "attempt", "attempts")
                    ))
                }
                SendError::Transient(_) => None,
            };
            match give_up {
                Some(detail) => {
                    item.failed = true;
                    tracing::error!(id, account = %account, to = %masked, %error, "message failed; giving up");
                    let event = Event::new(failed, Outcome::Denied, DAEMON, detail);
                    outbox
                        .store
                        .outbox_settle(id, Some(&item), &account, Some(&event), now)?;
                    Some(event)
                }
                None => {
                    item.next_attempt = next_attempt(&settings.retry, item.attempts, now);
                    tracing::warn!(id, to = %masked, %error, retry_at = %time::format(item.next_attempt), "message not delivered; will retry");
                    outbox
                        .store
                        .outbox_settle(id, Some(&item), &account, None, now)?;
                    None
                }
            }
        }
    };
    outbox.store.durable().await?;
    if let Some(event) = event {
        event.log(&account);
    }
    Ok(())
}
