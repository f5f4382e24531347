//! Where authctl gets passwords and codes: a terminal prompt without echo, or one line
//! per secret from stdin (`--password-stdin`). Input is bounded; nothing is echoed.

use std::io::{BufRead, IsTerminal, Read};

use super::CtlError;
use crate::protocol::Secret;

/// Longest secret accepted from any source; the daemon's policy is stricter.
pub const MAX_SECRET_BYTES: usize = 4096;

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
        let value = rpassword::prompt_password(prompt).map_err(CtlError::Io)?;
        let secret = Secret::new(value);
        check_size(&secret)?;
        Ok(Some(secret))
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

fn check_size(secret: &Secret) -> Result<(), CtlError> {
    if secret.expose().len() > MAX_SECRET_BYTES {
        return Err(CtlError::Input(format!(
            "password is too long (more than {MAX_SECRET_BYTES} bytes)"
        )));
    }
    Ok(())
}

fn read_line() -> Result<Option<Secret>, CtlError> {
    let mut line = String::new();
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
