//! Where authctl gets passwords and codes: a terminal prompt without echo, or one line
//! per secret from stdin (`--password-stdin`). Input is bounded; nothing is echoed.
//!
//! A code may also be given as an argument, but the command line of every process is
//! visible to every user (`ps`, /proc/PID/cmdline): `-` instead of the code reads it here,
//! like a password, so no secret ever needs argv.

use std::io::{BufRead, IsTerminal, Read};

use super::CtlError;
use authd_proto::protocol::Secret;

/// Longest secret accepted from any source; the daemon's policy is stricter.
pub const MAX_SECRET_BYTES: usize = 4096;

/// A code argument (`--code CODE`, `confirm-totp USER CODE`, `--token TOKEN`).
pub enum CodeArg {
    /// Not given: asked for only when the account turns out to need one.
    Absent,
    /// On the command line (visible to other users while authctl runs).
    Given(Secret),
    /// `-`: read where the command needs it, prompt without echo or the next stdin line.
    Read,
}

impl CodeArg {
    pub fn new(arg: Option<String>) -> CodeArg {
        match arg {
            None => CodeArg::Absent,
            Some(arg) if arg == "-" => CodeArg::Read,
            Some(arg) => CodeArg::Given(Secret::new(arg)),
        }
    }

    pub fn is_given(&self) -> bool {
        matches!(self, CodeArg::Given(_))
    }
}

pub struct Secrets {
    stdin: bool,
}

impl Secrets {
    pub fn new(from_stdin: bool) -> Secrets {
        Secrets { stdin: from_stdin }
    }

    /// Will secrets be asked for on a terminal?
    pub fn interactive(&self) -> bool {
        !self.stdin && std::io::stdin().is_terminal()
    }

    /// One secret, e.g. `read("Password: ")`; missing input is a usage error.
    pub fn read(&mut self, prompt: &str) -> Result<Secret, CtlError> {
        self.read_optional(prompt)?.ok_or_else(|| {
            CtlError::Usage(if self.stdin {
                "expected a password or code on stdin, found end of input".into()
            } else {
                "no terminal to ask on; pass the secret with --password-stdin".into()
            })
        })
    }

    /// One secret if there is a way to get it: `None` at the end of stdin, or with
    /// neither a terminal nor --password-stdin.
    pub fn read_optional(&mut self, prompt: &str) -> Result<Option<Secret>, CtlError> {
        if self.stdin {
            return read_line();
        }
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        let value = rpassword::prompt_password(prompt).map_err(no_terminal)?;
        let secret = Secret::new(value);
        check_size(&secret)?;
        Ok(Some(secret))
    }

    /// The code for `arg` (`prompt` names it). `-` always takes its input (so the stdin
    /// lines that follow keep their places) and an empty answer means no code; without
    /// the argument, a code is asked for only when `needed`.
    pub fn code(
        &mut self,
        arg: CodeArg,
        needed: bool,
        prompt: &str,
    ) -> Result<Option<Secret>, CtlError> {
        let answer = match arg {
            CodeArg::Given(code) => return Ok(Some(code)),
            CodeArg::Read => Some(self.read(prompt)?),
            CodeArg::Absent if needed => self.read_optional(prompt)?,
            CodeArg::Absent => None,
        };
        Ok(answer.filter(|c| !c.expose().trim().is_empty()))
    }

    /// A code that must be there: the argument, or (`-`) read like a password.
    pub fn required_code(&mut self, arg: CodeArg, prompt: &str) -> Result<Secret, CtlError> {
        match arg {
            CodeArg::Given(code) => Ok(code),
            CodeArg::Read | CodeArg::Absent => self.read(prompt),
        }
    }

    /// A new password: asked twice on a terminal, once from stdin.
    pub fn read_new(&mut self, prompt: &str) -> Result<Secret, CtlError> {
        let first = self.read(prompt)?;
        if !self.stdin {
            let again = self.read("Retype new password: ")?;
            if again != first {
                return Err(CtlError::Input("the passwords do not match".into()));
            }
        }
        Ok(first)
    }
}

/// A prompt that could not open the terminal: stdin is one, but this process has no
/// controlling terminal (`su USER -c ...` starts a new session without one), so
/// /dev/tty is ENXIO. That is a usage problem with a known way out, not an I/O failure.
fn no_terminal(e: std::io::Error) -> CtlError {
    if e.raw_os_error() == Some(nix::errno::Errno::ENXIO as i32) {
        return CtlError::Usage(
            "cannot ask for the secret: this process has no controlling terminal (as under \
             `su USER -c`); pass it on stdin with --password-stdin, or run su with --pty"
                .into(),
        );
    }
    CtlError::Io(e)
}

fn check_size(secret: &Secret) -> Result<(), CtlError> {
    if secret.expose().len() > MAX_SECRET_BYTES {
        return Err(CtlError::Input(format!(
            "password is too long (more than {MAX_SECRET_BYTES} bytes)"
        )));
    }
    Ok(())
}

fn read_line() -> Result<Option<Secret>, CtlError> {
    // Room for the longest accepted line, so the buffer never moves (leaving a copy).
    let mut line = String::with_capacity(MAX_SECRET_BYTES + 2);
    let stdin = std::io::stdin();
    let mut limited = stdin.lock().take(MAX_SECRET_BYTES as u64 + 2);
    let n = limited.read_line(&mut line).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            CtlError::Input("the password on stdin is not valid UTF-8".into())
        } else {
            CtlError::Io(e)
        }
    })?;
    if n == 0 {
        return Ok(None);
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    let secret = Secret::new(trimmed);
    zeroize::Zeroize::zeroize(&mut line);
    check_size(&secret)?;
    Ok(Some(secret))
}
