//! The second-factor commands: enrol TOTP (with its QR code) or SMS and confirm them,
//! send a code, turn factors off, reset them, and new recovery codes. On your own
//! account each change needs proof that it is you (`own_proof`).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::MethodArg;
use super::output::Outcome;
use super::secrets::CodeArg;
use super::session::{Session, CODE_PROMPT};
use super::{unexpected, CtlError};
use crate::qr::Grid;
use authd_proto::client::ClientError;
use authd_proto::protocol::{
    ConfirmSms, ConfirmTotp, DisableTwoFactor, EnableSms, EnableTotp, ErrorCode, FactorChoice,
    FactorState, Proof, RegenerateRecoveryCodes, Request, ResetTwoFactor, Response, SecondFactor,
    SendCode, ShowUser, WireError,
};

pub fn enable_totp(
    s: &mut Session,
    name: String,
    qr_png: Option<PathBuf>,
    code: Option<String>,
) -> Result<Outcome, CtlError> {
    if let Some(path) = &qr_png {
        if path.as_os_str() == "-" {
            return Err(CtlError::Usage(
                "--qr-png needs a file name: standard output carries the text".into(),
            ));
        }
        // Refused before a new secret replaces the pending one.
        crate::private_file::check_target(path)?;
    }
    let proof = own_proof(s, &name, code)?;
    match s.call(Request::EnableTotp(EnableTotp {
        name: name.clone(),
        proof,
    }))? {
        Response::TotpEnrolment {
            secret,
            otpauth_uri,
        } => {
            let uri = otpauth_uri.expose().to_string();
            let grid = Grid::encode(&uri)
                .map_err(|e| CtlError::Unexpected(format!("cannot draw QR code: {e}")))?;
            if let Some(path) = &qr_png {
                // The picture holds the secret: a private file, never one
                // that someone else planted there.
                crate::private_file::write(path, |f| {
                    let mut out = std::io::BufWriter::new(f);
                    grid.write_png(&mut out)?;
                    std::io::Write::flush(&mut out)
                })?;
            }
            Ok(Outcome::TotpEnrolment {
                name,
                secret: secret.expose().to_string(),
                uri,
                qr: grid.to_terminal(authd_proto::logging::colour_wanted(
                    std::io::stdout().is_terminal(),
                )),
                png: qr_png,
            })
        }
        other => Err(unexpected(other)),
    }
}

/// `confirm-totp` and `confirm-sms`: the code that proves the enrolment works; the
/// answer is the recovery codes, shown once.
pub fn confirm(
    s: &mut Session,
    name: String,
    code: String,
    factor: SecondFactor,
) -> Result<Outcome, CtlError> {
    let code = s
        .secrets
        .required_code(CodeArg::new(Some(code)), CODE_PROMPT)?;
    let (request, what) = match factor {
        SecondFactor::Totp => (
            Request::ConfirmTotp(ConfirmTotp {
                name: name.clone(),
                code,
            }),
            "authenticator-app",
        ),
        SecondFactor::Sms => (
            Request::ConfirmSms(ConfirmSms {
                name: name.clone(),
                code,
            }),
            "SMS",
        ),
        SecondFactor::SecurityKey => {
            return Err(CtlError::Usage(
                "a security key is confirmed by touching it during add-key".into(),
            ))
        }
    };
    match s.call(request)? {
        Response::Confirmed { recovery_codes } => Ok(Outcome::RecoveryCodes {
            message: format!("{what} verification is on for {name}"),
            codes: recovery_codes
                .iter()
                .map(|c| c.expose().to_string())
                .collect(),
        }),
        other => Err(unexpected(other)),
    }
}

pub fn enable_sms(
    s: &mut Session,
    name: String,
    phone: Option<String>,
    code: Option<String>,
) -> Result<Outcome, CtlError> {
    let proof = own_proof(s, &name, code)?;
    let request = Request::EnableSms(EnableSms {
        name: name.clone(),
        phone,
        proof,
    });
    match s.call(request)? {
        Response::SmsSent { to, expires } => Ok(Outcome::SmsSent {
            message: format!(
                "a code was sent by SMS to {to}; confirm it with: \
                 authctl confirm-sms {} CODE (it expires at {})",
                name,
                authd_proto::time::format(expires)
            ),
            to,
            expires,
        }),
        other => Err(unexpected(other)),
    }
}

