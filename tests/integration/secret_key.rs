//! The secret key file: made 0600, an exposed or lost one stops authd with 78, and a
//! systemd credential is used instead of the state directory's file.

use std::process::Command;

use crate::daemon::*;

/// authd on `d`'s config refuses to start, exit 78, saying `why`.
#[track_caller]
fn refused_with_78(d: &Daemon, why: &str) {
    let out = Command::new(AUTHD)
        .arg("--config")
        .arg(&d.config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(stderr(&out).contains(why), "{}", stderr(&out));
}

#[test]
fn an_exposed_key_file_stops_the_daemon_with_78() {
    use std::os::unix::fs::PermissionsExt;
    let mut d = Daemon::start();
    d.terminate();
    let key = d.state_dir().join("secret.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused_with_78(&d, "accessible to group or others");
    assert!(!d.socket.exists(), "socket left behind");

    // A lost key is not silently replaced once the store holds accounts.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    d.spawn();
    assert_ok(&d.ctl(&["add-user", "kim"]));
    d.terminate();
    std::fs::remove_file(&key).unwrap();
    refused_with_78(&d, "restore the key file");
    assert!(!key.exists());
}

#[test]
fn a_systemd_credential_key_is_used_instead_of_the_state_dir() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    let key = creds.join("authd.key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
    let socket = dir.path().join("authd.sock");
    let mut child = crate::spawned::Spawned::spawn(
        Command::new(AUTHD)
            .arg("--socket")
            .arg(&socket)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .env("CREDENTIALS_DIRECTORY", &creds)
            .stderr(std::process::Stdio::null()),
    );
    wait_serving(&socket, &mut child, String::new);
    assert!(dir.path().join("state/db").exists(), "store not open yet");
    assert!(!dir.path().join("state/secret.key").exists());
    signal(child.id(), "TERM");
    assert_eq!(
        wait_timeout(&mut child, std::time::Duration::from_secs(30)).code(),
        Some(0)
    );
}
