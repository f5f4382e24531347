//! The outbox shared by every daemon on the database. A courier claims due messages:
//! the rows are locked with `FOR UPDATE SKIP LOCKED` (two daemons never take the same
//! row at once) and leased until `claimed_until` (unix seconds), so no other daemon
//! takes them while the attempt runs; the settlement clears the lease with the outcome.
//! A daemon that dies mid-attempt leaves the lease to run out, and another daemon
//! delivers the message then: at least once to the mail server or SMS gateway in that
//! case (the one attempt may have gone out), exactly once otherwise.
//!
//! A courier holds one claimed message at a time (`CLAIM`), so a lease only has to
//! cover one attempt: twice `outbox.attempt_timeout` plus ten seconds. Daemons' clocks
//! must agree (NTP), as TOTP needs anyway.

use deadpool_postgres::GenericClient;

use super::reads::kind_tag;
use super::writes::{adjust, append_audit, write_audit, AccountWrites, Tx};
use super::{int, pg, PgStore};
use crate::audit::Event;
use crate::error::Error;
use crate::store::records::{decode_account, decode_outbox, encode_account, encode_outbox};
use crate::store::Account;
use crate::store::{ChannelKind, OutboxChange, OutboxItem};

/// Messages one claim takes at most.
const CLAIM: usize = 1;

impl PgStore {
    /// Claim up to `limit` (at most `CLAIM`) messages on `kind` due at `now`, the
    /// earliest first, for `lease` seconds.
    pub(super) fn claim_due(
        &self,
        kind: ChannelKind,
        now: u64,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, Error> {
        let kind = kind_tag(kind);
        let limit = i64::try_from(limit.min(CLAIM)).unwrap_or(1);
        let (now, until) = (int(now), int(now.saturating_add(self.lease)));
        let rows: Vec<(i64, i64, Vec<u8>)> = self.with_conn(move |conn| async move {
            let st = conn
                .prepare_cached(
                    "WITH due AS (\
                       SELECT id FROM outbox \
                       WHERE kind = $1 AND NOT failed AND delivered IS NULL AND next_attempt <= $2 \
                         AND (claimed_until IS NULL OR claimed_until <= $2) \
                       ORDER BY next_attempt, id LIMIT $3 \
                       FOR UPDATE SKIP LOCKED) \
                     UPDATE outbox o SET claimed_until = $4 FROM due WHERE o.id = due.id \
                     RETURNING o.next_attempt, o.id, o.record",
                )
                .await
                .map_err(pg)?;
            let rows = conn
                .query(&st, &[&kind, &now, &limit, &until])
                .await
                .map_err(pg)?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect())
        })?;
        let mut rows = rows;
        rows.sort_by_key(|(at, id, _)| (*at, *id));
        let mut items = Vec::with_capacity(rows.len());
        for (_, id, record) in rows {
            match decode_outbox(&record) {
                Ok(item) => items.push(item),
                // Left claimed and queued: it stays listed for `authctl outbox`.
                Err(e) => tracing::error!(
                    id,
                    error = %crate::error::DisplayChain(&e),
                    "skipping an undecodable outbox message"
                ),
            }
        }
        Ok(items)
    }

    /// Remove up to `limit` messages delivered before `before` (they count neither as
    /// queued nor as failed, so no counter changes).
    pub(super) fn prune_delivered(&self, before: u64, limit: usize) -> Result<u64, Error> {
        let (before, limit) = (int(before), i64::try_from(limit).unwrap_or(i64::MAX));
        self.with_conn(move |conn| async move {
            let removed = conn
                .execute(
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
                     WHERE delivered < $1 ORDER BY delivered LIMIT $2 FOR UPDATE SKIP LOCKED)",
                    &[&before, &limit],
                )
                .await
                .map_err(pg)?;
            Ok(removed)
        })
    }

    /// What an attempt did: `Some` replaces the message (lease cleared), `None` removes
    /// it; `event` goes to the account's history if the account still exists. A message
    /// another daemon settled meanwhile (its lease ran out) is not brought back.
    pub(super) fn settle_message(
        &self,
        id: u64,
        item: Option<&OutboxItem>,
        account: &str,
        event: Option<&Event>,
        now: u64,
    ) -> Result<(), Error> {
        let id = int(id);
        let replacement = item.map(row_of);
        let (account, event) = (account.to_string(), event.cloned());
        self.with_conn(move |mut conn| async move {
            let tx = conn.transaction().await.map_err(pg)?;
            replace_and_record(&tx, id, replacement, &account, event, now).await?;
            tx.commit().await.map_err(pg)
        })
    }

    /// An admin's change to the message `id` (`Backend::outbox_change`): the row locked,
    /// `change` decides on the message as it is, and what it decided is committed.
    pub(super) fn change_message(
        &self,
        id: u64,
        now: u64,
        change: &mut OutboxChange<'_>,
    ) -> Result<bool, Error> {
        let key = int(id);
        let mut tx = Tx::begin(self)?;
        // The account's row first, then the message's (the order of every transaction):
        // the message is read once to know its account, then again under its lock.
        let found: Option<Vec<u8>> = tx.step(|conn| async move {
            let result = async {
                let Some(row) = conn
                    .query_opt("SELECT record FROM outbox WHERE id = $1", &[&key])
                    .await
                    .map_err(pg)?
                else {
                    return Ok(None);
                };
                let account = decode_outbox(&row.get::<_, Vec<u8>>(0))?.account;
                lock_account(&conn, &account).await?;
                let row = conn
                    .query_opt(
                        "SELECT record FROM outbox WHERE id = $1 FOR UPDATE",
                        &[&key],
                    )
                    .await
                    .map_err(pg)?;
                Ok(row.map(|r| r.get(0)))
            }
            .await;
            (conn, result)
        })?;
        let Some(bytes) = found else {
            tx.rollback();
            return Ok(false);
        };
        let old = decode_outbox(&bytes)?;
        let (new, event) = match change(&old) {
            Ok(Some(decided)) => decided,
            Ok(None) => {
                tx.rollback();
                return Ok(true);
            }
            Err(e) => {
                tx.rollback();
                return Err(e);
            }
        };
        let replacement = new.as_ref().map(row_of);
        // Back in the queue (`outbox retry`): every daemon's couriers may take it.
        let requeued = new.as_ref().is_some_and(|m| !m.failed);
        let account = old.account;
        tx.step(move |conn| async move {
            let result = async {
                replace_and_record(&conn, key, replacement, &account, Some(event), now).await?;
                if requeued {
                    conn.batch_execute(super::listen::NOTIFY)
                        .await
                        .map_err(pg)?;
                }
                conn.batch_execute("COMMIT").await.map_err(pg)
            }
            .await;
            (conn, result)
        })?;
        tx.release();
        Ok(true)
    }
}

