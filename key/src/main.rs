//! authd-key: one FIDO2 ceremony with a security key, for authctl and pam_authd.
//!
//! authd (the relying party) hands its clients WebAuthn options; this program hands them
//! to a key plugged in on USB and prints the key's answer. It is a separate program so
//! that the USB and CTAP2 code (webauthn-authenticator-rs, udev) stays out of the PAM
//! module, which executes it with a time-out, and out of the daemon's build.
//!
//! ```text
//! authd-key register|assert --origin ORIGIN [--events] [--no-wait]  < OPTIONS-JSON-LINE
//! ```
//!
//! Standard input's first line is authd's options (one line of JSON). The answer (one
//! line of JSON) goes to standard output. Without `--events` (authctl), prompts go to
//! standard error and a PIN is read from the terminal. With `--events` (pam_authd),
//! standard output carries one event per line: `plug`, `touch`, `pin` (the caller writes
//! the PIN as the next line of standard input), then one of `ok JSON`, `nokey MESSAGE`,
//! `fail MESSAGE`. Exit status: 0 answered, 69 no key (or none of the account's keys)
//! answered, 65 the options are not valid, 1 the key failed or refused, 64 usage.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ceremony;
mod device;
mod ui;

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use ceremony::Failure;
use ui::Ui;

#[derive(Debug, Parser)]
#[command(version = VERSION, about = "Run one FIDO2 ceremony with a security key for authd's clients")]
#[command(
    after_help = "Standard input's first line is authd's WebAuthn options as one line \
of JSON; the key's answer is printed as one line of JSON. Exit status: 0 answered, 69 no \
security key answered, 65 invalid options, 1 the key failed or refused, 64 usage."
)]
struct Args {
    /// What to do: register a new credential, or answer a login challenge.
    ceremony: Ceremony,
    /// The origin to present to the key, as authd named it.
    #[arg(long, value_name = "ORIGIN")]
    origin: String,
    /// Machine-readable events on standard output (pam_authd), the PIN on standard input.
    #[arg(long)]
    events: bool,
    /// Give up at once when no key is plugged in, instead of waiting for one.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Ceremony {
    Register,
    Assert,
}

/// A test build says so.
#[cfg(feature = "softtoken")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (test build: software token)");
#[cfg(not(feature = "softtoken"))]
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// EX_USAGE, EX_DATAERR, EX_UNAVAILABLE (sysexits.h).
const EXIT_USAGE: u8 = 64;
const EXIT_DATA: u8 = 65;
const EXIT_NO_KEY: u8 = 69;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let ui = Ui::new(args.events);
    let mut options = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut options) {
        return ui.finish(Err(Failure::Data(format!("cannot read the options: {e}"))));
    }
    let wait = !args.no_wait;
    let answer = match args.ceremony {
        Ceremony::Register => ceremony::register(&ui, &args.origin, &options, wait),
        Ceremony::Assert => ceremony::assert(&ui, &args.origin, &options, wait),
    };
    ui.finish(answer)
}
