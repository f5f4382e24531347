//! Private files: the one way authctl and authd write a file (a backup, a QR code, the
//! secret key, a mail or SMS in a spool directory), safe in a directory other users may
//! write to, such as /tmp.
//!
//! The content goes to a new temporary file with a random name beside the target,
//! created with `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600 from its first instant, synced,
//! then renamed over the target (or linked, for `write_new`, which never replaces), and
//! the directory is synced. So a file or symlink another user planted is never opened,
//! let alone written through; a reader never sees half a file; a crash leaves the old
//! file or the new one. A target that is a symlink or not a regular file is refused.
//!
//! Never does: open an existing file for writing, follow a symlink in the last
//! component, or chmod afterwards (a chmod comes too late for a reader already holding
//! the file open).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag, AT_FDCWD};
use nix::sys::stat::{fstatat, Mode, SFlag};
use nix::unistd::{fsync, linkat, unlinkat, UnlinkatFlags};

/// Mode of every file written here, set at creation (the umask may only narrow it).
pub const MODE: u32 = 0o600;

/// How many random names to try before giving up (a clash is a 2^-64 event each time,
/// or someone guessing, so a few are plenty).
const ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    #[error("{} is a symbolic link: refusing to write through it", .path.display())]
    Symlink { path: PathBuf },
    #[error("{} exists and is not a regular file", .path.display())]
    NotRegular { path: PathBuf },
    #[error("{} does not name a file", .path.display())]
    NoFileName { path: PathBuf },
    #[error("{} already exists", .path.display())]
    Exists { path: PathBuf },
    #[error("cannot open the directory of {}", .path.display())]
    Directory {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl PrivateFileError {
    /// Is the path itself unusable (a symlink, not a file, no such directory), as
    /// opposed to a failure while writing?
    pub fn is_bad_target(&self) -> bool {
        match self {
            PrivateFileError::Symlink { .. }
            | PrivateFileError::NotRegular { .. }
            | PrivateFileError::NoFileName { .. }
            | PrivateFileError::Exists { .. } => true,
            PrivateFileError::Directory { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ),
            PrivateFileError::Io { .. } => false,
        }
    }

    /// Was the caller not allowed to write there?
    pub fn is_permission_denied(&self) -> bool {
        match self {
            PrivateFileError::Directory { source, .. } | PrivateFileError::Io { source, .. } => {
                source.kind() == io::ErrorKind::PermissionDenied
            }
            _ => false,
        }
    }
}

/// Replace `path` with a new private file holding what `fill` writes.
pub fn write(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), PrivateFileError> {
    Target::open(path)?.write(fill, Finish::Replace)
}

/// Create `path` holding what `fill` writes, only if nothing is there yet: an existing
/// file is never replaced (`Exists`), and no one ever sees it half written.
pub fn write_new(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), PrivateFileError> {
    Target::open(path)?.write(fill, Finish::NoReplace)
}

/// Refuse early, before any work is done, a target that `write` would refuse.
pub fn check_target(path: &Path) -> Result<(), PrivateFileError> {
    Target::open(path).map(drop)
}

/// A new private file at exactly `path` (for a temporary the caller removes itself):
/// `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600; fails if anything is there already.
pub fn create_new(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
}

enum Finish {
    Replace,
    NoReplace,
}

/// The directory (held open, so every step happens in the same one) and the file name.
struct Target<'a> {
    path: &'a Path,
    dir: OwnedFd,
    name: &'a OsStr,
}

