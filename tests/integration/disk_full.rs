//! The disk under the store fills up: a write is never acknowledged unless it is on disk
//! (a commit that fails refuses every later write with `internal`, exit 70, until authd
//! restarts) while reads go on; after space is freed and authd restarted, every
//! acknowledged change is there. Needs root (a small tmpfs holds the state directory).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::daemon::*;
use crate::peers;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Mount {
        std::fs::create_dir(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("authd-test")
            .arg(at)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs failed");
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the file system holding `dir` with a file in `dir`, until it is full.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    loop {
        match file.write_all(&block) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOSPC) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = file.sync_all();
    path
}

#[test]
fn a_full_disk_refuses_writes_and_keeps_what_was_acknowledged() {
    if crate::daemon::sled_only("fills the disk under the sled store") {
        return;
    }
    if !peers::root() || !peers::program("mount", "mount") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let disk = dir.path().join("disk");
    let _mount = Mount::tmpfs(&disk, "16m");
    let config = dir.path().join("authd.toml");
    let text = format!(
        "socket = \"{}\"\nstate_dir = \"{}\"\n{TEST_CONFIG}",
        dir.path().join("authd.sock").display(),
        disk.join("state").display()
    );
    std::fs::write(&config, text).unwrap();
    let mut d = Daemon::from_existing(dir, config);
    d.user_with_password("before");

    let filler = fill(&disk);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for i in 0..300 {
        let name = format!("u{i}");
        let out = d.ctl(&["--json", "add-user", &name]);
        if code(&out) == 0 {
            acknowledged.push(name);
        } else {
            assert_error(&out, 70, "internal");
            refused += 1;
        }
    }
    assert!(
        refused > 0,
        "300 writes on a full disk and none failed: {} acknowledged",
        acknowledged.len()
    );

    // Reads go on.
    assert_ok(&d.ctl(&["show", "before"]));
    assert_ok(&d.ctl(&["status"]));

    // Space again; authd restarts (killed: it could not have flushed anything more).
    std::fs::remove_file(filler).unwrap();
    d.kill9();
    d.spawn();
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["verify", "before"]));
    for name in &acknowledged {
        assert_ok(&d.ctl(&["show", name]));
    }
    // And it writes again.
    assert_ok(&d.ctl(&["add-user", "after"]));
    d.kill9();
    d.spawn();
    assert_ok(&d.ctl(&["show", "after"]));
}

/// authctl's own output files on a full disk: a backup and a QR code PNG fail with exit
/// 73 (cannot write the output file), and leave no partial file behind.
#[test]
fn output_files_on_a_full_disk_fail_as_write_errors() {
    if !peers::root() || !peers::program("mount", "mount") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    let _mount = Mount::tmpfs(&disk, "1m");
    fill(&disk);
    let backup = disk.join("authd.backup");
    let out = d.ctl(&["--json", "backup", "--output", backup.to_str().unwrap()]);
    assert_error(&out, 73, "io");
    let png = disk.join("qr.png");
    let out = d.ctl(&[
        "--json",
        "enable-totp",
        "alice",
        "--qr-png",
        png.to_str().unwrap(),
    ]);
    assert_error(&out, 73, "io");
    let left: Vec<_> = std::fs::read_dir(&disk)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "filler")
        .collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
}
