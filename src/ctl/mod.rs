//! authctl: parse the command line, make one or more requests through the blocking
//! client, print the outcome (text or `--json`), and map failures to the documented exit
//! statuses. All exit-code decisions are in `CtlError::exit_code`.

pub mod args;
mod output;
mod secrets;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::client::{Client, ClientError, DEFAULT_TIMEOUT};
use crate::config::{dir_is_trusted, user_socket, SYSTEM_SOCKET};
use crate::protocol::{
    Change, FactorChoice, FactorState, Origin, Proof, Request, Response, SecondFactor, Secret,
    MAX_PAGE,
};
use crate::qr::Grid;
pub use args::Cli;
use args::{Command, MethodArg};
use output::Outcome;
use secrets::Secrets;

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("a second factor is required ({}): pass --code CODE", methods_list(.0))]
    SecondFactorRequired(Vec<SecondFactor>),
    #[error("authd sent an unexpected answer: {0}")]
    Unexpected(String),
    #[error("cannot read input")]
    Io(#[source] std::io::Error),
    /// Something on this side failed (writing a file), not the daemon.
    #[error("{0}")]
    Local(String),
}

fn methods_list(methods: &[SecondFactor]) -> String {
    methods
        .iter()
        .map(|m| match m {
            SecondFactor::Totp => "totp",
            SecondFactor::Sms => "sms",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl CtlError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::Client(e) => e.exit_code(),
            CtlError::Usage(_) => 2,
            CtlError::Input(_) => 65,
            CtlError::SecondFactorRequired(_) => 1,
            CtlError::Unexpected(_) | CtlError::Io(_) | CtlError::Local(_) => 70,
        }
    }

    fn code_name(&self) -> &'static str {
        match self {
            CtlError::Client(e) => e.code_name(),
            CtlError::Usage(_) => "usage",
            CtlError::Input(_) => "invalid_input",
            CtlError::SecondFactorRequired(_) => "second_factor_required",
            CtlError::Unexpected(_) => "protocol",
            CtlError::Io(_) | CtlError::Local(_) => "io",
        }
    }

    fn retry_at(&self) -> Option<u64> {
        match self {
            CtlError::Client(ClientError::Remote(e)) => e.retry_at,
            _ => None,
        }
    }
}

/// `--socket`/`AUTHD_SOCKET`, else (not root) your own daemon's socket if it exists in a
/// directory only you (or root) control, else the system socket.
fn socket_path(cli: &Cli) -> PathBuf {
    if let Some(path) = &cli.socket {
        return path.clone();
    }
    if !nix::unistd::geteuid().is_root() {
        let mine = user_socket();
        if mine.exists() && mine.parent().is_some_and(dir_is_trusted) {
            return mine;
        }
    }
    PathBuf::from(SYSTEM_SOCKET)
}

struct Session {
    client: Client,
    secrets: Secrets,
}

impl Session {
    /// One request; a second factor still missing at this point is a denial (exit 1).
    fn call(&mut self, request: Request) -> Result<Response, CtlError> {
        match self.client.call(&request)? {
            Response::SecondFactorRequired { methods, .. } => {
                Err(CtlError::SecondFactorRequired(methods))
            }
            response => Ok(response),
        }
    }

    /// Does the account have an active second factor (so a code must be supplied)?
    /// When SMS is its only one and we are about to ask on a terminal, a code is sent
    /// first, so there is something to type.
    fn has_second_factor(&mut self, name: &str, code_given: bool) -> Result<bool, CtlError> {
        let account = match self.call(Request::ShowUser { name: name.into() })? {
            Response::Account(a) => a,
            other => return Err(unexpected(other)),
        };
        let (totp, sms) = (
            account.totp == FactorState::On,
            account.sms == FactorState::On,
        );
        if sms && !totp && !code_given && self.secrets.interactive() {
            // Rate limited: the code sent a moment ago is still good.
            if let Ok(Response::SmsSent { to, .. }) =
                self.call(Request::SendCode { name: name.into() })
            {
                eprintln!("A verification code was sent by SMS to {to}.");
            }
        }
        Ok(totp || sms)
    }

