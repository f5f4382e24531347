//! The backup file: every record of every tree, as it stood at one moment, in a
//! versioned format with a checksum and a MAC, and reading it back for an offline restore.
//!
//! ```text
//! "AUTHD-BACKUP\n" | format u32 BE | schema u32 BE
//! per record: tree u8 | key len u32 BE | key | value len u32 BE | value
//!             (the tree numbers are the store's `trees::Tree`; records in tree, then key
//!             order; 0xFF is never a tree)
//! 0xFF | record count u64 BE | SHA-256 of everything before the 0xFF
//!      | HMAC-SHA256 under the key's backup subkey of everything before it (format 2)
//! ```
//!
//! Format 2 (this authd) ends with the MAC: the daemon, which holds the secret key,
//! computes it as it writes the snapshot, so a restore with the same key can tell a
//! backup authd wrote from a file anyone made or changed. The SHA-256 needs no key:
//! `authctl backup` checks it, and it catches damage in transit. Format 1 (before
//! backups were signed) has no MAC; it is still read, and `authd restore` takes it only
//! when told to trust it.
//!
//! Values are the stored (versioned, bincode) records: TOTP secrets and queued messages
//! stay sealed, codes and tokens stay keyed hashes. The secret key is not in the file.
//! Whether the records make sense (their trees too) is `store::restore`'s to check; this
//! module knows bytes only, and nothing of the store or sled, so authctl (which checks a
//! backup before writing it out) and `authd restore` read it the same way.

use std::io::{self, Read, Write};

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::vault::{BackupMac, Vault};

pub const MAGIC: &[u8] = b"AUTHD-BACKUP\n";
/// The format this authd writes.
pub const FORMAT: u32 = 2;
/// The format before backups carried a MAC: read, but unsigned.
pub const FORMAT_UNSIGNED: u32 = 1;
const END: u8 = 0xFF;
const MAC_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not an authd backup (bad header)")]
    NotABackup,
    #[error(
        "backup format {0} is not supported by this authd (it reads formats \
         {FORMAT_UNSIGNED} and {FORMAT})"
    )]
    Format(u32),
    #[error("backup is from schema {found}; this authd uses schema {expected}")]
    Schema { found: u32, expected: u32 },
    #[error("backup is truncated or corrupt: {0}")]
    Corrupt(&'static str),
    #[error("i/o error")]
    Io(#[from] io::Error),
}

/// Writes records, hashing and MACing as it goes.
pub struct Writer<W: Write> {
    out: W,
    hash: Sha256,
    mac: BackupMac,
    count: u64,
}

impl<W: Write> Writer<W> {
    /// A format 2 backup, MACed with `mac` (`Vault::backup_mac`).
    pub fn new(out: W, schema: u32, mac: BackupMac) -> io::Result<Writer<W>> {
        let mut w = Writer {
            out,
            hash: Sha256::new(),
            mac,
            count: 0,
        };
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&FORMAT.to_be_bytes());
        header.extend_from_slice(&schema.to_be_bytes());
        w.put(&header)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.hash.update(bytes);
        self.mac.update(bytes);
        Ok(())
    }

    pub fn record(&mut self, tree: u8, key: &[u8], value: &[u8]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(9 + key.len() + value.len());
        buf.push(tree);
        buf.extend_from_slice(&(key.len() as u32).to_be_bytes());
        buf.extend_from_slice(key);
        buf.extend_from_slice(&(value.len() as u32).to_be_bytes());
        buf.extend_from_slice(value);
        self.put(&buf)?;
        self.count += 1;
        Ok(())
    }

    /// Write the trailer; returns the writer and the record count.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.out.write_all(&[END])?;
        self.out.write_all(&self.count.to_be_bytes())?;
        let checksum = self.hash.finalize();
        self.out.write_all(&checksum)?;
        let mut mac = self.mac;
        mac.update(&[END]);
        mac.update(&self.count.to_be_bytes());
        mac.update(&checksum);
        self.out.write_all(&mac.finalize().into_bytes())?;
        Ok((self.out, self.count))
    }
}

/// One record read back: tree number, key, value.
pub type Record = (u8, Vec<u8>, Vec<u8>);

/// A backup whose structure and checksum are intact; whether its MAC verifies is asked
/// separately (`signature`), with the key.
pub struct Backup {
    pub format: u32,
    pub records: Vec<Record>,
    /// The whole file, for the MAC.
    bytes: Vec<u8>,
}

/// What the MAC says about a backup, for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// Written by a daemon with this key, unchanged since.
    Verified,
    /// A format 1 file: it has no MAC.
    Unsigned,
    /// Made with another key, or changed since it was written.
    Mismatch,
}

