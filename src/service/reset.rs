//! Forgotten passwords: queue a mail with a single-use token, and set a new password
//! with it. Any password change voids the account's tokens and mails a notice.

use super::refuse_sso;
use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::escape::escaped;
use crate::lockout;
use crate::outbox::mail::ComposeError;
use crate::outbox::mask_address;
use crate::password::check_policy;
use crate::protocol::{CheckResetToken, ResetPassword, Response, SendReset};
use crate::reset::{self, CHANGED_SUBJECT, MAX_OUTSTANDING, RESET_SUBJECT};
use crate::store::{Account, Decided, Effects, ResetToken};
use crate::time;

impl Service {
    /// Void every outstanding token and queue the "password changed" notice: part of
    /// every password change, in its transaction. A notice that cannot be composed (an
    /// address stored before authd checked addresses as delivery uses them) never fails
    /// the change: it goes into the account's history instead, and is returned so the
    /// caller logs it once the change is durable (`report_unsent`).
    pub(super) fn after_password_change(
        &self,
        acc: &mut Account,
        effects: &mut Effects,
        how: &str,
        now: u64,
    ) -> Result<Option<Event>, Error> {
        effects.dropped_tokens.append(&mut acc.reset_tokens);
        let Some(email) = acc.email.clone() else {
            return Ok(None);
        };
        let body = reset::changed_body(&acc.name, how, now);
        match self.compose_mail(&email, CHANGED_SUBJECT, body) {
            Ok(composed) => {
                self.queue_composed(effects, &acc.name, composed, now)?;
                Ok(None)
            }
            Err(e) => {
                let masked = escaped(&mask_address(&email)).into_owned();
                let why = match e {
                    ComposeError::To(why) => format!("the address cannot be mailed ({why})"),
                    other => other.to_string(),
                };
                let detail = format!("{CHANGED_SUBJECT} to {masked}: not sent, {why}");
                let event = Event::new(Action::MailFailed, Outcome::Denied, "authd", detail);
                effects.events.push(event.clone());
                Ok(Some(event))
            }
        }
    }

    /// Log a notice that could not be composed (see `after_password_change`), after the
    /// change that triggered it is durable: a warning for the admin and the audit line.
    pub(super) fn report_unsent(&self, name: &str, unsent: Option<Event>) {
        if let Some(event) = unsent {
            tracing::warn!(
                account = %name,
                detail = %event.detail,
                "password-changed notice not queued; the password change itself succeeded"
            );
            event.log(name);
        }
    }

    pub async fn send_reset(&self, caller: &Caller, req: SendReset) -> Result<Response, Error> {
        let SendReset { name, proof } = req;
        self.can_mail_reset(&name)?;
        if let Some(proof) = proof {
            self.require_proof(caller, &name, proof, "change-password --email-link")
                .await?;
        }
        let (expires, _) = self.queue_reset(caller, &name, "").await?;
        Ok(Response::ResetQueued { expires })
    }

    /// Can `name` be sent a reset mail at all: it exists, is not SSO, has an address.
    pub(super) fn can_mail_reset(&self, name: &str) -> Result<(), Error> {
        let account = self.existing(name)?;
        refuse_sso(&account)?;
        if account.email.is_none() {
            return Err(Error::InvalidInput(format!(
                "account `{name}` has no email address to send a reset link to; ask an admin"
            )));
        }
        Ok(())
    }

