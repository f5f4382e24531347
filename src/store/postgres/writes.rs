//! The changes: create, change and remove an account, each one transaction that holds
//! the account's row lock from its first read to its COMMIT, with its audit entries,
//! reset tokens, queued messages and counters. A change returns once COMMIT has
//! returned; an `Err` commits nothing.

use std::future::Future;

use deadpool_postgres::{GenericClient, Object};

use super::{db, int, pg, PgStore};
use crate::audit::Event;
use crate::error::Error;
use crate::store::backend::AccountChange;
use crate::store::records::{decode_account, encode_account, encode_audit, encode_token};
use crate::store::writes::audit_entry;
use crate::store::{Account, Effects, OutboxItem, HISTORY_LIMIT};

const LOCK_ACCOUNT: &str = "SELECT record FROM accounts WHERE name = $1 FOR UPDATE";

/// A transaction kept open across trips to the caller's thread. Dropped unfinished, its
/// connection is closed rather than pooled, and the server rolls it back.
pub(super) struct Tx<'a> {
    store: &'a PgStore,
    conn: Option<Object>,
}

impl<'a> Tx<'a> {
    pub(super) fn begin(store: &'a PgStore) -> Result<Tx<'a>, Error> {
        Tx::begin_as(store, "BEGIN")
    }

    /// `begin` with another BEGIN statement (an isolation level).
    pub(super) fn begin_as(store: &'a PgStore, begin: &'static str) -> Result<Tx<'a>, Error> {
        let conn = store.with_conn(move |conn| async move {
            conn.batch_execute(begin).await.map_err(pg)?;
            Ok(conn)
        })?;
        Ok(Tx {
            store,
            conn: Some(conn),
        })
    }

    /// One trip: `f` gets the connection and gives it back with its result. A failure
    /// ends the transaction (the connection is dropped).
    pub(super) fn step<T, F, Fut>(&mut self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = (Object, Result<T, Error>)> + Send + 'static,
    {
        let conn = self
            .conn
            .take()
            .ok_or_else(|| db("the transaction ended"))?;
        let (conn, result) = self.store.block(f(conn))?;
        match result {
            Ok(value) => {
                self.conn = Some(conn);
                Ok(value)
            }
            Err(e) => {
                drop(Object::take(conn));
                Err(e)
            }
        }
    }

    /// Nothing to write: roll back and give the connection back to the pool.
    pub(super) fn rollback(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = self.store.block(async move {
                if conn.batch_execute("ROLLBACK").await.is_err() {
                    drop(Object::take(conn));
                }
            });
        }
    }

    /// Write `writes` (and `created` more accounts to the count) and COMMIT; the
    /// connection goes back to the pool.
    pub(super) fn commit(mut self, writes: Vec<AccountWrites>, created: i64) -> Result<(), Error> {
        self.step(|conn| async move {
            let result = async {
                for w in writes {
                    w.apply(&conn).await?;
                }
                adjust(&conn, "accounts", created).await.map_err(pg)?;
                conn.batch_execute("COMMIT").await.map_err(pg)
            }
            .await;
            (conn, result)
        })?;
        self.conn.take();
        Ok(())
    }
}

impl Tx<'_> {
    /// After a step that committed: the connection goes back to the pool.
    pub(super) fn release(mut self) {
        self.conn.take();
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
        }
    }
}

/// Everything a change writes beside the lock it holds, owned, for the trip that
/// commits it.
#[derive(Default)]
pub(super) struct AccountWrites {
    /// Not in the table yet: inserted (`Exists` if another daemon made it meanwhile).
    new: bool,
    name: String,
    record: Vec<u8>,
    /// New history entries (seq, record) and the newest seq that falls out of the window.
    pub(super) audit: Vec<(i64, Vec<u8>)>,
    pub(super) trim_through: i64,
    dropped_tokens: Vec<Vec<u8>>,
    new_tokens: Vec<(Vec<u8>, Vec<u8>)>,
    messages: Vec<OutboxItem>,
}

/// Append `event` to the account's history (the entry goes to `writes`).
pub(super) fn append_audit(
    writes: &mut AccountWrites,
    account: &mut Account,
    event: &Event,
    now: u64,
) {
    account.audit_seq += 1;
    let entry = audit_entry(account.audit_seq, event, now);
    writes.audit.push((int(entry.seq), encode_audit(&entry)));
    writes.trim_through = int(account.audit_seq.saturating_sub(HISTORY_LIMIT));
}

/// What writing `account` after `event` (and `effects`) takes, its history included;
/// and the account as written.
pub(super) fn account_writes(
    mut account: Account,
    event: &Event,
    effects: Effects,
    now: u64,
    new: bool,
) -> (AccountWrites, Account) {
    account.updated = now;
    let mut writes = AccountWrites::default();
    append_audit(&mut writes, &mut account, event, now);
    for extra in &effects.events {
        append_audit(&mut writes, &mut account, extra, now);
    }
    writes.new = new;
    writes.name = account.name.clone();
    writes.record = encode_account(&account);
    writes.dropped_tokens = effects.dropped_tokens.iter().map(|h| h.to_vec()).collect();
    writes.new_tokens = effects
        .new_tokens
        .iter()
        .map(|(h, t)| (h.to_vec(), encode_token(t)))
        .collect();
    writes.messages = effects.messages;
    (writes, account)
}

/// Add `delta` to the counter `name`.
pub(super) async fn adjust(
    conn: &impl GenericClient,
    name: &str,
    delta: i64,
) -> Result<(), tokio_postgres::Error> {
    if delta != 0 {
        let st = conn
            .prepare_cached("UPDATE counters SET value = greatest(value + $2, 0) WHERE name = $1")
            .await?;
        conn.execute(&st, &[&name, &delta]).await?;
    }
    Ok(())
}

