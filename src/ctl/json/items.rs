//! The entries of lists: security keys, portal sessions, outbox messages, audit events
//! and `list-users --long`'s accounts (objects `key`, `session`, `message`, `event` and
//! `account_line` of authctl(1) JSON OUTPUT).

use serde::Serialize;

use super::actor::Actor;
use super::{at, at_opt};
use authd_proto::protocol::{AccountSummary, AuditEntry, KeyInfo, OutboxEntry, SessionInfo};

#[derive(Debug, Serialize)]
pub struct Key<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub created: String,
    pub last_used: Option<String>,
    pub counter: u32,
    pub transports: &'a [String],
}

impl<'a> From<&'a KeyInfo> for Key<'a> {
    fn from(k: &'a KeyInfo) -> Self {
        Key {
            id: &k.id,
            name: &k.name,
            created: at(k.created),
            last_used: at_opt(k.last_used),
            counter: k.counter,
            transports: &k.transports,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Session<'a> {
    pub id: u64,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub origin: &'a str,
}

impl<'a> From<&'a SessionInfo> for Session<'a> {
    fn from(s: &'a SessionInfo) -> Self {
        Session {
            id: s.id,
            created: at(s.created),
            last_used: at(s.last_used),
            expires: at(s.expires),
            origin: &s.origin,
        }
    }
}

/// One outbox message (never its body).
#[derive(Debug, Serialize)]
pub struct Message<'a> {
    pub id: u64,
    pub account: &'a str,
    pub channel: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    /// `queued`, `failed` or `delivered`.
    pub state: &'static str,
    pub created: String,
    pub attempts: u32,
    pub next_attempt: String,
    pub last_error: Option<&'a str>,
    /// When it was delivered; `None` until then.
    pub delivered: Option<String>,
}

impl<'a> From<&'a OutboxEntry> for Message<'a> {
    fn from(m: &'a OutboxEntry) -> Self {
        Message {
            id: m.id,
            account: &m.account,
            channel: &m.channel,
            to: &m.to,
            subject: &m.subject,
            state: match (m.delivered, m.failed) {
                (Some(_), _) => "delivered",
                (None, true) => "failed",
                (None, false) => "queued",
            },
            created: at(m.created),
            attempts: m.attempts,
            next_attempt: at(m.next_attempt),
            last_error: m.last_error.as_deref(),
            delivered: m.delivered.map(at),
        }
    }
}

/// One audit event; who asked is an `actor` object.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    pub seq: u64,
    pub at: String,
    pub action: &'a str,
    pub outcome: &'a str,
    pub actor: Actor,
    pub detail: &'a str,
}

impl<'a> From<&'a AuditEntry> for Event<'a> {
    fn from(e: &'a AuditEntry) -> Self {
        Event {
            seq: e.seq,
            at: at(e.at),
            action: &e.action,
            outcome: &e.outcome,
            actor: Actor::parse(&e.actor, &e.detail),
            detail: &e.detail,
        }
    }
}

/// One account of `list-users --long`.
#[derive(Debug, Serialize)]
pub struct AccountLine<'a> {
    pub name: &'a str,
    pub status: String,
    pub disabled: bool,
    pub expired: bool,
    pub locked_until: Option<String>,
    pub password_change_required: bool,
    pub password_set: bool,
    pub sso: Option<&'a str>,
    pub second_factors: Vec<&'static str>,
    pub password_changed: Option<String>,
    pub password_age_days: Option<u64>,
    pub last_login: Option<String>,
    pub last_login_service: Option<&'a str>,
}

impl<'a> AccountLine<'a> {
    /// `status`, `second_factors` and the age in days as the text form shows them.
    pub fn new(
        a: &'a AccountSummary,
        status: String,
        second_factors: Vec<&'static str>,
        password_age_days: Option<u64>,
    ) -> Self {
        AccountLine {
            name: &a.name,
            status,
            disabled: a.disabled,
            expired: a.expired,
            locked_until: at_opt(a.locked_until),
            password_change_required: a.password_change_required,
            password_set: a.password_set,
            sso: a.sso.as_deref(),
            second_factors,
            password_changed: at_opt(a.password_changed),
            password_age_days,
            last_login: at_opt(a.last_login),
            last_login_service: a.last_login_service.as_deref(),
        }
    }
}
