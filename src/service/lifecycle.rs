//! Account lifecycle requests: disable and enable, the expiry date and password-change
//! policy, and the status view; plus the login path's hooks (`closed_step`,
//! `refuse_if_closed`, `verified`). The rules themselves are `crate::lifecycle`'s.

use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::lifecycle;
use crate::protocol::{
    AccountSummary, Change, Disable, Enable, ListUsers, PasswordAge, Response, SetLifecycle,
    ShowLifecycle, MAX_PAGE,
};
use crate::store::{Account, Decided, Disabled, MaxPasswordAge};
use crate::time;

/// The longest reason `disable --reason` keeps.
pub const MAX_REASON: usize = 200;

impl Service {
    /// The answer for an attempt on a disabled or expired account, if it is one at
    /// `now`: refused before the password counts, like a locked one.
    pub(super) fn closed_step(
        &self,
        caller: &Caller,
        acc: &Account,
        now: u64,
        context: &str,
    ) -> Option<Decided<Error>> {
        let error = lifecycle::closed(acc, now)?;
        let why = match error {
            Error::Disabled { .. } => "account disabled",
            _ => "account expired",
        };
        let detail = super::login::detail_with(context, why);
        let event = Event::by(caller, Action::Verify, Outcome::Denied, detail);
        Some(Decided::new(error, event))
    }

    /// Refuse (and audit) a login on a disabled or expired account, before any hashing.
    pub(super) async fn refuse_if_closed(
        &self,
        caller: &Caller,
        account: &Account,
        context: &str,
    ) -> Result<(), Error> {
        let now = time::now();
        let closed = self.closed_step(caller, account, now, context);
        self.refuse(&account.name, now, closed).await
    }

    /// A granted login's answer: `Verified`, or `VerifiedChangeRequired` when the
    /// password must be changed now (decided with the login, `Authn::Granted`).
    pub(super) fn verified(&self, name: String, change_required: Option<String>) -> Response {
        match change_required {
            Some(reason) => Response::VerifiedChangeRequired { name, reason },
            None => Response::Verified { name },
        }
    }

    /// Refuse a self-service (or portal) request on a disabled account.
    pub(crate) fn refuse_if_disabled(&self, name: &str) -> Result<(), Error> {
        match self.store.account(name)? {
            Some(account) => lifecycle::refuse_disabled(&account),
            None => Ok(()),
        }
    }

    pub async fn disable(&self, caller: &Caller, req: Disable) -> Result<Response, Error> {
        let Disable { name, reason } = req;
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_REASON)
        {
            return Err(Error::InvalidInput(format!(
                "the reason is longer than {MAX_REASON} characters"
            )));
        }
        let now = time::now();
        self.record(&name, now, |acc, _| {
            let detail = match &reason {
                Some(r) => format!("reason: {}", crate::escape::clipped(r, MAX_REASON)),
                None => "no reason given".into(),
            };
            acc.disabled = Some(Disabled {
                since: now,
                reason: reason.clone(),
            });
            Ok(Event::by(caller, Action::AccountDisabled, Outcome::Ok, detail).into())
        })
        .await?;
        // A browser signed in before must not act for the account any more.
        self.end_sessions(caller, &name, None, "the account was disabled")
            .await?;
        Ok(Response::Done)
    }

    pub async fn enable(&self, caller: &Caller, req: Enable) -> Result<Response, Error> {
        let Enable { name } = req;
        self.record(&name, time::now(), |acc, _| {
            let detail = match acc.disabled.take() {
                Some(_) => String::new(),
                None => "was not disabled".into(),
            };
            Ok(Event::by(caller, Action::AccountEnabled, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }

    pub async fn set_lifecycle(
        &self,
        caller: &Caller,
        req: SetLifecycle,
    ) -> Result<Response, Error> {
        let SetLifecycle {
            name,
            expires,
            must_change_password,
            max_password_age,
        } = req;
        if expires == Change::Keep
            && must_change_password.is_none()
            && max_password_age == Change::Keep
        {
            return Err(Error::InvalidInput(
                "nothing to change: give --expires, --must-change-password or \
                 --max-password-age"
                    .into(),
            ));
        }
        if let Change::Set(PasswordAge::Days(days)) = max_password_age {
            if days == 0 || days > crate::config::MAX_AGE_DAYS {
                return Err(Error::InvalidInput(format!(
                    "the maximum password age must be 1 to {} days, or never",
                    crate::config::MAX_AGE_DAYS
                )));
            }
        }
        self.record(&name, time::now(), |acc, _| {
            let mut changed = Vec::new();
            match expires {
                Change::Keep => {}
                Change::Set(at) => {
                    acc.expires = Some(at);
                    changed.push(format!("expires {}", time::format(at)));
                }
                Change::Clear => {
                    acc.expires = None;
                    changed.push("expires never".into());
                }
            }
            if let Some(must) = must_change_password {
                acc.must_change_password = must;
                changed.push(format!("must change password: {must}"));
            }
            match max_password_age {
                Change::Keep => {}
                Change::Set(PasswordAge::Never) => {
                    acc.max_password_age = Some(MaxPasswordAge::Never);
                    changed.push("max password age never".into());
                }
                Change::Set(PasswordAge::Days(days)) => {
                    acc.max_password_age = Some(MaxPasswordAge::Days(days));
                    changed.push(format!("max password age {days} days"));
                }
                Change::Clear => {
                    acc.max_password_age = None;
                    changed.push("max password age: the default".into());
                }
            }
            let detail = changed.join(", ");
            Ok(Event::by(caller, Action::PolicyChanged, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }

    pub fn show_lifecycle(&self, req: ShowLifecycle) -> Result<Response, Error> {
        let account = self.existing(&req.name)?;
        let max_age = self.config().password.max_age;
        Ok(Response::Lifecycle(lifecycle::view(
            &account,
            max_age,
            time::now(),
        )))
    }

    /// A page of account names with each account's status (`list-users --long`).
    pub fn list_accounts(&self, req: ListUsers) -> Result<Response, Error> {
        let ListUsers { after, limit } = req;
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let (names, more) = self.store.list(after.as_deref(), limit)?;
        let next = if more { names.last().cloned() } else { None };
        let (max_age, now) = (self.config().password.max_age, time::now());
        let mut accounts = Vec::with_capacity(names.len());
        for name in &names {
            // Removed since the names were read: left out.
            if let Some(account) = self.store.account(name)? {
                accounts.push(summary(&account, max_age, now));
            }
        }
        Ok(Response::Accounts { accounts, next })
    }
}

/// One account's line of `list-users --long`.
fn summary(account: &Account, max_age: Option<u32>, now: u64) -> AccountSummary {
    let view = lifecycle::view(account, max_age, now);
    AccountSummary {
        name: account.name.clone(),
        disabled: view.disabled,
        expired: view.expired,
        locked_until: crate::lockout::locked_until(account, now),
        password_set: account.password_hash.is_some(),
        password_change_required: view.password_change_required,
        sso: account.sso.clone(),
        factors: account.second_factors(),
        password_changed: view.password_changed,
        last_login: view.last_login,
        last_login_service: view.last_login_service,
    }
}
