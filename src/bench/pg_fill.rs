//! `authd-bench --populate --database URL`: a million accounts in a PostgreSQL database in
//! seconds, for the start-up and `show` benchmarks, without a daemon and without a
//! million argon2 hashes.
//!
//! The schema is made (or migrated) by the store itself (`PgStore::open`); then one
//! transaction copies the accounts `bench-0000000..` in (`COPY … FROM STDIN BINARY`), each
//! the record add-user would leave plus one password hash computed once and shared, with
//! the one history entry add-user writes, and raises the account counter. No secret key
//! is recorded: the first daemon must bring its own key file (a database that holds
//! accounts never gets a new key).

use std::pin::pin;

use argon2::password_hash::{PasswordHasher, SaltString};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::setup::{account, PASSWORD};
use super::BenchError;
use crate::audit::{Action, Outcome};
use crate::config::{Config, StoreBackend};
use crate::store::postgres::PgStore;
use crate::store::records::{encode_account, encode_audit, AuditEntry};
use crate::store::Account;

/// Who the history entry says added the accounts.
const ACTOR: &str = "uid 0 (root) pid 1 (authd-bench --populate)";

fn fail(e: impl std::fmt::Display) -> BenchError {
    BenchError::Database(e.to_string())
}

/// One argon2id hash of the bench password, with the default parameters.
fn shared_hash() -> Result<String, BenchError> {
    let config = crate::config::PasswordConfig::default();
    let params = argon2::Params::new(config.argon2_m_kib, config.argon2_t, config.argon2_p, None)
        .map_err(fail)?;
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = crate::vault::random_bytes::<16>().map_err(fail)?;
    let salt = SaltString::encode_b64(&salt).map_err(fail)?;
    let hash = argon2
        .hash_password(PASSWORD.as_bytes(), &salt)
        .map_err(fail)?;
    Ok(hash.to_string())
}

/// Write accounts `bench-0000000..count` into the database at `url`.
pub fn populate_database(url: &str, count: usize) -> Result<(), BenchError> {
    let mut config = Config::default();
    config.store.backend = StoreBackend::Postgres;
    config.store.url = Some(url.to_string());
    config.store.pool_size = 1;
    // Schema first, as a daemon would make it.
    drop(PgStore::open(&config).map_err(|e| fail(crate::error::DisplayChain(&e)))?);
    let hash = shared_hash()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(fail)?;
    runtime.block_on(copy_in(url, count, hash))
}

async fn copy_in(url: &str, count: usize, hash: String) -> Result<(), BenchError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(fail)?;
    let connection = tokio::spawn(connection);
    let now = crate::time::now();
    let pg = |e: tokio_postgres::Error| fail(crate::error::DisplayChain(&e));
    client.batch_execute("BEGIN").await.map_err(pg)?;

    let sink = client
        .copy_in("COPY accounts (name, record) FROM STDIN BINARY")
        .await
        .map_err(pg)?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::BYTEA]));
    for i in 0..count {
        let mut acc = Account::new(account(i), now);
        acc.password_hash = Some(hash.clone());
        acc.password_changed = Some(now);
        acc.audit_seq = 1;
        let record = encode_account(&acc);
        let row: [&(dyn ToSql + Sync); 2] = [&acc.name, &record];
        writer.as_mut().write(&row).await.map_err(pg)?;
    }
    writer.finish().await.map_err(pg)?;

    let sink = client
        .copy_in("COPY audit (name, seq, record) FROM STDIN BINARY")
        .await
        .map_err(pg)?;
    let mut writer = pin!(BinaryCopyInWriter::new(
        sink,
        &[Type::TEXT, Type::INT8, Type::BYTEA]
    ));
    for i in 0..count {
        let entry = AuditEntry {
            seq: 1,
            at: now,
            action: Action::AccountAdded.as_str().into(),
            outcome: Outcome::Ok.as_str().into(),
            actor: ACTOR.into(),
            detail: String::new(),
        };
        let (name, seq, record) = (account(i), 1i64, encode_audit(&entry));
        let row: [&(dyn ToSql + Sync); 3] = [&name, &seq, &record];
        writer.as_mut().write(&row).await.map_err(pg)?;
    }
    writer.finish().await.map_err(pg)?;

    let added = crate::store::postgres::int(count as u64);
    client
        .execute(
            "UPDATE counters SET value = value + $1 WHERE name = 'accounts'",
            &[&added],
        )
        .await
        .map_err(pg)?;
    client.batch_execute("COMMIT").await.map_err(pg)?;
    // VACUUM ANALYZE outside the transaction: the visibility map and statistics a
    // database filled over time would have.
    client
        .batch_execute("VACUUM ANALYZE accounts, audit")
        .await
        .map_err(pg)?;
    drop(client);
    let _ = connection.await;
    Ok(())
}
