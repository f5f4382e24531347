//! `authd.toml`: every key, its default, and validation.
//!
//! A config is parsed strictly (unknown keys are errors) and validated as a whole, so the
//! daemon either starts with settings that make sense or exits 78 naming the bad key.
//! This module reads files and the environment for defaults; it never opens sockets or
//! the store.
//!
//! Here: the top-level keys, loading, and the order the sections are checked in (the
//! first bad key is the one reported). Each `[section]` has its keys, defaults and
//! checks in its own file; `paths` has the default socket and state directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

mod login;
mod mail;
mod outbox;
mod password;
mod paths;
mod roles;
mod sms;
mod store;
mod web;
mod webauthn;

pub use login::{LockoutConfig, RecoveryConfig, TotpConfig, MAX_RECOVERY_CODES};
pub use mail::{MailConfig, MailTransportKind, ResetConfig, Tls};
pub use outbox::{OutboxConfig, MAX_ATTEMPT_TIMEOUT};
pub use password::{
    PasswordConfig, ARGON2_MAX_M_KIB, ARGON2_MAX_P, ARGON2_MAX_T, MAX_AGE_DAYS, PASSWORD_HARD_MAX,
};
pub use paths::{default_socket, default_state_dir, dir_is_trusted, user_socket, SYSTEM_SOCKET};
pub use sms::{SmsConfig, SmsTransportKind};
pub use store::{
    redact_url, url_without_sslmode, SslMode, StoreBackend, StoreConfig, MAX_POOL_SIZE,
};
pub use web::{WebConfig, MAX_SESSION_LIFETIME};
pub use webauthn::{RelyingParty, UserVerification, WebauthnConfig};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file {}: {message}", .path.display())]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listening socket; defaults depend on who runs the daemon (see `default_socket`).
    pub socket: PathBuf,
    pub state_dir: PathBuf,
    /// Members of this group (and uid 0, and the daemon's own uid) are admins.
    pub admin_group: String,
    /// User names, uids or `@group`s that hold the portal role (authd-web): see
    /// `crate::authz`.
    pub portal_users: Vec<String>,
    /// Connections served at once; more are told `busy` and closed. A quarter of them
    /// is kept for root, the daemon's uid and admins.
    pub max_connections: usize,
    /// Connections one ordinary uid may hold at once (root, the daemon's uid and admins
    /// are exempt).
    pub max_connections_per_uid: usize,
    /// A connection that has not sent its `Hello` within this long is closed.
    #[serde(deserialize_with = "duration", serialize_with = "duration_text")]
    pub hello_timeout: Duration,
    /// A connection with no request for this long is closed.
    #[serde(deserialize_with = "duration", serialize_with = "duration_text")]
    pub idle_timeout: Duration,
    /// A frame must arrive whole within this long of its first byte.
    #[serde(deserialize_with = "duration", serialize_with = "duration_text")]
    pub frame_timeout: Duration,
    /// sled page cache bound. sled counts cached records at their encoded size; in memory
    /// they take up to about twice that (docs/PERFORMANCE.md, one million accounts).
    pub cache_capacity_mib: u64,
    pub password: PasswordConfig,
    pub lockout: LockoutConfig,
    pub totp: TotpConfig,
    pub recovery: RecoveryConfig,
    pub reset: ResetConfig,
    pub mail: MailConfig,
    pub sms: SmsConfig,
    pub outbox: OutboxConfig,
    pub web: WebConfig,
    pub webauthn: WebauthnConfig,
    pub store: StoreConfig,
    /// Set by `authd --force-open`, never by the file: open a store that its sentinel or
    /// key check would refuse (audited), and rewrite the sentinel.
    #[serde(skip)]
    pub force_open: bool,
    /// Set by the command line, never by the file: the file's settings that an option
    /// replaced (`--socket`, `--state-dir`), as `key = value (file) replaced by VALUE`,
    /// so `--check-config` and the start-up log can say so.
    #[serde(skip)]
    pub overridden: Vec<String>,
    /// The top-level keys the file set (not the defaults), for `override_paths`.
    #[serde(skip)]
    file_keys: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            socket: default_socket(),
            state_dir: default_state_dir(),
            admin_group: "authd-admin".into(),
            portal_users: Vec::new(),
            max_connections: 1024,
            max_connections_per_uid: 16,
            hello_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(10),
            cache_capacity_mib: 32,
            password: PasswordConfig::default(),
            lockout: LockoutConfig::default(),
            totp: TotpConfig::default(),
            recovery: RecoveryConfig::default(),
            reset: ResetConfig::default(),
            mail: MailConfig::default(),
            sms: SmsConfig::default(),
            outbox: OutboxConfig::default(),
            web: WebConfig::default(),
            webauthn: WebauthnConfig::default(),
            store: StoreConfig::default(),
            force_open: false,
            overridden: Vec::new(),
            file_keys: Vec::new(),
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration ({e})")))
}

