//! `outbox retry` and `outbox purge`: an admin puts given-up messages back in the queue
//! or removes them (and removes records of delivered ones). Each message changed is one store change, decided on the message as
//! it is then (a courier may have settled it meanwhile), with an audit event in its
//! account's history; the answer comes once all of them are durable.

use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::outbox::requeue::{requeue, Requeued};
use crate::protocol::{OutboxPurge, OutboxRetry, OutboxTarget, Response, MAX_PAGE};
use crate::store::{OutboxItem, OutboxState};
use crate::time;

/// What a change did to one message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Done {
    Changed,
    /// An SMS code past its validity, dropped by a retry.
    Dropped,
}

impl Service {
    pub async fn outbox_retry(&self, caller: &Caller, req: OutboxRetry) -> Result<Response, Error> {
        let ttl = self.config().sms.code_ttl;
        let answer = self
            .outbox_each(req.target, |item, now| {
                let what = describe(item);
                if item.state() == OutboxState::Delivered {
                    return Err(Error::InvalidInput(format!(
                        "message {} was delivered; there is nothing to retry",
                        item.id
                    )));
                }
                Ok(match requeue(item, now, ttl) {
                    Requeued::Queued(new) => {
                        let detail = format!("message {} ({what}) queued again", item.id);
                        let event = Event::by(caller, Action::OutboxRetried, Outcome::Ok, detail);
                        (Some(new), event, Done::Changed)
                    }
                    Requeued::Dropped => {
                        let detail = format!(
                            "message {} ({what}) dropped: the code's validity has passed",
                            item.id
                        );
                        let event =
                            Event::by(caller, Action::OutboxRetried, Outcome::Denied, detail);
                        (None, event, Done::Dropped)
                    }
                })
            })
            .await?;
        self.wake_outbox();
        Ok(answer)
    }

    pub async fn outbox_purge(&self, caller: &Caller, req: OutboxPurge) -> Result<Response, Error> {
        self.outbox_each(req.target, |item, _| {
            let detail = format!("message {} ({}) removed", item.id, describe(item));
            let event = Event::by(caller, Action::OutboxPurged, Outcome::Ok, detail);
            Ok((None, event, Done::Changed))
        })
        .await
    }

    /// Apply `change` to each message `target` names, then wait until it is durable and
    /// log the events. An id that names no message is `InvalidInput`.
    async fn outbox_each(
        &self,
        target: OutboxTarget,
        mut change: impl FnMut(&OutboxItem, u64) -> Result<(Option<OutboxItem>, Event, Done), Error>,
    ) -> Result<Response, Error> {
        let ids = match target {
            OutboxTarget::Id(id) => vec![id],
            OutboxTarget::Failed | OutboxTarget::DeliveredBefore(_) => self.ids_of(target)?,
        };
        let mut logged = Vec::new();
        let (mut count, mut dropped) = (0u32, 0u32);
        for id in ids {
            let now = time::now();
            let mut outcome = None;
            let found = self.store.outbox_change(id, now, &mut |item| {
                if !selects(target, item) {
                    // Changed since the listing (retried, delivered): leave it as it is.
                    return Ok(None);
                }
                let (new, event, done) = change(item, now)?;
                outcome = Some((item.account.clone(), event.clone(), done));
                Ok(Some((new, event)))
            })?;
            if !found && matches!(target, OutboxTarget::Id(_)) {
                return Err(Error::InvalidInput(format!(
                    "no message {id} in the outbox (see `authctl outbox`)"
                )));
            }
            if let Some((account, event, done)) = outcome {
                count += 1;
                if done == Done::Dropped {
                    dropped += 1;
                }
                logged.push((account, event));
            }
        }
        self.store.durable().await?;
        for (account, event) in &logged {
            event.log(account);
        }
        Ok(Response::OutboxChanged { count, dropped })
    }

    /// The ids of every message `target` selects, page by page.
    fn ids_of(&self, target: OutboxTarget) -> Result<Vec<u64>, Error> {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let (items, more) = self.store.outbox(after, MAX_PAGE as usize)?;
            after = items.last().map(|i| i.id);
            ids.extend(items.iter().filter(|i| selects(target, i)).map(|i| i.id));
            if !more || after.is_none() {
                return Ok(ids);
            }
        }
    }
}

/// Does `target` select `item` as it is now? (It may have changed since the listing.)
fn selects(target: OutboxTarget, item: &OutboxItem) -> bool {
    match target {
        OutboxTarget::Id(id) => item.id == id,
        OutboxTarget::Failed => item.state() == OutboxState::Failed,
        OutboxTarget::DeliveredBefore(at) => item.delivered.is_some_and(|d| d < at),
    }
}

/// A message as the audit detail names it: channel and masked recipient, never content.
fn describe(item: &OutboxItem) -> String {
    use crate::store::Channel;
    match &item.channel {
        Channel::Mail { to, subject, .. } => {
            format!("mail to {}: {subject}", crate::outbox::mask_address(to))
        }
        Channel::Sms { to } => format!("sms to {}", crate::sms::mask_phone(to)),
    }
}
