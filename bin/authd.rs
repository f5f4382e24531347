//! authd: args -> config -> tracing -> server::run -> exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use authd::config::{Config, EXIT_CONFIG};
use authd::error::DisplayChain;
use clap::Parser;

/// The authd daemon: accounts, passwords and lockout over a Unix socket.
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
    /// Validate the configuration, print the effective settings and exit (0 or 78).
    #[arg(long)]
    check_config: bool,
}

fn load(args: &Args) -> Result<Config, authd::config::ConfigError> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(socket) = &args.socket {
        config.socket = socket.clone();
    }
    if let Some(dir) = &args.state_dir {
        config.state_dir = dir.clone();
    }
    config.validate()?;
    Ok(config)
}

fn main() -> ExitCode {
    let args = Args::parse();
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
    match runtime.block_on(authd::server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authd: {}", DisplayChain(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
