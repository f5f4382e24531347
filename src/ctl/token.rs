//! The security key on authctl's side: authctl runs `authd-key` (the helper program that
//! holds the USB and CTAP2 code, shared with pam_authd) with authd's options and the
//! origin authd named, and brings back the key's answer. The helper prompts on the
//! terminal itself ("Touch your security key.", the PIN); authctl only reads its answer.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use authd_proto::paths::{KEY_HELPER, KEY_HELPER_DIR};

use super::CtlError;

/// The helper's exit status when no key (or none of the account's keys) answered.
const EXIT_NO_KEY: i32 = 69;

/// What went wrong on the key's side.
#[derive(Debug)]
pub enum KeyFailure {
    /// No key was found, or none of the account's keys answered.
    NoKey(String),
    /// Anything else: the message says what.
    Failed(String),
}

impl From<KeyFailure> for CtlError {
    fn from(f: KeyFailure) -> CtlError {
        match f {
            KeyFailure::NoKey(m) | KeyFailure::Failed(m) => CtlError::Local(m),
        }
    }
}

/// `authd-key` beside authctl (a build tree, or a package that keeps them together),
/// else in the install's libexec directory.
fn helper() -> Result<PathBuf, KeyFailure> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(KEY_HELPER)));
    let installed = PathBuf::from(KEY_HELPER_DIR).join(KEY_HELPER);
    let candidates: Vec<PathBuf> = beside.into_iter().chain([installed]).collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            KeyFailure::Failed(format!(
                "security keys need authd's helper program authd-key, not found at {}",
                tried.join(" or ")
            ))
        })
}

/// Run the helper for one ceremony; its answer (one line of JSON).
fn run(ceremony: &str, origin: &str, options: &str) -> Result<String, KeyFailure> {
    let path = helper()?;
    let failed = |e: std::io::Error| KeyFailure::Failed(format!("{}: {e}", path.display()));
    let mut child = Command::new(&path)
        .args([ceremony, "--origin", origin])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(failed)?;
    if let Some(mut stdin) = child.stdin.take() {
        // JSON's own newlines are blanks between tokens: one line holds it all.
        let line = options.replace(['\n', '\r'], " ");
        writeln!(stdin, "{line}").map_err(failed)?;
    }
    let output = child.wait_with_output().map_err(failed)?;
    match output.status.code() {
        Some(0) => String::from_utf8(output.stdout)
            .map(|answer| answer.trim_end().to_string())
            .map_err(|_| KeyFailure::Failed("authd-key's answer is not text".into())),
        // The helper said why on the terminal already.
        Some(EXIT_NO_KEY) => Err(KeyFailure::NoKey("no security key answered".into())),
        _ => Err(KeyFailure::Failed("the security key step failed".into())),
    }
}

/// Register a new credential: the `RegisterPublicKeyCredential` JSON.
pub fn register(origin: &str, options: &str) -> Result<String, KeyFailure> {
    run("register", origin, options)
}

/// Answer a login challenge: the `PublicKeyCredential` JSON.
pub fn assert(origin: &str, options: &str) -> Result<String, KeyFailure> {
    run("assert", origin, options)
}
