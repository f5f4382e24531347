//! Online backups: a consistent snapshot, MACed with the secret key's backup subkey as
//! it is written to a private file in the state directory, then handed out in chunks
//! small enough for the frame limit, and removed once the last chunk is sent (or at the
//! next start).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::Service;
use crate::error::Error;
use crate::protocol::{Backup, Response, BACKUP_CHUNK};
use crate::vault::random_bytes;

const PREFIX: &str = "backup-";

impl Service {
    fn backup_path(&self, session: u64) -> PathBuf {
        self.config()
            .state_dir
            .join(format!("{PREFIX}{session:016x}.tmp"))
    }

    /// Remove snapshots left by an earlier run (a client that went away mid-backup).
    pub fn remove_stale_backups(&self) {
        let Ok(entries) = std::fs::read_dir(&self.config().state_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(PREFIX) && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    pub async fn backup(&self, req: Backup) -> Result<Response, Error> {
        let Backup { session, offset } = req;
        let io = |e: std::io::Error| Error::Internal(format!("backup file: {e}"));
        let session = match session {
            Some(s) => s,
            None => {
                let session = u64::from_be_bytes(random_bytes::<8>()?);
                let path = self.backup_path(session);
                let mut file = crate::private_file::create_new(&path).map_err(io)?;
                let mut out = std::io::BufWriter::new(&mut file);
                let records = self.store.snapshot(&mut out, self.vault.backup_mac())?;
                out.flush().map_err(io)?;
                drop(out);
                tracing::info!(target: "audit", records, "backup snapshot taken");
                session
            }
        };
        let path = self.backup_path(session);
        let mut file = std::fs::File::open(&path)
            .map_err(|_| Error::BadRequest("unknown or finished backup session".into()))?;
        let total = file.metadata().map_err(io)?.len();
        if offset > total {
            return Err(Error::BadRequest(
                "offset beyond the end of the backup".into(),
            ));
        }
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut data = Vec::with_capacity(BACKUP_CHUNK);
        file.take(BACKUP_CHUNK as u64)
            .read_to_end(&mut data)
            .map_err(io)?;
        if offset + data.len() as u64 >= total {
            let _ = std::fs::remove_file(&path);
        }
        Ok(Response::BackupChunk {
            session,
            total,
            offset,
            data,
        })
    }
}
