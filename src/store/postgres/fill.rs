//! Filling an empty database with checked records (`authd migrate` from a sled store,
//! `authd restore` from a backup), in one transaction: all of them or none. Under table
//! locks the transaction finds the tables empty and the key check value absent or the
//! key's (and records it), writes every record and the counters, and counts the tables
//! again against the records before it commits. A migration also records the sled
//! store's id (`migrated_from`), so running it again finds it done instead of writing
//! twice.

use deadpool_postgres::{GenericClient, Object};
use subtle::ConstantTimeEq;

use super::keycheck::record_key;
use super::{int, pg, PgStore};
use crate::error::Error;
use crate::store::records::decode_outbox;
use crate::store::trees::{Tree, TreeRecord};

const MIGRATED_FROM: &str = "migrated_from";

/// Why a fill wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error("the database already holds data ({} accounts, {} outbox messages)", .0.accounts, .0.outbox)]
    NotEmpty(TableCounts),
    #[error("the database has another secret key's check value recorded")]
    WrongKey,
    #[error("the records written would leave the database holding {found:?}, not {want:?}")]
    Counts {
        want: TableCounts,
        found: TableCounts,
    },
    #[error(transparent)]
    Query(#[from] Error),
}

/// What to write: checked records, the key they were checked with (its check value),
/// and for a migration the id of the sled store they came from.
pub struct Fill {
    pub records: Vec<TreeRecord>,
    pub key_check: Vec<u8>,
    pub migrated_from: Option<Vec<u8>>,
}

/// Rows in the tables a migration fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableCounts {
    pub accounts: u64,
    pub audit: u64,
    pub tokens: u64,
    pub outbox: u64,
}

impl TableCounts {
    pub fn is_empty(&self) -> bool {
        *self == TableCounts::default()
    }

    /// The counts of `records` (tree, key, value) as a migration writes them.
    pub fn of(records: &[TreeRecord]) -> TableCounts {
        let mut counts = TableCounts::default();
        for (tree, _, _) in records {
            match tree {
                Tree::Accounts => counts.accounts += 1,
                Tree::Audit => counts.audit += 1,
                Tree::Tokens => counts.tokens += 1,
                Tree::Outbox => counts.outbox += 1,
                Tree::Meta | Tree::OutboxDue => {}
            }
        }
        counts
    }
}

impl PgStore {
    /// How many rows each table holds now.
    pub fn table_counts(&self) -> Result<TableCounts, Error> {
        self.with_conn(|conn| async move { count(&conn).await })
    }

    /// The id of the sled store this database was filled from, if it was.
    pub fn migrated_from(&self) -> Result<Option<Vec<u8>>, Error> {
        self.with_conn(|conn| async move {
            let row = conn
                .query_opt("SELECT value FROM meta WHERE key = $1", &[&MIGRATED_FROM])
                .await
                .map_err(pg)?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })
    }

    /// Write the records (accounts, histories, reset tokens, the outbox; other trees
    /// are skipped) and the counters in one transaction, into tables it finds empty
    /// under its locks (see the module documentation); returns what was written.
    pub fn fill(&self, fill: Fill) -> Result<TableCounts, FillError> {
        let store_id = crate::vault::random_bytes::<16>()
            .map_err(|e| Error::Internal(format!("a store id: {e}")))?
            .to_vec();
        self.with_conn(move |conn| async move {
            let result = fill_in(&conn, fill, store_id).await;
            if result.is_err() {
                // Closed, not pooled: the server rolls the transaction back.
                drop(Object::take(conn));
            }
            Ok(result)
        })?
    }
}

/// The rows of the four tables, as `conn` sees them.
async fn count(conn: &impl GenericClient) -> Result<TableCounts, Error> {
    let row = conn
        .query_one(
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM audit), \
             (SELECT count(*) FROM reset_tokens), (SELECT count(*) FROM outbox)",
            &[],
        )
        .await
        .map_err(pg)?;
    let n = |i: usize| super::uint(row.get::<_, i64>(i));
    Ok(TableCounts {
        accounts: n(0),
        audit: n(1),
        tokens: n(2),
        outbox: n(3),
    })
}