    /// `--code`, else the next secret (prompt or stdin line); `None` when there is none.
    fn code(&mut self, given: Option<String>) -> Result<Option<Secret>, CtlError> {
        match given {
            Some(code) => Ok(Some(Secret::new(code))),
            // An empty answer means "no code", not a wrong one.
            None => Ok(self
                .secrets
                .read_optional("Verification code: ")?
                .filter(|c| !c.expose().trim().is_empty())),
        }
    }

    /// The password, then a code if the account has a second factor: proof of holding it.
    fn proof(&mut self, name: &str, code: Option<String>) -> Result<Proof, CtlError> {
        let needs_code = self.has_second_factor(name, code.is_some())?;
        let password = self.secrets.read("Password: ")?;
        let code = if needs_code {
            self.code(code)?
        } else {
            code.map(Secret::new)
        };
        Ok(Proof { password, code })
    }

    fn done(&mut self, request: Request, message: String) -> Result<Outcome, CtlError> {
        match self.call(request)? {
            Response::Done => Ok(Outcome::Done(message)),
            other => Err(unexpected(other)),
        }
    }
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
            let request = Request::AddUser {
                name: user.name,
                email,
                phone,
                sso,
            };
            s.done(request, message)
        }
        Command::RemoveUser { user } => {
            let message = format!("removed {}", user.name);
            s.done(Request::RemoveUser { name: user.name }, message)
        }
        Command::ListUsers => list_users(&mut s),
        Command::Show { user } => match s.call(Request::ShowUser { name: user.name })? {
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
            let request = Request::SetUser {
                name: user.name.clone(),
                email: change(email, no_email),
                phone: change(phone, no_phone),
                sso: change(sso, no_sso),
            };
            if let Request::SetUser {
                email: Change::Keep,
                phone: Change::Keep,
                sso: Change::Keep,
                ..
            } = request
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
                Request::SetPassword {
                    name: user.name,
                    password,
                },
                message,
            )
        }
        Command::ChangePassword {
            user,
            code,
            email_link: true,
        } => {
            let proof = s.proof(&user.name, code)?;
            send_reset(&mut s, user.name, Some(proof))
        }
        Command::ChangePassword {
            user,
            code,
            email_link: false,
        } => {
            let needs_code = s.has_second_factor(&user.name, code.is_some())?;
            let current = s.secrets.read("Current password: ")?;
            let code = if needs_code {
                s.code(code)?
            } else {
                code.map(Secret::new)
            };
            let new = s.secrets.read_new("New password: ")?;
            let message = format!("password changed for {}", user.name);
            let request = Request::ChangePassword {
                name: user.name,
                current,
                code,
                new,
            };
            s.done(request, message)
        }
        Command::SendReset { user } => send_reset(&mut s, user.name, None),
        Command::ResetPassword { token } => {
            // `-`: ask for it (or take the first stdin line), out of sight of `ps`.
            let token = match token.as_str() {
                "-" => s.secrets.read("Reset token: ")?.expose().to_string(),
                _ => token,
            };
            let password = s.secrets.read_new("New password: ")?;
            let request = Request::ResetPassword {
                token: Secret::new(token),
                password,
            };
            match s.call(request)? {
                Response::PasswordReset { name } => {
                    Ok(Outcome::Done(format!("password reset for {name}")))
                }
                other => Err(unexpected(other)),
            }
        }
        Command::Outbox => outbox(&mut s),
        Command::Backup { output } => backup(&mut s, &output),
        Command::Verify { user, code } => verify(&mut s, user.name, code),
        Command::EnableTotp { user, qr_png } => {
            match s.call(Request::EnableTotp {
                name: user.name.clone(),
            })? {
                Response::TotpEnrolment {
                    secret,
                    otpauth_uri,
                } => {
                    let uri = otpauth_uri.expose().to_string();
                    let grid = Grid::encode(&uri)
                        .map_err(|e| CtlError::Unexpected(format!("cannot draw QR code: {e}")))?;
                    if let Some(path) = &qr_png {
                        grid.write_png(path).map_err(CtlError::Io)?;
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
            let request = Request::ConfirmTotp {
                name: user.name.clone(),
                code: Secret::new(code),
            };
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
        Command::EnableSms { user, phone } => {
            let request = Request::EnableSms {
                name: user.name.clone(),
                phone,
            };
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
            let request = Request::ConfirmSms {
                name: user.name.clone(),
                code: Secret::new(code),
            };
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
        Command::SendCode { user } => match s.call(Request::SendCode { name: user.name })? {
            Response::SmsSent { to, expires } => Ok(Outcome::Done(format!(
                "a code was sent by SMS to {to}; it expires at {}",
                crate::time::format(expires)
            ))),
            other => Err(unexpected(other)),
        },
        Command::DisableTwoFactor { user, method, code } => {
            let proof = s.proof(&user.name, code)?;
            let method = match method {
                MethodArg::Totp => FactorChoice::Totp,
                MethodArg::Sms => FactorChoice::Sms,
                MethodArg::All => FactorChoice::All,
            };
            let message = format!("two-factor verification turned off for {}", user.name);
            let request = Request::DisableTwoFactor {
                name: user.name,
                method,
                proof,
            };
            s.done(request, message)
        }
        Command::ResetTwoFactor { user } => {
            let message = format!(
                "removed every second factor and the recovery codes of {}",
                user.name
            );
            s.done(Request::ResetTwoFactor { name: user.name }, message)
        }
        Command::RecoveryCodes { user, code, .. } => {
            // Your own account: prove it. Someone else's: only an admin gets this far.
            let proof = if is_own_account(&user.name) {
                Some(s.proof(&user.name, code)?)
            } else {
                None
            };
            let request = Request::RegenerateRecoveryCodes {
                name: user.name.clone(),
                proof,
            };
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
            s.done(Request::Unlock { name: user.name }, message)
        }
        Command::Log { user, limit } => log(&mut s, user.name, limit),
        Command::Status => match s.call(Request::Status)? {
            Response::Status(info) => Ok(Outcome::Status(info)),
            other => Err(unexpected(other)),
        },
    }
}

fn send_reset(s: &mut Session, name: String, proof: Option<Proof>) -> Result<Outcome, CtlError> {
    match s.call(Request::SendReset {
        name: name.clone(),
        proof,
    })? {
        Response::ResetQueued { expires } => Ok(Outcome::Done(format!(
            "a mail with a password-reset link is on its way to {name}'s email address \
             (it may take a few minutes); the link expires at {}",
            crate::time::format(expires)
        ))),
        other => Err(unexpected(other)),
    }
}

/// Fetch the snapshot chunk by chunk into a private temp file beside `output`, check
/// it, sync it, and rename it into place: a failed backup leaves nothing behind.
fn backup(s: &mut Session, output: &std::path::Path) -> Result<Outcome, CtlError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // Fetch first (a non-admin is refused before anything is written here), check it,
    // then write a private temp file beside `output`, sync it and rename it into place.
    let mut session = None;
    let mut offset = 0u64;
    let mut bytes = Vec::new();
    loop {
        match s.call(Request::Backup { session, offset })? {
            Response::BackupChunk {
                session: id,
                total,
                data,
                ..
            } => {
                session = Some(id);
                offset += data.len() as u64;
                bytes.extend_from_slice(&data);
                if offset >= total || data.is_empty() {
                    break;
                }
            }
            other => return Err(unexpected(other)),
        }
    }
    let records = crate::store::backup::read_all(&bytes[..], crate::store::SCHEMA_VERSION)
        .map_err(|e| CtlError::Local(format!("the backup does not verify: {e}")))?;
    let dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.partial",
        output
            .file_name()
            .map_or("backup".into(), |n| n.to_string_lossy())
    ));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, output)?;
        std::fs::File::open(dir)?.sync_all()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(CtlError::Local(format!(
            "cannot write the backup to {}: {e}",
            output.display()
        )));
    }
    Ok(Outcome::Done(format!(
        "backup of {} records written to {} (the secret key file is not in it: back it up separately)",
        records.len(),
        output.display()
    )))
}

