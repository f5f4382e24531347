//! The store sentinel: a small text file beside the database (`state_dir/store.sentinel`)
//! that remembers which store lives here and how far its generation had come, so a
//! database that comes back empty, replaced or rolled back is noticed at the next start.
//!
//! ```text
//! # authd store sentinel: see authd(8), STORE INTEGRITY. Do not edit.
//! store_id 6f0c1d2e3a4b5c6d7e8f901a2b3c4d5e
//! generation 1234
//! accounts 57
//! ```
//!
//! It is only ever replaced whole, through `private_file`: a temporary file with a random
//! name, created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, synced, renamed over the
//! sentinel, and the directory synced. This module reads and writes the file; what a mismatch means is
//! `integrity`'s business. Its generation must never be ahead of what is durable in the
//! database: callers write it only after the flush that made that generation durable.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The sentinel's file name in the state directory.
pub const FILE: &str = "store.sentinel";

const HEADER: &str = "# authd store sentinel: see authd(8), STORE INTEGRITY. Do not edit.";

/// Larger than any sentinel authd writes; a bigger file is not one.
const MAX_LEN: u64 = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentinel {
    /// The store's random id, as lowercase hex.
    pub store_id: String,
    /// A generation of the store known to be durable when this was written.
    pub generation: u64,
    /// Accounts in the store when this was written (informational).
    pub accounts: u64,
}

impl Sentinel {
    fn render(&self) -> String {
        format!(
            "{HEADER}\nstore_id {}\ngeneration {}\naccounts {}\n",
            self.store_id, self.generation, self.accounts
        )
    }

    fn parse(text: &str) -> Result<Sentinel, String> {
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        let mut field = |name: &str| -> Result<String, String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|v| v.strip_prefix(' '))
                .map(str::to_string)
                .ok_or_else(|| format!("no `{name}` line where one belongs"))
        };
        let store_id = field("store_id")?;
        let number = |v: String, name: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("`{name}` is not a number"))
        };
        let generation = number(field("generation")?, "generation")?;
        let accounts = number(field("accounts")?, "accounts")?;
        if store_id.is_empty() || !store_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("`store_id` is not a hex id".into());
        }
        if lines.next().is_some() {
            return Err("unexpected lines after `accounts`".into());
        }
        Ok(Sentinel {
            store_id,
            generation,
            accounts,
        })
    }
}

/// The sentinel in `state_dir`: `None` when there is none; `Err` (a reason) when the file
/// is there but cannot be read or is not a sentinel.
pub fn read(state_dir: &Path) -> Result<Option<Sentinel>, String> {
    let path = state_dir.join(FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&path);
    let file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut text = String::new();
    file.take(MAX_LEN)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Sentinel::parse(&text).map(Some)
}

/// Replace the sentinel in `state_dir` with `sentinel`, atomically and durably
/// (`private_file`: a random O_EXCL|O_NOFOLLOW temp, 0600, fsync, rename, fsync of the
/// directory; a symlink target is refused).
pub fn write(state_dir: &Path, sentinel: &Sentinel) -> std::io::Result<()> {
    crate::private_file::write(&state_dir.join(FILE), |file| {
        file.write_all(sentinel.render().as_bytes())
    })
    .map_err(|e| std::io::Error::other(crate::error::DisplayChain(&e).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample() -> Sentinel {
        Sentinel {
            store_id: "00ff".into(),
            generation: 42,
            accounts: 7,
        }
    }

    #[test]
    fn written_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        write(dir.path(), &sample()).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(sample()));
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let next = Sentinel {
            generation: 43,
            ..sample()
        };
        write(dir.path(), &next).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(next));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn garbage_and_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "",
            "store_id zz\ngeneration 1\naccounts 0\n",
            "store_id ab\ngeneration x\naccounts 0\n",
            "store_id ab\ngeneration 1\n",
            "store_id ab\ngeneration 1\naccounts 0\nmore\n",
        ] {
            std::fs::write(dir.path().join(FILE), text).unwrap();
            assert!(read(dir.path()).is_err(), "{text:?} accepted");
        }
        std::fs::remove_file(dir.path().join(FILE)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join(FILE)).unwrap();
        assert!(read(dir.path()).is_err());
        assert!(write(dir.path(), &sample()).is_err());
        assert!(std::fs::symlink_metadata(dir.path().join(FILE))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
