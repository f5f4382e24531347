//! Module arguments from the PAM stack line, e.g.
//! `auth required pam_authd.so socket=/run/authd/authd.sock try_first_pass`.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Parsed module arguments. Unknown arguments are reported (debug) and ignored, as PAM
/// modules conventionally do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub socket: PathBuf,
    /// Take the password from PAM_AUTHTOK only; fail if there is none.
    pub use_first_pass: bool,
    /// Take the password from PAM_AUTHTOK when set, else prompt.
    pub try_first_pass: bool,
    /// Unknown users get PAM_IGNORE instead of PAM_USER_UNKNOWN.
    pub ignore_unknown_user: bool,
    /// `sso=ignore`: SSO accounts get PAM_IGNORE (another module in the stack
    /// authenticates them); by default they fail with PAM_AUTH_ERR.
    pub sso_ignore: bool,
    pub debug: bool,
    /// Client timeout: longer than the daemon's own work (a hash, an SMS send).
    pub timeout: Duration,
    /// `key_helper=`: the security-key helper program (authd-key).
    pub key_helper: PathBuf,
    /// `key_timeout=`: how long a key may take to answer (touch, PIN) before the other
    /// factors are asked for.
    pub key_timeout: Duration,
    pub unknown: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            socket: PathBuf::from(authd_proto::paths::SYSTEM_SOCKET),
            use_first_pass: false,
            try_first_pass: false,
            ignore_unknown_user: false,
            sso_ignore: false,
            debug: false,
            timeout: Duration::from_secs(60),
            key_helper: Path::new(authd_proto::paths::KEY_HELPER_DIR)
                .join(authd_proto::paths::KEY_HELPER),
            key_timeout: Duration::from_secs(30),
            unknown: Vec::new(),
        }
    }
}

impl Options {
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a str>) -> Options {
        let mut o = Options::default();
        for arg in args {
            match arg.split_once('=') {
                Some(("socket", path)) if !path.is_empty() => o.socket = PathBuf::from(path),
                Some(("sso", "ignore")) => o.sso_ignore = true,
                Some(("sso", "deny")) => o.sso_ignore = false,
                Some(("timeout", secs)) => match secs.parse::<u64>() {
                    Ok(n) if n > 0 => o.timeout = Duration::from_secs(n),
                    _ => o.unknown.push(arg.to_string()),
                },
                Some(("key_timeout", secs)) => match secs.parse::<u64>() {
                    Ok(n) if n > 0 => o.key_timeout = Duration::from_secs(n),
                    _ => o.unknown.push(arg.to_string()),
                },
                // Absolute only: the module must never search for what it runs.
                Some(("key_helper", path)) if path.starts_with('/') => {
                    o.key_helper = PathBuf::from(path)
                }
                None if arg == "use_first_pass" => o.use_first_pass = true,
                None if arg == "try_first_pass" => o.try_first_pass = true,
                // `nullok` is the conventional spelling; both mean the same here.
                None if arg == "nullok" || arg == "ignore_unknown_user" => {
                    o.ignore_unknown_user = true
                }
                None if arg == "debug" => o.debug = true,
                _ => o.unknown.push(arg.to_string()),
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_option() {
        let o = Options::parse([
            "socket=/tmp/a.sock",
            "use_first_pass",
            "try_first_pass",
            "nullok",
            "debug",
            "timeout=5",
            "key_helper=/opt/authd-key",
            "key_timeout=7",
            "bogus",
        ]);
        assert_eq!(o.key_helper, PathBuf::from("/opt/authd-key"));
        assert_eq!(o.key_timeout, Duration::from_secs(7));
        assert_eq!(
            Options::parse(["key_helper=authd-key"]).unknown,
            ["key_helper=authd-key"]
        );
        assert!(Options::parse([]).key_helper.ends_with("authd/authd-key"));
        assert_eq!(o.socket, PathBuf::from("/tmp/a.sock"));
        assert!(o.use_first_pass && o.try_first_pass && o.ignore_unknown_user && o.debug);
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(o.unknown, ["bogus"]);
        assert_eq!(
            Options::parse([]).socket,
            PathBuf::from("/run/authd/authd.sock")
        );
        assert!(Options::parse(["ignore_unknown_user"]).ignore_unknown_user);
        assert!(
            !Options::parse([]).sso_ignore,
            "SSO accounts fail by default"
        );
        assert!(Options::parse(["sso=ignore"]).sso_ignore);
        assert!(!Options::parse(["sso=ignore", "sso=deny"]).sso_ignore);
        assert_eq!(Options::parse(["sso=maybe"]).unknown, ["sso=maybe"]);
        assert_eq!(Options::parse(["timeout=0"]).unknown, ["timeout=0"]);
    }
}
