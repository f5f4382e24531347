//! Account lifecycle rules: is the account open for logins (not disabled, not expired),
//! must its password be changed (an admin's flag, or older than the maximum age), and
//! the status view `show` and PAM's `account` step read.
//!
//! Pure functions of an `Account`, the `[password] max_age` default and `now`; the
//! service decides when to call them and the store persists what changes.

use crate::error::Error;
use crate::protocol::Lifecycle;
use crate::store::{Account, MaxPasswordAge};

const DAY: u64 = 86_400;

/// Why an account takes no logins, if it does not at `now`.
pub fn closed(account: &Account, now: u64) -> Option<Error> {
    if let Err(disabled) = refuse_disabled(account) {
        return Some(disabled);
    }
    match account.expires {
        Some(at) if at <= now => Some(Error::Expired {
            name: account.name.clone(),
            at,
        }),
        _ => None,
    }
}

/// Refuse a self-service request on a disabled account.
pub fn refuse_disabled(account: &Account) -> Result<(), Error> {
    match &account.disabled {
        Some(disabled) => Err(Error::Disabled {
            name: account.name.clone(),
            reason: disabled.reason.clone(),
        }),
        None => Ok(()),
    }
}

/// The maximum age in force, in days: the account's own, else the configured default.
pub fn max_age_days(account: &Account, default_days: Option<u32>) -> Option<u32> {
    match account.max_password_age {
        Some(MaxPasswordAge::Never) => None,
        Some(MaxPasswordAge::Days(days)) => Some(days),
        None => default_days,
    }
}

/// When the password ages out, if it does and its age is known.
pub fn password_expires(account: &Account, default_days: Option<u32>) -> Option<u64> {
    let days = max_age_days(account, default_days)?;
    let changed = account.password_changed?;
    Some(changed.saturating_add(u64::from(days) * DAY))
}

/// Why the password must be changed at `now`, if it must.
pub fn change_required(account: &Account, default_days: Option<u32>, now: u64) -> Option<String> {
    if account.password_hash.is_none() || account.sso.is_some() {
        return None;
    }
    if account.must_change_password {
        return Some("an administrator requires a new password".into());
    }
    let expires = password_expires(account, default_days)?;
    (expires <= now).then(|| {
        format!(
            "the password is older than {} days (it expired at {})",
            max_age_days(account, default_days).unwrap_or(0),
            crate::time::format(expires)
        )
    })
}

/// A password was set, changed or reset at `now`: its age starts again. Only the owner's
/// own change (`by_owner`) clears an admin's demand for a new one.
pub fn password_set(account: &mut Account, now: u64, by_owner: bool) {
    account.password_changed = Some(now);
    if by_owner {
        account.must_change_password = false;
    }
}

/// The status view (`ShowLifecycle`).
pub fn view(account: &Account, default_days: Option<u32>, now: u64) -> Lifecycle {
    Lifecycle {
        name: account.name.clone(),
        disabled: account.disabled.is_some(),
        disabled_reason: account.disabled.as_ref().and_then(|d| d.reason.clone()),
        disabled_since: account.disabled.as_ref().map(|d| d.since),
        expires: account.expires,
        expired: account.expires.is_some_and(|at| at <= now),
        must_change_password: account.must_change_password,
        password_changed: account.password_changed,
        max_password_age_days: max_age_days(account, default_days),
        password_expires: password_expires(account, default_days),
        password_change_required: change_required(account, default_days, now).is_some(),
        last_login: account.last_login.as_ref().map(|l| l.at),
        last_login_service: account.last_login.as_ref().and_then(|l| l.service.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Disabled;

    const T: u64 = 1_800_000_000;

    fn alice() -> Account {
        let mut a = Account::new("alice".into(), T);
        a.password_hash = Some("$argon2id$x".into());
        a
    }

    #[test]
    fn disabled_and_expired_accounts_are_closed() {
        let mut a = alice();
        assert!(closed(&a, T).is_none());
        a.expires = Some(T + 10);
        assert!(closed(&a, T + 9).is_none());
        assert!(matches!(closed(&a, T + 10), Some(Error::Expired { .. })));
        a.disabled = Some(Disabled {
            since: T,
            reason: None,
        });
        assert!(matches!(closed(&a, T), Some(Error::Disabled { .. })));
        assert!(refuse_disabled(&a).is_err());
    }

    #[test]
    fn the_account_s_own_age_wins_over_the_default() {
        let mut a = alice();
        a.password_changed = Some(T);
        assert_eq!(change_required(&a, None, T + 1000 * DAY), None);
        assert!(change_required(&a, Some(30), T + 30 * DAY).is_some());
        assert!(change_required(&a, Some(30), T + 30 * DAY - 1).is_none());
        a.max_password_age = Some(MaxPasswordAge::Never);
        assert_eq!(change_required(&a, Some(30), T + 1000 * DAY), None);
        a.max_password_age = Some(MaxPasswordAge::Days(5));
        assert_eq!(password_expires(&a, Some(30)), Some(T + 5 * DAY));
    }

    #[test]
    fn an_unknown_age_never_ages_out_and_the_owner_clears_the_flag() {
        let mut a = alice();
        assert_eq!(change_required(&a, Some(1), T + 1000 * DAY), None);
        a.must_change_password = true;
        assert!(change_required(&a, None, T).is_some());
        password_set(&mut a, T, false);
        assert!(a.must_change_password);
        password_set(&mut a, T, true);
        assert!(!a.must_change_password);
        assert_eq!(a.password_changed, Some(T));
    }
}
