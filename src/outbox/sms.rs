//! SMS transports: `file` (one private file per message, the default, needing no gateway) and
//! `command` (any gateway: the configured program gets the number as its last argument
//! and the text on stdin; exit 0 means delivered, 65 and 67 are permanent refusals,
//! anything else is retried; see `command`).
//!
//! Sending is blocking; the SMS courier runs it on the blocking pool.

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::SendError;
use crate::config::{ConfigError, SmsConfig, SmsTransportKind};

pub enum SmsTransport {
    File(PathBuf),
    /// The gateway's argv, and the attempt timeout it runs under.
    Command(Vec<String>, Duration),
}

impl SmsTransport {
    /// Build the configured transport, bounding each attempt by `timeout`.
    pub fn from_config(
        config: &SmsConfig,
        state_dir: &Path,
        timeout: Duration,
    ) -> Result<SmsTransport, ConfigError> {
        Ok(match config.transport {
            SmsTransportKind::File => {
                let dir = config.file_dir(state_dir);
                // The files hold login codes: private.
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&dir)
                    .map_err(|e| ConfigError::Invalid {
                        key: "sms.dir",
                        reason: format!("cannot create {}: {e}", dir.display()),
                    })?;
                SmsTransport::File(dir)
            }
            SmsTransportKind::Command => SmsTransport::Command(config.command.clone(), timeout),
        })
    }

    /// Send `text` to `number` (message `id` names the file); the error is for logs.
    pub fn send(&self, id: u64, number: &str, text: &[u8]) -> Result<(), SendError> {
        match self {
            SmsTransport::File(dir) => {
                write_file(dir, id, number, text).map_err(SendError::Transient)
            }
            SmsTransport::Command(argv, timeout) => {
                let mut argv = argv.clone();
                argv.push(number.to_string());
                super::command::run(&argv, text, *timeout)
            }
        }
    }
}

fn write_file(dir: &Path, id: u64, number: &str, text: &[u8]) -> Result<(), String> {
    let path = dir.join(format!("{id:020}.sms"));
    crate::private_file::write(&path, |file| {
        file.write_all(format!("To: {number}\n\n").as_bytes())?;
        file.write_all(text)?;
        file.write_all(b"\n")
    })
    .map_err(|e| crate::error::DisplayChain(&e).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_gets_the_number_and_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got");
        let script = format!("cat > {}; echo \"$1\" >> {}", out.display(), out.display());
        let t = SmsTransport::Command(
            vec!["sh".into(), "-c".into(), script, "sh".into()],
            Duration::from_secs(10),
        );
        t.send(1, "+4930901820", b"code 123456").unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "code 123456+4930901820\n"
        );
        let failing = SmsTransport::Command(vec!["false".into()], Duration::from_secs(10));
        assert!(failing.send(1, "+4930901820", b"x").is_err());
    }

    #[test]
    fn the_file_transport_writes_number_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let t = SmsTransport::File(dir.path().to_path_buf());
        t.send(7, "+4930901820", b"hello").unwrap();
        let text = std::fs::read_to_string(dir.path().join(format!("{:020}.sms", 7))).unwrap();
        assert_eq!(text, "To: +4930901820\n\nhello\n");
    }
}
