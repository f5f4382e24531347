//! authd-web: flags -> settings -> tracing -> serve until SIGTERM/SIGINT -> exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = authd_web::args::Args::parse();
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("authd-web: {e}");
            return ExitCode::from(78);
        }
    };
    authd_proto::logging::init();
    match authd_web::app::run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(70)
        }
    }
}
