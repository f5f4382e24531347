//! authctl: the command-line client of authd. Everything lives in `authd::ctl`, so the
//! man page and completions can be generated from the same definitions.

fn main() -> std::process::ExitCode {
    authd::ctl::main()
}
