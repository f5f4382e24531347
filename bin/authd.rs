//! authd: args -> config -> tracing -> server::run -> exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use authd::config::{Config, EXIT_CONFIG};
use authd::error::DisplayChain;
use clap::Parser;

/// The authd daemon: accounts, passwords and lockout over a Unix socket.
///
/// SIGHUP re-reads the configuration file: lockout, password policy, TOTP, recovery,
/// reset, mail and SMS settings, timeouts and the admin group change at once; the socket,
/// state directory, connection limit and argon2 parameters need a restart.
///
/// With no options it runs on its built-in defaults: as root on /run/authd/authd.sock with
/// state in /var/lib/authd; as any other user on $XDG_RUNTIME_DIR/authd/authd.sock with
/// state in $XDG_STATE_HOME/authd (or ~/.local/state/authd).
#[derive(Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Read settings from this authd.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen here (overrides `socket` in the config).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Keep the database here (overrides `state_dir` in the config).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Validate the configuration and what it points at, print the effective settings
    /// and any problems, and exit (0, or 78 with problems).
    #[arg(long)]
    check_config: bool,
    /// Accept a store that the start-up checks refuse, as it is (audited).
    ///
    /// The checks refuse a database that came back empty, was replaced or rolled back
    /// since the last run, and a secret key that is not the store's own. This flag logs
    /// the override at target `audit`, records the key's check value and writes the
    /// sentinel anew. Restoring the latest backup (`authd restore`) is usually the better
    /// fix; see authd(8), STORE INTEGRITY.
    #[arg(long)]
    force_open: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Restore a backup (from `authctl backup`) into an empty state directory, offline.
    ///
    /// The backup must carry a MAC that verifies with the secret key of the store it was
    /// taken from, and every record must be one authd would write (valid names, email
    /// addresses, phone numbers, counts, keys matching their records); otherwise nothing
    /// is written and the exit status is 65. Exit 78: no usable key; 73: the directory
    /// is not empty or cannot be written. See authd(8), BACKUP AND RESTORE.
    Restore {
        /// The new state directory: missing, empty, or holding only the key
        /// (`secret.key`, copied in first).
        #[arg(long, value_name = "DIR")]
        state_dir: PathBuf,
        /// The secret key of the store the backup was taken from [default: DIR/secret.key
        /// if it is there, else $CREDENTIALS_DIRECTORY/authd.key].
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// Restore a backup that has no MAC (made before backups were signed) or whose MAC
        /// does not verify. Every record is still checked, and the key must still be the
        /// store's own.
        #[arg(long)]
        trust_unsigned: bool,
        /// The backup file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// `authd restore`: exit 0 when every record is in place; otherwise the status
/// `RestoreError::exit_code` gives (65 bad backup, 78 no usable key, 73 bad target).
fn restore(options: authd::restore::Options) -> ExitCode {
    use authd::store::backup::Signature;
    // The restored store is as private as a running daemon's.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    match authd::restore::run(&options) {
        Ok(done) => {
            match done.signature {
                Signature::Verified => {}
                Signature::Unsigned => eprintln!(
                    "authd: warning: {} has no MAC; restored because of --trust-unsigned \
                     (every record was checked)",
                    options.file.display()
                ),
                Signature::Mismatch => eprintln!(
                    "authd: warning: the MAC of {} does not verify; restored because of \
                     --trust-unsigned (every record was checked)",
                    options.file.display()
                ),
            }
            let next = if done.key_in_place {
                "the key is in place; start authd on it".to_string()
            } else {
                format!(
                    "now copy {} there as secret.key (mode 0600), unless the service gets it \
                     as the authd.key credential",
                    done.key.display()
                )
            };
            println!(
                "restored {} records ({} accounts) into {}, checked with the key {}; {next}",
                done.records,
                done.accounts,
                options.state_dir.display(),
                done.key.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authd: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn load(args: &Args) -> Result<Config, authd::config::ConfigError> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(socket) = &args.socket {
        config.socket = socket.clone();
    }
    if let Some(dir) = &args.state_dir {
        config.state_dir = dir.clone();
    }
    config.force_open = args.force_open;
    config.validate()?;
    Ok(config)
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if let Some(Command::Restore {
        state_dir,
        key,
        trust_unsigned,
        file,
    }) = args.command.take()
    {
        return restore(authd::restore::Options {
            state_dir,
            file,
            key,
            trust_unsigned,
        });
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match load(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("authd: {}", DisplayChain(&e));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if args.check_config {
        use std::io::Write;
        // Opening the database lets sled rewrite its own bookkeeping (a snapshot file, the
        // log's length): keep that as private as the daemon keeps the store.
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
        let problems = authd::server::problems(&config);
        // A closed pipe (`| head`) is not an error worth a panic.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{config:#?}");
        for p in &problems {
            let _ = writeln!(out, "problem: {p}");
        }
        if problems.is_empty() {
            let _ = writeln!(out, "configuration ok");
            return ExitCode::SUCCESS;
        }
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match authd::server::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("authd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let source: authd::server::ConfigSource = Box::new(move || load(&args));
    match runtime.block_on(authd::server::run(config, source)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authd: {}", DisplayChain(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
