//! The portal role (authd-web): sign-in through the one login path, sessions, and the
//! acts a session allows; and the admin/self view of an account's portal sessions.
//!
//! The portal never names the account it acts for: a session token does, and a session
//! exists only after that account's password and second factor passed `verify` and
//! `verify_code` here. Sensitive acts need a proof from the last minutes
//! (`[web] fresh_proof`). The rules of a session (expiry, freshness, binding) live in
//! `crate::portal`; this file applies them, under the limits of the config in force at
//! each request (so a `reload` applies at once), and records every session event.

use super::login::origin_detail;
use super::{refuse_sso, Service};
use crate::account::check_phone;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::password::check_policy;
use crate::portal::{self, Refused, Session};
use crate::protocol::{
    ConfirmSms, ConfirmTotp, FactorProof, KeyLoginFinish, KeyLoginStart, KeyRegisterFinish,
    ListKeys, ListSessions, Logout, Origin, PortalAct, PortalAction, PortalCode, PortalProve,
    PortalProveKey, PortalProveKeyStart, PortalSignIn, Response, Secret, ShowUser, Verify,
    VerifyCode,
};
use crate::time;

/// The portal must not learn which names exist: an unknown name is a wrong password.
fn hide_unknown(error: Error) -> Error {
    match error {
        Error::NoSuchUser(_) => Error::Denied,
        other => other,
    }
}

impl Service {
    /// Now, under the session limits of the config in force.
    fn at(&self) -> portal::At {
        portal::At {
            now: time::now(),
            limits: self.config().web.session_limits(),
        }
    }

    pub async fn portal_sign_in(
        &self,
        caller: &Caller,
        req: PortalSignIn,
    ) -> Result<Response, Error> {
        let PortalSignIn {
            name,
            password,
            origin,
        } = req;
        let verify = Verify {
            name,
            password,
            code: None,
            origin: origin.clone(),
        };
        match self.verify(caller, verify).await.map_err(hide_unknown)? {
            Response::Verified { name } | Response::VerifiedChangeRequired { name, .. } => {
                self.open_session(caller, name, &origin).await
            }
            challenged => Ok(challenged),
        }
    }

    pub async fn portal_code(&self, caller: &Caller, req: PortalCode) -> Result<Response, Error> {
        let PortalCode {
            name,
            challenge,
            code,
            origin,
        } = req;
        let step = VerifyCode {
            name,
            challenge,
            code,
            origin: origin.clone(),
        };
        match self.verify_code(caller, step).await.map_err(hide_unknown)? {
            Response::Verified { name } | Response::VerifiedChangeRequired { name, .. } => {
                self.open_session(caller, name, &origin).await
            }
            other => Ok(other),
        }
    }

    /// Assertion options for the challenge a portal sign-in gave.
    pub async fn portal_key_start(
        &self,
        caller: &Caller,
        req: KeyLoginStart,
    ) -> Result<Response, Error> {
        self.key_login_start(caller, req)
            .await
            .map_err(hide_unknown)
    }

    /// The key step of a portal sign-in: a session once the key's answer is right.
    pub async fn portal_key(
        &self,
        caller: &Caller,
        req: KeyLoginFinish,
    ) -> Result<Response, Error> {
        let origin = req.origin.clone();
        match self
            .key_login_finish(caller, req)
            .await
            .map_err(hide_unknown)?
        {
            Response::Verified { name } | Response::VerifiedChangeRequired { name, .. } => {
                self.open_session(caller, name, &origin).await
            }
            other => Ok(other),
        }
    }

    /// The account just signed in through the portal: open its session and record it.
    async fn open_session(
        &self,
        caller: &Caller,
        name: String,
        origin: &Origin,
    ) -> Result<Response, Error> {
        let stamp = self.existing(&name)?.credential_stamp();
        let at = self.at();
        let now = at.now;
        let origin = origin_detail(origin);
        let uid = caller.peer().uid;
        let (token, session, pushed_out) =
            self.sessions
                .open(&self.vault, &name, uid, stamp, origin.clone(), at)?;
        let mut detail = format!("session {} opened", session.id);
        if !origin.is_empty() {
            detail.push_str(&format!("; {origin}"));
        }
        if let Some(old) = pushed_out {
            detail.push_str(&format!("; session {} ended (too many)", old.id));
        }
        let event = Event::by(caller, Action::PortalSignIn, Outcome::Ok, detail);
        if let Err(e) = self.record(&name, now, |_, _| Ok(event.into())).await {
            // Not recorded, so not acknowledged: the session must not outlive the error.
            let _ = self.sessions.end(&name, Some(session.id));
            return Err(e);
        }
        Ok(Response::SessionIssued {
            name,
            id: session.id,
            token,
            expires: session.expires(&at.limits),
        })
    }

