//! authctl: parse the command line, make one or more requests through the blocking
//! client, print the outcome (text or `--json`), and map failures to the documented exit
//! statuses. All exit-code decisions are in `exit.rs`.

pub mod args;
mod backup;
mod error;
pub mod exit;
mod lists;
mod output;
mod secrets;
mod session;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::client::{Client, DEFAULT_TIMEOUT};
use crate::protocol::{
    AddUser, Change, ChangePassword, ConfirmSms, ConfirmTotp, DisableTwoFactor, EnableSms,
    EnableTotp, FactorChoice, Proof, RegenerateRecoveryCodes, RemoveUser, Request, ResetPassword,
    ResetTwoFactor, Response, SendCode, SendReset, SetPassword, SetUser, ShowUser, Unlock,
};
use crate::qr::Grid;
pub use args::Cli;
use args::{Command, MethodArg};
pub use error::CtlError;
use exit::Exit;
use output::Outcome;
use secrets::{CodeArg, Secrets};
use session::{Session, CODE_PROMPT};

/// `--socket`/`AUTHD_SOCKET`, else the default client socket (`paths::client_socket`).
fn socket_path(cli: &Cli) -> PathBuf {
    cli.socket
        .clone()
        .unwrap_or_else(authd_proto::paths::client_socket)
}

fn unexpected(response: Response) -> CtlError {
    CtlError::Unexpected(format!("{response:?}"))
}

fn change(set: Option<String>, clear: bool) -> Change<String> {
    match (set, clear) {
        (Some(v), _) => Change::Set(v),
        (None, true) => Change::Clear,
        (None, false) => Change::Keep,
    }
}

