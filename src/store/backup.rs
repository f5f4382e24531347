//! The backup file: every record of every tree, as it stood at one moment, in a
//! versioned format with a checksum, and reading it back for an offline restore.
//!
//! ```text
//! "AUTHD-BACKUP\n" | format u32 BE | schema u32 BE
//! per record: tree u8 | key len u32 BE | key | value len u32 BE | value
//! 0xFF | record count u64 BE | SHA-256 of everything before the 0xFF
//! ```
//!
//! Values are the stored (versioned, bincode) records: TOTP secrets and queued messages
//! stay sealed, codes and tokens stay keyed hashes. The secret key is not in the file.
//! `Store::restore` fills a new store from a checked file; `Store::snapshot` writes one.

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::Store;
use crate::error::Error;

pub const MAGIC: &[u8] = b"AUTHD-BACKUP\n";
pub const FORMAT: u32 = 1;
const END: u8 = 0xFF;

/// The trees a backup holds, by their number in the file.
pub const TREES: [&str; 5] = ["accounts", "audit", "meta", "reset_tokens", "outbox"];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not an authd backup (bad header)")]
    NotABackup,
    #[error("backup format {0} is not supported by this authd (it reads format {FORMAT})")]
    Format(u32),
    #[error("backup is from schema {found}; this authd uses schema {expected}")]
    Schema { found: u32, expected: u32 },
    #[error("backup is truncated or corrupt: {0}")]
    Corrupt(&'static str),
    #[error("i/o error")]
    Io(#[from] io::Error),
}

/// Writes records, hashing as it goes.
pub struct Writer<W: Write> {
    out: W,
    hash: Sha256,
    count: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, schema: u32) -> io::Result<Writer<W>> {
        let mut hash = Sha256::new();
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&FORMAT.to_be_bytes());
        header.extend_from_slice(&schema.to_be_bytes());
        out.write_all(&header)?;
        hash.update(&header);
        Ok(Writer {
            out,
            hash,
            count: 0,
        })
    }

    pub fn record(&mut self, tree: u8, key: &[u8], value: &[u8]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(9 + key.len() + value.len());
        buf.push(tree);
        buf.extend_from_slice(&(key.len() as u32).to_be_bytes());
        buf.extend_from_slice(key);
        buf.extend_from_slice(&(value.len() as u32).to_be_bytes());
        buf.extend_from_slice(value);
        self.out.write_all(&buf)?;
        self.hash.update(&buf);
        self.count += 1;
        Ok(())
    }

    /// Write the trailer; returns the writer and the record count.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.out.write_all(&[END])?;
        self.out.write_all(&self.count.to_be_bytes())?;
        self.out.write_all(&self.hash.finalize())?;
        Ok((self.out, self.count))
    }
}

/// One record read back: tree number, key, value.
pub type Record = (u8, Vec<u8>, Vec<u8>);

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
/// Nothing is returned unless all of it is intact.
pub fn read_all(mut input: impl Read, schema: u32) -> Result<Vec<Record>, BackupError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let mut data = &bytes[..];
    if take(&mut data, MAGIC.len()).ok() != Some(MAGIC) {
        return Err(BackupError::NotABackup);
    }
    let format = take_u32(&mut data)?;
    if format != FORMAT {
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
        if tree as usize >= TREES.len() {
            return Err(BackupError::Corrupt("unknown tree"));
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
    if !data.is_empty() {
        return Err(BackupError::Corrupt("extra bytes after the end"));
    }
    if count != records.len() as u64 {
        return Err(BackupError::Corrupt("record count does not match"));
    }
    if Sha256::digest(&bytes[..body_len]).as_slice() != checksum {
        return Err(BackupError::Corrupt("checksum does not match"));
    }
    Ok(records)
}

impl Store {
    /// Fill a new, empty store in `dir` with backup records (offline), flush it, and
    /// write its sentinel. The restored store gets an id of its own; the backup's key
    /// check value comes along, so only the key the backup was made with opens it.
    pub fn restore(dir: &Path, records: Vec<Record>) -> Result<u64, Error> {
        let store = Store::open(dir, 64)?;
        if !store.is_empty()? {
            return Err(Error::InvalidInput(format!(
                "{} already holds a store; restore only into an empty state directory",
                dir.display()
            )));
        }
        let trees = store.trees();
        let mut batches: Vec<sled::Batch> = trees.iter().map(|_| sled::Batch::default()).collect();
        // The tree numbers are positions in `TREES` and in `Store::trees`.
        const META: u8 = 2;
        let mut count = 0;
        for (tree, key, value) in records {
            // The restored store is a store of its own, with its own id and generation.
            let identity = [
                super::integrity::META_STORE_ID,
                super::integrity::META_GENERATION,
            ];
            if tree == META && identity.contains(&&key[..]) {
                continue;
            }
            batches[tree as usize].insert(key, value);
            count += 1;
        }
        for (tree, batch) in trees.into_iter().zip(batches) {
            tree.apply_batch(batch)?;
        }
        let id = store.new_identity()?;
        super::integrity::write_sentinel(&store, dir, &id, 0)
            .map_err(|e| Error::Internal(crate::error::DisplayChain(&e).to_string()))?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), 1).unwrap();
        w.record(0, b"alice", b"record-1").unwrap();
        w.record(4, &7u64.to_be_bytes(), b"").unwrap();
        w.finish().unwrap().0
    }

    #[test]
    fn round_trip() {
        let records = read_all(&sample()[..], 1).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], (0, b"alice".to_vec(), b"record-1".to_vec()));
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
            assert!(read_all(&bad[..], 1).is_err(), "flipped byte {i}");
        }
        assert!(matches!(
            read_all(&good[..], 2),
            Err(BackupError::Schema { .. })
        ));
    }
}
