//! A bulk import as one transaction: every account it names is locked (in name order,
//! so two imports cannot deadlock) and read in one trip, `decide` runs on each in the
//! import's order on the caller's thread, and every write goes in the one commit. An
//! account another daemon creates meanwhile makes the import fail whole (`Exists`).

use std::collections::{HashMap, HashSet};

use super::writes::{account_writes, Tx};
use super::{pg, PgStore};
use crate::error::Error;
use crate::store::import::ImportChange;
use crate::store::records::decode_account;
use crate::store::Account;

impl PgStore {
    pub(super) fn write_import(
        &self,
        names: &[String],
        now: u64,
        decide: &mut ImportChange<'_>,
    ) -> Result<(), Error> {
        let mut tx = Tx::begin(self)?;
        let mut sorted: Vec<String> = names.to_vec();
        sorted.sort();
        sorted.dedup();
        let found: Vec<(String, Vec<u8>)> = tx.step(|conn| async move {
            let rows = conn
                .query(
                    "SELECT name, record FROM accounts WHERE name = ANY($1) \
                     ORDER BY name FOR UPDATE",
                    &[&sorted],
                )
                .await
                .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
                .map_err(pg);
            (conn, rows)
        })?;
        let mut current: HashMap<String, Account> = HashMap::new();
        for (name, bytes) in found {
            current.insert(name, decode_account(&bytes)?);
        }
        let in_table: HashSet<String> = current.keys().cloned().collect();
        let mut written: HashSet<String> = HashSet::new();
        let mut writes = Vec::new();
        let mut created = 0i64;
        for (index, name) in names.iter().enumerate() {
            let decided = match decide(index, current.get(name).cloned()) {
                Ok(decided) => decided,
                Err(e) => {
                    tx.rollback();
                    return Err(e);
                }
            };
            let Some((account, event, effects)) = decided else {
                continue;
            };
            if account.name != *name {
                tx.rollback();
                return Err(Error::Internal("an import renamed an account".into()));
            }
            let new = !in_table.contains(name) && written.insert(name.clone());
            if new {
                created += 1;
            }
            let (w, written_account) = account_writes(account, &event, effects, now, new);
            // What a later line for the same name sees: the account as written.
            current.insert(name.clone(), written_account);
            writes.push(w);
        }
        tx.commit(writes, created)
    }
}
