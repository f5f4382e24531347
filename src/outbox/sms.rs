//! SMS transports: `file` (one private file per message, the default, needing no gateway) and
//! `command` (any gateway: the configured program gets the number as its last argument
//! and the text on stdin; exit 0 means delivered, anything else is retried).
//!
//! Sending is blocking; the delivery task runs it on the blocking pool.

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::{ConfigError, SmsConfig, SmsTransportKind};

/// A gateway command that has not finished by then is killed and the send retried.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

pub enum SmsTransport {
    File(PathBuf),
    Command(Vec<String>),
}

impl SmsTransport {
    pub fn from_config(config: &SmsConfig, state_dir: &Path) -> Result<SmsTransport, ConfigError> {
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
            SmsTransportKind::Command => SmsTransport::Command(config.command.clone()),
        })
    }

    /// Send `text` to `number` (message `id` names the file); the error is for logs.
    pub fn send(&self, id: u64, number: &str, text: &[u8]) -> Result<(), String> {
        match self {
            SmsTransport::File(dir) => write_file(dir, id, number, text),
            SmsTransport::Command(argv) => run_command(argv, number, text),
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

fn run_command(argv: &[String], number: &str, text: &[u8]) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("no sms.command configured")?;
    let mut child = Command::new(program)
        .args(args)
        .arg(number)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A gateway that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(text);
    }
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
                }
                let err: String = err.trim().chars().take(200).collect();
                return Err(format!("{program} failed ({status}): {err}"));
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not finish within {COMMAND_TIMEOUT:?}"
                ));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_gets_the_number_and_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got");
        let script = format!("cat > {}; echo \"$1\" >> {}", out.display(), out.display());
        let t = SmsTransport::Command(vec!["sh".into(), "-c".into(), script, "sh".into()]);
        t.send(1, "+4930901820", b"code 123456").unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "code 123456+4930901820\n"
        );
        let failing = SmsTransport::Command(vec!["false".into()]);
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