/// A duration as the file writes it (`"1m 30s"`), for `--check-config`'s TOML.
fn duration_text<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*d).to_string())
}

/// The error for a value that parses but makes no sense; `key` as the file spells it.
fn bad(key: &'static str, reason: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        key,
        reason: reason.to_string(),
    })
}

impl Config {
    /// Read and validate `path`, or take the defaults when there is none.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                })?;
                Config::parse(&text).map_err(|message| ConfigError::Parse {
                    path: path.into(),
                    message,
                })?
            }
        };
        config.validate()?;
        config.store.resolve();
        // Resolved once: asking the kernel (and cgroups) for the CPU count is not free.
        config.password.hash_workers = config.hash_workers();
        Ok(config)
    }

    /// Put the command line's `--socket` / `--state-dir` over the file's values, noting in
    /// `overridden` each value the file set that the option replaces.
    pub fn override_paths(&mut self, socket: Option<&Path>, state_dir: Option<&Path>) {
        for (key, value, option) in [
            ("socket", &mut self.socket, socket),
            ("state_dir", &mut self.state_dir, state_dir),
        ] {
            let Some(option) = option else { continue };
            if self.file_keys.iter().any(|k| k == key) && value.as_path() != option {
                self.overridden.push(format!(
                    "{key} = {:?} from the file is replaced by --{} {}",
                    value.display().to_string(),
                    key.replace('_', "-"),
                    option.display()
                ));
            }
            *value = option.to_path_buf();
        }
    }

    /// The settings in force as authd.toml text (`--check-config`): every key, defaults
    /// included, unset optional ones left out. Nothing secret is in the file's keys (a
    /// password is only ever named by its file).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    fn parse(text: &str) -> Result<Config, String> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        if let Ok(table) = text.parse::<toml::Table>() {
            config.file_keys = table.keys().cloned().collect();
        }
        Ok(config)
    }

    /// Semantic checks that types cannot express; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.socket.is_absolute() {
            return bad("socket", "must be an absolute path");
        }
        if !self.state_dir.is_absolute() {
            return bad("state_dir", "must be an absolute path");
        }
        if self.admin_group.is_empty() {
            return bad("admin_group", "must not be empty");
        }
        roles::validate_portal_users(&self.portal_users)?;
        if self.max_connections == 0 {
            return bad("max_connections", "must be at least 1");
        }
        if self.max_connections_per_uid == 0 {
            return bad("max_connections_per_uid", "must be at least 1");
        }
        if self.hello_timeout.is_zero() {
            return bad("hello_timeout", "must be longer than zero");
        }
        if self.idle_timeout.is_zero() {
            return bad("idle_timeout", "must be longer than zero");
        }
        if self.frame_timeout.is_zero() {
            return bad("frame_timeout", "must be longer than zero");
        }
        if self.cache_capacity_mib == 0 {
            return bad("cache_capacity_mib", "must be at least 1");
        }
        self.password.validate()?;
        self.lockout.validate()?;
        self.totp.validate()?;
        self.recovery.validate()?;
        self.reset.validate()?;
        self.mail.validate()?;
        self.sms.validate()?;
        self.outbox.validate()?;
        self.web.validate()?;
        self.webauthn.validate(&self.web)?;
        self.store.validate()?;
        Ok(())
    }

    /// Who holds the admin and portal roles, for `crate::authz`.
    pub fn roles(&self) -> crate::authz::Roles {
        crate::authz::Roles {
            admin_group: self.admin_group.clone(),
            portal_users: self.portal_users.clone(),
        }
    }

    /// `hash_workers` with 0 resolved to the number of CPUs.
    pub fn hash_workers(&self) -> usize {
        match self.password.hash_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        let c = Config::parse(text).unwrap();
        c.validate().unwrap();
        c
    }

    #[test]
    fn the_printed_configuration_reads_back_as_the_same() {
        for text in [
            "",
            "admin_group = \"wheel\"\nidle_timeout = \"90s\"\n[lockout]\nbase = \"1m 30s\"\n\
             [mail]\ntransport = \"smtp\"\nhost = \"mail.example.org\"\n\
             [web]\npublic_url = \"https://id.example.org\"\nsession_idle = \"15m\"",
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://authd@db/authd\"\n\
             password_file = \"/etc/authd/db-password\"\npool_size = 4",
            "[store]\nbackend = \"postgres\"\nurl = \"postgresql://authd@db/authd?sslmode=verify-ca\"\n\
             ssl_root_cert = \"/etc/authd/db-ca.pem\"",
        ] {
            let config = parse_ok(text);
            let printed = config.to_toml().unwrap();
            let mut back = Config::parse(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
            back.file_keys.clone_from(&config.file_keys);
            assert_eq!(back, config, "{printed}");
        }
    }

    fn invalid_key(text: &str) -> &'static str {
        match Config::parse(text).unwrap().validate() {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let c = parse_ok("socket = \"/s\"\nstate_dir = \"/d\"");
        assert_eq!(c.password, PasswordConfig::default());
        assert_eq!(c.password.argon2_m_kib, 19456);
        assert_eq!(c.lockout.max_failures, 5);
        assert_eq!(c.lockout.base, Duration::from_secs(60));
        assert_eq!(c.lockout.max, Duration::from_secs(3600));
        assert_eq!(c.admin_group, "authd-admin");
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.max_connections_per_uid, 16);
        assert_eq!(c.hello_timeout, Duration::from_secs(5));
    }

    #[test]
    fn durations_are_human_readable() {
        let c = parse_ok("[lockout]\nbase = \"30s\"\nmax = \"2h\"");
        assert_eq!(c.lockout.base, Duration::from_secs(30));
        assert_eq!(c.lockout.max, Duration::from_secs(7200));
    }

    #[test]
    fn unknown_and_mistyped_keys_are_named() {
        let e = Config::parse("[password]\nmin_lenght = 3").unwrap_err();
        assert!(e.contains("min_lenght"), "{e}");
        let e = Config::parse("[lockout]\nbase = \"soon\"").unwrap_err();
        assert!(e.contains("base") && e.contains("soon"), "{e}");
        let e = Config::parse("[password]\nargon2_t = \"two\"").unwrap_err();
        assert!(e.contains("argon2_t"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        assert_eq!(
            invalid_key("[password]\nmin_length = 20\nmax_length = 10"),
            "password.max_length"
        );
        assert_eq!(
            invalid_key("[password]\nmin_score = 5"),
            "password.min_score"
        );
        assert_eq!(
            invalid_key("[password]\nargon2_m_kib = 4"),
            "password.argon2_m_kib"
        );
        assert_eq!(
            invalid_key("[lockout]\nmax_failures = 0"),
            "lockout.max_failures"
        );
        assert_eq!(
            invalid_key("[lockout]\nbase = \"2h\"\nmax = \"1h\""),
            "lockout.max"
        );
        assert_eq!(invalid_key("socket = \"relative.sock\""), "socket");
        assert_eq!(
            invalid_key("max_connections_per_uid = 0"),
            "max_connections_per_uid"
        );
        assert_eq!(invalid_key("hello_timeout = \"0s\""), "hello_timeout");
        assert_eq!(invalid_key("[totp]\nissuer = \"a:b\""), "totp.issuer");
        assert_eq!(invalid_key("[totp]\ndigits = 4"), "totp.digits");
        assert_eq!(invalid_key("[recovery]\ncodes = 0"), "recovery.codes");
        assert_eq!(invalid_key("[reset]\nurl = \"https://x/\""), "reset.url");
        for url in [
            "id.example.org",
            "ftp://x",
            "https://",
            "https://x/?t=1",
            "https://a b",
        ] {
            let text = format!("[web]\npublic_url = \"{url}\"");
            assert_eq!(invalid_key(&text), "web.public_url", "{url}");
        }
        assert!(Config::parse("[web]\npublic_url = \"https://id.example.org/auth\"").is_ok());
        assert_eq!(invalid_key("[mail]\nfrom = \"nope\""), "mail.from");
        for from in [
            "'\"a,b\"@example.org'",
            "\"jörg@example.org\"",
            "\"a\\u202Eb@x.org\"",
        ] {
            assert_eq!(invalid_key(&format!("[mail]\nfrom = {from}")), "mail.from");
        }
        assert!(Config::parse("[mail]\nfrom = \"Auth Daemon <authd@example.org>\"").is_ok());
        assert_eq!(invalid_key("[mail]\ntransport = \"smtp\""), "mail.host");
        assert_eq!(
            invalid_key("[mail]\nusername = \"u\""),
            "mail.password_file"
        );
        let e = Config::parse("[mail]\ntransport = \"pigeon\"").unwrap_err();
        assert!(e.contains("transport") && e.contains("pigeon"), "{e}");
    }

    #[test]
    fn sms_keys_are_validated() {
        assert_eq!(invalid_key("[sms]\ntransport = \"command\""), "sms.command");
        assert_eq!(invalid_key("[sms]\ncountries = [\"GER\"]"), "sms.countries");
        assert_eq!(invalid_key("[sms]\ncountries = [\"ZZ\"]"), "sms.countries");
        assert_eq!(invalid_key("[sms]\ndaily_limit = 0"), "sms.daily_limit");
        parse_ok("[sms]\ncountries = [\"de\", \"FR\"]\ncode_ttl = \"2m\"");
    }

    #[test]
    fn the_portal_session_limits_are_validated() {
        let c = parse_ok("[web]\nsession_idle = 2\nsession_lifetime = 5\nfresh_proof = 1");
        assert_eq!(
            (
                c.web.session_idle,
                c.web.session_lifetime,
                c.web.fresh_proof
            ),
            (2, 5, 1)
        );
        for key in ["session_idle", "session_lifetime", "fresh_proof"] {
            assert_eq!(
                invalid_key(&format!("[web]\n{key} = 0")),
                format!("web.{key}")
            );
        }
        let c = parse_ok("[web]\nsession_idle = \"10m\"\nsession_lifetime = \"1h 30m\"");
        assert_eq!((c.web.session_idle, c.web.session_lifetime), (600, 5400));
        for bad in ["-1", "\"soon\"", "\"1500ms\"", "1.5"] {
            let e = Config::parse(&format!("[web]\nsession_idle = {bad}")).unwrap_err();
            assert!(e.contains("session_idle"), "{e}");
        }
        assert_eq!(
            invalid_key("[web]\nsession_idle = 600\nsession_lifetime = 300\nfresh_proof = 60"),
            "web.session_idle"
        );
        assert_eq!(
            invalid_key("[web]\nsession_idle = 60\nsession_lifetime = 300\nfresh_proof = 600"),
            "web.fresh_proof"
        );
        assert_eq!(
            invalid_key("[web]\nsession_lifetime = 604801"),
            "web.session_lifetime"
        );
        let Err(e) = Config::parse("[web]\nfresh_proof = 0").unwrap().validate() else {
            panic!("accepted");
        };
        assert_eq!(
            e.to_string(),
            "invalid value for `web.fresh_proof`: must be at least 1 (seconds)"
        );
    }

    #[test]
    fn the_attempt_timeout_is_bounded() {
        let c = parse_ok("");
        assert_eq!(c.outbox.attempt_timeout, Duration::from_secs(30));
        assert_eq!(
            parse_ok("[outbox]\nattempt_timeout = \"2m\"")
                .outbox
                .attempt_timeout,
            Duration::from_secs(120)
        );
        for bad in ["0s", "11m"] {
            assert_eq!(
                invalid_key(&format!("[outbox]\nattempt_timeout = \"{bad}\"")),
                "outbox.attempt_timeout"
            );
        }
    }
}
