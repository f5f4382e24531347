//! authctl: parse the command line, make one or more requests through the blocking
//! client, print the outcome (text or `--json`), and map failures to the documented exit
//! statuses. All exit-code decisions are in `exit.rs`.
//!
//! Here: `main` and the one match from command to handler. The handlers are grouped by
//! kind: `accounts`, `factors` (second factors), `lists` (paged listings), `backup`,
//! `maintenance` (importing an authenticator file, outbox retry and purge);
//! `import` (bulk import);
//! `session` holds the connection and proving who you are, `secrets` the prompting,
//! `output` the results and their text, `json` their `--json` objects.

mod accounts;
pub mod args;
mod backup;
mod dates;
mod error;
pub mod exit;
mod factors;
mod import;
pub mod json;
mod keys;
mod lifecycle;
mod lists;
mod maintenance;
mod metrics;
mod output;
mod render;
mod roster;
mod secrets;
mod session;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use accounts::change;
pub use args::Cli;
use args::Command;
use authd_proto::client::{Client, ClientError, DEFAULT_TIMEOUT};
use authd_proto::protocol::{AddUser, Response, SecondFactor, SetLifecycle, SetUser};
pub use error::CtlError;
use exit::Exit;
use output::Outcome;
use secrets::{CodeArg, Secrets};
use session::Session;

/// `--socket`/`AUTHD_SOCKET`, else the default client socket (`paths::client_socket`),
/// with where it came from, for the message when nothing answers there.
fn socket_path(cli: &Cli) -> (PathBuf, String) {
    match &cli.socket {
        Some(path) if cli.socket_from_env => (path.clone(), "from AUTHD_SOCKET".into()),
        Some(path) => (path.clone(), "from --socket".into()),
        None => authd_proto::paths::client_socket_explained(),
    }
}

/// Parse the command line; clap tells whether `socket` came from `AUTHD_SOCKET`.
fn parse() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.socket_from_env =
        matches.value_source("socket") == Some(clap::parser::ValueSource::EnvVariable);
    Ok(cli)
}

fn unexpected(response: Response) -> CtlError {
    CtlError::Unexpected(format!("{response:?}"))
}

