//! Logs under systemd: when standard error is the journal (`JOURNAL_STREAM` names its
//! device and inode), each line carries its syslog priority and no timestamp of its own,
//! so `journalctl -p warning` selects by level; anywhere else, the usual timestamped
//! lines without colour codes when `NO_COLOR` is set.

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

use crate::daemon::{signal, wait_serving, wait_timeout, AUTHD, TEST_CONFIG};

/// Start authd with `--socket` replacing the file's `socket` (which it logs as a
/// warning), standard error to a file, `journal` deciding whether `JOURNAL_STREAM`
/// names that file; stop it once it serves; return what it logged.
fn logs(journal: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authd.toml");
    let socket = dir.path().join("cli.sock");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nstate_dir = \"{}\"\n{TEST_CONFIG}",
            dir.path().join("file.sock").display(),
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("stderr");
    let log = std::fs::File::create(&log_path).unwrap();
    let meta = log.metadata().unwrap();
    let mut cmd = Command::new(AUTHD);
    cmd.arg("--config")
        .arg(&config)
        .arg("--socket")
        .arg(&socket)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    if journal {
        cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
    } else {
        // A journal stream that is not this standard error (a child of a service whose
        // own stderr was redirected): plain lines.
        cmd.env(
            "JOURNAL_STREAM",
            format!("{}:{}", meta.dev(), meta.ino() + 1),
        );
    }
    let mut child = cmd.spawn().unwrap();
    wait_serving(&socket, &mut child, || {
        std::fs::read_to_string(&log_path).unwrap()
    });
    signal(child.id(), "TERM");
    assert!(wait_timeout(&mut child, std::time::Duration::from_secs(30)).success());
    std::fs::read_to_string(&log_path).unwrap()
}

#[test]
fn to_the_journal_each_line_has_its_priority_and_no_timestamp() {
    let text = logs(true);
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let priority = line
            .strip_prefix('<')
            .and_then(|rest| rest.split_once('>'))
            .map(|(p, _)| p);
        assert!(
            matches!(priority, Some("3" | "4" | "6" | "7")),
            "no priority: {line}"
        );
        assert!(!line.contains("Z "), "a timestamp of its own: {line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<4>") && l.contains("replaced by --socket")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("<6>")), "{text}");
}

#[test]
fn elsewhere_lines_are_timestamped_without_priorities_or_colour() {
    let text = logs(false);
    let warning = text
        .lines()
        .find(|l| l.contains("replaced by --socket"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(!text.lines().any(|l| l.starts_with('<')), "{text}");
    assert!(!text.contains('\x1b'), "colour despite NO_COLOR: {text}");
}