impl Backup {
    /// Check the MAC with `vault`'s backup subkey (in constant time).
    pub fn signature(&self, vault: &Vault) -> Signature {
        if self.format == FORMAT_UNSIGNED {
            return Signature::Unsigned;
        }
        let (signed, mac) = self.bytes.split_at(self.bytes.len() - MAC_LEN);
        let mut check = vault.backup_mac();
        check.update(signed);
        match check.verify_slice(mac) {
            Ok(()) => Signature::Verified,
            Err(_) => Signature::Mismatch,
        }
    }
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Result<&'a [u8], BackupError> {
    if data.len() < n {
        return Err(BackupError::Corrupt("ends in the middle of a record"));
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Ok(head)
}

fn take_u32(data: &mut &[u8]) -> Result<u32, BackupError> {
    let b = take(data, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Check a whole backup (header, every record, count, checksum) and return its records.
/// Nothing is returned unless all of it is intact. The MAC is not checked here (that
/// needs the key): see `Backup::signature`.
pub fn read_all(mut input: impl Read, schema: u32) -> Result<Backup, BackupError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let mut data = &bytes[..];
    if take(&mut data, MAGIC.len()).ok() != Some(MAGIC) {
        return Err(BackupError::NotABackup);
    }
    let format = take_u32(&mut data)?;
    if format != FORMAT && format != FORMAT_UNSIGNED {
        return Err(BackupError::Format(format));
    }
    let found = take_u32(&mut data)?;
    if found != schema {
        return Err(BackupError::Schema {
            found,
            expected: schema,
        });
    }
    let mut records = Vec::new();
    loop {
        let tree = take(&mut data, 1)?[0];
        if tree == END {
            break;
        }
        let klen = take_u32(&mut data)? as usize;
        let key = take(&mut data, klen)?.to_vec();
        let vlen = take_u32(&mut data)? as usize;
        let value = take(&mut data, vlen)?.to_vec();
        records.push((tree, key, value));
    }
    let body_len = bytes.len() - data.len() - 1;
    let count = take(&mut data, 8)?;
    let count = u64::from_be_bytes(count.try_into().unwrap_or_default());
    let checksum = take(&mut data, 32)?;
    if format == FORMAT {
        take(&mut data, MAC_LEN)?;
    }
    if !data.is_empty() {
        return Err(BackupError::Corrupt("extra bytes after the end"));
    }
    if count != records.len() as u64 {
        return Err(BackupError::Corrupt("record count does not match"));
    }
    if Sha256::digest(&bytes[..body_len]).as_slice() != checksum {
        return Err(BackupError::Corrupt("checksum does not match"));
    }
    Ok(Backup {
        format,
        records,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_key(&[3; 32])
    }

    fn sample() -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), 1, vault().backup_mac()).unwrap();
        w.record(0, b"alice", b"record-1").unwrap();
        w.record(4, &7u64.to_be_bytes(), b"").unwrap();
        w.finish().unwrap().0
    }

    /// Recompute the unkeyed checksum after an edit, as anyone could.
    fn rechecksum(bytes: &mut [u8], mac_len: usize) {
        let sum_at = bytes.len() - mac_len - 32;
        let body = sum_at - 9;
        let sum = Sha256::digest(&bytes[..body]);
        bytes[sum_at..sum_at + 32].copy_from_slice(&sum);
    }

    #[test]
    fn round_trip_and_the_mac_verifies_with_its_own_key_only() {
        let backup = read_all(&sample()[..], 1).unwrap();
        assert_eq!(backup.records.len(), 2);
        assert_eq!(
            backup.records[0],
            (0, b"alice".to_vec(), b"record-1".to_vec())
        );
        assert_eq!(backup.signature(&vault()), Signature::Verified);
        let other = Vault::from_key(&[4; 32]);
        assert_eq!(backup.signature(&other), Signature::Mismatch);
    }

    #[test]
    fn every_truncation_and_any_flipped_byte_is_refused() {
        let good = sample();
        for len in 0..good.len() {
            assert!(read_all(&good[..len], 1).is_err(), "truncated to {len}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            let refused = match read_all(&bad[..], 1) {
                Err(_) => true,
                Ok(b) => b.signature(&vault()) != Signature::Verified,
            };
            assert!(refused, "flipped byte {i}");
        }
        assert!(matches!(
            read_all(&good[..], 2),
            Err(BackupError::Schema { .. })
        ));
    }

    #[test]
    fn an_edit_with_the_checksum_recomputed_fails_the_mac() {
        let mut bad = sample();
        let at = MAGIC.len() + 8 + 1 + 4; // the first key's first byte
        bad[at] = b'r';
        rechecksum(&mut bad, MAC_LEN);
        let backup = read_all(&bad[..], 1).unwrap();
        assert_eq!(backup.records[0].1, b"rlice");
        assert_eq!(backup.signature(&vault()), Signature::Mismatch);
    }

    #[test]
    fn format_1_files_are_read_as_unsigned() {
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&[0, 0, 0, 0, 1, b'a', 0, 0, 0, 0]);
        let mut file = body.clone();
        file.push(END);
        file.extend_from_slice(&1u64.to_be_bytes());
        file.extend_from_slice(&Sha256::digest(&body));
        let backup = read_all(&file[..], 1).unwrap();
        assert_eq!(backup.records.len(), 1);
        assert_eq!(backup.signature(&vault()), Signature::Unsigned);
        // A format 2 file cut back to format 1 (the checksum covers the header)...
        let mut downgraded = sample();
        downgraded.truncate(downgraded.len() - MAC_LEN);
        downgraded[MAGIC.len() + 3] = 1;
        assert!(read_all(&downgraded[..], 1).is_err());
        // ... and with the checksum recomputed is unsigned, which a restore takes only
        // with --trust-unsigned.
        rechecksum(&mut downgraded, 0);
        let backup = read_all(&downgraded[..], 1).unwrap();
        assert_eq!(backup.signature(&vault()), Signature::Unsigned);
    }
}