    /// The live session `token` names for this portal uid, counted as a use; its keyed
    /// hash with it. A session that just ended (expired, credentials changed) is
    /// recorded as ended.
    async fn session(&self, caller: &Caller, token: &Secret) -> Result<([u8; 32], Session), Error> {
        let hash = portal::token_hash(&self.vault, token.expose());
        let at = self.at();
        let now = at.now;
        let stamp_of = |account: &str| {
            self.store
                .account(account)
                .ok()
                .flatten()
                .map(|a| a.credential_stamp())
        };
        match self
            .sessions
            .touch(&hash, caller.peer().uid, stamp_of, at)?
        {
            Ok(session) => Ok((hash, session)),
            Err(Refused::Gone { session, why }) => {
                let detail = format!("session {} ended: {why}", session.id);
                let event = Event::by(caller, Action::PortalSessionEnded, Outcome::Ok, detail);
                match self
                    .record(&session.account, now, |_, _| Ok(event.into()))
                    .await
                {
                    Ok(()) | Err(Error::NoSuchUser(_)) => Err(Error::SessionInvalid),
                    Err(e) => Err(e),
                }
            }
            Err(Refused::Unknown | Refused::OtherUid) => {
                self.warn_denied(caller, "portal request with an unknown session");
                Err(Error::SessionInvalid)
            }
        }
    }

    /// The session changed its own account's credentials: it goes on under the new
    /// state, the account's other sessions end.
    fn restamp(&self, hash: &[u8; 32], name: &str) -> Result<(), Error> {
        let stamp = self.existing(name)?.credential_stamp();
        self.sessions.restamp(hash, stamp)
    }

    pub async fn portal_prove(&self, caller: &Caller, req: PortalProve) -> Result<Response, Error> {
        let PortalProve { session, proof } = req;
        let (hash, session) = self.session(caller, &session).await?;
        self.require_proof(caller, &session.account, proof, "portal proof")
            .await?;
        // A login may rehash the password, which changes the stamp but not the password.
        self.restamp(&hash, &session.account)?;
        self.sessions.proved(&hash, time::now())?;
        Ok(Response::Done)
    }

    /// The password of a proof by key: a challenge for the session's account (the same
    /// single-use, uid-bound record a login's key step uses).
    pub async fn portal_prove_key_start(
        &self,
        caller: &Caller,
        req: PortalProveKeyStart,
    ) -> Result<Response, Error> {
        let PortalProveKeyStart {
            session,
            password,
            origin,
        } = req;
        let (_, session) = self.session(caller, &session).await?;
        let name = session.account;
        if self.existing(&name)?.security_keys.is_empty() {
            return Err(Error::NotEnrolled(format!("`{name}` has no security key")));
        }
        let verify = Verify {
            name,
            password,
            code: None,
            origin,
        };
        match self.verify(caller, verify).await? {
            challenged @ Response::SecondFactorRequired {
                challenge: Some(_), ..
            } => Ok(challenged),
            other => Err(Error::Internal(format!(
                "a proof by key got {other:?} for the password"
            ))),
        }
    }

    /// The key's answer of a proof by key: on a challenge of the session's own account
    /// only, spent whatever the outcome.
    pub async fn portal_prove_key(
        &self,
        caller: &Caller,
        req: PortalProveKey,
    ) -> Result<Response, Error> {
        let PortalProveKey { session, key } = req;
        let (hash, session) = self.session(caller, &session).await?;
        let proof = FactorProof::Key(key);
        self.require_factor_proof(caller, &session.account, proof, "portal proof by key")
            .await?;
        self.restamp(&hash, &session.account)?;
        self.sessions.proved(&hash, time::now())?;
        Ok(Response::Done)
    }