fn outbox(s: &mut Session) -> Result<Outcome, CtlError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let request = Request::Outbox {
            after: after.take(),
            limit: MAX_PAGE,
        };
        match s.call(request)? {
            Response::Outbox { messages, next } => {
                all.extend(messages);
                match next {
                    Some(n) => after = Some(n),
                    None => return Ok(Outcome::Outbox(all)),
                }
            }
            other => return Err(unexpected(other)),
        }
    }
}

/// Is `name` the Unix login of whoever runs authctl?
fn is_own_account(name: &str) -> bool {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .is_some_and(|u| u.name == name)
}

/// Password first; when a code is due and not given, ask for it and answer the
/// challenge, so the password is sent (and hashed) once.
fn verify(s: &mut Session, name: String, code: Option<String>) -> Result<Outcome, CtlError> {
    let password = s.secrets.read("Password: ")?;
    let request = Request::Verify {
        name: name.clone(),
        password,
        code: code.map(Secret::new),
        origin: Origin::default(),
    };
    let (methods, challenge) = match s.client.call(&request)? {
        Response::Verified { name } => return Ok(Outcome::Verified(name)),
        Response::SecondFactorRequired {
            methods,
            challenge: Some(challenge),
            sms_sent_to,
        } => {
            if let Some(to) = sms_sent_to {
                eprintln!("A verification code was sent by SMS to {to}.");
            }
            (methods, challenge)
        }
        other => return Err(unexpected(other)),
    };
    let Some(code) = s.code(None)? else {
        return Err(CtlError::SecondFactorRequired(methods));
    };
    let request = Request::VerifyCode {
        name,
        challenge,
        code,
        origin: Origin::default(),
    };
    match s.call(request)? {
        Response::Verified { name } => Ok(Outcome::Verified(name)),
        other => Err(unexpected(other)),
    }
}

