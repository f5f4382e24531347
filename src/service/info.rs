//! Read-only answers: daemon status and an account's audit history.

use super::Service;
use crate::error::Error;
use crate::protocol::{request, AuditEntry, Response, StatusInfo, MAX_PAGE, PROTOCOL_VERSION};
use crate::store::{records, SCHEMA_VERSION};

/// A stored history entry as the wire shows it: the two types are separate so that a
/// change to the protocol never changes what is on disk.
fn on_the_wire(e: records::AuditEntry) -> AuditEntry {
    let (action, outcome, actor, detail) = (e.action, e.outcome, e.actor, e.detail);
    AuditEntry {
        seq: e.seq,
        at: e.at,
        action,
        outcome,
        actor,
        detail,
    }
}

impl Service {
    pub fn status(&self) -> Result<Response, Error> {
        let counts = self.store.counts()?;
        Ok(Response::Status(StatusInfo {
            server_version: env!("CARGO_PKG_VERSION").to_string(),
            protocol: PROTOCOL_VERSION,
            uptime_secs: self.started.elapsed().as_secs(),
            accounts: counts.accounts,
            schema_version: SCHEMA_VERSION,
            outbox_queued: counts.outbox_queued,
            outbox_failed: counts.outbox_failed,
            hash_workers: self.config().hash_workers() as u32,
            hashes: self.hasher.hashes(),
        }))
    }

    pub fn log(&self, req: request::Log) -> Result<Response, Error> {
        let request::Log {
            name,
            before,
            limit,
        } = req;
        let name = name.as_str();
        if self.store.account(name)?.is_none() {
            return Err(Error::NoSuchUser(name.to_string()));
        }
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let (events, more) = self.store.history(name, before, limit)?;
        let next = if more {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        let events = events.into_iter().map(on_the_wire).collect();
        Ok(Response::Log { events, next })
    }
}
