//! Promises about backups and restores (authctl(1) backup, authd(8) BACKUP AND RESTORE):
//! the snapshot is handed out in chunks of at most 60 KiB and removed after the last one,
//! or at the next start when the client went away; a backup that cannot be written leaves
//! nothing behind; `authd restore` makes its directory 0700, keeps an existing one's mode,
//! and writes nothing others can read.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use authd::protocol::{AddUser, Backup, Request, Response, BACKUP_CHUNK};

use crate::daemon::*;

/// `accounts` accounts with longish addresses, added over four connections (no password
/// hashing): a store whose backup takes several chunks.
fn fill(d: &Daemon, accounts: usize) {
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                let mut client = d.client();
                for i in (t..accounts).step_by(4) {
                    let name = format!("filler-{i:05}");
                    let request = Request::AddUser(AddUser {
                        email: Some(format!("{name}-with-a-longer-address@example.org")),
                        name,
                        phone: None,
                        sso: None,
                    });
                    client.call(&request).unwrap();
                }
            });
        }
    });
}

/// The daemon's backup snapshots in its state directory.
fn snapshots(d: &Daemon) -> Vec<PathBuf> {
    std::fs::read_dir(d.state_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("backup-") && name.ends_with(".tmp")
        })
        .collect()
}

/// One chunk: (session, total, data).
fn chunk(
    client: &mut authd::client::Client,
    session: Option<u64>,
    offset: u64,
) -> (u64, u64, Vec<u8>) {
    match client
        .call(&Request::Backup(Backup { session, offset }))
        .unwrap()
    {
        Response::BackupChunk {
            session,
            total,
            offset: at,
            data,
        } => {
            assert_eq!(at, offset);
            (session, total, data)
        }
        other => panic!("not a chunk: {other:?}"),
    }
}

#[test]
fn a_backup_comes_in_chunks_of_at_most_60_kib_and_its_snapshot_never_outlives_it() {
    let mut d = Daemon::start();
    fill(&d, 1500);
    let mut client = d.client();
    let (session, total, first) = chunk(&mut client, None, 0);
    assert_eq!(first.len(), BACKUP_CHUNK);
    assert!(total > 3 * BACKUP_CHUNK as u64, "only {total} bytes");
    // While it is handed out, the snapshot is a private file in the state directory.
    let held = snapshots(&d);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        std::fs::metadata(&held[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut bytes = first;
    let mut chunks = 1;
    while (bytes.len() as u64) < total {
        let (s, t, data) = chunk(&mut client, Some(session), bytes.len() as u64);
        assert_eq!((s, t), (session, total));
        assert!(
            !data.is_empty() && data.len() <= BACKUP_CHUNK,
            "{}",
            data.len()
        );
        bytes.extend(data);
        chunks += 1;
    }
    assert_eq!(bytes.len() as u64, total);
    assert!(chunks >= 4, "{chunks} chunks");
    assert!(
        snapshots(&d).is_empty(),
        "the snapshot outlived the last chunk"
    );
    // The chunks make the backup: it restores, every account in it.
    let file = d.dir.path().join("chunks.backup");
    std::fs::write(&file, &bytes).unwrap();
    let restored = restore(
        &d.state_dir().join("secret.key"),
        &d.dir.path().join("r"),
        &file,
    );
    assert_ok(&restored);
    assert!(
        stdout(&restored).contains("(1500 accounts)"),
        "{}",
        stdout(&restored)
    );

    // A client that goes away after the first chunk: its snapshot is removed at the
    // next start.
    let mut quitter = d.client();
    chunk(&mut quitter, None, 0);
    drop(quitter);
    assert_eq!(snapshots(&d).len(), 1);
    assert!(d.terminate().success());
    d.spawn();
    assert!(
        snapshots(&d).is_empty(),
        "a stale snapshot survived the restart"
    );
}

#[test]
fn a_backup_that_cannot_be_written_leaves_nothing_behind() {
    let d = Daemon::start();
    fill(&d, 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authd.backup");
    std::fs::write(&file, "the previous backup").unwrap();
    // authctl may write at most 8 KiB (ulimit -f counts 512-byte blocks): the write fails
    // with EFBIG part way (SIGXFSZ ignored, so the error comes back as an error).
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 16 && exec \"$0\" \"$@\"")
        .arg(AUTHCTL)
        .arg("--socket")
        .arg(&d.socket)
        .args(["--json", "backup", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&out, 73);
    assert_eq!(json(&out)["error"]["code"], "io", "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "the previous backup"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["authd.backup"], "a temporary file was left behind");
    assert!(snapshots(&d).is_empty());
}

/// `authd restore --state-dir DIR --key KEY FILE`, under umask 022 (a shell's usual one).
fn restore(key: &Path, dir: &Path, file: &Path) -> std::process::Output {
    Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" restore --state-dir \"$1\" --key \"$2\" \"$3\"")
        .arg(AUTHD)
        .arg(dir)
        .arg(key)
        .arg(file)
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

/// Every file and directory below `dir` (not `dir` itself) that others may read.
fn open_below(dir: &Path) -> Vec<String> {
    let mut open = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.mode() & 0o077 != 0 {
            open.push(format!(
                "{} {:o}",
                entry.path().display(),
                meta.mode() & 0o7777
            ));
        }
        if meta.is_dir() {
            open.extend(open_below(&entry.path()));
        }
    }
    open
}

#[test]
fn restore_makes_its_directory_0700_and_keeps_the_mode_of_an_existing_one() {
    let d = Daemon::start();
    d.user_with_password("rhea");
    let base = tempfile::tempdir().unwrap();
    let file = base.path().join("authd.backup");
    assert_ok(&d.ctl(&["backup", "--output", file.to_str().unwrap()]));
    let key = d.state_dir().join("secret.key");

    // A new directory, parents included, is made 0700 whatever the umask.
    let new = base.path().join("a/b/state");
    assert_ok(&restore(&key, &new, &file));
    assert_eq!(mode(&new), 0o700);
    assert_eq!(mode(&base.path().join("a")), 0o700);
    assert!(open_below(&new).is_empty(), "{:#?}", open_below(&new));

    // An existing, empty directory keeps its mode; what is written in it stays private.
    let existing = base.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o750)).unwrap();
    assert_ok(&restore(&key, &existing, &file));
    assert_eq!(mode(&existing), 0o750);
    assert!(
        open_below(&existing).is_empty(),
        "{:#?}",
        open_below(&existing)
    );
}