impl<'a> Target<'a> {
    fn open(path: &'a Path) -> Result<Target<'a>, PrivateFileError> {
        let name = path
            .file_name()
            .ok_or_else(|| PrivateFileError::NoFileName { path: path.into() })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dir = openat(
            AT_FDCWD,
            dir,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| PrivateFileError::Directory {
            path: path.into(),
            source: e.into(),
        })?;
        let target = Target { path, dir, name };
        target.check()?;
        Ok(target)
    }

    fn io(&self, e: impl Into<io::Error>) -> PrivateFileError {
        PrivateFileError::Io {
            path: self.path.into(),
            source: e.into(),
        }
    }

    /// A symlink or a non-file (a directory, a device, a fifo) is refused; nothing is
    /// fine; a regular file will be replaced, never opened.
    fn check(&self) -> Result<(), PrivateFileError> {
        match fstatat(&self.dir, self.name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(self.io(e)),
            Ok(st) => {
                let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
                if kind == SFlag::S_IFLNK {
                    Err(PrivateFileError::Symlink {
                        path: self.path.into(),
                    })
                } else if kind != SFlag::S_IFREG {
                    Err(PrivateFileError::NotRegular {
                        path: self.path.into(),
                    })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// A fresh temporary beside the target: `.NAME.RANDOM.tmp`.
    fn create_temp(&self) -> Result<(File, OsString), PrivateFileError> {
        let mut last = Errno::EEXIST;
        for _ in 0..ATTEMPTS {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random).map_err(|e| self.io(io::Error::other(e.to_string())))?;
            let temp = temp_name(self.name, u64::from_be_bytes(random));
            let flags = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            match openat(
                &self.dir,
                temp.as_os_str(),
                flags,
                Mode::from_bits_truncate(MODE),
            ) {
                Ok(fd) => return Ok((File::from(fd), temp)),
                Err(Errno::EEXIST) => last = Errno::EEXIST,
                Err(e) => return Err(self.io(e)),
            }
        }
        Err(self.io(last))
    }

    fn write(
        self,
        fill: impl FnOnce(&mut File) -> io::Result<()>,
        finish: Finish,
    ) -> Result<(), PrivateFileError> {
        let (mut file, temp) = self.create_temp()?;
        let temp = temp.as_os_str();
        let written = fill(&mut file)
            .and_then(|()| file.flush())
            .and_then(|()| file.sync_all())
            .map_err(|e| self.io(e));
        drop(file);
        let placed = written.and_then(|()| match finish {
            // rename(2) replaces the name itself: a symlink planted there since the
            // check is replaced, never followed.
            Finish::Replace => {
                renameat(&self.dir, temp, &self.dir, self.name).map_err(|e| self.io(e))
            }
            Finish::NoReplace => {
                match linkat(&self.dir, temp, &self.dir, self.name, AtFlags::empty()) {
                    Ok(()) => Ok(()),
                    Err(Errno::EEXIST) => Err(PrivateFileError::Exists {
                        path: self.path.into(),
                    }),
                    Err(e) => Err(self.io(e)),
                }
            }
        });
        let renamed = placed.is_ok() && matches!(finish, Finish::Replace);
        if !renamed {
            // After a link, or on failure: the temporary name must not stay behind.
            let _ = unlinkat(&self.dir, temp, UnlinkatFlags::NoRemoveDir);
        }
        placed?;
        fsync(&self.dir).map_err(|e| self.io(e))
    }
}

/// `.NAME.RANDOM.tmp`, with NAME cut short enough to stay within NAME_MAX.
fn temp_name(name: &OsStr, random: u64) -> OsString {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len().min(200) + 22);
    out.push(b'.');
    out.extend_from_slice(&bytes[..bytes.len().min(200)]);
    out.extend_from_slice(format!(".{random:016x}.tmp").as_bytes());
    OsString::from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_a_new_private_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write(&path, |f| f.write_all(b"hello")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, MODE);
        assert_eq!(entries(dir.path()), ["out.bin"]);
    }

    #[test]
    fn replaces_an_existing_file_without_writing_into_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let held = File::open(&path).unwrap();
        let inode = held.metadata().unwrap().ino();
        write(&path, |f| f.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let meta = std::fs::metadata(&path).unwrap();
        assert_ne!(meta.ino(), inode);
        assert_eq!(meta.mode() & 0o777, MODE);
        assert_eq!(std::io::read_to_string(held).unwrap(), "old");
    }

    #[test]
    fn refuses_a_symlink_and_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = write(&link, |f| f.write_all(b"x")).unwrap_err();
        assert!(matches!(err, PrivateFileError::Symlink { .. }), "{err:?}");
        assert!(err.is_bad_target());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        let err = write(dir.path(), |f| f.write_all(b"x")).unwrap_err();
        assert!(err.is_bad_target(), "{err:?}");
        let err = check_target(&dir.path().join("missing/out")).unwrap_err();
        assert!(err.is_bad_target(), "{err:?}");
        assert_eq!(entries(dir.path()), ["link", "victim"]);
    }

    #[test]
    fn a_failed_fill_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let err = write(&path, |_| Err(io::Error::other("boom"))).unwrap_err();
        assert!(!err.is_bad_target());
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_new(&path, |f| f.write_all(b"first")).unwrap();
        let err = write_new(&path, |f| f.write_all(b"second")).unwrap_err();
        assert!(matches!(err, PrivateFileError::Exists { .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(entries(dir.path()), ["key"]);
    }

    #[test]
    fn long_names_keep_the_temporary_within_name_max() {
        let name = OsString::from("x".repeat(255));
        assert!(temp_name(&name, u64::MAX).len() <= 255);
    }
}
