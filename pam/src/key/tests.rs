//! The helper runner against small scripts standing in for authd-key: what goes in,
//! which events become prompts, and that nothing outlives the time-out.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

/// A conversation that answers every prompt with "4321" and records what it saw.
#[derive(Default)]
struct Conv {
    prompts: Vec<String>,
    shown: Vec<String>,
}

impl Pam for Conv {
    fn user(&mut self) -> Result<String, pam::constants::PamResultCode> {
        Ok("alice".into())
    }
    fn authtok(&self) -> Option<Secret> {
        None
    }
    fn old_authtok(&self) -> Option<Secret> {
        None
    }
    fn set_authtok(&mut self, _: &Secret) -> Result<(), pam::constants::PamResultCode> {
        Ok(())
    }
    fn set_old_authtok(&mut self, _: &Secret) -> Result<(), pam::constants::PamResultCode> {
        Ok(())
    }
    fn service(&self) -> Option<String> {
        None
    }
    fn remote_host(&self) -> Option<String> {
        None
    }
    fn in_ssh_session(&self) -> bool {
        false
    }
    fn prompt(&mut self, prompt: &str) -> Result<Option<Secret>, pam::constants::PamResultCode> {
        self.prompts.push(prompt.into());
        Ok(Some(Secret::new("4321")))
    }
    fn info(&mut self, text: &str) {
        self.shown.push(text.into());
    }
    fn error(&mut self, text: &str) {
        self.shown.push(text.into());
    }
}

fn script(dir: &Path, body: &str, mode: u32) -> Helper {
    let path = dir.join("helper");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    Helper {
        path,
        timeout: Duration::from_secs(5),
    }
}

#[test]
fn the_options_go_in_as_one_line_and_the_pin_is_relayed() {
    let dir = tempfile::tempdir().unwrap();
    let body = "read opts; echo touch; echo pin; read pin; echo \"ok $1 $3 $pin $opts\"";
    let mut helper = script(dir.path(), body, 0o700);
    let mut conv = Conv::default();
    let outcome = helper.assert(&mut conv, "https://h.example", "{\n\"a\": 1\n}");
    assert_eq!(
        outcome,
        KeyOutcome::Answer(Secret::new("assert https://h.example 4321 { \"a\": 1 }"))
    );
    assert_eq!(conv.shown, ["Touch your security key."]);
    assert_eq!(conv.prompts, ["Security key PIN: "]);
}

#[test]
fn nokey_and_fail_carry_the_helpers_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut helper = script(dir.path(), "echo 'nokey no key was found'", 0o700);
    let outcome = helper.assert(&mut Conv::default(), "https://h", "{}");
    assert_eq!(outcome, KeyOutcome::NoKey("no key was found".into()));
    let mut helper = script(dir.path(), "echo 'fail the key refused'", 0o700);
    let outcome = helper.assert(&mut Conv::default(), "https://h", "{}");
    assert_eq!(outcome, KeyOutcome::Failed("the key refused".into()));
    let mut helper = script(dir.path(), "exit 0", 0o700);
    let outcome = helper.assert(&mut Conv::default(), "https://h", "{}");
    assert!(matches!(outcome, KeyOutcome::Failed(_)), "{outcome:?}");
}

#[test]
fn a_silent_helper_is_given_up_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut helper = script(dir.path(), "exec sleep 600", 0o700);
    helper.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let outcome = helper.assert(&mut Conv::default(), "https://h", "{}");
    assert!(matches!(outcome, KeyOutcome::NoKey(_)), "{outcome:?}");
    // Killed and reaped, not waited for.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_helper_group_or_others_may_write_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran");
    for mode in [0o720, 0o702] {
        let body = format!(": > '{}'; echo 'ok {{}}'", ran.display());
        let mut helper = script(dir.path(), &body, mode);
        let outcome = helper.assert(&mut Conv::default(), "https://h", "{}");
        assert!(
            matches!(&outcome, KeyOutcome::Failed(m) if m.contains("writable by group or others")),
            "{outcome:?}"
        );
    }
    assert!(!ran.exists());
    let mut missing = Helper {
        path: dir.path().join("missing"),
        timeout: Duration::from_secs(1),
    };
    let outcome = missing.assert(&mut Conv::default(), "https://h", "{}");
    assert!(matches!(outcome, KeyOutcome::Failed(_)), "{outcome:?}");
}
