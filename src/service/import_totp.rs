//! `import-google-authenticator`: the authenticator app of a pam_google_authenticator
//! user, moved over with the same secret (sealed like every TOTP secret) so the phone
//! keeps working, and its scratch codes added to the recovery codes (hashed).
//!
//! The file arrives whole from authctl; it is parsed here (`google_authenticator`), so
//! every refusal has one wording and one error code. Nothing here logs the secret or a
//! scratch code: the audit detail counts them.

use super::login::totp_context;
use super::Service;
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::google_authenticator::{self, GoogleAuthenticatorFile, ParseError};
use crate::protocol::{ImportGoogleAuthenticator, Response, MAX_GOOGLE_AUTHENTICATOR_FILE};
use crate::recovery;
use crate::store::TotpEnrolment;
use crate::time;

/// google-authenticator's codes: six digits, every 30 seconds unless `STEP_SIZE` says.
const FILE_DIGITS: u32 = 6;
const FILE_PERIOD: u64 = 30;

impl Service {
    pub async fn import_google_authenticator(
        &self,
        caller: &Caller,
        req: ImportGoogleAuthenticator,
    ) -> Result<Response, Error> {
        let ImportGoogleAuthenticator {
            name,
            file,
            replace,
        } = req;
        let file = self.read_file(file.expose())?;
        let account = self.existing(&name)?;
        if account.sso.is_some() {
            return Err(Error::SsoTwoFactor(name));
        }
        let sealed = self.vault.seal(&totp_context(&name), &file.secret)?;
        let scratch: Vec<[u8; 32]> = file
            .scratch_codes
            .iter()
            .filter_map(|c| recovery::imported(&self.vault, &name, c))
            .collect();
        let ignored = file.ignored.clone();
        let now = time::now();
        let (replaced, added) = self
            .record(&name, now, |acc, _| {
                if acc.sso.is_some() {
                    return Err(Error::SsoTwoFactor(acc.name.clone()));
                }
                let on = acc.totp.as_ref().is_some_and(|t| t.active);
                if on && !replace {
                    return Err(Error::AlreadyEnrolled(format!(
                        "authenticator-app verification is already on for `{}`; pass \
                         --replace to replace its secret with the file's",
                        acc.name
                    )));
                }
                acc.totp = Some(TotpEnrolment {
                    sealed_secret: sealed.clone(),
                    active: true,
                    last_step: file.last_step,
                    since: now,
                });
                // A code the account holds already (the same file imported again) is not
                // added twice.
                let mut added = 0u32;
                for hash in &scratch {
                    if !acc.recovery_codes.contains(hash) {
                        acc.recovery_codes.push(*hash);
                        added += 1;
                    }
                }
                let mut detail = format!(
                    "from a google-authenticator file; {added} scratch codes added as \
                     recovery codes"
                );
                if on {
                    detail.push_str("; replaced the earlier secret");
                }
                if !ignored.is_empty() {
                    detail.push_str(&format!("; ignored {}", ignored.join(", ")));
                }
                let event = Event::by(caller, Action::TotpImported, Outcome::Ok, detail);
                Ok(crate::store::Decided::new((on, added), event))
            })
            .await?;
        Ok(Response::TotpImported {
            recovery_codes: added,
            replaced,
            ignored: file.ignored,
        })
    }

    /// Parse the file and check that its codes are the ones authd computes.
    fn read_file(&self, text: &str) -> Result<GoogleAuthenticatorFile, Error> {
        if text.len() > MAX_GOOGLE_AUTHENTICATOR_FILE {
            return Err(Error::InvalidInput(format!(
                "not a google-authenticator file: larger than {MAX_GOOGLE_AUTHENTICATOR_FILE} \
                 bytes"
            )));
        }
        let file = google_authenticator::parse(text).map_err(|e| match e {
            ParseError::Hotp => Error::HotpUnsupported(e.to_string()),
            ParseError::Malformed { .. } => Error::InvalidInput(e.to_string()),
        })?;
        let config = self.config();
        let period = file.step_size.unwrap_or(FILE_PERIOD);
        if config.totp.digits != FILE_DIGITS || config.totp.period != period {
            return Err(Error::InvalidInput(format!(
                "the file's codes have {FILE_DIGITS} digits every {period} s, but authd's \
                 [totp] has digits = {} and period = {}: the phone's codes would not match",
                config.totp.digits, config.totp.period
            )));
        }
        Ok(file)
    }
}
