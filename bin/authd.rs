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
    /// Copy the secret key file into it as well: the backup does not hold the key.
    Restore {
        /// The new, empty state directory.
        #[arg(long, value_name = "DIR")]
        state_dir: PathBuf,
        /// The backup file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// `authd restore`: exit 0 when every record is in place, 65 for a bad backup, 73 when
/// the target is not usable.
fn restore(state_dir: &std::path::Path, file: &std::path::Path) -> ExitCode {
    use authd::store::{backup, Store, SCHEMA_VERSION};
    use std::os::unix::fs::PermissionsExt;
    // The restored store is as private as a running daemon's.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let records = match std::fs::File::open(file)
        .map_err(backup::BackupError::from)
        .and_then(|f| backup::read_all(std::io::BufReader::new(f), SCHEMA_VERSION))
    {
        Ok(records) => records,
        Err(e) => {
            eprintln!("authd: {}: {}", file.display(), DisplayChain(&e));
            return ExitCode::from(65);
        }
    };
    let occupied = std::fs::read_dir(state_dir).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        eprintln!(
            "authd: {} is not empty; restore only into a new or empty state directory",
            state_dir.display()
        );
        return ExitCode::from(73);
    }
    {
        use std::os::unix::fs::DirBuilderExt;
        let made = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(state_dir)
            .and_then(|()| {
                std::fs::set_permissions(state_dir, std::fs::Permissions::from_mode(0o700))
            });
        if let Err(e) = made {
            eprintln!("authd: cannot create {}: {e}", state_dir.display());
            return ExitCode::from(73);
        }
    }
    match Store::restore(state_dir, records) {
        Ok(count) => {
            println!(
                "restored {count} records into {}; now copy the secret key file (secret.key) there",
                state_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authd: restore failed: {}", DisplayChain(&e));
            ExitCode::from(73)
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
    let args = Args::parse();
    if let Some(Command::Restore { state_dir, file }) = &args.command {
        return restore(state_dir, file);
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
