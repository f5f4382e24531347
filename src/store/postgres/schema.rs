//! The schema: versioned migrations (`migrations/NNNN_*.sql` in the repository, built
//! into the binary), applied by the daemon at start in one transaction under an advisory
//! lock, so daemons starting together migrate once. A database at a version newer than
//! this authd knows is refused: a newer authd migrated it, and this one would misread it.

use super::{pg, PgError, PgStore};
use crate::error::Error;

/// The migrations, in order; version N is the Nth.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_init.sql"),
    include_str!("../../../migrations/0002_delivered.sql"),
];

/// The schema version this authd brings its databases to.
pub const LATEST: i32 = MIGRATIONS.len() as i32;

/// `pg_advisory_xact_lock` key: "authd" in ASCII, so other users of the database are
/// unlikely to collide with it.
const LOCK: i64 = 0x0061_7574_6864;

/// What the start found.
enum Outcome {
    Current { applied: Vec<i32> },
    Newer(i32),
}

impl PgStore {
    /// Apply the migrations the database lacks, or refuse a newer schema.
    pub(super) fn migrate(&self) -> Result<(), PgError> {
        let outcome = self
            .with_conn(|mut conn| async move {
                let tx = conn.transaction().await.map_err(pg)?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
                    .await
                    .map_err(pg)?;
                tx.batch_execute(
                    "SET LOCAL client_min_messages = warning; \
                     CREATE TABLE IF NOT EXISTS authd_schema (\
                     version integer PRIMARY KEY, \
                     applied timestamptz NOT NULL DEFAULT now())",
                )
                .await
                .map_err(pg)?;
                let row = tx
                    .query_one("SELECT coalesce(max(version), 0) FROM authd_schema", &[])
                    .await
                    .map_err(pg)?;
                let found: i32 = row.get(0);
                if found > LATEST {
                    return Ok(Outcome::Newer(found));
                }
                let mut applied = Vec::new();
                for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                    let version = i as i32 + 1;
                    tx.batch_execute(sql).await.map_err(pg)?;
                    tx.execute(
                        "INSERT INTO authd_schema (version) VALUES ($1)",
                        &[&version],
                    )
                    .await
                    .map_err(pg)?;
                    applied.push(version);
                }
                tx.commit().await.map_err(pg)?;
                Ok::<_, Error>(Outcome::Current { applied })
            })
            .map_err(|e| PgError::Database {
                url: self.url.clone(),
                reason: crate::error::DisplayChain(&e).to_string(),
            })?;
        match outcome {
            Outcome::Newer(found) => Err(PgError::NewerSchema {
                url: self.url.clone(),
                found,
                known: LATEST,
            }),
            Outcome::Current { applied } => {
                for version in applied {
                    tracing::info!(version, database = %self.url, "database schema migrated");
                }
                Ok(())
            }
        }
    }
}
