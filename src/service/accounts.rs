//! Account lifecycle: add, remove, list, show, edit.

use super::Service;
use crate::account::{
    check_change as checked, check_email, check_name, check_phone, check_provider, info,
};
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{
    AddUser, Change, ListUsers, RemoveUser, Response, SetUser, ShowUser, MAX_PAGE,
};
use crate::store::Account;
use crate::time;

/// Apply `change` to `field`; returns whether the value changed.
pub(super) fn apply(field: &mut Option<String>, change: &Change<String>) -> bool {
    let new = match change {
        Change::Keep => return false,
        Change::Set(v) => Some(v.clone()),
        Change::Clear => None,
    };
    let changed = *field != new;
    *field = new;
    changed
}

impl Service {
    pub async fn add_user(&self, caller: &Caller, req: AddUser) -> Result<Response, Error> {
        let AddUser {
            name,
            email,
            phone,
            sso,
        } = req;
        check_name(&name)?;
        let now = time::now();
        let mut account = Account::new(name, now);
        account.email = email.as_deref().map(check_email).transpose()?;
        account.phone = phone.as_deref().map(check_phone).transpose()?;
        account.sso = sso.as_deref().map(check_provider).transpose()?;
        let detail = match &account.sso {
            Some(p) => format!("sso {p}"),
            None => String::new(),
        };
        let event = Event::by(caller, Action::AccountAdded, Outcome::Ok, detail);
        self.store.create(&account, &event, now)?;
        self.commit(&account.name, &event).await?;
        Ok(Response::Done)
    }

    pub async fn remove_user(&self, caller: &Caller, req: RemoveUser) -> Result<Response, Error> {
        let RemoveUser { name } = req;
        self.store.remove(&name)?;
        let event = Event::by(caller, Action::AccountRemoved, Outcome::Ok, String::new());
        self.commit(&name, &event).await?;
        Ok(Response::Done)
    }

    pub fn list_users(&self, req: ListUsers) -> Result<Response, Error> {
        let ListUsers { after, limit } = req;
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let (names, more) = self.store.list(after.as_deref(), limit)?;
        let next = if more { names.last().cloned() } else { None };
        Ok(Response::Users { names, next })
    }

    pub fn show_user(&self, req: ShowUser) -> Result<Response, Error> {
        let account = self
            .store
            .account(&req.name)?
            .ok_or(Error::NoSuchUser(req.name))?;
        Ok(Response::Account(info(&account, time::now())))
    }

    pub async fn set_user(&self, caller: &Caller, req: SetUser) -> Result<Response, Error> {
        let SetUser {
            name,
            email,
            phone,
            sso,
        } = req;
        if [&email, &phone, &sso].iter().all(|c| **c == Change::Keep) {
            return Err(Error::InvalidInput(
                "nothing to change: give an email, phone or SSO change".into(),
            ));
        }
        let email = checked(email, check_email)?;
        let phone = checked(phone, check_phone)?;
        let sso = checked(sso, check_provider)?;
        self.record(&name, time::now(), |account, effects| {
            let mut changed = Vec::new();
            let email_changed = apply(&mut account.email, &email);
            if email_changed {
                changed.push("email");
            }
            if phone != Change::Keep && account.sms.is_some() {
                return Err(Error::InvalidInput(format!(
                    "SMS verification is set up for `{}`: turn it off first \
                     (disable-2fa --method sms, or reset-2fa by an admin) to change the number",
                    account.name
                )));
            }
            if apply(&mut account.phone, &phone) {
                changed.push("phone");
            }
            let sso_changed = apply(&mut account.sso, &sso);
            if sso_changed {
                changed.push("sso");
                // An SSO account authenticates at its provider: no local password.
                if account.sso.is_some() && account.password_hash.take().is_some() {
                    changed.push("password removed");
                }
            }
            // Links mailed to the old address must not outlive it, nor links for
            // a password the account no longer has (or had none of, while SSO).
            if (email_changed || sso_changed) && !account.reset_tokens.is_empty() {
                effects.dropped_tokens.append(&mut account.reset_tokens);
                changed.push("reset links voided");
            }
            let detail = if changed.is_empty() {
                "no change".to_string()
            } else {
                changed.join(", ")
            };
            Ok(Event::by(caller, Action::AccountChanged, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }
}
