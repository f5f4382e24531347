//! A change that may be decided more than once (`Backend::change_retrying`, a login),
//! without a row lock: decided on the record as last read, then written by one
//! statement that replaces the record only if it is still byte for byte the one decided
//! on, with the history entries and their trim, committed on its own. A record changed
//! meanwhile (by this daemon or another) writes nothing: the change is decided again on
//! the record as it is now. Lockout counts, the TOTP replay step and single-use codes
//! hold as under the lock, since a decision is only ever written over the record it was
//! taken on.
//!
//! Awaited as a task (no thread waits on it) until it takes the lock. One statement and
//! one round trip where the locked change takes five statements and two; the record the caller read before hashing serves as the first guess, so a login
//! reads the account once. A change with effects beyond the record and its history
//! (tokens, messages), and one that lost the race `ATTEMPTS` times, takes the lock
//! (`writes`), where it is decided once more.

use tokio_postgres::types::ToSql;

use super::{pg, PgStore};
use crate::error::Error;
use crate::store::backend::RetriedChange;
use crate::store::records::{decode_account, encode_account};
use crate::store::{Account, Effects};

use super::writes::{account_writes, AccountWrites};

/// Decisions written without the lock before the change takes it.
const ATTEMPTS: usize = 3;

/// The record replaced if unchanged and the history entries inserted — only when it was
/// — in one statement, with `$trim` (more of the same); the count of records replaced
/// (0 or 1).
macro_rules! swap {
    ($trim:literal) => {
        concat!(
            "WITH swapped AS (",
            "UPDATE accounts SET record = $3 WHERE name = $1 AND record = $2 RETURNING name), ",
            "added AS (INSERT INTO audit (name, seq, record) ",
            "SELECT swapped.name, entry.seq, entry.record ",
            "FROM swapped, unnest($4::bigint[], $5::bytea[]) AS entry(seq, record))",
            $trim,
            " SELECT count(*) FROM swapped"
        )
    };
}
const SWAP: &str = swap!("");
/// `SWAP` that also trims the history entries out of the window (through `$6`).
const SWAP_TRIM: &str = swap!(
    ", trimmed AS (DELETE FROM audit WHERE name = $1 AND seq <= $6 \
     AND EXISTS (SELECT 1 FROM swapped))"
);

impl PgStore {
    /// `Backend::change_retrying`: awaited as a task until it takes the lock.
    pub(super) async fn write_change_retrying(
        &self,
        name: &str,
        now: u64,
        seen: Option<&Account>,
        change: &mut RetriedChange<'_>,
    ) -> Result<(), Error> {
        // The caller's copy, encoded as this authd writes it: a record stored in an
        // older format differs, loses the first swap and is read as stored.
        let mut guess = seen.map(|a| (encode_account(a), true));
        for _ in 0..ATTEMPTS {
            let (stored, from_caller) = match guess.take() {
                Some(g) => g,
                None => match self.fetch_account_bytes(name).await? {
                    Some(bytes) => (bytes, false),
                    None => return Err(Error::NoSuchUser(name.to_string())),
                },
            };
            let mut account = decode_account(&stored)?;
            let mut effects = Effects::default();
            let event = match change(&mut account, &mut effects) {
                Ok(event) => event,
                // Refused on the caller's copy, which may be out of date: decide again
                // on the stored record; refused on that, it stands.
                Err(_) if from_caller => continue,
                Err(e) => return Err(e),
            };
            if !effects.is_empty() {
                break;
            }
            let (writes, _) = account_writes(account, &event, effects, now, false);
            if self.swap(stored, writes).await? {
                return Ok(());
            }
        }
        self.write_change(name, now, change)
    }

    /// Run `SWAP`: whether the record was still the one decided on (and so replaced).
    async fn swap(&self, stored: Vec<u8>, new: AccountWrites) -> Result<bool, Error> {
        let (seqs, entries): (Vec<i64>, Vec<Vec<u8>>) = new.audit.into_iter().unzip();
        self.with_conn_async(move |conn| async move {
            let trim = new.trim_through > 0;
            let st = conn
                .prepare_cached(if trim { SWAP_TRIM } else { SWAP })
                .await
                .map_err(pg)?;
            let args: [&(dyn ToSql + Sync); 6] = [
                &new.name,
                &stored,
                &new.record,
                &seqs,
                &entries,
                &new.trim_through,
            ];
            let args = if trim { &args[..] } else { &args[..5] };
            let row = conn.query_one(&st, args).await.map_err(pg)?;
            Ok(row.get::<_, i64>(0) == 1)
        })
        .await
    }
}