/// Connect, then one command: each arm hands its arguments to the file of its kind.
fn run(cli: Cli) -> Result<Outcome, CtlError> {
    let (path, origin) = socket_path(&cli);
    let json = cli.json;
    let client_name = concat!("authctl ", env!("CARGO_PKG_VERSION"));
    let client = Client::connect(&path, client_name, DEFAULT_TIMEOUT).map_err(|e| match e {
        ClientError::NotRunning { path, source } => CtlError::NoDaemon {
            what: "authd is not running at",
            path,
            origin,
            source,
        },
        ClientError::Connect { path, source } => CtlError::NoDaemon {
            what: "cannot connect to authd at",
            path,
            origin,
            source,
        },
        other => CtlError::Client(other),
    })?;
    let mut s = Session {
        client,
        secrets: Secrets::new(cli.password_stdin),
    };
    let s = &mut s;
    match cli.command {
        Command::AddUser {
            user,
            email,
            phone,
            sso,
        } => accounts::add_user(
            s,
            AddUser {
                name: user.name,
                email,
                phone,
                sso,
            },
        ),
        Command::RemoveUser { user } => accounts::remove_user(s, user.name),
        Command::ListUsers { long: false } => lists::list_users(s),
        Command::ListUsers { long: true } => roster::list_long(s, json),
        Command::Show { user } => accounts::show(s, user.name),
        Command::SetUser {
            user,
            email,
            no_email,
            phone,
            no_phone,
            sso,
            no_sso,
            expires,
            must_change_password,
            no_must_change_password,
            max_password_age,
        } => accounts::set_user(
            s,
            SetUser {
                name: user.name.clone(),
                email: change(email, no_email),
                phone: change(phone, no_phone),
                sso: change(sso, no_sso),
            },
            SetLifecycle {
                name: user.name,
                expires: expires.unwrap_or_default(),
                must_change_password: match (must_change_password, no_must_change_password) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                max_password_age: max_password_age.unwrap_or_default(),
            },
        ),
        Command::SetPassword { user } => accounts::set_password(s, user.name),
        Command::ChangePassword {
            user,
            code,
            email_link,
        } => accounts::change_password(s, user.name, code, email_link),
        Command::SendReset { user } => accounts::send_reset(s, user.name, None),
        Command::ResetPassword { token } => accounts::reset_password(s, token),
        Command::Outbox { action: None } => lists::outbox(s),
        Command::Outbox {
            action: Some(action),
        } => maintenance::outbox(s, action),
        Command::Backup { output } => backup::backup(s, &output),
        Command::Verify { user, code } => session::verify(s, user.name, CodeArg::new(code)),
        Command::EnableTotp { user, qr_png, code } => {
            factors::enable_totp(s, user.name, qr_png, code)
        }
        Command::ConfirmTotp { user, code } => {
            factors::confirm(s, user.name, code, SecondFactor::Totp)
        }
        Command::EnableSms { user, phone, code } => factors::enable_sms(s, user.name, phone, code),
        Command::ConfirmSms { user, code } => {
            factors::confirm(s, user.name, code, SecondFactor::Sms)
        }
        Command::SendCode { user } => factors::send_code(s, user.name),
        Command::DisableTwoFactor { user, method, code } => {
            factors::disable_two_factor(s, user.name, method, code)
        }
        Command::ResetTwoFactor { user } => factors::reset_two_factor(s, user.name),
        Command::RecoveryCodes { user, code, .. } => factors::recovery_codes(s, user.name, code),
        Command::Unlock { user } => accounts::unlock(s, user.name),
        Command::Disable { user, reason } => lifecycle::disable(s, user.name, reason),
        Command::Enable { user } => lifecycle::enable(s, user.name),
        Command::Log { user, limit } => lists::log(s, user.name, limit),
        Command::Status => accounts::status(s, cli.json),
        Command::Metrics => metrics::metrics(s),
        Command::Sessions { user } => lists::sessions(s, user.name),
        Command::Logout { user, id } => lists::logout(s, user.name, id),
        Command::AddKey {
            user,
            key_name,
            code,
        } => keys::add_key(s, user.name, key_name, code),
        Command::Keys { user } => keys::keys(s, user.name),
        Command::RemoveKey { user, id, code } => keys::remove_key(s, user.name, id, code),
        Command::ImportGoogleAuthenticator {
            user,
            file,
            replace,
        } => maintenance::import_google_authenticator(s, user.name, &file, replace),
        Command::Import {
            format,
            encrypted,
            dry_run,
        } => import::import(s, format, encrypted, dry_run, json),
    }
}

/// What the parser refused, in one line: its own first line without `error: `.
fn usage_message(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command is required (authctl --help lists them)".into();
    }
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// authctl's whole life: parse, run, print, exit.
pub fn main() -> ExitCode {
    let cli = match parse() {
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
            if std::env::args_os().any(|a| a == "--json") {
                println!("{}", json::usage_error(&usage_message(&e)));
            }
            let _ = e.print();
            return Exit::Usage.into();
        }
    };
    let json = cli.json;
    match run(cli) {
        // Everything went to standard output as it came.
        Ok(Outcome::Printed) => Exit::Success.into(),
        Ok(Outcome::Streamed(message)) => {
            // Standard output carried the result itself: nothing else goes there.
            eprintln!("authctl: {}", authd_proto::escape::escaped(&message));
            Exit::Success.into()
        }
        Ok(outcome) => {
            if let Some(warning) = outcome.warning() {
                eprintln!(
                    "authctl: warning: {}",
                    authd_proto::escape::escaped(&warning)
                );
            }
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
            if json && !matches!(error, CtlError::Printed(_)) {
                println!("{}", json::error(&error));
            }
            eprintln!("authctl: {}", output::error_text(&error));
            exit::for_error(&error).into()
        }
    }
}
