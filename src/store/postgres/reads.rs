//! Reads: single records and pages, each one statement on a pooled connection, seeing
//! what is committed (there is nothing staged: a change returns after its COMMIT).

use deadpool_postgres::Object;
use tokio_postgres::types::ToSql;

use super::{int, pg, uint, PgStore};
use crate::error::Error;
use crate::store::backend::Counts;
use crate::store::records::AuditEntry;
use crate::store::records::{decode_account, decode_audit, decode_outbox, decode_token};
use crate::store::{Account, ChannelKind, OutboxItem, ResetToken};

/// The `kind` column of an outbox message.
pub(super) fn kind_tag(kind: ChannelKind) -> i16 {
    match kind {
        ChannelKind::Mail => 0,
        ChannelKind::Sms => 1,
    }
}

/// `limit` as a row count, plus one row to tell whether more follow.
fn one_more(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1
}

/// Split a page fetched with `one_more`.
fn page<T>(mut items: Vec<T>, limit: usize) -> (Vec<T>, bool) {
    let more = items.len() > limit;
    items.truncate(limit);
    (items, more)
}

/// Query parameters that travel to the connections' runtime.
type Params = Vec<Box<dyn ToSql + Sync + Send>>;

impl PgStore {
    /// One page of the records `sql` selects (its last parameter is the row limit, added
    /// here), decoded, and whether more follow.
    fn record_page<T>(
        &self,
        sql: &'static str,
        mut params: Params,
        limit: usize,
        decode: fn(&[u8]) -> Result<T, Error>,
    ) -> Result<(Vec<T>, bool), Error> {
        params.push(Box::new(one_more(limit)));
        let records: Vec<Vec<u8>> = self.with_conn(move |conn| async move {
            let refs: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let rows = conn.query(sql, &refs).await.map_err(pg)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?;
        let (records, more) = page(records, limit);
        let items = records
            .iter()
            .map(|b| decode(b))
            .collect::<Result<_, _>>()?;
        Ok((items, more))
    }

    pub(super) fn read_account(&self, name: &str) -> Result<Option<Account>, Error> {
        let bytes = self.read_account_bytes(name)?;
        bytes.map(|b| decode_account(&b)).transpose()
    }

    /// The account's record as stored.
    pub(super) fn read_account_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let name = name.to_string();
        self.with_conn(move |conn| select_account(conn, name))
    }

    /// `read_account_bytes`, awaited as a task.
    pub(super) async fn fetch_account_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let name = name.to_string();
        self.with_conn_async(move |conn| select_account(conn, name))
            .await
    }

    /// `read_account`, awaited as a task (`Backend::fetch_account`).
    pub(super) async fn fetch_account_now(&self, name: &str) -> Result<Option<Account>, Error> {
        let bytes = self.fetch_account_bytes(name).await?;
        bytes.map(|b| decode_account(&b)).transpose()
    }

    pub(super) fn read_list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, bool), Error> {
        let after = after.unwrap_or("").to_string();
        let names: Vec<String> = self.with_conn(move |conn| async move {
            let rows = conn
                .query(
                    "SELECT name FROM accounts WHERE name > $1 ORDER BY name LIMIT $2",
                    &[&after, &one_more(limit)],
                )
                .await
                .map_err(pg)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?;
        Ok(page(names, limit))
    }

    pub(super) fn read_history(
        &self,
        name: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, bool), Error> {
        let params: Params = vec![
            Box::new(name.to_string()),
            Box::new(int(before.unwrap_or(u64::MAX))),
        ];
        self.record_page(
            "SELECT record FROM audit WHERE name = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            params,
            limit,
            decode_audit,
        )
    }

    pub(super) fn read_token(&self, hash: &[u8; 32]) -> Result<Option<ResetToken>, Error> {
        let hash = hash.to_vec();
        let bytes: Option<Vec<u8>> = self.with_conn(move |conn| async move {
            let row = conn
                .query_opt("SELECT record FROM reset_tokens WHERE hash = $1", &[&hash])
                .await
                .map_err(pg)?;
            Ok(row.map(|r| r.get(0)))
        })?;
        bytes.map(|b| decode_token(&b)).transpose()
    }

    pub(super) fn read_counts(&self) -> Result<Counts, Error> {
        let rows: Vec<(String, i64)> = self.with_conn(|conn| async move {
            let rows = conn
                .query("SELECT name, value FROM counters", &[])
                .await
                .map_err(pg)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })?;
        let get = |name: &str| {
            rows.iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| uint(*v))
        };
        Ok(Counts {
            accounts: get("accounts"),
            outbox_queued: get("outbox_queued"),
            outbox_failed: get("outbox_failed"),
        })
    }

    pub(super) fn read_outbox(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<OutboxItem>, bool), Error> {
        let params: Params = vec![Box::new(after.map_or(-1, int))];
        self.record_page(
            "SELECT record FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
            params,
            limit,
            decode_outbox,
        )
    }

    /// When the earliest queued message on `kind` is due and not claimed by a daemon,
    /// but no later than `poll` from now: other daemons queue messages too, and a
    /// notification of it (`listen`) may be lost while the connection is down.
    pub(super) fn read_next_due(&self, kind: ChannelKind) -> Result<Option<u64>, Error> {
        let poll = crate::time::now() + self.poll;
        let kind = kind_tag(kind);
        let at: Option<i64> = self.with_conn(move |conn| async move {
            let row = conn
                .query_one(
                    "SELECT min(greatest(next_attempt, coalesce(claimed_until, 0))) \
                     FROM outbox WHERE kind = $1 AND NOT failed AND delivered IS NULL",
                    &[&kind],
                )
                .await
                .map_err(pg)?;
            Ok(row.get(0))
        })?;
        Ok(Some(at.map_or(poll, |at| uint(at).min(poll))))
    }
}

/// An account's record as stored, read on `conn`.
async fn select_account(conn: Object, name: String) -> Result<Option<Vec<u8>>, Error> {
    let st = conn
        .prepare_cached("SELECT record FROM accounts WHERE name = $1")
        .await
        .map_err(pg)?;
    let row = conn.query_opt(&st, &[&name]).await.map_err(pg)?;
    Ok(row.map(|r| r.get(0)))
}
