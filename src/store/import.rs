//! A bulk import's one write: many accounts created or changed as a single staged
//! change, so the group commit applies all of them in one transaction or none.

use super::writes::{adjust, current, write_changed, Effects};
use super::{Account, Store};
use crate::audit::Event;
use crate::error::Error;

/// What an import decided for one account: the record to write, its audit event and
/// the effects that go with it; `None` leaves the account as it is.
pub type ImportWrite = Option<(Account, Event, Effects)>;

/// Decide one import line (by its index) on the account as it is now (`None`: there is
/// none yet).
pub type ImportChange<'a> = dyn FnMut(usize, Option<Account>) -> Result<ImportWrite, Error> + 'a;

impl Store {
    /// Stage `decide`'s writes for every name, in order, as one change: an `Err` from
    /// any of them stages nothing at all. Each account is written as `change` writes
    /// one (its event first in its history, then the effects); new ones are counted.
    pub fn import(
        &self,
        names: &[String],
        now: u64,
        decide: &mut ImportChange<'_>,
    ) -> Result<(), Error> {
        self.staging.change(|view| {
            let mut created = 0i64;
            for (index, name) in names.iter().enumerate() {
                let existing = current(view, name)?;
                let is_new = existing.is_none();
                let Some((account, event, effects)) = decide(index, existing)? else {
                    continue;
                };
                if account.name != *name {
                    return Err(Error::Internal("an import renamed an account".into()));
                }
                write_changed(view, account, &event, effects, now)?;
                if is_new {
                    created += 1;
                }
            }
            adjust(view, super::META_ACCOUNTS, created)
        })
    }
}
