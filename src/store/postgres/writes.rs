//! The changes: create, change and remove an account, each one transaction that holds
//! the account's row lock from its first read to its COMMIT, with its audit entries,
//! reset tokens, queued messages and counters. A change returns once COMMIT has
//! returned; an `Err` commits nothing.

use std::future::Future;

use deadpool_postgres::{GenericClient, Object};

use super::pipeline::{self, simple, Sent};
use super::{db, int, pg, PgStore};
use crate::audit::Event;
use crate::error::Error;
use crate::store::backend::AccountChange;
use crate::store::records::{decode_account, encode_account, encode_audit, encode_token};
use crate::store::writes::audit_entry;
use crate::store::{Account, Effects, OutboxItem, HISTORY_LIMIT};

const LOCK_ACCOUNT: &str = "SELECT record FROM accounts WHERE name = $1 FOR UPDATE";
const UPDATE_ACCOUNT: &str = "UPDATE accounts SET record = $2 WHERE name = $1";
const INSERT_AUDIT: &str = "INSERT INTO audit (name, seq, record) VALUES ($1, $2, $3)";
const TRIM_AUDIT: &str = "DELETE FROM audit WHERE name = $1 AND seq <= $2";
const ADJUST: &str = "UPDATE counters SET value = greatest(value + $2, 0) WHERE name = $1";
const DROP_TOKENS: &str = "DELETE FROM reset_tokens WHERE hash = ANY($1)";
const PUT_TOKEN: &str = "INSERT INTO reset_tokens (hash, record) VALUES ($1, $2) \
                         ON CONFLICT (hash) DO UPDATE SET record = excluded.record";

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

    /// A transaction already begun on `conn`.
    fn holding(store: &'a PgStore, conn: Object) -> Tx<'a> {
        Tx {
            store,
            conn: Some(conn),
        }
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
        let (conn, result) = self.store.driver.block(f(conn))?;
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
            let _ = self.store.driver.block(async move {
                if conn.batch_execute("ROLLBACK").await.is_err() {
                    drop(Object::take(conn));
                }
            });
        }
    }

    /// Write `writes` (and `created` more accounts to the count) and COMMIT; the
    /// connection goes back to the pool. In one round trip (`pipeline`) when no statement
    /// waits on another's answer: every account exists (its row is locked, so its UPDATE
    /// finds it) and no message is queued (its id is fetched first).
    pub(super) fn commit(mut self, writes: Vec<AccountWrites>, created: i64) -> Result<(), Error> {
        let pipelined = writes.iter().all(|w| !w.new && w.messages.is_empty());
        self.step(|conn| async move {
            let result = async {
                if pipelined {
                    return commit_pipelined(&conn, &writes, created).await;
                }
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
    pub(super) name: String,
    pub(super) record: Vec<u8>,
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
        let st = conn.prepare_cached(ADJUST).await?;
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
    let insert = conn.prepare_cached(INSERT_AUDIT).await?;
    for (seq, record) in audit {
        conn.execute(&insert, &[&name, seq, record]).await?;
    }
    if trim_through > 0 {
        let trim = conn.prepare_cached(TRIM_AUDIT).await?;
        conn.execute(&trim, &[&name, &trim_through]).await?;
    }
    Ok(())
}

/// `writes` to existing, locked accounts, then COMMIT, all sent at once.
async fn commit_pipelined(
    conn: &Object,
    writes: &[AccountWrites],
    created: i64,
) -> Result<(), Error> {
    let any = |f: fn(&AccountWrites) -> bool| writes.iter().any(f);
    let update = conn.prepare_cached(UPDATE_ACCOUNT).await.map_err(pg)?;
    let audit = conn.prepare_cached(INSERT_AUDIT).await.map_err(pg)?;
    let trim = match any(|w| w.trim_through > 0) {
        true => Some(conn.prepare_cached(TRIM_AUDIT).await.map_err(pg)?),
        false => None,
    };
    let drop_tokens = match any(|w| !w.dropped_tokens.is_empty()) {
        true => Some(conn.prepare_cached(DROP_TOKENS).await.map_err(pg)?),
        false => None,
    };
    let put_token = match any(|w| !w.new_tokens.is_empty()) {
        true => Some(conn.prepare_cached(PUT_TOKEN).await.map_err(pg)?),
        false => None,
    };
    let adjusted = match created {
        0 => None,
        _ => Some(conn.prepare_cached(ADJUST).await.map_err(pg)?),
    };
    let (update, audit) = (&update, &audit);
    let mut sent: Vec<Sent<'_>> = Vec::new();
    let mut updates = Vec::new();
    for w in writes {
        updates.push(sent.len());
        sent.push(Box::pin(async move {
            conn.execute(update, &[&w.name, &w.record]).await
        }));
        for (seq, record) in &w.audit {
            sent.push(Box::pin(async move {
                conn.execute(audit, &[&w.name, seq, record]).await
            }));
        }
        if let (Some(trim), true) = (&trim, w.trim_through > 0) {
            sent.push(Box::pin(async move {
                conn.execute(trim, &[&w.name, &w.trim_through]).await
            }));
        }
        if let (Some(st), false) = (&drop_tokens, w.dropped_tokens.is_empty()) {
            sent.push(Box::pin(async move {
                conn.execute(st, &[&w.dropped_tokens]).await
            }));
        }
        if let Some(st) = &put_token {
            for (hash, record) in &w.new_tokens {
                sent.push(Box::pin(
                    async move { conn.execute(st, &[hash, record]).await },
                ));
            }
        }
    }
    if let Some(st) = &adjusted {
        sent.push(Box::pin(async move {
            conn.execute(st, &[&"accounts", &created]).await
        }));
    }
    sent.push(simple(conn, "COMMIT"));
    let counts = pipeline::counts(sent).await.map_err(pg)?;
    // Cannot happen: each row was locked by this transaction.
    match writes.iter().zip(&updates).find(|(_, &i)| counts[i] == 0) {
        Some((w, _)) => Err(db(format!(
            "the account `{}` vanished under its lock",
            w.name
        ))),
        None => Ok(()),
    }
}

impl AccountWrites {
    async fn apply(self, conn: &impl GenericClient) -> Result<(), Error> {
        let sql = match self.new {
            true => "INSERT INTO accounts (name, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            false => UPDATE_ACCOUNT,
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
            conn.execute(DROP_TOKENS, &[&self.dropped_tokens]).await?;
        }
        for (hash, record) in &self.new_tokens {
            conn.execute(PUT_TOKEN, &[hash, record]).await?;
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

/// BEGIN and lock the account's row, in one round trip; its record if it exists.
async fn begin_locked(conn: &Object, name: &str) -> Result<Option<Vec<u8>>, Error> {
    let lock = conn.prepare_cached(LOCK_ACCOUNT).await.map_err(pg)?;
    let (begun, row) =
        pipeline::both(conn.batch_execute("BEGIN"), conn.query_opt(&lock, &[&name])).await;
    begun.map_err(pg)?;
    Ok(row.map_err(pg)?.map(|r| r.get(0)))
}

/// A new account (`Exists` if its name is taken) with its history and the account
/// count, in one round trip: BEGIN, the inserts, the count, COMMIT. A taken name fails
/// the INSERT (no ON CONFLICT), which aborts the transaction, so the COMMIT behind it
/// rolls everything back.
async fn create_pipelined(conn: &Object, w: &AccountWrites) -> Result<(), Error> {
    let insert = conn
        .prepare_cached("INSERT INTO accounts (name, record) VALUES ($1, $2)")
        .await
        .map_err(pg)?;
    let audit = conn.prepare_cached(INSERT_AUDIT).await.map_err(pg)?;
    let adjust = conn.prepare_cached(ADJUST).await.map_err(pg)?;
    let (insert, audit, adjust) = (&insert, &audit, &adjust);
    let mut sent: Vec<Sent<'_>> = vec![
        simple(conn, "BEGIN"),
        Box::pin(async move { conn.execute(insert, &[&w.name, &w.record]).await }),
    ];
    for (seq, record) in &w.audit {
        sent.push(Box::pin(async move {
            conn.execute(audit, &[&w.name, seq, record]).await
        }));
    }
    sent.push(Box::pin(async move {
        conn.execute(adjust, &[&"accounts", &1i64]).await
    }));
    sent.push(simple(conn, "COMMIT"));
    match pipeline::counts(sent).await {
        Ok(_) => Ok(()),
        Err(e) if taken(&e) => Err(Error::Exists(w.name.clone())),
        Err(e) => Err(pg(e)),
    }
}

/// The accounts table's primary key refused a name: it is taken.
fn taken(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| {
        *d.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
            && d.constraint() == Some("accounts_pkey")
    })
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
        self.with_conn(move |conn| async move {
            let result = create_pipelined(&conn, &writes).await;
            if matches!(&result, Err(e) if !matches!(e, Error::Exists(_))) {
                // Closed, not pooled: whatever state the failure left it in. (A taken
                // name left it idle: every answer was read, the COMMIT rolled back.)
                drop(Object::take(conn));
            }
            result
        })
    }

    pub(super) fn write_change(
        &self,
        name: &str,
        now: u64,
        change: &mut AccountChange<'_>,
    ) -> Result<(), Error> {
        let key = name.to_string();
        let (conn, found) = self.with_conn(move |conn| async move {
            match begin_locked(&conn, &key).await {
                Ok(found) => Ok((conn, found)),
                Err(e) => {
                    drop(Object::take(conn));
                    Err(e)
                }
            }
        })?;
        let tx = Tx::holding(self, conn);
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
