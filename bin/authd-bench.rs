//! authd-bench: load against a running authd over its socket; see `authd::bench`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use authd::bench::{self, Options, Scenario, Stop};
use clap::Parser;

/// Measure a running authd: throughput, latency percentiles, errors, daemon peak RSS.
///
/// Needs an admin connection (it creates bench-* accounts). The flood-* scenarios are a
/// hostile local user's load instead (run them as that user; they need no rights).
/// store-ceiling needs no daemon: it measures bare sled, writing what logins write.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// authd's socket (not for store-ceiling). Several (repeated, or separated by commas):
    /// daemons sharing one PostgreSQL database; client i connects to socket i mod their
    /// number, and accounts are set up through the first.
    #[arg(long, env = "AUTHD_SOCKET", value_name = "PATH", value_delimiter = ',')]
    socket: Vec<PathBuf>,
    #[arg(long, value_enum, required_unless_present = "populate")]
    scenario: Option<Scenario>,
    /// Concurrent connections (store-ceiling: writer threads).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long to run, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Stop after this many requests per client instead of after --duration.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Accounts: for `show` and --populate, bench-0000000... (default 1000); for
    /// verify-totp, accounts enrolled for this run, whose codes the clients take in turn
    /// (default 20000; each account takes two logins at once, then one per 30 s step:
    /// give it (logins per second x seconds) / 2 for runs up to 30 s; the report says how
    /// long clients waited for fresh codes); for store-ceiling, the accounts written to
    /// (default 20000).
    #[arg(long)]
    accounts: Option<usize>,
    /// `show`: use the accounts bench-0000000.. as they are (made by --populate) instead
    /// of creating them first, so the run measures `show` alone.
    #[arg(long)]
    no_setup: bool,
    /// store-ceiling: the directory for the database (default: a new temporary one,
    /// removed afterwards).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Only create --accounts accounts (no passwords), then exit.
    #[arg(long)]
    populate: bool,
    /// With --populate: write the accounts straight into this PostgreSQL database (a
    /// connection URL; its schema is made or migrated first), in bulk, no daemon needed;
    /// each gets one precomputed password hash and the history entry add-user writes.
    /// The database must hold no bench-* accounts yet. A URL with a password belongs in
    /// the environment (AUTHD_BENCH_DATABASE), not in argv.
    #[arg(long, env = "AUTHD_BENCH_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Also report the CPU time this process and its children use per request during
    /// the timed run (e.g. the database server's postmaster, whose backends are its
    /// children); the daemons' own is always reported.
    #[arg(long, value_name = "PID")]
    cpu_pid: Option<i32>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn fail(e: &bench::BenchError) -> ExitCode {
    eprintln!("authd-bench: {}", authd::error::DisplayChain(e));
    ExitCode::from(e.exit_code())
}

fn print<T: serde::Serialize>(json: bool, report: &T, text: impl FnOnce(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
    } else {
        println!("{}", text(report));
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // clap insists on a scenario unless --populate was given.
    let scenario = args.scenario.unwrap_or(Scenario::Show);
    if let (true, Some(url)) = (args.populate, &args.database) {
        let accounts = args.accounts.unwrap_or(1_000);
        return match bench::populate_database(url, accounts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }
    let sockets = args.socket.clone();
    if sockets.is_empty() && (args.populate || scenario.needs_daemon()) {
        let e = bench::BenchError::Usage("--socket (or AUTHD_SOCKET) is needed".into());
        return fail(&e);
    }
    let socket = sockets.first().cloned().unwrap_or_default();
    if args.populate {
        let accounts = args.accounts.unwrap_or(1_000);
        return match bench::populate(&socket, accounts, args.clients) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.into()),
        };
    }
    if let Some(report) = scenario.flood(&socket, args.clients, args.duration) {
        print(args.json, &report, |r| r.to_text());
        return ExitCode::SUCCESS;
    }
    let options = Options {
        clients: args.clients,
        stop: args
            .requests
            .map_or(Stop::After(args.duration), Stop::Requests),
        accounts: args.accounts.unwrap_or(scenario.default_accounts()),
        setup: !args.no_setup,
        dir: args.dir,
        cpu_pid: args.cpu_pid,
    };
    match bench::run(&sockets, scenario, &options) {
        Ok(report) => {
            print(args.json, &report, |r| r.to_text());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
