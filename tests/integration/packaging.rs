//! What ships besides the binaries: shell completions generated from the clap
//! definitions (committed, and a test fails when they are stale), a man page that names
//! every command and option, systemd units that systemd accepts, and `make install`.
//!
//! `AUTHD_REGENERATE=1 cargo test packaging` rewrites the generated files.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::daemon::{have, AUTHCTL, AUTHD};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn completion(shell: Shell) -> (PathBuf, String) {
    let file = match shell {
        Shell::Bash => "completions/authctl.bash",
        Shell::Zsh => "completions/_authctl",
        Shell::Fish => "completions/authctl.fish",
        _ => unreachable!("not shipped"),
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut authd::ctl::Cli::command(), "authctl", &mut out);
    (root().join(file), String::from_utf8(out).unwrap())
}

#[test]
fn committed_completions_match_the_cli() {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let (path, fresh) = completion(shell);
        if std::env::var_os("AUTHD_REGENERATE").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run AUTHD_REGENERATE=1 cargo test packaging",
            path.display()
        );
    }
}

/// One generated page per authctl command (`authctl-add-user.1`, ...) and per command
/// under one (`authctl-outbox-retry.1`), from the same clap definitions as `--help`;
/// authctl(1) is the hand-written overview. Each comes with the command as typed
/// (`outbox retry`).
fn command_pages() -> Vec<(PathBuf, String, Vec<u8>)> {
    // Built, so each command carries the global options (--socket, --json, ...) and its
    // bin name `authctl COMMAND`, which the SYNOPSIS shows; the page is `authctl-COMMAND`.
    let mut cli = authd::ctl::Cli::command();
    cli.build();
    let mut commands = Vec::new();
    for sub in cli.get_subcommands().filter(|sub| sub.get_name() != "help") {
        commands.push((sub.get_name().to_string(), sub.clone()));
        for nested in sub.get_subcommands().filter(|n| n.get_name() != "help") {
            let typed = format!("{} {}", sub.get_name(), nested.get_name());
            commands.push((typed, nested.clone()));
        }
    }
    commands
        .into_iter()
        .map(|(typed, sub)| {
            let name = format!("authctl-{}", typed.replace(' ', "-"));
            // clap takes names as &'static str; a test may leak a few.
            let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
            let invoked = format!("authctl {typed}");
            let page = sub.display_name(static_name).bin_name(invoked);
            let mut out = Vec::new();
            clap_mangen::Man::new(page)
                .section("1")
                .source(format!("authd {}", env!("CARGO_PKG_VERSION")))
                .manual("authd manual")
                .render(&mut out)
                .unwrap();
            (root().join("man").join(format!("{name}.1")), typed, out)
        })
        .collect()
}

#[test]
fn committed_command_man_pages_match_the_cli() {
    for (path, typed, fresh) in command_pages() {
        // The SYNOPSIS names the command as typed, with the global options.
        let text = String::from_utf8_lossy(&fresh);
        let synopsis = text
            .split(".SH SYNOPSIS\n")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_else(|| panic!("{}: no SYNOPSIS", path.display()));
        let command = typed.replace('-', "\\-");
        assert!(
            synopsis.starts_with(&format!("\\fBauthctl {command}\\fR"))
                && synopsis.contains("\\-\\-socket")
                && synopsis.contains("\\-\\-json"),
            "{}: {synopsis}",
            path.display()
        );
        if std::env::var_os("AUTHD_REGENERATE").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run AUTHD_REGENERATE=1 cargo test packaging",
            path.display()
        );
    }
}

#[test]
fn every_man_page_renders_without_warnings() {
    if !have("groff") {
        return;
    }
    for entry in std::fs::read_dir(root().join("man")).unwrap() {
        let path = entry.unwrap().path();
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&path)
            .output()
            .unwrap();
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.is_empty(),
            "{}: {warnings}",
            path.display()
        );
    }
}

