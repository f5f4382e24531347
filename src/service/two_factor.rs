//! Second factors: authenticator-app enrolment and confirmation, recovery codes,
//! disabling with proof, and the admin's lost-device reset. Codes at login are checked
//! in `login`.

use super::login::refuse_sso;
use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{
    ConfirmTotp, DisableTwoFactor, EnableTotp, FactorChoice, Proof, RegenerateRecoveryCodes,
    ResetTwoFactor, Response, SecondFactor, Secret,
};
use crate::recovery;

use crate::store::{Account, TotpEnrolment};
use crate::time;
use crate::totp::{self, CodeCheck};
use crate::vault::{context, random_bytes};
use zeroize::Zeroizing;

fn totp_context(name: &str) -> Vec<u8> {
    context("totp", name)
}

impl Account {
    /// The second factors that are active (confirmed) on this account, as the wire names
    /// them: here, at the service boundary, so the store knows no wire type.
    pub(super) fn second_factors(&self) -> Vec<SecondFactor> {
        let mut methods = Vec::new();
        if self.totp.as_ref().is_some_and(|t| t.active) {
            methods.push(SecondFactor::Totp);
        }
        if self.sms.as_ref().is_some_and(|s| s.active) {
            methods.push(SecondFactor::Sms);
        }
        methods
    }
}

impl Service {
    /// Open an account's sealed TOTP secret; failure means tampering or a wrong key.
    pub(super) fn totp_secret(
        &self,
        account: &Account,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.vault
            .open(&totp_context(&account.name), sealed)
            .map_err(|e| {
                tracing::error!(account = %account.name, "TOTP secret does not decrypt: {e}");
                Error::Internal(format!(
                    "the TOTP secret of `{}` cannot be decrypted",
                    account.name
                ))
            })
    }

    /// Turn a confirmed second factor on; the account's first one also brings a new set
    /// of recovery codes (returned, to be shown once).
    pub(super) fn activate(
        &self,
        caller: &Caller,
        acc: &mut Account,
        action: Action,
        turn_on: impl FnOnce(&mut Account),
    ) -> Result<(Vec<String>, Event), Error> {
        let first = acc.second_factors().is_empty();
        turn_on(acc);
        let mut codes = Vec::new();
        let mut detail = String::new();
        if first {
            let (fresh, hashes) =
                recovery::generate(&self.vault, &acc.name, self.config().recovery.codes)?;
            acc.recovery_codes = hashes;
            detail = format!("{} recovery codes issued", fresh.len());
            codes = fresh;
        }
        Ok((codes, Event::by(caller, action, Outcome::Ok, detail)))
    }

    /// Proof for a change to one's own second factors (or recovery codes): the password,
    /// and a code when a factor is on already. Admins may act without; anyone else with
    /// only a session on the account (a stolen terminal) may not.
    pub(super) async fn prove_own(
        &self,
        caller: &Caller,
        name: &str,
        proof: Option<Proof>,
        why: &str,
    ) -> Result<(), Error> {
        match proof {
            Some(proof) => self.require_proof(caller, name, proof, why).await,
            None if caller.is_admin() => Ok(()),
            None => Err(Error::ProofRequired),
        }
    }

    pub async fn enable_totp(&self, caller: &Caller, req: EnableTotp) -> Result<Response, Error> {
        let EnableTotp { name, proof } = req;
        let account = self.existing(&name)?;
        if account.sso.is_some() {
            return Err(Error::SsoTwoFactor(name));
        }
        self.prove_own(caller, &name, proof, "enable-totp").await?;
        let secret = random_bytes::<{ totp::SECRET_LEN }>()?;
        let sealed = self.vault.seal(&totp_context(&name), &secret)?;
        let now = time::now();
        let event = self.store.update(&name, now, |acc| {
            if acc.sso.is_some() {
                return Err(Error::SsoTwoFactor(acc.name.clone()));
            }
            if acc.totp.as_ref().is_some_and(|t| t.active) {
                return Err(Error::AlreadyEnrolled(format!(
                    "authenticator-app verification is already on for `{}`; disable it first",
                    acc.name
                )));
            }
            let detail = if acc.totp.is_some() {
                "pending; replaced the earlier pending secret"
            } else {
                "pending"
            };
            acc.totp = Some(TotpEnrolment {
                sealed_secret: sealed.clone(),
                active: false,
                last_step: None,
                since: now,
            });
            let event = Event::by(caller, Action::TotpEnrolled, Outcome::Ok, detail.into());
            Ok((event.clone(), event))
        })?;
        self.commit(&name, &event).await?;
        Ok(Response::TotpEnrolment {
            secret: Secret::new(totp::base32(&secret)),
            otpauth_uri: Secret::new(totp::otpauth_uri(&self.config().totp, &name, &secret)),
        })
    }