/// Insert the history entries and drop the ones out of the window.
pub(super) async fn write_audit(
    conn: &impl GenericClient,
    name: &str,
    audit: &[(i64, Vec<u8>)],
    trim_through: i64,
) -> Result<(), tokio_postgres::Error> {
    let insert = conn
        .prepare_cached("INSERT INTO audit (name, seq, record) VALUES ($1, $2, $3)")
        .await?;
    for (seq, record) in audit {
        conn.execute(&insert, &[&name, seq, record]).await?;
    }
    if trim_through > 0 {
        let trim = conn
            .prepare_cached("DELETE FROM audit WHERE name = $1 AND seq <= $2")
            .await?;
        conn.execute(&trim, &[&name, &trim_through]).await?;
    }
    Ok(())
}

impl AccountWrites {
    async fn apply(self, conn: &impl GenericClient) -> Result<(), Error> {
        let sql = match self.new {
            true => "INSERT INTO accounts (name, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            false => "UPDATE accounts SET record = $2 WHERE name = $1",
        };
        let st = conn.prepare_cached(sql).await.map_err(pg)?;
        if conn
            .execute(&st, &[&self.name, &self.record])
            .await
            .map_err(pg)?
            == 0
        {
            return Err(Error::Exists(self.name));
        }
        self.apply_rest(conn).await.map_err(pg)
    }

    async fn apply_rest(self, conn: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
        write_audit(conn, &self.name, &self.audit, self.trim_through).await?;
        if !self.dropped_tokens.is_empty() {
            conn.execute(
                "DELETE FROM reset_tokens WHERE hash = ANY($1)",
                &[&self.dropped_tokens],
            )
            .await?;
        }
        for (hash, record) in &self.new_tokens {
            conn.execute(
                "INSERT INTO reset_tokens (hash, record) VALUES ($1, $2) \
                 ON CONFLICT (hash) DO UPDATE SET record = excluded.record",
                &[hash, record],
            )
            .await?;
        }
        let (mut queued, mut failed) = (0, 0);
        for message in self.messages {
            let row = conn
                .query_one("SELECT nextval('outbox_id_seq')", &[])
                .await?;
            let id: i64 = row.get(0);
            let item = OutboxItem {
                id: super::uint(id),
                ..message
            };
            let (q, f) = super::outbox::insert_message(conn, id, &item).await?;
            (queued, failed) = (queued + q, failed + f);
        }
        if queued > 0 {
            // Delivered at COMMIT, to every daemon's listener (`listen`).
            conn.batch_execute(super::listen::NOTIFY).await?;
        }
        adjust(conn, "outbox_queued", queued).await?;
        adjust(conn, "outbox_failed", failed).await
    }
}

impl PgStore {
    pub(super) fn write_create(
        &self,
        account: &Account,
        event: &Event,
        now: u64,
    ) -> Result<(), Error> {
        let mut account = account.clone();
        let mut writes = AccountWrites::default();
        append_audit(&mut writes, &mut account, event, now);
        writes.name = account.name.clone();
        writes.record = encode_account(&account);
        self.with_conn(move |mut conn| async move {
            let tx = conn.transaction().await.map_err(pg)?;
            let inserted = tx
                .execute(
                    "INSERT INTO accounts (name, record) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                    &[&writes.name, &writes.record],
                )
                .await
                .map_err(pg)?;
            if inserted == 0 {
                return Err(Error::Exists(writes.name));
            }
            write_audit(&tx, &writes.name, &writes.audit, writes.trim_through)
                .await
                .map_err(pg)?;
            adjust(&tx, "accounts", 1).await.map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }

    pub(super) fn write_change(
        &self,
        name: &str,
        now: u64,
        change: &mut AccountChange<'_>,
    ) -> Result<(), Error> {
        let mut tx = Tx::begin(self)?;
        let key = name.to_string();
        let found: Option<Vec<u8>> = tx.step(|conn| async move {
            let row = conn.query_opt(LOCK_ACCOUNT, &[&key]).await;
            let result = row.map(|r| r.map(|r| r.get(0))).map_err(pg);
            (conn, result)
        })?;
        let Some(bytes) = found else {
            tx.rollback();
            return Err(Error::NoSuchUser(name.to_string()));
        };
        let mut account = decode_account(&bytes)?;
        let mut effects = Effects::default();
        let event = match change(&mut account, &mut effects) {
            Ok(event) => event,
            Err(e) => {
                tx.rollback();
                return Err(e);
            }
        };
        let (writes, _) = account_writes(account, &event, effects, now, false);
        tx.commit(vec![writes], 0)
    }

    pub(super) fn write_remove(&self, name: &str) -> Result<(), Error> {
        let name = name.to_string();
        self.with_conn(move |mut conn| async move {
            let tx = conn.transaction().await.map_err(pg)?;
            let row = tx.query_opt(LOCK_ACCOUNT, &[&name]).await.map_err(pg)?;
            let Some(row) = row else {
                return Err(Error::NoSuchUser(name));
            };
            let account = decode_account(&row.get::<_, Vec<u8>>(0))?;
            let tokens: Vec<Vec<u8>> = account.reset_tokens.iter().map(|h| h.to_vec()).collect();
            let run = async {
                tx.execute("DELETE FROM accounts WHERE name = $1", &[&name])
                    .await?;
                tx.execute("DELETE FROM audit WHERE name = $1", &[&name])
                    .await?;
                tx.execute("DELETE FROM reset_tokens WHERE hash = ANY($1)", &[&tokens])
                    .await?;
                adjust(&tx, "accounts", -1).await
            };
            run.await.map_err(pg)?;
            tx.commit().await.map_err(pg)
        })
    }
}
