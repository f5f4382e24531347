//! A backup of the database in the backup format the sled store writes (same tree
//! numbers, keys and record bytes), so `authd restore` reads either. Taken in one
//! REPEATABLE READ transaction: every record as of one moment, while the other daemons
//! go on writing. Rows come through server-side cursors, a page at a time.

use tokio_postgres::Row;

use super::writes::Tx;
use super::{pg, uint, PgStore};
use crate::error::Error;
use crate::store::records::audit_key;
use crate::store::trees::Tree;
use crate::store::SCHEMA_VERSION;
use crate::vault::BackupMac;

/// Rows fetched per trip.
const PAGE: i64 = 1000;

/// A table in the backup: its tree, its rows in key order, the backup key of a row; the
/// record is a row's last column.
struct Table {
    tree: Tree,
    select: &'static str,
    key: fn(&Row) -> Vec<u8>,
}

const TABLES: [Table; 4] = [
    Table {
        tree: Tree::Accounts,
        select: "SELECT name, record FROM accounts ORDER BY name",
        key: |r| r.get::<_, String>(0).into_bytes(),
    },
    Table {
        tree: Tree::Audit,
        select: "SELECT name, seq, record FROM audit ORDER BY name, seq",
        key: |r| audit_key(r.get::<_, &str>(0), uint(r.get(1))),
    },
    Table {
        tree: Tree::Tokens,
        select: "SELECT hash, record FROM reset_tokens ORDER BY hash",
        key: |r| r.get::<_, Vec<u8>>(0),
    },
    Table {
        tree: Tree::Outbox,
        select: "SELECT id, record FROM outbox ORDER BY id",
        key: |r| uint(r.get(0)).to_be_bytes().to_vec(),
    },
];

type Records = Vec<(Vec<u8>, Vec<u8>)>;

impl PgStore {
    pub(super) fn write_snapshot(
        &self,
        out: &mut dyn std::io::Write,
        mac: BackupMac,
    ) -> Result<u64, Error> {
        let io = |e: std::io::Error| Error::Internal(format!("writing the backup: {e}"));
        let mut writer = crate::backup_file::Writer::new(out, SCHEMA_VERSION, mac).map_err(io)?;
        let mut tx = Tx::begin_as(self, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        for (number, tree) in Tree::backed_up() {
            let records = match tree {
                Tree::Meta => meta(&mut tx)?,
                _ => {
                    let table = TABLES
                        .iter()
                        .find(|t| t.tree == tree)
                        .ok_or_else(|| Error::Internal(format!("no table for {tree:?}")))?;
                    let declare = format!("DECLARE snap NO SCROLL CURSOR FOR {}", table.select);
                    let key = table.key;
                    tx.step(move |conn| async move {
                        let r = conn.batch_execute(&declare).await.map_err(pg);
                        (conn, r)
                    })?;
                    loop {
                        let page: Records = tx.step(move |conn| async move {
                            let r = conn
                                .query(&format!("FETCH {PAGE} FROM snap"), &[])
                                .await
                                .map(|rows| {
                                    rows.iter().map(|r| (key(r), r.get(r.len() - 1))).collect()
                                })
                                .map_err(pg);
                            (conn, r)
                        })?;
                        let done = (page.len() as i64) < PAGE;
                        for (k, v) in &page {
                            writer.record(number, k, v).map_err(io)?;
                        }
                        if done {
                            break;
                        }
                    }
                    tx.step(|conn| async move {
                        let r = conn.batch_execute("CLOSE snap").await.map_err(pg);
                        (conn, r)
                    })?;
                    continue;
                }
            };
            for (k, v) in &records {
                writer.record(number, k, v).map_err(io)?;
            }
        }
        tx.rollback();
        let (_, count) = writer.finish().map_err(io)?;
        Ok(count)
    }
}

/// The `meta` records, in sled's key order: the counts (from the same snapshot), the
/// schema version of the record format, the store id and the key check value.
fn meta(tx: &mut Tx<'_>) -> Result<Records, Error> {
    let (counters, meta): (Vec<(String, i64)>, Records) = tx.step(|conn| async move {
        let r = async {
            let counters = conn.query("SELECT name, value FROM counters", &[]).await?;
            // What sled's `meta` holds too: not `migrated_from`, which is the
            // database's own (a restore refuses keys authd does not keep).
            let meta = conn
                .query(
                    "SELECT key, value FROM meta WHERE key IN ('store_id', 'key_check')",
                    &[],
                )
                .await?;
            Ok((
                counters.iter().map(|r| (r.get(0), r.get(1))).collect(),
                meta.iter()
                    .map(|r| (r.get::<_, String>(0).into_bytes(), r.get(1)))
                    .collect(),
            ))
        }
        .await
        .map_err(pg);
        (conn, r)
    })?;
    let mut records: Records = counters
        .into_iter()
        .map(|(name, value)| (name.into_bytes(), uint(value).to_be_bytes().to_vec()))
        .collect();
    records.extend(meta);
    records.push((
        b"schema_version".to_vec(),
        SCHEMA_VERSION.to_be_bytes().to_vec(),
    ));
    records.sort();
    Ok(records)
}