fn run(cli: Cli) -> Result<Outcome, CtlError> {
    let path = socket_path(&cli);
    let client_name = concat!("authctl ", env!("CARGO_PKG_VERSION"));
    let mut s = Session {
        client: Client::connect(&path, client_name, DEFAULT_TIMEOUT)?,
        secrets: Secrets::new(cli.password_stdin),
    };
    match cli.command {
        Command::AddUser {
            user,
            email,
            phone,
            sso,
        } => {
            let message = format!("added {}", user.name);
            let request = Request::AddUser(AddUser {
                name: user.name,
                email,
                phone,
                sso,
            });
            s.done(request, message)
        }
        Command::RemoveUser { user } => {
            let message = format!("removed {}", user.name);
            s.done(Request::RemoveUser(RemoveUser { name: user.name }), message)
        }
        Command::ListUsers => lists::list_users(&mut s),
        Command::Show { user } => match s.call(Request::ShowUser(ShowUser { name: user.name }))? {
            Response::Account(info) => Ok(Outcome::Account(info)),
            other => Err(unexpected(other)),
        },
        Command::SetUser {
            user,
            email,
            no_email,
            phone,
            no_phone,
            sso,
            no_sso,
        } => {
            let request = Request::SetUser(SetUser {
                name: user.name.clone(),
                email: change(email, no_email),
                phone: change(phone, no_phone),
                sso: change(sso, no_sso),
            });
            if let Request::SetUser(SetUser {
                email: Change::Keep,
                phone: Change::Keep,
                sso: Change::Keep,
                ..
            }) = request
            {
                return Err(CtlError::Usage(
                    "nothing to change: give --email, --phone, --sso or a --no-* flag".into(),
                ));
            }
            s.done(request, format!("updated {}", user.name))
        }
        Command::SetPassword { user } => {
            let password = s.secrets.read_new("New password: ")?;
            let message = format!("password set for {}", user.name);
            s.done(
                Request::SetPassword(SetPassword {
                    name: user.name,
                    password,
                }),
                message,
            )
        }
        Command::ChangePassword {
            user,
            code,
            email_link: true,
        } => {
            let proof = s.proof(&user.name, CodeArg::new(code), "Password: ")?;
            send_reset(&mut s, user.name, Some(proof))
        }
        Command::ChangePassword {
            user,
            code,
            email_link: false,
        } => {
            let Proof {
                password: current,
                code,
            } = s.proof(&user.name, CodeArg::new(code), "Current password: ")?;
            let new = s.secrets.read_new("New password: ")?;
            let message = format!("password changed for {}", user.name);
            let request = Request::ChangePassword(ChangePassword {
                name: user.name,
                current,
                code,
                new,
            });
            s.done(request, message)
        }
        Command::SendReset { user } => send_reset(&mut s, user.name, None),
        Command::ResetPassword { token } => {
            // `-`: ask for it (or take the first stdin line), out of sight of `ps`.
            let token = s
                .secrets
                .required_code(CodeArg::new(Some(token)), "Reset token: ")?;
            let password = s.secrets.read_new("New password: ")?;
            let request = Request::ResetPassword(ResetPassword { token, password });
            match s.call(request)? {
                Response::PasswordReset { name } => {
                    Ok(Outcome::Done(format!("password reset for {name}")))
                }
                other => Err(unexpected(other)),
            }
        }
        Command::Outbox => lists::outbox(&mut s),
        Command::Backup { output } => backup::backup(&mut s, &output),
        Command::Verify { user, code } => session::verify(&mut s, user.name, CodeArg::new(code)),
        Command::EnableTotp { user, qr_png, code } => {
            if let Some(path) = &qr_png {
                if path.as_os_str() == "-" {
                    return Err(CtlError::Usage(
                        "--qr-png needs a file name: standard output carries the text".into(),
                    ));
                }
                // Refused before a new secret replaces the pending one.
                crate::private_file::check_target(path)?;
            }
            let proof = own_proof(&mut s, &user.name, code)?;
            match s.call(Request::EnableTotp(EnableTotp {
                name: user.name.clone(),
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
                        name: user.name,
                        secret: secret.expose().to_string(),
                        uri,
                        qr: grid.to_terminal(std::io::stdout().is_terminal()),
                        png: qr_png,
                    })
                }
                other => Err(unexpected(other)),
            }
        }
        Command::ConfirmTotp { user, code } => {
            let code = s
                .secrets
                .required_code(CodeArg::new(Some(code)), CODE_PROMPT)?;
            let request = Request::ConfirmTotp(ConfirmTotp {
                name: user.name.clone(),
                code,
            });
            match s.call(request)? {
                Response::Confirmed { recovery_codes } => Ok(Outcome::RecoveryCodes {
                    message: format!("authenticator-app verification is on for {}", user.name),
                    codes: recovery_codes
                        .iter()
                        .map(|c| c.expose().to_string())
                        .collect(),
                }),
                other => Err(unexpected(other)),
            }
        }
        Command::EnableSms { user, phone, code } => {
            let proof = own_proof(&mut s, &user.name, code)?;
            let request = Request::EnableSms(EnableSms {
                name: user.name.clone(),
                phone,
                proof,
            });
            match s.call(request)? {
                Response::SmsSent { to, expires } => Ok(Outcome::Done(format!(
                    "a code was sent by SMS to {to}; confirm it with: \
                     authctl confirm-sms {} CODE (it expires at {})",
                    user.name,
                    crate::time::format(expires)
                ))),
                other => Err(unexpected(other)),
            }
        }
        Command::ConfirmSms { user, code } => {
            let code = s
                .secrets
                .required_code(CodeArg::new(Some(code)), CODE_PROMPT)?;
            let request = Request::ConfirmSms(ConfirmSms {
                name: user.name.clone(),
                code,
            });
            match s.call(request)? {
                Response::Confirmed { recovery_codes } => Ok(Outcome::RecoveryCodes {
                    message: format!("SMS verification is on for {}", user.name),
                    codes: recovery_codes
                        .iter()
                        .map(|c| c.expose().to_string())
                        .collect(),
                }),
                other => Err(unexpected(other)),
            }
        }
        Command::SendCode { user } => {
            match s.call(Request::SendCode(SendCode { name: user.name }))? {
                Response::SmsSent { to, expires } => Ok(Outcome::Done(format!(
                    "a code was sent by SMS to {to}; it expires at {}",
                    crate::time::format(expires)
                ))),
                other => Err(unexpected(other)),
            }
        }
        Command::DisableTwoFactor { user, method, code } => {
            let proof = s.proof(&user.name, CodeArg::new(code), "Password: ")?;
            let method = match method {
                MethodArg::Totp => FactorChoice::Totp,
                MethodArg::Sms => FactorChoice::Sms,
                MethodArg::All => FactorChoice::All,
            };
            let message = format!("two-factor verification turned off for {}", user.name);
            let request = Request::DisableTwoFactor(DisableTwoFactor {
                name: user.name,
                method,
                proof,
            });
            s.done(request, message)
        }
        Command::ResetTwoFactor { user } => {
            let message = format!(
                "removed every second factor and the recovery codes of {}",
                user.name
            );
            s.done(
                Request::ResetTwoFactor(ResetTwoFactor { name: user.name }),
                message,
            )
        }
        Command::RecoveryCodes { user, code, .. } => {
            let proof = own_proof(&mut s, &user.name, code)?;
            let request = Request::RegenerateRecoveryCodes(RegenerateRecoveryCodes {
                name: user.name.clone(),
                proof,
            });
            match s.call(request)? {
                Response::RecoveryCodes { codes } => Ok(Outcome::RecoveryCodes {
                    message: format!(
                        "new recovery codes for {}; the old ones no longer work",
                        user.name
                    ),
                    codes: codes.iter().map(|c| c.expose().to_string()).collect(),
                }),
                other => Err(unexpected(other)),
            }
        }
        Command::Unlock { user } => {
            let message = format!("unlocked {}", user.name);
            s.done(Request::Unlock(Unlock { name: user.name }), message)
        }
        Command::Log { user, limit } => lists::log(&mut s, user.name, limit),
        Command::Status => match s.call(Request::Status)? {
            Response::Status(info) => Ok(Outcome::Status(info)),
            other => Err(unexpected(other)),
        },
    }
}

