//! Outbox records: a queued, failed or delivered message, its channel and how it counts.

use serde::{Deserialize, Serialize};

/// Where a queued message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    /// An RFC 5322 message; `sealed` holds its bytes, sealed by the vault (it may carry
    /// a reset token).
    Mail {
        from: String,
        to: String,
        subject: String,
    },
    /// A text message to an E.164 number; `sealed` holds the text.
    Sms { to: String },
}

/// Which courier delivers a message: each channel is delivered on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    Mail,
    Sms,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 2] = [ChannelKind::Mail, ChannelKind::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Mail => "mail",
            ChannelKind::Sms => "sms",
        }
    }
}

impl Channel {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Channel::Mail { .. } => ChannelKind::Mail,
            Channel::Sms { .. } => ChannelKind::Sms,
        }
    }
}

impl OutboxItem {
    /// A new message, due now; the store assigns its id when the transaction commits.
    pub fn queued(account: &str, channel: Channel, sealed: Vec<u8>, now: u64) -> OutboxItem {
        OutboxItem {
            id: 0,
            account: account.to_string(),
            channel,
            sealed,
            created: now,
            attempts: 0,
            next_attempt: now,
            last_error: None,
            failed: false,
            delivered: None,
        }
    }

    /// Where the message stands; one rule for every backend and listing.
    pub fn state(&self) -> OutboxState {
        match (self.delivered, self.failed) {
            (Some(_), _) => OutboxState::Delivered,
            (None, true) => OutboxState::Failed,
            (None, false) => OutboxState::Queued,
        }
    }

    /// What is kept of it once delivered (`outbox.keep_delivered`): when, to whom, how
    /// many attempts; never its body, which may hold a live reset token.
    pub fn delivered_at(&self, now: u64) -> OutboxItem {
        OutboxItem {
            sealed: Vec::new(),
            last_error: None,
            failed: false,
            delivered: Some(now),
            ..self.clone()
        }
    }
}

/// Where an outbox message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Queued,
    /// Given up: kept until an admin retries or purges it.
    Failed,
    /// Delivered: a record without its body, kept for `outbox.keep_delivered`.
    Delivered,
}

impl OutboxState {
    /// How a message in this state counts in the store's (queued, failed) totals.
    pub fn counts(self) -> (i64, i64) {
        match self {
            OutboxState::Queued => (1, 0),
            OutboxState::Failed => (0, 1),
            OutboxState::Delivered => (0, 0),
        }
    }
}

/// One message in the durable outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: u64,
    /// The account it concerns, for its audit history.
    pub account: String,
    pub channel: Channel,
    pub sealed: Vec<u8>,
    pub created: u64,
    pub attempts: u32,
    pub next_attempt: u64,
    pub last_error: Option<String>,
    /// Gave up: kept for `authctl outbox` until an admin looks.
    pub failed: bool,
    /// When it was delivered (then `sealed` is empty); written as `OutboxRecord::V2`.
    pub delivered: Option<u64>,
}
