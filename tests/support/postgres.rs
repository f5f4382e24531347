//! A PostgreSQL database of the test's own on the server at 127.0.0.1:5432 (trust
//! authentication for `root`; `tests/postgres.sh` starts one where none answers):
//! created with a unique name, dropped when the test ends. No server is a failure, never
//! a skip: the multi-daemon promises are this backend's reason to exist.
//!
//! Talks to the server with `psql` (Debian's postgresql-client).

#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The server, as `root` (trust authentication).
pub const SERVER: &str = "postgresql://root@127.0.0.1:5432";

/// The database tests connect to, to create and drop their own.
const ADMIN_DB: &str = "test";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Run `sql` on `db`; its output (unaligned, tuples only).
#[track_caller]
pub fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
        .arg(format!("{SERVER}/{db}"))
        .args(["-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql (install postgresql-client): {e}"));
    assert!(
        out.status.success(),
        "psql on {db} failed for `{sql}`: {}\n(a PostgreSQL server must answer on \
         127.0.0.1:5432 with trust authentication for root: tests/postgres.sh starts one)",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A database for one test, dropped (with its connections) when this is.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    #[track_caller]
    pub fn create() -> TestDb {
        let db = TestDb::reserve();
        db.make();
        db
    }

    /// A unique name, not created yet (`make` creates it); dropped all the same.
    pub fn reserve() -> TestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "authd_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        TestDb { name }
    }

    #[track_caller]
    pub fn make(&self) {
        psql(ADMIN_DB, &format!("CREATE DATABASE {}", self.name));
    }

    pub fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }

    /// The `[store]` section for this database.
    pub fn store_config(&self) -> String {
        format!(
            "[store]\nbackend = \"postgres\"\nurl = \"{}\"\npool_size = 4\n",
            self.url()
        )
    }

    /// Run `sql` in this database.
    #[track_caller]
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.name, sql)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Not psql(): nothing may panic while a failed test unwinds.
        let _ = Command::new("psql")
            .args(["-X", "-q", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .arg(format!("{SERVER}/{ADMIN_DB}"))
            .output();
    }
}