    /// Queue a reset mail with a new token for `name`, under the reset mails' rate
    /// limit, and record it (`how` is added to the audit detail). -> when the token
    /// expires, and the masked address the mail goes to.
    pub(super) async fn queue_reset(
        &self,
        caller: &Caller,
        name: &str,
        how: &str,
    ) -> Result<(u64, String), Error> {
        let (token, hash) = reset::new_token(&self.vault)?;
        let now = time::now();
        let expires = now + self.config().reset.token_ttl.as_secs();
        let min_interval = self.config().reset.min_interval.as_secs();
        let masked = self
            .record(name, now, |acc, effects| {
                refuse_sso(acc)?;
                if let Some(last) = acc.last_reset_request {
                    if now < last + min_interval {
                        return Err(Error::RateLimited {
                            until: last + min_interval,
                        });
                    }
                }
                let email = acc.email.clone().ok_or_else(|| {
                    Error::InvalidInput(format!("account `{name}` has no email address"))
                })?;
                acc.last_reset_request = Some(now);
                while acc.reset_tokens.len() >= MAX_OUTSTANDING {
                    effects.dropped_tokens.push(acc.reset_tokens.remove(0));
                }
                acc.reset_tokens.push(hash);
                effects.new_tokens.push((
                    hash,
                    ResetToken {
                        account: name.to_string(),
                        expires,
                    },
                ));
                let config = self.config();
                let body = reset::reset_body(&config.reset, &config.web, name, &token, expires);
                self.queue_mail(effects, name, &email, RESET_SUBJECT, body, now)?;
                let masked = mask_address(&email);
                let detail = format!("mail queued to {masked}{how}");
                let event = Event::by(caller, Action::ResetRequested, Outcome::Ok, detail);
                Ok(Decided::new(masked, event))
            })
            .await?;
        self.wake_outbox();
        Ok((expires, masked))
    }

    /// Is `token` a reset token that `reset_password` would take now (not expired, the
    /// account not SSO)? Spends nothing; an expired token is dropped and recorded, as
    /// `reset_password` does.
    pub async fn check_reset_token(
        &self,
        caller: &Caller,
        req: CheckResetToken,
    ) -> Result<Response, Error> {
        let hash = reset::hash(&self.vault, req.token.expose());
        let name = self.live_token(caller, &hash).await?;
        let account = self.existing(&name)?;
        refuse_sso(&account)?;
        crate::lifecycle::refuse_disabled(&account)?;
        Ok(Response::Done)
    }

    /// The account of the reset token `hash` if it is known and not expired; an expired
    /// one is removed from its account, with a `password-reset denied` event.
    async fn live_token(&self, caller: &Caller, hash: &[u8; 32]) -> Result<String, Error> {
        let now = time::now();
        let Some(record) = self.store.reset_token(hash)? else {
            self.warn_denied(caller, "reset with an unknown token");
            return Err(Error::TokenInvalid);
        };
        let name = record.account;
        if record.expires <= now {
            let event = Event::by(
                caller,
                Action::PasswordReset,
                Outcome::Denied,
                "token expired".into(),
            );
            self.record(&name, now, |acc, effects| {
                if let Some(i) = acc.reset_tokens.iter().position(|h| h == hash) {
                    effects.dropped_tokens.push(acc.reset_tokens.remove(i));
                }
                Ok(event.into())
            })
            .await?;
            return Err(Error::TokenInvalid);
        }
        Ok(name)
    }

    pub async fn reset_password(
        &self,
        caller: &Caller,
        req: ResetPassword,
    ) -> Result<Response, Error> {
        let ResetPassword { token, password } = req;
        let hash = reset::hash(&self.vault, token.expose());
        let name = self.live_token(caller, &hash).await?;
        let account = self.existing(&name)?;
        refuse_sso(&account)?;
        crate::lifecycle::refuse_disabled(&account)?;
        check_policy(&self.config().password, &name, password.expose())?;
        let new_hash = self.hasher.hash(caller.hash_share(), password).await?;
        let now = time::now();
        let unsent = self
            .record(&name, now, |acc, effects| {
                refuse_sso(acc)?;
                if !acc.reset_tokens.contains(&hash) {
                    return Err(Error::TokenInvalid);
                }
                crate::lifecycle::refuse_disabled(acc)?;
                acc.password_hash = Some(new_hash.clone());
                crate::lifecycle::password_set(acc, now, true);
                lockout::clear(acc);
                let unsent =
                    self.after_password_change(acc, effects, "with an emailed reset link", now)?;
                let event = Event::by(
                    caller,
                    Action::PasswordReset,
                    Outcome::Ok,
                    "with emailed token".into(),
                );
                Ok(Decided::new(unsent, event))
            })
            .await?;
        self.report_unsent(&name, unsent);
        self.wake_outbox();
        Ok(Response::PasswordReset { name })
    }
}
