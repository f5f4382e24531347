//! An admin's `outbox retry`: what a message becomes when it is put back in the queue.
//! Pure: the caller stores the result.
//!
//! A given-up mail starts a new retry period from now (`outbox.give_up` counts from
//! `created`); one still queued is only made due now. An SMS login code is never sent
//! after its validity (`sms.code_ttl` from when it was queued): such a message is dropped
//! instead, and it keeps its `created`, so the courier still gives up on it at the end of
//! its validity.

use std::time::Duration;

use super::expired;
use crate::store::{ChannelKind, OutboxItem};

/// What `outbox retry` does to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeued {
    /// Back in the queue, due now.
    Queued(OutboxItem),
    /// An SMS code past its validity: removed, never sent.
    Dropped,
}

pub fn requeue(item: &OutboxItem, now: u64, sms_code_ttl: Duration) -> Requeued {
    let mut item = item.clone();
    match item.channel.kind() {
        ChannelKind::Sms if expired(sms_code_ttl, item.created, now) => return Requeued::Dropped,
        ChannelKind::Sms => {}
        ChannelKind::Mail if item.failed => item.created = now,
        ChannelKind::Mail => {}
    }
    item.failed = false;
    item.next_attempt = now;
    Requeued::Queued(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Channel;

    const TTL: Duration = Duration::from_secs(300);

    fn failed(channel: Channel) -> OutboxItem {
        let mut item = OutboxItem::queued("a", channel, vec![1], 1000);
        item.failed = true;
        item.attempts = 4;
        item.next_attempt = 1200;
        item
    }

    fn sms() -> Channel {
        Channel::Sms {
            to: "+4930901820".into(),
        }
    }

    #[test]
    fn a_given_up_mail_gets_a_new_retry_period_due_now() {
        let mail = failed(Channel::Mail {
            from: "f@example.org".into(),
            to: "t@example.org".into(),
            subject: "s".into(),
        });
        let Requeued::Queued(item) = requeue(&mail, 90_000, TTL) else {
            panic!("dropped a mail");
        };
        assert!(!item.failed);
        assert_eq!((item.created, item.next_attempt), (90_000, 90_000));
        assert_eq!(item.attempts, 4, "the count of attempts stays");
    }

    #[test]
    fn an_sms_code_is_retried_only_while_it_is_valid() {
        let code = failed(sms());
        let Requeued::Queued(item) = requeue(&code, 1000 + 299, TTL) else {
            panic!("dropped a valid code");
        };
        assert_eq!((item.created, item.next_attempt), (1000, 1299));
        assert!(!item.failed);
        assert_eq!(requeue(&code, 1000 + 300, TTL), Requeued::Dropped);
    }
}
