//! Read-only answers: daemon status and an account's audit history.

use super::Service;
use crate::error::Error;
use crate::protocol::{request, AuditEntry, Response, StatusInfo, MAX_PAGE, PROTOCOL_VERSION};
use crate::store::{records, ChannelKind, SCHEMA_VERSION};

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

/// Outbox messages read per page while `metrics` counts them by channel; past
/// `METRICS_OUTBOX_LIMIT` messages the count stops (an outbox that large is a problem
/// the totals in `status` already show).
const METRICS_PAGE: usize = 1000;
const METRICS_OUTBOX_LIMIT: usize = 100_000;

impl Service {
    /// `authctl metrics`: the counters, with the store's gauges read now.
    pub fn metrics(&self) -> Result<Response, Error> {
        let counts = self.store.counts()?;
        let mut by_channel = ChannelKind::ALL.map(|kind| (kind.as_str(), 0u64, 0u64));
        let (mut after, mut seen) = (None, 0);
        loop {
            let (page, more) = self.store.outbox(after, METRICS_PAGE)?;
            for item in &page {
                let slot = &mut by_channel[ChannelKind::ALL
                    .iter()
                    .position(|k| *k == item.channel.kind())
                    .unwrap_or(0)];
                let (queued, failed) = item.state().counts();
                slot.1 += queued as u64;
                slot.2 += failed as u64;
            }
            seen += page.len();
            after = page.last().map(|item| item.id);
            if !more || after.is_none() || seen >= METRICS_OUTBOX_LIMIT {
                break;
            }
        }
        let gauges = crate::metrics::Gauges {
            uptime_secs: self.started.elapsed().as_secs(),
            accounts: counts.accounts,
            outbox: by_channel.to_vec(),
        };
        Ok(Response::Metrics {
            text: crate::metrics::exposition(&gauges),
        })
    }
}
