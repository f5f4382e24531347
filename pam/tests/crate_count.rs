//! pam_authd is loaded into sshd, sudo, login and screen lockers: everything it links
//! runs there. It depends on `authd-proto` and its own few crates, never on the daemon
//! crate (sled, tokio, lettre, rustls, argon2...). This test fails when that set grows
//! past the limit, counted as `cargo tree -p pam_authd -e normal --prefix none | sort -u`.

use std::collections::BTreeSet;
use std::process::Command;

/// The most lines `cargo tree -p pam_authd -e normal --prefix none | sort -u` may print.
const LIMIT: usize = 40;

#[test]
fn pam_authd_links_few_crates_and_not_the_daemon() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "pam_authd",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: BTreeSet<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect();
    let crates: BTreeSet<&str> = lines
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains("authd-proto") && crates.contains("pam-bindings"),
        "unexpected cargo tree output: {lines:#?}"
    );
    for heavy in [
        "authd", "tokio", "sled", "lettre", "rustls", "argon2", "clap",
    ] {
        assert!(
            !crates.contains(heavy),
            "pam_authd links {heavy}: {lines:#?}"
        );
    }
    assert!(
        lines.len() <= LIMIT,
        "pam_authd links {} crates (limit {LIMIT}): {lines:#?}",
        lines.len()
    );
}
