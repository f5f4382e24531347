//! authd-bench: load against a running authd over its socket; see `authd::bench`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use authd::bench::{self, Scenario, Stop};
use clap::Parser;

/// Measure a running authd: throughput, latency percentiles, errors, daemon peak RSS.
///
/// Needs an admin connection (it creates bench-* accounts). The flood-* scenarios are a
/// hostile local user's load instead (run them as that user; they need no rights).
#[derive(Parser)]
#[command(version, about, long_about)]
struct Args {
    /// authd's socket.
    #[arg(long, env = "AUTHD_SOCKET", value_name = "PATH")]
    socket: PathBuf,
    #[arg(long, value_enum, required_unless_present = "populate")]
    scenario: Option<Scenario>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long to run, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Stop after this many requests per client instead of after --duration.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Accounts to create for `show` (bench-0000000...), or to spread verify-totp over.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Only create --accounts accounts (no passwords), then exit.
    #[arg(long)]
    populate: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.populate {
        return match bench::populate(&args.socket, args.accounts, args.clients) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("authd-bench: {}", authd::error::DisplayChain(&e));
                ExitCode::from(e.exit_code())
            }
        };
    }
    let stop = args
        .requests
        .map_or(Stop::After(args.duration), Stop::Requests);
    // clap insists on a scenario unless --populate was given.
    let Some(scenario) = args.scenario else {
        return ExitCode::from(2);
    };
    if let Some(report) = scenario.flood(&args.socket, args.clients, args.duration) {
        if args.json {
            println!("{}", serde_json::to_string(&report).unwrap_or_default());
        } else {
            println!("{}", report.to_text());
        }
        return ExitCode::SUCCESS;
    }
    match bench::run(&args.socket, scenario, args.clients, stop, args.accounts) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("{}", report.to_text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authd-bench: {}", authd::error::DisplayChain(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
