//! The `command` SMS gateway of the tests: a small script that appends each message to
//! a file (and fails while a flag file exists), and a daemon whose SMS go through it.
//! Shared by the integration tests and authd-web's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::daemon::*;

pub(crate) const PHONE: &str = "+4930901820";

/// The six-digit code in the text of an SMS authd sent.
pub(crate) fn code_in(text: &str) -> String {
    text.split("verification code: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in: {text}"))
        .chars()
        .take(6)
        .collect()
}

pub(crate) struct Gateway {
    outbox: PathBuf,
    pub(crate) fail_flag: PathBuf,
}

impl Gateway {
    /// Write the gateway script into `dir`; returns it and the `[sms]` config using it.
    pub(crate) fn new(dir: &Path) -> (Gateway, String) {
        let script = dir.join("gateway.sh");
        let outbox = dir.join("sms-received.txt");
        let fail_flag = dir.join("gateway-down");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n\
                 if [ -e '{flag}' ]; then echo 'gateway down' >&2; exit 1; fi\n\
                 text=$(cat)\n\
                 printf 'TO %s\\n%s\\n\\n' \"$1\" \"$text\" >> '{out}'\n",
                flag = fail_flag.display(),
                out = outbox.display()
            ),
        )
        .unwrap();
        let config = format!(
            "[sms]\ntransport = \"command\"\ncommand = [\"/bin/sh\", \"{}\"]\n",
            script.display()
        );
        (Gateway { outbox, fail_flag }, config)
    }

    pub(crate) fn messages(&self) -> Vec<String> {
        std::fs::read_to_string(&self.outbox)
            .unwrap_or_default()
            .split("TO ")
            .filter(|m| !m.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Wait for message number `n` (1-based) and return its code.
    pub(crate) fn code(&self, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                let m = &messages[n - 1];
                assert!(m.starts_with(PHONE), "sent to the wrong number: {m}");
                assert!(m.contains("Do not share"), "{m}");
                return code_in(m);
            }
            assert!(Instant::now() < deadline, "SMS {n} never arrived");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A daemon whose SMS go through the test gateway; `extra` adds `[sms]` keys.
pub(crate) fn start(extra_sms: &str, more: &str) -> (Daemon, Gateway, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, sms) = Gateway::new(dir.path());
    let d = Daemon::start_with_config(&format!(
        "{sms}{extra_sms}\n[outbox]\nretry_first = \"1s\"\n{more}\n{TEST_CONFIG}"
    ));
    (d, gateway, dir)
}