/// A message's columns beside its id and kind.
struct MessageRow {
    failed: bool,
    delivered: Option<i64>,
    next_attempt: i64,
    record: Vec<u8>,
    counts: (i64, i64),
}

fn row_of(item: &OutboxItem) -> MessageRow {
    MessageRow {
        failed: item.failed,
        delivered: item.delivered.map(int),
        next_attempt: int(item.next_attempt),
        record: encode_outbox(item),
        counts: item.state().counts(),
    }
}

/// Insert message `item` as row `id` (a new message, a restored or migrated one);
/// returns how it counts: (queued, failed).
pub(super) async fn insert_message(
    conn: &impl GenericClient,
    id: i64,
    item: &OutboxItem,
) -> Result<(i64, i64), tokio_postgres::Error> {
    let row = row_of(item);
    conn.execute(
        "INSERT INTO outbox (id, kind, failed, delivered, next_attempt, record) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &id,
            &kind_tag(item.channel.kind()),
            &row.failed,
            &row.delivered,
            &row.next_attempt,
            &row.record,
        ],
    )
    .await?;
    Ok(row.counts)
}

/// Put `replacement` (or nothing) where message `id` is, if it still is (lease
/// cleared, counts kept); then `event` to `account`'s history if the account exists.
///
/// Locks in the order every transaction takes them: the account row first (as a
/// request's change does), then the message, then the counters; the other order
/// deadlocked against a request queueing mail for the same account.
async fn replace_and_record(
    conn: &impl GenericClient,
    id: i64,
    replacement: Option<MessageRow>,
    account: &str,
    event: Option<Event>,
    now: u64,
) -> Result<(), Error> {
    let locked = match &event {
        Some(_) => lock_account(conn, account).await?,
        None => None,
    };
    let old = conn
        .query_opt("SELECT record FROM outbox WHERE id = $1 FOR UPDATE", &[&id])
        .await
        .map_err(pg)?;
    if let Some(old) = old {
        let (was_queued, was_failed) = decode_outbox(&old.get::<_, Vec<u8>>(0))?.state().counts();
        let (queued, failed) = match &replacement {
            Some(row) => {
                conn.execute(
                    "UPDATE outbox SET failed = $2, delivered = $3, next_attempt = $4, \
                     record = $5, claimed_until = NULL WHERE id = $1",
                    &[
                        &id,
                        &row.failed,
                        &row.delivered,
                        &row.next_attempt,
                        &row.record,
                    ],
                )
                .await
                .map_err(pg)?;
                row.counts
            }
            None => {
                conn.execute("DELETE FROM outbox WHERE id = $1", &[&id])
                    .await
                    .map_err(pg)?;
                (0, 0)
            }
        };
        adjust(conn, "outbox_queued", queued - was_queued)
            .await
            .map_err(pg)?;
        adjust(conn, "outbox_failed", failed - was_failed)
            .await
            .map_err(pg)?;
    }
    let (Some(event), Some(mut acc)) = (event, locked) else {
        return Ok(());
    };
    let mut writes = AccountWrites::default();
    append_audit(&mut writes, &mut acc, &event, now);
    conn.execute(
        "UPDATE accounts SET record = $2 WHERE name = $1",
        &[&account, &encode_account(&acc)],
    )
    .await
    .map_err(pg)?;
    write_audit(conn, account, &writes.audit, writes.trim_through)
        .await
        .map_err(pg)?;
    Ok(())
}

/// The account `name`, its row locked for this transaction; `None` if there is none.
async fn lock_account(conn: &impl GenericClient, name: &str) -> Result<Option<Account>, Error> {
    let row = conn
        .query_opt(
            "SELECT record FROM accounts WHERE name = $1 FOR UPDATE",
            &[&name],
        )
        .await
        .map_err(pg)?;
    row.map(|row| decode_account(&row.get::<_, Vec<u8>>(0)))
        .transpose()
}