pub fn send_code(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    match s.call(Request::SendCode(SendCode { name }))? {
        Response::SmsSent { to, expires } => Ok(Outcome::SmsSent {
            message: format!(
                "a code was sent by SMS to {to}; it expires at {}",
                authd_proto::time::format(expires)
            ),
            to,
            expires,
        }),
        other => Err(unexpected(other)),
    }
}

pub fn disable_two_factor(
    s: &mut Session,
    name: String,
    method: MethodArg,
    code: Option<String>,
) -> Result<Outcome, CtlError> {
    let method = match method {
        MethodArg::Totp => FactorChoice::Totp,
        MethodArg::Sms => FactorChoice::Sms,
        MethodArg::All => FactorChoice::All,
        MethodArg::Key => FactorChoice::SecurityKey,
    };
    // Nothing to turn off: say so before asking for a password (authd refuses the same).
    let before = Factors::of(s, &name)?;
    if !before.has(method) {
        return Err(CtlError::Client(ClientError::Remote(WireError {
            code: ErrorCode::NotEnrolled,
            message: format!("`{name}` has no {} to turn off", label(method)),
            retry_at: None,
        })));
    }
    let proof = s.proof(&name, CodeArg::new(code), "Password: ")?;
    let request = Request::DisableTwoFactor(DisableTwoFactor {
        name: name.clone(),
        method,
        proof,
    });
    s.done(request, String::new())?;
    let left = Factors::of(s, &name).map(|f| f.names()).unwrap_or_default();
    let remains = if left.is_empty() {
        "no second factor remains".to_string()
    } else {
        format!("still on: {}", left.join(", "))
    };
    Ok(Outcome::Done(format!(
        "turned off {} for {name}; {remains}",
        label(method)
    )))
}

/// What `method` turns off, in words.
fn label(method: FactorChoice) -> &'static str {
    match method {
        FactorChoice::Totp => "the authenticator app",
        FactorChoice::Sms => "SMS codes",
        FactorChoice::SecurityKey => "the security keys",
        FactorChoice::All => "two-factor verification",
    }
}

/// The second factors an account has (enrolled or pending), as `show` and `keys` tell.
struct Factors {
    totp: bool,
    sms: bool,
    keys: bool,
}

impl Factors {
    fn of(s: &mut Session, name: &str) -> Result<Factors, CtlError> {
        let account = match s.call(Request::ShowUser(ShowUser { name: name.into() }))? {
            Response::Account(a) => a,
            other => return Err(unexpected(other)),
        };
        Ok(Factors {
            totp: account.totp != FactorState::Off,
            sms: account.sms != FactorState::Off,
            keys: s.has_keys(name)?,
        })
    }

    fn has(&self, method: FactorChoice) -> bool {
        match method {
            FactorChoice::Totp => self.totp,
            FactorChoice::Sms => self.sms,
            FactorChoice::SecurityKey => self.keys,
            FactorChoice::All => self.totp || self.sms || self.keys,
        }
    }

    fn names(&self) -> Vec<&'static str> {
        [
            (self.totp, "authenticator app"),
            (self.sms, "SMS"),
            (self.keys, "security key"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

pub fn reset_two_factor(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let message = format!("removed every second factor and the recovery codes of {name}");
    s.done(Request::ResetTwoFactor(ResetTwoFactor { name }), message)
}

pub fn recovery_codes(
    s: &mut Session,
    name: String,
    code: Option<String>,
) -> Result<Outcome, CtlError> {
    let proof = own_proof(s, &name, code)?;
    let request = Request::RegenerateRecoveryCodes(RegenerateRecoveryCodes {
        name: name.clone(),
        proof,
    });
    match s.call(request)? {
        Response::RecoveryCodes { codes } => Ok(Outcome::RecoveryCodes {
            message: format!("new recovery codes for {name}; the old ones no longer work"),
            codes: codes.iter().map(|c| c.expose().to_string()).collect(),
        }),
        other => Err(unexpected(other)),
    }
}

/// Is `name` the Unix login of whoever runs authctl?
/// Your own account: the password (and a code when 2FA is on) proves it is you, not
/// just your session. Someone else's: only an admin gets this far, and needs none.
fn own_proof(s: &mut Session, name: &str, code: Option<String>) -> Result<Option<Proof>, CtlError> {
    if is_own_account(name) {
        Ok(Some(s.proof(name, CodeArg::new(code), "Password: ")?))
    } else {
        Ok(None)
    }
}

pub(super) fn is_own_account(name: &str) -> bool {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .is_some_and(|u| u.name == name)
}