    pub async fn confirm_totp(&self, caller: &Caller, req: ConfirmTotp) -> Result<Response, Error> {
        let ConfirmTotp { name, code } = req;
        self.refuse_if_locked(caller, &self.existing(&name)?, "confirm-totp")
            .await?;
        let now = time::now();
        let (result, event) = self.store.update(&name, now, |acc| {
            let enrolment = match &acc.totp {
                None => {
                    return Err(Error::NotEnrolled(format!(
                        "`{}` has no pending authenticator-app enrolment; run enable-totp first",
                        acc.name
                    )))
                }
                Some(t) if t.active => {
                    return Err(Error::AlreadyEnrolled(format!(
                        "authenticator-app verification is already on for `{}`",
                        acc.name
                    )))
                }
                Some(t) => t.clone(),
            };
            if let Some((error, event)) = self.locked_step(caller, acc, now, "confirm-totp") {
                return Ok(((Err(error), event.clone()), event));
            }
            let secret = self.totp_secret(acc, &enrolment.sealed_secret)?;
            let step = match totp::check(
                &secret,
                &self.config().totp,
                code.expose().trim(),
                now,
                None,
            ) {
                CodeCheck::Valid { step } => step,
                CodeCheck::Replayed | CodeCheck::Wrong => {
                    // Failed codes count toward the lockout, here too.
                    let what = "confirm-totp: wrong code";
                    let event = self.failure(caller, acc, now, Outcome::Denied, what);
                    return Ok(((Err(Error::Denied), event.clone()), event));
                }
            };
            let (codes, event) = self.activate(caller, acc, Action::TotpConfirmed, |acc| {
                acc.totp = Some(TotpEnrolment {
                    active: true,
                    last_step: Some(step),
                    since: now,
                    ..enrolment
                });
            })?;
            Ok(((Ok(codes), event.clone()), event))
        })?;
        self.commit(&name, &event).await?;
        let codes = result?;
        Ok(Response::Confirmed {
            recovery_codes: codes.into_iter().map(Secret::new).collect(),
        })
    }

    pub async fn disable_two_factor(
        &self,
        caller: &Caller,
        req: DisableTwoFactor,
    ) -> Result<Response, Error> {
        let DisableTwoFactor {
            name,
            method,
            proof,
        } = req;
        let account = self.existing(&name)?;
        refuse_sso(&account)?;
        let totp = matches!(method, FactorChoice::Totp | FactorChoice::All);
        let sms = matches!(method, FactorChoice::Sms | FactorChoice::All);
        if !(totp && account.totp.is_some() || sms && account.sms.is_some()) {
            return Err(Error::NotEnrolled(format!(
                "`{name}` has no {} verification to disable",
                match method {
                    FactorChoice::Sms => "SMS",
                    FactorChoice::Totp => "authenticator-app",
                    FactorChoice::All => "two-factor",
                }
            )));
        }
        self.require_proof(caller, &name, proof, "disable-2fa")
            .await?;
        let event = self.store.update(&name, time::now(), |acc| {
            let mut removed = Vec::new();
            if totp && acc.totp.take().is_some() {
                removed.push("totp");
            }
            if sms && acc.sms.take().is_some() {
                acc.sms_code = None;
                removed.push("sms");
            }
            if acc.second_factors().is_empty() && !acc.recovery_codes.is_empty() {
                acc.recovery_codes.clear();
                removed.push("recovery codes");
            }
            let detail = format!("removed {}", removed.join(", "));
            let event = Event::by(caller, Action::TwoFactorDisabled, Outcome::Ok, detail);
            Ok((event.clone(), event))
        })?;
        self.commit(&name, &event).await?;
        Ok(Response::Done)
    }

    pub async fn reset_two_factor(
        &self,
        caller: &Caller,
        req: ResetTwoFactor,
    ) -> Result<Response, Error> {
        let ResetTwoFactor { name } = req;
        let event = self.store.update(&name, time::now(), |acc| {
            let mut removed = Vec::new();
            if acc.totp.take().is_some() {
                removed.push("totp".to_string());
            }
            if acc.sms.take().is_some() {
                acc.sms_code = None;
                removed.push("sms".to_string());
            }
            if !acc.recovery_codes.is_empty() {
                removed.push(format!("{} recovery codes", acc.recovery_codes.len()));
                acc.recovery_codes.clear();
            }
            let detail = if removed.is_empty() {
                "lost device: nothing was enrolled".to_string()
            } else {
                format!("lost device: removed {}", removed.join(", "))
            };
            let event = Event::by(caller, Action::TwoFactorReset, Outcome::Ok, detail);
            Ok((event.clone(), event))
        })?;
        self.commit(&name, &event).await?;
        Ok(Response::Done)
    }

    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
        req: RegenerateRecoveryCodes,
    ) -> Result<Response, Error> {
        let RegenerateRecoveryCodes { name, proof } = req;
        let account = self.existing(&name)?;
        if account.second_factors().is_empty() {
            return Err(Error::NotEnrolled(format!(
                "`{name}` has no two-factor verification; recovery codes come with it"
            )));
        }
        self.prove_own(caller, &name, proof, "recovery-codes")
            .await?;
        let (codes, hashes) = recovery::generate(&self.vault, &name, self.config().recovery.codes)?;
        let event = self.store.update(&name, time::now(), |acc| {
            if acc.second_factors().is_empty() {
                return Err(Error::NotEnrolled(format!(
                    "`{}` has no two-factor verification",
                    acc.name
                )));
            }
            acc.recovery_codes = hashes.clone();
            let detail = format!("{} new codes; the old set is void", hashes.len());
            let event = Event::by(
                caller,
                Action::RecoveryCodesRegenerated,
                Outcome::Ok,
                detail,
            );
            Ok((event.clone(), event))
        })?;
        self.commit(&name, &event).await?;
        Ok(Response::RecoveryCodes {
            codes: codes.into_iter().map(Secret::new).collect(),
        })
    }
}
