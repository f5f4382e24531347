//! How sled is opened, and its log kept short across a clean stop.
//!
//! sled 0.34 writes a snapshot of its page table only while it opens: it reads the last
//! snapshot, replays every log record written since, and records the result. A database
//! that was filled and then stopped replays all of it at the next start (seconds for a
//! million accounts). So at a clean stop, once the store is closed, the daemon opens it
//! once more and closes it (`snapshot_closed`): the stop pays for the replay, and the
//! next start reads a current snapshot and replays next to nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;

/// The database in `state_dir`, with its page cache bounded by `cache_capacity_mib`.
pub fn config(state_dir: &Path, cache_capacity_mib: u64) -> sled::Config {
    sled::Config::new()
        .path(state_dir.join("db"))
        .cache_capacity(cache_capacity_mib * 1024 * 1024)
}

/// How long `snapshot_closed` waits for the closed database's file lock.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// Open the closed database in `state_dir` and close it again, leaving a snapshot that
/// covers its whole log. The store must be closed (every `Store` dropped). sled's own
/// threads let go of the file lock a moment after the last handle is dropped (later on
/// a busy machine), so a held lock is waited on, up to `RELEASE_WAIT`.
pub fn snapshot_closed(state_dir: &Path) -> Result<(), Error> {
    // Recovery does not use the page cache: a small one will do.
    let config = config(state_dir, 1);
    let deadline = Instant::now() + RELEASE_WAIT;
    let db = loop {
        match config.open() {
            Err(sled::Error::Io(e)) if lock_held(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            opened => break opened?,
        }
    };
    db.flush()?;
    Ok(())
}

/// sled 0.34's error for a database whose file lock another handle holds.
fn lock_held(e: &std::io::Error) -> bool {
    e.to_string().contains("could not acquire lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshots(state_dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(state_dir.join("db"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("snap."))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_closed_store_gets_a_snapshot_of_everything_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = config(dir.path(), 8).open().unwrap();
        for i in 0..1000u32 {
            db.insert(i.to_be_bytes(), &[7u8; 64][..]).unwrap();
        }
        db.flush().unwrap();
        drop(db);
        let before = snapshots(dir.path());
        snapshot_closed(dir.path()).unwrap();
        let after = snapshots(dir.path());
        assert_ne!(after.last(), before.last(), "no newer snapshot");
        let db = config(dir.path(), 8).open().unwrap();
        assert_eq!(db.len(), 1000);
    }

    #[test]
    fn an_open_store_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let _db = config(dir.path(), 8).open().unwrap();
        assert!(snapshot_closed(dir.path()).is_err());
    }
}