fn send_reset(s: &mut Session, name: String, proof: Option<Proof>) -> Result<Outcome, CtlError> {
    match s.call(Request::SendReset(SendReset {
        name: name.clone(),
        proof,
    }))? {
        Response::ResetQueued { expires } => Ok(Outcome::Done(format!(
            "a mail with a password-reset link is on its way to {name}'s email address \
             (it may take a few minutes); the link expires at {}",
            crate::time::format(expires)
        ))),
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

fn is_own_account(name: &str) -> bool {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .is_some_and(|u| u.name == name)
}

/// authctl's whole life: parse, run, print, exit.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let informational =
                matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
            if informational {
                // Help and version are answers, not failures.
                let _ = e.print();
                return Exit::Success.into();
            }
            if std::env::args().any(|a| a == "--json") {
                let usage = CtlError::Usage(e.kind().to_string());
                println!("{}", output::error_json(&usage));
            }
            let _ = e.print();
            return Exit::Usage.into();
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(Outcome::Streamed(message)) => {
            // Standard output carried the result itself: nothing else goes there.
            eprintln!("authctl: {}", crate::escape::escaped(&message));
            Exit::Success.into()
        }
        Ok(outcome) => {
            if json {
                println!("{}", outcome.to_json());
            } else {
                let text = outcome.to_text();
                if !text.is_empty() {
                    println!("{text}");
                }
            }
            Exit::Success.into()
        }
        Err(error) => {
            if json {
                println!("{}", output::error_json(&error));
            }
            eprintln!("authctl: {}", output::error_text(&error));
            exit::for_error(&error).into()
        }
    }
}