    pub async fn portal_act(&self, caller: &Caller, req: PortalAct) -> Result<Response, Error> {
        let PortalAct { session, action } = req;
        let (hash, session) = self.session(caller, &session).await?;
        let name = session.account.clone();
        crate::lifecycle::refuse_disabled(&self.existing(&name)?)?;
        let fresh = || match session.fresh(self.at()) {
            true => Ok(()),
            false => Err(Error::FreshProofRequired),
        };
        match action {
            PortalAction::Show => self.show_user(ShowUser { name }),
            PortalAction::ChangePassword { new } => {
                refuse_sso(&self.existing(&name)?)?;
                check_policy(&self.config().password, &name, new.expose())?;
                fresh()?;
                self.store_password(caller, &name, new, Action::PasswordChanged)
                    .await?;
                self.end_sessions(caller, &name, None, "the password changed")
                    .await?;
                Ok(Response::Done)
            }
            PortalAction::EnableTotp => {
                fresh()?;
                let enrolment = self.start_totp(caller, &name).await?;
                self.restamp(&hash, &name)?;
                Ok(enrolment)
            }
            PortalAction::ConfirmTotp { code } => {
                let confirmed = self
                    .confirm_totp(caller, ConfirmTotp { name, code })
                    .await?;
                self.restamp(&hash, &session.account)?;
                Ok(confirmed)
            }
            PortalAction::EnableSms { phone } => {
                refuse_sso(&self.existing(&name)?)?;
                let phone = phone.as_deref().map(check_phone).transpose()?;
                fresh()?;
                let sent = self.start_sms(caller, &name, phone).await?;
                self.restamp(&hash, &name)?;
                Ok(sent)
            }
            PortalAction::ConfirmSms { code } => {
                let confirmed = self.confirm_sms(caller, ConfirmSms { name, code }).await?;
                self.restamp(&hash, &session.account)?;
                Ok(confirmed)
            }
            PortalAction::DisableTwoFactor { method } => {
                self.factors_to_disable(&name, method)?;
                fresh()?;
                let done = self.remove_factors(caller, &name, method).await?;
                self.restamp(&hash, &name)?;
                Ok(done)
            }
            PortalAction::RegenerateRecoveryCodes => {
                self.has_second_factor(&name)?;
                fresh()?;
                self.new_recovery_codes(caller, &name).await
            }
            PortalAction::Sessions => self.sessions_of(&name),
            PortalAction::AddKey { key_name } => {
                fresh()?;
                self.start_key_registration(caller, &name, key_name)
            }
            PortalAction::FinishKey {
                challenge,
                credential,
            } => {
                let request = KeyRegisterFinish {
                    name,
                    challenge,
                    credential,
                };
                let confirmed = self.key_register_finish(caller, request).await?;
                self.restamp(&hash, &session.account)?;
                Ok(confirmed)
            }
            PortalAction::Keys => self.list_keys(ListKeys { name }),
            PortalAction::RemoveKey { id } => {
                self.has_key(&name, &id)?;
                fresh()?;
                let done = self.drop_key(caller, &name, &id).await?;
                self.restamp(&hash, &name)?;
                Ok(done)
            }
            PortalAction::Logout { id } => {
                let id = id.unwrap_or(session.id);
                self.end_sessions(caller, &name, Some(id), "signed out")
                    .await
            }
            PortalAction::SendReset => {
                self.can_mail_reset(&name)?;
                let (expires, to) = self.queue_reset(caller, &name, "; settings page").await?;
                Ok(Response::ResetMailed { to, expires })
            }
        }
    }

    fn sessions_of(&self, name: &str) -> Result<Response, Error> {
        let stamp = self.existing(name)?.credential_stamp();
        let at = self.at();
        let sessions = self.sessions.list(name, stamp, at)?;
        Ok(Response::Sessions {
            sessions: sessions.iter().map(|s| s.info(&at.limits)).collect(),
        })
    }

    /// End session `id` of `name`, or all of them, and record it.
    pub(super) async fn end_sessions(
        &self,
        caller: &Caller,
        name: &str,
        id: Option<u64>,
        why: &str,
    ) -> Result<Response, Error> {
        let ended = self.sessions.end(name, id)?;
        if ended.is_empty() {
            return match id {
                Some(id) => Err(Error::InvalidInput(format!(
                    "`{name}` has no portal session {id}"
                ))),
                None => Ok(Response::SessionsEnded { count: 0 }),
            };
        }
        let ids: Vec<String> = ended.iter().map(|s| s.id.to_string()).collect();
        let detail = format!("session {} ended: {why}", ids.join(", "));
        let event = Event::by(caller, Action::PortalSessionEnded, Outcome::Ok, detail);
        self.record(name, time::now(), |_, _| Ok(event.into()))
            .await?;
        Ok(Response::SessionsEnded {
            count: ended.len() as u32,
        })
    }

    pub fn list_sessions(&self, req: ListSessions) -> Result<Response, Error> {
        self.sessions_of(&req.name)
    }

    pub async fn logout(&self, caller: &Caller, req: Logout) -> Result<Response, Error> {
        let Logout { name, id } = req;
        self.existing(&name)?;
        self.end_sessions(caller, &name, id, "ended by logout")
            .await
    }
}
