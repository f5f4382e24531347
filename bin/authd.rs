//! authd: args -> config -> tracing -> server::serve -> exit code (`authd::exit`).

use std::path::PathBuf;
use std::process::ExitCode;

use authd::config::Config;
use authd::error::DisplayChain;
use authd::exit;
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
#[command(version)]
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
    /// Restore a backup (from `authctl backup`) into an empty state directory or an empty
    /// PostgreSQL database, offline.
    ///
    /// `--state-dir DIR` restores into a sled state directory; `--config FILE` into the
    /// store the configuration names (`[store] backend = "postgres"`: its database). The
    /// backup must carry a MAC that verifies with the secret key of the store it was
    /// taken from, and every record must be one authd would write (valid names, email
    /// addresses, phone numbers, counts, keys matching their records); otherwise nothing
    /// is written and the exit status is 65. Exit 78: no usable key or configuration, or
    /// a database with another key; 73: the directory or database is not empty or cannot
    /// be written; 2: no target. See authd(8), BACKUP AND RESTORE.
    Restore {
        /// The new state directory: missing, empty, or holding only the key
        /// (`secret.key`, copied in first). With --config: replaces its state_dir.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Restore into the store this authd.toml names (also accepted before `restore`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
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
    /// Move a host's sled store into an empty PostgreSQL database, offline (stop authd
    /// first), so several daemons can share it.
    ///
    /// Every record is read and checked as a restore checks a backup, then written in one
    /// transaction, and the tables are counted again. The store's secret key becomes the
    /// database's: give every daemon on the database a copy. Running it again reports the
    /// migration done and writes nothing. Exit 73: the database holds other data; 78: no
    /// usable key, or the database has another key; 65: a record does not check out. See
    /// authd(8), MANY HOSTS.
    Migrate {
        /// sled:DIR, the state directory of the store to move.
        #[arg(long, value_name = "sled:DIR")]
        from: String,
        /// postgres:URL, the database (e.g. postgres:postgresql://authd@db.example.org/authd);
        /// keep the password out of the URL with --password-file.
        #[arg(long, value_name = "postgres:URL")]
        to: String,
        /// The store's secret key [default: DIR/secret.key].
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// A file whose first line is the database password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// The CA certificates (PEM) that sslmode=verify-ca or verify-full in URL trust
        /// [default: the public roots built into authd].
        #[arg(long, value_name = "FILE")]
        ssl_root_cert: Option<PathBuf>,
    },
}

fn load(args: &Args) -> Result<Config, authd::config::ConfigError> {
    let mut config = Config::load(args.config.as_deref())?;
    config.override_paths(args.socket.as_deref(), args.state_dir.as_deref());
    config.force_open = args.force_open;
    config.validate()?;
    Ok(config)
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    match args.command.take() {
        Some(Command::Restore {
            state_dir,
            config,
            key,
            trust_unsigned,
            file,
        }) => {
            return authd::restore::main(&authd::restore::Options {
                state_dir,
                config: config.or(args.config),
                file,
                key,
                trust_unsigned,
            })
            .into();
        }
        Some(Command::Migrate {
            from,
            to,
            key,
            password_file,
            ssl_root_cert,
        }) => {
            return authd::migrate::main(&authd::migrate::Options {
                from,
                to,
                key,
                password_file,
                ssl_root_cert,
            })
            .into();
        }
        None => {}
    }
    authd_proto::logging::init();
    let config = match load(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("authd: {}", DisplayChain(&e));
            return exit::for_config(&e).into();
        }
    };
    if args.check_config {
        return authd::server::check_config(&config).into();
    }
    let source: authd::server::ConfigSource = Box::new(move || load(&args));
    authd::server::serve(config, source).into()
}
