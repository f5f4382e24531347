//! Talking to whoever runs the ceremony: a person at a terminal (authctl) or pam_authd
//! over `--events` lines, which relays the prompts through the PAM conversation.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use webauthn_authenticator_rs::types::{CableRequestType, CableState, EnrollSampleStatus};
use webauthn_authenticator_rs::ui::UiCallback;

use crate::ceremony::Failure;
use crate::{EXIT_DATA, EXIT_NO_KEY};

#[derive(Debug)]
pub struct Ui {
    events: bool,
}

impl Ui {
    pub fn new(events: bool) -> Ui {
        Ui { events }
    }

    fn event(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        // A caller that went away ends the ceremony anyway: nothing to do about it here.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// No key is plugged in yet.
    #[cfg_attr(feature = "softtoken", allow(dead_code))]
    pub fn plug(&self) {
        match self.events {
            true => self.event("plug"),
            false => eprintln!("Plug in your security key."),
        }
    }

    /// The key waits for a touch.
    pub fn touch(&self) {
        match self.events {
            true => self.event("touch"),
            false => eprintln!("Touch your security key."),
        }
    }

    /// The key's answer, or what went wrong; the exit status to go with it.
    pub fn finish(&self, result: Result<String, Failure>) -> ExitCode {
        let (status, event, text) = match result {
            Ok(answer) => {
                match self.events {
                    true => self.event(&format!("ok {answer}")),
                    false => self.event(&answer),
                }
                return ExitCode::SUCCESS;
            }
            Err(Failure::NoKey(m)) => (EXIT_NO_KEY, "nokey", m),
            Err(Failure::Data(m)) => (EXIT_DATA, "fail", m),
            Err(Failure::Failed(m)) => (1, "fail", m),
        };
        match self.events {
            // One line: the message must not break the framing.
            true => self.event(&format!("{event} {}", text.replace(['\n', '\r'], " "))),
            false => eprintln!("authd-key: {text}"),
        }
        ExitCode::from(status)
    }
}

impl UiCallback for Ui {
    fn request_pin(&self) -> Option<String> {
        if !self.events {
            return rpassword::prompt_password("Security key PIN: ").ok();
        }
        self.event("pin");
        let mut pin = String::new();
        match std::io::stdin().lock().read_line(&mut pin) {
            Ok(n) if n > 0 => Some(pin.trim_end_matches(['\n', '\r']).to_string()),
            _ => None,
        }
    }
    fn request_touch(&self) {
        self.touch();
    }
    fn processing(&self) {}
    fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
    fn cable_qr_code(&self, _: CableRequestType, _: String) {}
    fn dismiss_qr_code(&self) {}
    fn cable_status_update(&self, _: CableState) {}
}
