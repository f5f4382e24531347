//! pam_authd: a PAM module that authenticates through authd, so sshd, sudo, login and
//! screen lockers get authd's passwords, second factors, lockout and audit.
//!
//! It talks to the daemon with the blocking client from `authd_proto::client` (no async
//! runtime inside PAM). The logic lives in `logic`, behind the `Pam` and `Authd` traits;
//! this file is the FFI glue. No panic may cross the FFI boundary: the crate denies
//! `unwrap`, `expect` and `panic!`, and pam-bindings catches unwinds at every entry point.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod key;
pub mod logic;
pub mod options;

use std::ffi::{c_int, c_void, CStr, CString};

use authd_proto::client::{Client, ClientError};
use authd_proto::protocol::{Request, Response, Secret};
use pam::constants::{PamFlag, PamResultCode, PAM_ERROR_MSG, PAM_PROMPT_ECHO_OFF, PAM_TEXT_INFO};
use pam::conv::Conv;
use pam::items::{AuthTok, OldAuthTok, RHost, Service};
use pam::module::{PamHandle, PamHooks};

use logic::{Authd, Pam};
use options::Options;

/// The daemon, reached over its socket.
struct Daemon(Client);

impl Authd for Daemon {
    fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.0.call(request)
    }
}

fn connect(options: &Options) -> Result<Daemon, ClientError> {
    let name = concat!("pam_authd ", env!("CARGO_PKG_VERSION"));
    let client = Client::open(&options.socket, name, options.timeout);
    if let Err(e) = &client {
        debug(options, &format!("cannot reach authd: {e}"));
    }
    client.map(Daemon)
}

/// Debug messages go to stderr only with the `debug` option, and never hold secrets.
fn debug(options: &Options, message: &str) {
    if options.debug {
        eprintln!("pam_authd: {message}");
    }
}

/// Linux-PAM item numbers for the secrets (pam-bindings cannot set them itself).
const PAM_AUTHTOK: c_int = 6;
const PAM_OLDAUTHTOK: c_int = 7;

extern "C" {
    fn pam_set_item(pamh: *mut PamHandle, item_type: c_int, item: *const c_void) -> c_int;
}

struct Handle<'a>(&'a mut PamHandle);

impl Handle<'_> {
    fn set_secret(&mut self, item: c_int, value: &Secret) -> Result<(), PamResultCode> {
        let value = CString::new(value.expose()).map_err(|_| PamResultCode::PAM_BUF_ERR)?;
        // SAFETY: the handle is the live one PAM passed to this hook; pam_set_item copies
        // the NUL-terminated string before returning.
        let rc = unsafe { pam_set_item(&mut *self.0, item, value.as_ptr().cast()) };
        match rc {
            0 => Ok(()),
            _ => Err(PamResultCode::PAM_SYSTEM_ERR),
        }
    }

    fn text(&self, text: &CStr) -> Option<String> {
        text.to_str().ok().map(str::to_string)
    }

    fn send(&self, style: c_int, message: &str) -> Result<Option<Secret>, PamResultCode> {
        let conv = self
            .0
            .get_item::<Conv>()?
            .ok_or(PamResultCode::PAM_CONV_ERR)?;
        let reply = conv.send(style, message)?;
        Ok(reply.and_then(|r| r.as_str().ok().map(Secret::new)))
    }
}

impl Pam for Handle<'_> {
    fn user(&mut self) -> Result<String, PamResultCode> {
        self.0.get_user(None)
    }
    fn authtok(&self) -> Option<Secret> {
        let item = self.0.get_item::<AuthTok>().ok().flatten()?;
        std::str::from_utf8(item.as_bytes()).ok().map(Secret::new)
    }
    fn old_authtok(&self) -> Option<Secret> {
        let item = self.0.get_item::<OldAuthTok>().ok().flatten()?;
        std::str::from_utf8(item.as_bytes()).ok().map(Secret::new)
    }
    fn set_authtok(&mut self, value: &Secret) -> Result<(), PamResultCode> {
        self.set_secret(PAM_AUTHTOK, value)
    }
    fn set_old_authtok(&mut self, value: &Secret) -> Result<(), PamResultCode> {
        self.set_secret(PAM_OLDAUTHTOK, value)
    }
    fn service(&self) -> Option<String> {
        let item = self.0.get_item::<Service>().ok().flatten()?;
        self.text(item.0)
    }
    fn remote_host(&self) -> Option<String> {
        let item = self.0.get_item::<RHost>().ok().flatten()?;
        self.text(item.0)
    }
    fn in_ssh_session(&self) -> bool {
        ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
    }
    fn prompt(&mut self, prompt: &str) -> Result<Option<Secret>, PamResultCode> {
        self.send(PAM_PROMPT_ECHO_OFF, prompt)
    }
    fn info(&mut self, text: &str) {
        let _ = self.send(PAM_TEXT_INFO, text);
    }
    fn error(&mut self, text: &str) {
        let _ = self.send(PAM_ERROR_MSG, text);
    }
}

fn options(args: &[&CStr]) -> Options {
    let options = Options::parse(args.iter().filter_map(|a| a.to_str().ok()));
    if !options.unknown.is_empty() {
        debug(
            &options,
            &format!("ignoring unknown options {:?}", options.unknown),
        );
    }
    options
}

struct PamAuthd;
pam::pam_hooks!(PamAuthd);

impl PamHooks for PamAuthd {
    fn sm_authenticate(pamh: &mut PamHandle, args: Vec<&CStr>, _flags: PamFlag) -> PamResultCode {
        let options = options(&args);
        let mut keys = key::Helper {
            path: options.key_helper.clone(),
            timeout: options.key_timeout,
        };
        let code =
            logic::authenticate(&mut Handle(pamh), || connect(&options), &options, &mut keys);
        debug(&options, &format!("authenticate: {code:?}"));
        code
    }

    fn acct_mgmt(pamh: &mut PamHandle, args: Vec<&CStr>, _flags: PamFlag) -> PamResultCode {
        let options = options(&args);
        let code = logic::account(&mut Handle(pamh), || connect(&options), &options);
        debug(&options, &format!("account: {code:?}"));
        code
    }

    fn sm_chauthtok(pamh: &mut PamHandle, args: Vec<&CStr>, flags: PamFlag) -> PamResultCode {
        let options = options(&args);
        let code = logic::change_password(&mut Handle(pamh), || connect(&options), &options, flags);
        debug(&options, &format!("chauthtok: {code:?}"));
        code
    }

    fn sm_setcred(_pamh: &mut PamHandle, _args: Vec<&CStr>, _flags: PamFlag) -> PamResultCode {
        PamResultCode::PAM_SUCCESS
    }
}
