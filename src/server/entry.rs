//! What `bin/authd.rs` calls once the configuration is loaded: `--check-config` and the
//! daemon's whole run, each printing its outcome and returning the exit status
//! `exit.rs` decides.

use std::io::Write;

use super::{problems, run, runtime, ConfigSource};
use crate::config::Config;
use crate::error::DisplayChain;
use crate::exit::{self, Exit};

/// `authd --check-config`: the effective settings, then any problem found on disk.
pub fn check_config(config: &Config) -> Exit {
    // Opening the database lets sled rewrite its own bookkeeping (a snapshot file, the
    // log's length): keep that as private as the daemon keeps the store.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let problems = problems(config);
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout();
    // The whole output is TOML: the settings, then what was found as comments.
    let _ = writeln!(out, "# authd --check-config: the effective configuration");
    match config.to_toml() {
        Ok(text) => {
            let _ = write!(out, "{text}");
        }
        Err(e) => {
            let _ = writeln!(out, "# (cannot print it: {e})");
        }
    }
    let _ = writeln!(out);
    for note in &config.overridden {
        let _ = writeln!(out, "# warning: {note}");
    }
    for p in &problems {
        let _ = writeln!(out, "# problem: {p}");
    }
    if problems.is_empty() {
        let _ = writeln!(out, "# configuration ok");
        return Exit::Success;
    }
    Exit::Config
}

/// Run the daemon on its own runtime until it stops; SIGHUP reloads from `source`.
pub fn serve(config: Config, source: ConfigSource) -> Exit {
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("authd: cannot start the async runtime: {e}");
            return Exit::Failure;
        }
    };
    match runtime.block_on(run(config, source)) {
        Ok(()) => Exit::Success,
        Err(e) => {
            eprintln!("authd: {}", DisplayChain(&e));
            exit::for_server(&e)
        }
    }
}