fn list_users(s: &mut Session) -> Result<Outcome, CtlError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let request = Request::ListUsers {
            after: after.take(),
            limit: MAX_PAGE,
        };
        match s.call(request)? {
            Response::Users { names, next } => {
                all.extend(names);
                match next {
                    Some(n) => after = Some(n),
                    None => return Ok(Outcome::Users(all)),
                }
            }
            other => return Err(unexpected(other)),
        }
    }
}

fn log(s: &mut Session, name: String, limit: u32) -> Result<Outcome, CtlError> {
    let mut events = Vec::new();
    let mut before = None;
    while events.len() < limit as usize {
        let want = (limit as usize - events.len()).min(MAX_PAGE as usize) as u32;
        let request = Request::Log {
            name: name.clone(),
            before,
            limit: want,
        };
        match s.call(request)? {
            Response::Log { events: page, next } => {
                events.extend(page);
                match next {
                    Some(seq) => before = Some(seq),
                    None => break,
                }
            }
            other => return Err(unexpected(other)),
        }
    }
    events.reverse();
    Ok(Outcome::Log(name, events))
}

/// authctl's whole life: parse, run, print, exit.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let informational =
                matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
            if !informational && std::env::args().any(|a| a == "--json") {
                let usage = CtlError::Usage(e.kind().to_string());
                println!("{}", output::error_json(&usage));
            }
            e.exit();
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(outcome) => {
            if json {
                println!("{}", outcome.to_json());
            } else {
                let text = outcome.to_text();
                if !text.is_empty() {
                    println!("{text}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            if json {
                println!("{}", output::error_json(&error));
            }
            eprintln!("authctl: {}", crate::error::DisplayChain(&error));
            ExitCode::from(error.exit_code())
        }
    }
}