async fn fill_in(conn: &Object, fill: Fill, store_id: Vec<u8>) -> Result<TableCounts, FillError> {
    conn.batch_execute(
        "BEGIN; LOCK TABLE accounts, audit, reset_tokens, outbox, meta, counters \
         IN SHARE ROW EXCLUSIVE MODE",
    )
    .await
    .map_err(pg)?;
    let found = count(conn).await?;
    if !found.is_empty() {
        return Err(FillError::NotEmpty(found));
    }
    let recorded = record_key(conn, &fill.key_check, &store_id).await?;
    if !bool::from(recorded[..].ct_eq(&fill.key_check[..])) {
        return Err(FillError::WrongKey);
    }
    let records = fill.records;
    let want = TableCounts::of(&records);
    let (mut queued, mut failed) = (0i64, 0i64);
    let accounts = int(want.accounts);
    for (tree, key, value) in records {
        match tree {
            Tree::Accounts => {
                let name = text(&key)?;
                conn.execute(
                    "INSERT INTO accounts (name, record) VALUES ($1, $2)",
                    &[&name, &value],
                )
                .await
                .map_err(pg)?;
            }
            Tree::Audit => {
                let (name, seq) = audit_parts(&key)?;
                conn.execute(
                    "INSERT INTO audit (name, seq, record) VALUES ($1, $2, $3)",
                    &[&name, &seq, &value],
                )
                .await
                .map_err(pg)?;
            }
            Tree::Tokens => {
                conn.execute(
                    "INSERT INTO reset_tokens (hash, record) VALUES ($1, $2)",
                    &[&key, &value],
                )
                .await
                .map_err(pg)?;
            }
            Tree::Outbox => {
                let item = decode_outbox(&value)?;
                let (q, f) = super::outbox::insert_message(conn, int(item.id), &item)
                    .await
                    .map_err(pg)?;
                (queued, failed) = (queued + q, failed + f);
            }
            Tree::Meta | Tree::OutboxDue => {}
        }
    }
    for (name, value) in [
        ("accounts", accounts),
        ("outbox_queued", queued),
        ("outbox_failed", failed),
    ] {
        conn.execute(
            "UPDATE counters SET value = $2 WHERE name = $1",
            &[&name, &value],
        )
        .await
        .map_err(pg)?;
    }
    // New messages get ids after the migrated ones.
    conn.batch_execute("SELECT setval('outbox_id_seq', GREATEST((SELECT max(id) FROM outbox), 1))")
        .await
        .map_err(pg)?;
    if let Some(from) = fill.migrated_from {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&MIGRATED_FROM, &from],
        )
        .await
        .map_err(pg)?;
    }
    let found = count(conn).await?;
    if found != want {
        return Err(FillError::Counts { want, found });
    }
    if queued > 0 {
        // Daemons already on the database deliver them at once (`listen`).
        conn.batch_execute(super::listen::NOTIFY)
            .await
            .map_err(pg)?;
    }
    conn.batch_execute("COMMIT").await.map_err(pg)?;
    Ok(want)
}

fn text(key: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(key).map_err(|_| Error::Internal("an account name is not UTF-8".into()))
}

/// An audit key (name, NUL, big-endian sequence) as its two columns.
fn audit_parts(key: &[u8]) -> Result<(&str, i64), Error> {
    let bad = || Error::Internal("a malformed history key".into());
    let split = key.len().checked_sub(9).ok_or_else(bad)?;
    let (name, rest) = key.split_at(split);
    let seq: [u8; 8] = rest
        .get(1..)
        .and_then(|s| s.try_into().ok())
        .filter(|_| rest.first() == Some(&0))
        .ok_or_else(bad)?;
    Ok((text(name)?, int(u64::from_be_bytes(seq))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::audit_key;

    #[test]
    fn audit_keys_come_apart_into_name_and_sequence() {
        assert_eq!(audit_parts(&audit_key("alice", 7)).unwrap(), ("alice", 7));
        assert!(audit_parts(b"short").is_err());
    }
}