#[test]
fn the_man_page_names_every_command_and_option() {
    let page = std::fs::read_to_string(root().join("man/authctl.1")).unwrap();
    let roff = |s: &str| s.replace('-', "\\-");
    let cli = authd::ctl::Cli::command();
    let mut missing = Vec::new();
    for arg in cli.get_arguments().filter_map(|a| a.get_long()) {
        if !page.contains(&roff(&format!("--{arg}"))) && arg != "help" && arg != "version" {
            missing.push(format!("--{arg}"));
        }
    }
    for sub in cli.get_subcommands() {
        if !page.contains(&roff(sub.get_name())) {
            missing.push(sub.get_name().to_string());
        }
        for arg in sub.get_arguments().filter_map(|a| a.get_long()) {
            if !page.contains(&roff(&format!("--{arg}"))) && arg != "help" {
                missing.push(format!("{} --{arg}", sub.get_name()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "authctl(1) does not document: {missing:?}"
    );
}

/// Copy the units into `dir`, pointing ExecStart at an existing binary.
fn units_in(dir: &Path) {
    for unit in ["authd.service", "authd.socket", "authd-web.service"] {
        let text = std::fs::read_to_string(root().join("systemd").join(unit)).unwrap();
        let text = text
            .replace("/usr/bin/authd-web", "/bin/true")
            .replace("/usr/bin/authd", "/bin/true");
        std::fs::write(dir.join(unit), text).unwrap();
    }
}

#[test]
fn systemd_accepts_the_units_and_rates_the_sandbox_ok() {
    if !have("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    units_in(dir.path());
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("authd.service"))
        .arg(dir.path().join("authd.socket"))
        .arg(dir.path().join("authd-web.service"))
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .unwrap();
    let complaints: Vec<String> = String::from_utf8_lossy(&verify.stderr)
        .lines()
        // The man pages are not installed here; everything else must be clean.
        .filter(|l| !l.contains("Command 'man "))
        .map(str::to_string)
        .collect();
    assert!(complaints.is_empty(), "{complaints:#?}");
    for service in ["authd.service", "authd-web.service"] {
        let security = Command::new("systemd-analyze")
            .args(["security", "--offline=true"])
            .arg(dir.path().join(service))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&security.stdout);
        let overall = text
            .lines()
            .find(|l| l.contains("Overall exposure level"))
            .unwrap_or_else(|| panic!("no score: {text}"));
        assert!(
            overall.contains(" OK") || overall.contains("SAFE"),
            "{service}: {overall}"
        );
    }
}

#[test]
fn make_install_puts_every_file_in_place() {
    if !have("make") {
        return;
    }
    // The test build stands in for a release build; the PAM module and the key helper are
    // faked (they need libpam and libudev), since this checks placement, not them.
    let build = tempfile::tempdir().unwrap();
    std::fs::copy(AUTHD, build.path().join("authd")).unwrap();
    std::fs::copy(AUTHCTL, build.path().join("authctl")).unwrap();
    std::fs::write(build.path().join("libpam_authd.so"), b"module").unwrap();
    std::fs::write(build.path().join("authd-key"), b"helper").unwrap();
    let dest = tempfile::tempdir().unwrap();
    let out = Command::new("make")
        .arg("-s")
        .arg("install")
        .arg(format!("DESTDIR={}", dest.path().display()))
        .arg("PREFIX=/usr")
        .arg("PAMDIR=/usr/lib/security")
        .arg(format!("BUILD={}", build.path().display()))
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "usr/bin/authd",
        "usr/bin/authctl",
        "usr/libexec/authd/authd-key",
        "usr/lib/security/pam_authd.so",
        "usr/lib/systemd/system/authd.service",
        "usr/lib/systemd/system/authd.socket",
        "usr/lib/sysusers.d/authd.conf",
        "usr/lib/tmpfiles.d/authd.conf",
        "usr/share/man/man1/authctl.1",
        "usr/share/man/man1/authctl-verify.1",
        "usr/share/man/man5/authd.toml.5",
        "usr/share/man/man8/authd.8",
        "usr/share/man/man8/pam_authd.8",
        "usr/share/man/man8/authd-web.8",
        "usr/share/man/man8/authd-key.8",
        "usr/lib/systemd/system/authd-web.service",
        "usr/share/bash-completion/completions/authctl",
        "usr/share/zsh/site-functions/_authctl",
        "usr/share/fish/vendor_completions.d/authctl.fish",
        "usr/share/doc/authd/authd.toml.example",
        "etc/authd/authd.toml",
    ] {
        assert!(dest.path().join(file).is_file(), "{file} not installed");
    }
    // One source of truth for the paths: the unit passes only --config, and the installed
    // file sets the system paths (the example keeps them commented).
    let unit = std::fs::read_to_string(dest.path().join("usr/lib/systemd/system/authd.service"));
    assert!(unit
        .unwrap()
        .lines()
        .any(|l| l == "ExecStart=/usr/bin/authd --config /etc/authd/authd.toml"));
    let installed = std::fs::read_to_string(dest.path().join("etc/authd/authd.toml")).unwrap();
    for line in [
        "state_dir = \"/var/lib/authd\"",
        "socket = \"/run/authd/authd.sock\"",
    ] {
        assert!(installed.lines().any(|l| l == line), "{line} not set");
    }
    // The installed example config is one the installed daemon accepts (paths of our
    // own, since the check looks at them on disk).
    let check = Command::new(dest.path().join("usr/bin/authd"))
        .arg("--check-config")
        .arg("--config")
        .arg(dest.path().join("etc/authd/authd.toml"))
        .arg("--socket")
        .arg(dest.path().join("run/authd.sock"))
        .arg("--state-dir")
        .arg(dest.path().join("state"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // The options replaced what the file set: --check-config says so.
    let said = String::from_utf8_lossy(&check.stdout);
    for key in ["state_dir", "socket"] {
        assert!(
            said.lines()
                .any(|l| l.starts_with(&format!("# warning: {key} = "))
                    && l.contains("from the file is replaced by --")),
            "no warning for {key}: {said}"
        );
    }
}

#[test]
fn make_install_copies_nothing_when_a_built_file_is_missing() {
    if !have("make") {
        return;
    }
    // Everything but the PAM module (`cargo build` without libpam0g-dev, say).
    let build = tempfile::tempdir().unwrap();
    std::fs::copy(AUTHD, build.path().join("authd")).unwrap();
    std::fs::copy(AUTHCTL, build.path().join("authctl")).unwrap();
    std::fs::write(build.path().join("authd-key"), b"helper").unwrap();
    let dest = tempfile::tempdir().unwrap();
    let out = Command::new("make")
        .args(["-s", "install"])
        .arg(format!("DESTDIR={}", dest.path().display()))
        .arg(format!("BUILD={}", build.path().display()))
        .current_dir(root())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("not built:") && said.contains("libpam_authd.so"),
        "{said}"
    );
    assert!(
        std::fs::read_dir(dest.path()).unwrap().next().is_none(),
        "make install copied files before failing"
    );
}

#[test]
fn pam_module_goes_where_libpam_looks_whatever_the_prefix() {
    if !have("make") || !have("pkg-config") {
        return;
    }
    let pc = Command::new("pkg-config")
        .args(["--variable=libdir", "pam"])
        .output()
        .unwrap();
    assert!(
        pc.status.success(),
        "pkg-config knows no pam (libpam0g-dev)"
    );
    let libdir = String::from_utf8(pc.stdout).unwrap();
    let out = Command::new("make")
        .args(["-s", "pamdir", "PREFIX=/usr/local"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("{}/security", libdir.trim())
    );
}

/// `-h` and `--help` open with the same headline (the doc comment's first sentence; the
/// long form keeps its full stop), for every command of authctl and for authd.
#[test]
fn short_and_long_help_share_their_headline() {
    let headline = |bin: &str, args: &[&str], flag: &str| {
        let out = Command::new(bin).args(args).arg(flag).output().unwrap();
        assert!(out.status.success(), "{bin} {args:?} {flag}");
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('.')
            .to_string()
    };
    let mut commands: Vec<Vec<&str>> = vec![vec![]];
    let cli = authd::ctl::Cli::command();
    let names: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in &names {
        commands.push(vec![name.as_str()]);
    }
    for args in &commands {
        let short = headline(AUTHCTL, args, "-h");
        assert!(!short.is_empty());
        assert_eq!(short, headline(AUTHCTL, args, "--help"), "authctl {args:?}");
    }
    assert_eq!(headline(AUTHD, &[], "-h"), headline(AUTHD, &[], "--help"));
}
