//! Second factors: authenticator-app enrolment and confirmation, recovery codes,
//! disabling with proof, and the admin's lost-device reset. Codes at login are checked
//! in `login`.

use super::login::totp_context;
use super::{refuse_sso, Service};
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{
    ConfirmTotp, DisableTwoFactor, EnableTotp, FactorChoice, RegenerateRecoveryCodes,
    ResetTwoFactor, Response, Secret,
};
use crate::recovery;

use crate::store::{Account, Decided, TotpEnrolment};
use crate::time;
use crate::totp::{self, CodeCheck};
use crate::vault::random_bytes;

/// Which factors `method` names: (app, SMS, security keys).
fn chosen(method: FactorChoice) -> (bool, bool, bool) {
    match method {
        FactorChoice::Totp => (true, false, false),
        FactorChoice::Sms => (false, true, false),
        FactorChoice::SecurityKey => (false, false, true),
        FactorChoice::All => (true, true, true),
    }
}

impl Service {
    /// Turn a confirmed second factor on; the account's first one also brings a new set
    /// of recovery codes (returned, to be shown once).
    pub(super) fn activate(
        &self,
        caller: &Caller,
        acc: &mut Account,
        action: Action,
        turn_on: impl FnOnce(&mut Account),
    ) -> Result<Decided<Vec<String>>, Error> {
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
        Ok(Decided::new(
            codes,
            Event::by(caller, action, Outcome::Ok, detail),
        ))
    }

    pub async fn enable_totp(&self, caller: &Caller, req: EnableTotp) -> Result<Response, Error> {
        let EnableTotp { name, proof } = req;
        let account = self.existing(&name)?;
        if account.sso.is_some() {
            return Err(Error::SsoTwoFactor(name));
        }
        self.prove_own(caller, &name, proof, "enable-totp").await?;
        self.start_totp(caller, &name).await
    }

    /// A new pending enrolment, once the caller has proved itself (or is an admin, or a
    /// portal session with a fresh proof).
    pub(super) async fn start_totp(&self, caller: &Caller, name: &str) -> Result<Response, Error> {
        let name = name.to_string();
        let secret = random_bytes::<{ totp::SECRET_LEN }>()?;
        let sealed = self.vault.seal(&totp_context(&name), &secret)?;
        let now = time::now();
        self.record(&name, now, |acc, _| {
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
            Ok(Event::by(caller, Action::TotpEnrolled, Outcome::Ok, detail.into()).into())
        })
        .await?;
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
        let confirmed = self
            .record(&name, now, |acc, _| {
                let enrolment = match &acc.totp {
                    None => {
                        return Err(Error::NotEnrolled(format!(
                            "`{}` has no pending authenticator-app enrolment; \
                             run enable-totp first",
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
                if let Some(locked) = self.locked_step(caller, acc, now, "confirm-totp") {
                    return Ok(locked.map(Err));
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
                        return Ok(Decided::new(Err(Error::Denied), event));
                    }
                };
                let activated = self.activate(caller, acc, Action::TotpConfirmed, |acc| {
                    acc.totp = Some(TotpEnrolment {
                        active: true,
                        last_step: Some(step),
                        since: now,
                        ..enrolment
                    });
                })?;
                Ok(activated.map(Ok))
            })
            .await?;
        // Recorded either way: a refusal (a wrong code, a lockout) counts, then is answered.
        let codes = confirmed?;
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
        self.factors_to_disable(&name, method)?;
        self.require_proof(caller, &name, proof, "disable-2fa")
            .await?;
        self.remove_factors(caller, &name, method).await
    }

    /// Refuse to disable what `name` does not have (before any proof is checked).
    pub(super) fn factors_to_disable(&self, name: &str, method: FactorChoice) -> Result<(), Error> {
        let account = self.existing(name)?;
        refuse_sso(&account)?;
        let (totp, sms, keys) = chosen(method);
        if !(totp && account.totp.is_some()
            || sms && account.sms.is_some()
            || keys && !account.security_keys.is_empty())
        {
            return Err(Error::NotEnrolled(format!(
                "`{name}` has no {} verification to disable",
                match method {
                    FactorChoice::Sms => "SMS",
                    FactorChoice::Totp => "authenticator-app",
                    FactorChoice::SecurityKey => "security-key",
                    FactorChoice::All => "two-factor",
                }
            )));
        }
        Ok(())
    }

    /// Remove the factors `method` names, once the caller has proved itself.
    pub(super) async fn remove_factors(
        &self,
        caller: &Caller,
        name: &str,
        method: FactorChoice,
    ) -> Result<Response, Error> {
        let (totp, sms, keys) = chosen(method);
        self.record(name, time::now(), |acc, _| {
            let mut removed = Vec::new();
            if totp && acc.totp.take().is_some() {
                removed.push("totp");
            }
            if sms && acc.sms.take().is_some() {
                acc.sms_code = None;
                removed.push("sms");
            }
            if keys && !std::mem::take(&mut acc.security_keys).is_empty() {
                removed.push("security keys");
            }
            if acc.second_factors().is_empty() && !acc.recovery_codes.is_empty() {
                acc.recovery_codes.clear();
                removed.push("recovery codes");
            }
            let detail = format!("removed {}", removed.join(", "));
            Ok(Event::by(caller, Action::TwoFactorDisabled, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }

    pub async fn reset_two_factor(
        &self,
        caller: &Caller,
        req: ResetTwoFactor,
    ) -> Result<Response, Error> {
        let ResetTwoFactor { name } = req;
        self.record(&name, time::now(), |acc, _| {
            let mut removed = Vec::new();
            if acc.totp.take().is_some() {
                removed.push("totp".to_string());
            }
            if acc.sms.take().is_some() {
                acc.sms_code = None;
                removed.push("sms".to_string());
            }
            let keys = std::mem::take(&mut acc.security_keys);
            if !keys.is_empty() {
                removed.push(format!("{} security keys", keys.len()));
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
            Ok(Event::by(caller, Action::TwoFactorReset, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }

    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
        req: RegenerateRecoveryCodes,
    ) -> Result<Response, Error> {
        let RegenerateRecoveryCodes { name, proof } = req;
        self.has_second_factor(&name)?;
        self.prove_own(caller, &name, proof, "recovery-codes")
            .await?;
        self.new_recovery_codes(caller, &name).await
    }

    /// Recovery codes come with a second factor: refuse before any proof when there is
    /// none.
    pub(super) fn has_second_factor(&self, name: &str) -> Result<(), Error> {
        if self.existing(name)?.second_factors().is_empty() {
            return Err(Error::NotEnrolled(format!(
                "`{name}` has no two-factor verification; recovery codes come with it"
            )));
        }
        Ok(())
    }

    /// A new set of recovery codes, once the caller has proved itself.
    pub(super) async fn new_recovery_codes(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<Response, Error> {
        let (codes, hashes) = recovery::generate(&self.vault, name, self.config().recovery.codes)?;
        self.record(name, time::now(), |acc, _| {
            if acc.second_factors().is_empty() {
                return Err(Error::NotEnrolled(format!(
                    "`{}` has no two-factor verification",
                    acc.name
                )));
            }
            acc.recovery_codes = hashes.clone();
            let detail = format!("{} new codes; the old set is void", hashes.len());
            let action = Action::RecoveryCodesRegenerated;
            Ok(Event::by(caller, action, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::RecoveryCodes {
            codes: codes.into_iter().map(Secret::new).collect(),
        })
    }
}
