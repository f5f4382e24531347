//! `authd.toml`: every key, its default, and validation.
//!
//! A config is parsed strictly (unknown keys are errors) and validated as a whole, so the
//! daemon either starts with settings that make sense or exits 78 naming the bad key.
//! This module reads files and the environment for defaults; it never opens sockets or
//! the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use authd_proto::paths::env_dir as non_empty_env;
pub use authd_proto::paths::{default_socket, dir_is_trusted, user_socket, SYSTEM_SOCKET};

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

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listening socket; defaults depend on who runs the daemon (see `default_socket`).
    pub socket: PathBuf,
    pub state_dir: PathBuf,
    /// Members of this group (and uid 0, and the daemon's own uid) are admins.
    pub admin_group: String,
    /// Connections served at once; more are told `busy` and closed. A quarter of them
    /// is kept for root, the daemon's uid and admins.
    pub max_connections: usize,
    /// Connections one ordinary uid may hold at once (root, the daemon's uid and admins
    /// are exempt).
    pub max_connections_per_uid: usize,
    /// A connection that has not sent its `Hello` within this long is closed.
    #[serde(deserialize_with = "duration")]
    pub hello_timeout: Duration,
    /// A connection with no request for this long is closed.
    #[serde(deserialize_with = "duration")]
    pub idle_timeout: Duration,
    /// A frame must arrive whole within this long of its first byte.
    #[serde(deserialize_with = "duration")]
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
    /// Set by `authd --force-open`, never by the file: open a store that its sentinel or
    /// key check would refuse (audited), and rewrite the sentinel.
    #[serde(skip)]
    pub force_open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub min_length: usize,
    pub max_length: usize,
    /// Minimum zxcvbn score (0-4).
    pub min_score: u8,
    pub argon2_m_kib: u32,
    pub argon2_t: u32,
    pub argon2_p: u32,
    /// Threads hashing at once; 0 = one per CPU.
    pub hash_workers: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    pub max_failures: u32,
    #[serde(deserialize_with = "duration")]
    pub base: Duration,
    #[serde(deserialize_with = "duration")]
    pub max: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotpConfig {
    /// Shown in authenticator apps next to the account name.
    pub issuer: String,
    /// Time steps accepted either side of now.
    pub skew: u32,
    pub digits: u32,
    /// Seconds per step.
    pub period: u64,
}

impl Default for TotpConfig {
    fn default() -> Self {
        TotpConfig {
            issuer: "authd".into(),
            skew: 1,
            digits: 6,
            period: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryConfig {
    /// Recovery codes in a set.
    pub codes: u32,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig { codes: 10 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResetConfig {
    /// How long an emailed reset token stays valid.
    #[serde(deserialize_with = "duration")]
    pub token_ttl: Duration,
    /// At most one reset mail per account this often.
    #[serde(deserialize_with = "duration")]
    pub min_interval: Duration,
    /// Link put in the mail, with `{token}` replaced; none by default.
    pub url: Option<String>,
}

impl Default for ResetConfig {
    fn default() -> Self {
        ResetConfig {
            token_ttl: Duration::from_secs(30 * 60),
            min_interval: Duration::from_secs(5 * 60),
            url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// One .eml file per message in `dir`: works with no mail server at all.
    File,
    Sendmail,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub transport: MailTransportKind,
    /// The From: address.
    pub from: String,
    /// For `file`: where .eml files go [default: state_dir/outbox/mail].
    pub dir: Option<PathBuf>,
    /// For `sendmail`: the program.
    pub sendmail: PathBuf,
    /// For `smtp`.
    pub host: Option<String>,
    /// For `smtp` [default: 25 with tls = "none", 587 with "starttls", 465 with "tls"].
    pub port: Option<u16>,
    pub tls: Tls,
    pub username: Option<String>,
    /// File holding the SMTP password (first line), so the config holds no secret.
    pub password_file: Option<PathBuf>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: MailTransportKind::File,
            from: "authd@localhost".into(),
            dir: None,
            sendmail: PathBuf::from("/usr/sbin/sendmail"),
            host: None,
            port: None,
            tls: Tls::Starttls,
            username: None,
            password_file: None,
        }
    }
}

impl MailConfig {
    /// Where the file transport writes.
    pub fn file_dir(&self, state_dir: &Path) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| state_dir.join("outbox/mail"))
    }

    pub fn smtp_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            Tls::None => 25,
            Tls::Starttls => 587,
            Tls::Tls => 465,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// One file per message in `dir`: works with no gateway at all.
    File,
    /// Run `command` with the number as last argument and the text on stdin.
    Command,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub transport: SmsTransportKind,
    /// For `file` [default: state_dir/outbox/sms].
    pub dir: Option<PathBuf>,
    /// For `command`: the program and its arguments; exit 0 means delivered.
    pub command: Vec<String>,
    /// ISO 3166 alpha-2 codes whose numbers may get codes; empty = all.
    pub countries: Vec<String>,
    #[serde(deserialize_with = "duration")]
    pub code_ttl: Duration,
    /// At most one code per account this often.
    #[serde(deserialize_with = "duration")]
    pub min_interval: Duration,
    /// At most this many codes per account in 24 hours.
    pub daily_limit: u32,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            transport: SmsTransportKind::File,
            dir: None,
            command: Vec::new(),
            countries: Vec::new(),
            code_ttl: Duration::from_secs(300),
            min_interval: Duration::from_secs(60),
            daily_limit: 10,
        }
    }
}

impl SmsConfig {
    pub fn file_dir(&self, state_dir: &Path) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| state_dir.join("outbox/sms"))
    }
}

/// Retries of outgoing messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Wait before the first retry; doubled after each failed attempt.
    #[serde(deserialize_with = "duration")]
    pub retry_first: Duration,
    /// Longest wait between attempts.
    #[serde(deserialize_with = "duration")]
    pub retry_max: Duration,
    /// Give up (mark failed) this long after the message was queued.
    #[serde(deserialize_with = "duration")]
    pub give_up: Duration,
    /// Bound on one delivery attempt: the SMTP connect and each read or write, and the
    /// run time of a sendmail or SMS gateway command (killed when it overruns).
    #[serde(deserialize_with = "duration")]
    pub attempt_timeout: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            retry_first: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            give_up: Duration::from_secs(24 * 3600),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

/// The longest `outbox.attempt_timeout`: shutdown waits for the attempts in hand.
pub const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest password any config may allow; the client refuses longer input itself.
pub const PASSWORD_HARD_MAX: usize = 1024;

/// The largest argon2 parameters authd accepts (`password.argon2_*`); a stored hash
/// beyond them is not one authd made.
pub const ARGON2_MAX_M_KIB: u32 = 4 * 1024 * 1024;
pub const ARGON2_MAX_T: u32 = 100;
pub const ARGON2_MAX_P: u32 = 16;
/// The most recovery codes in a set (`recovery.codes`).
pub const MAX_RECOVERY_CODES: u32 = 50;

impl Default for Config {
    fn default() -> Self {
        Config {
            socket: default_socket(),
            state_dir: default_state_dir(),
            admin_group: "authd-admin".into(),
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
            force_open: false,
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            min_length: 10,
            max_length: 256,
            min_score: 3,
            argon2_m_kib: 19456,
            argon2_t: 2,
            argon2_p: 1,
            hash_workers: 0,
        }
    }
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            max_failures: 5,
            base: Duration::from_secs(60),
            max: Duration::from_secs(3600),
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration ({e})")))
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
        // Resolved once: asking the kernel (and cgroups) for the CPU count is not free.
        config.password.hash_workers = config.hash_workers();
        Ok(config)
    }

    fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Semantic checks that types cannot express; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        let p = &self.password;
        if !self.socket.is_absolute() {
            return bad("socket", "must be an absolute path");
        }
        if !self.state_dir.is_absolute() {
            return bad("state_dir", "must be an absolute path");
        }
        if self.admin_group.is_empty() {
            return bad("admin_group", "must not be empty");
        }
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
        if p.min_length == 0 {
            return bad("password.min_length", "must be at least 1");
        }
        if p.max_length < p.min_length || p.max_length > PASSWORD_HARD_MAX {
            return bad(
                "password.max_length",
                &format!("must be between min_length and {PASSWORD_HARD_MAX}"),
            );
        }
        if p.min_score > 4 {
            return bad("password.min_score", "must be 0 to 4 (a zxcvbn score)");
        }
        if p.argon2_p == 0 || p.argon2_p > ARGON2_MAX_P {
            return bad("password.argon2_p", "must be 1 to 16");
        }
        if p.argon2_m_kib < 8 * p.argon2_p || p.argon2_m_kib > ARGON2_MAX_M_KIB {
            return bad("password.argon2_m_kib", "must be 8 x argon2_p to 4194304");
        }
        if p.argon2_t == 0 || p.argon2_t > ARGON2_MAX_T {
            return bad("password.argon2_t", "must be 1 to 100");
        }
        if p.hash_workers > 256 {
            return bad("password.hash_workers", "must be 0 (one per CPU) to 256");
        }
        let l = &self.lockout;
        if l.max_failures == 0 {
            return bad("lockout.max_failures", "must be at least 1");
        }
        if l.base.is_zero() {
            return bad("lockout.base", "must be longer than zero");
        }
        if l.max < l.base {
            return bad("lockout.max", "must not be shorter than lockout.base");
        }
        let t = &self.totp;
        if t.issuer.is_empty() || t.issuer.len() > 64 || t.issuer.contains(':') {
            return bad("totp.issuer", "must be 1-64 characters without ':'");
        }
        if t.skew > 10 {
            return bad("totp.skew", "must be 0 to 10 steps");
        }
        if !(6..=8).contains(&t.digits) {
            return bad("totp.digits", "must be 6 to 8 (authenticator apps use 6)");
        }
        if !(15..=300).contains(&t.period) {
            return bad("totp.period", "must be 15 to 300 seconds (apps use 30)");
        }
        if !(1..=MAX_RECOVERY_CODES).contains(&self.recovery.codes) {
            return bad("recovery.codes", "must be 1 to 50");
        }
        self.validate_mail()?;
        let sms = &self.sms;
        if sms.transport == SmsTransportKind::Command
            && sms.command.first().is_none_or(|p| p.is_empty())
        {
            return bad("sms.command", "is required with transport = \"command\"");
        }
        if sms.dir.as_ref().is_some_and(|d| !d.is_absolute()) {
            return bad("sms.dir", "must be an absolute path");
        }
        if sms.countries.iter().any(|c| {
            c.len() != 2
                || c.to_ascii_uppercase()
                    .parse::<phonenumber::country::Id>()
                    .is_err()
        }) {
            return bad(
                "sms.countries",
                "must be ISO 3166 alpha-2 codes, e.g. [\"DE\", \"FR\"]",
            );
        }
        if sms.code_ttl.is_zero() {
            return bad("sms.code_ttl", "must be longer than zero");
        }
        if sms.daily_limit == 0 {
            return bad("sms.daily_limit", "must be at least 1");
        }
        let o = &self.outbox;
        if o.retry_first.is_zero() || o.retry_max < o.retry_first {
            return bad(
                "outbox.retry_first",
                "must be longer than zero and not above retry_max",
            );
        }
        if o.give_up < o.retry_first {
            return bad("outbox.give_up", "must not be shorter than retry_first");
        }
        if o.attempt_timeout.is_zero() || o.attempt_timeout > MAX_ATTEMPT_TIMEOUT {
            return bad(
                "outbox.attempt_timeout",
                "must be longer than zero and at most 10m",
            );
        }
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        let r = &self.reset;
        if r.token_ttl.is_zero() {
            return bad("reset.token_ttl", "must be longer than zero");
        }
        if r.url.as_ref().is_some_and(|u| !u.contains("{token}")) {
            return bad("reset.url", "must contain {token}, where the token goes");
        }
        let m = &self.mail;
        if let Err(e) = crate::email::mailable_sender(&m.from) {
            return Err(ConfigError::Invalid {
                key: "mail.from",
                reason: format!(
                    "must be an email address authd can mail from, e.g. \
                     authd@example.org or \"Auth Daemon <authd@example.org>\": {e}"
                ),
            });
        }
        if m.dir.as_ref().is_some_and(|d| !d.is_absolute()) {
            return bad("mail.dir", "must be an absolute path");
        }
        if m.transport == MailTransportKind::Smtp && m.host.as_deref().unwrap_or("").is_empty() {
            return bad("mail.host", "is required with transport = \"smtp\"");
        }
        if m.username.is_some() != m.password_file.is_some() {
            return bad(
                "mail.password_file",
                "username and password_file go together",
            );
        }
        if let Some(file) = &m.password_file {
            if std::fs::metadata(file).is_err() {
                return bad("mail.password_file", "cannot be read");
            }
        }
        Ok(())
    }

    /// `hash_workers` with 0 resolved to the number of CPUs.
    pub fn hash_workers(&self) -> usize {
        match self.password.hash_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Root: `/var/lib/authd`; anyone else: `$XDG_STATE_HOME/authd`, falling back to
/// `~/.local/state/authd`.
pub fn default_state_dir() -> PathBuf {
    if is_root() {
        return PathBuf::from("/var/lib/authd");
    }
    if let Some(dir) = non_empty_env("XDG_STATE_HOME") {
        return dir.join("authd");
    }
    let home = non_empty_env("HOME").or_else(|| {
        nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.dir)
    });
    home.unwrap_or_else(|| PathBuf::from("/tmp"))
        .join(".local/state/authd")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        let c = Config::parse(text).unwrap();
        c.validate().unwrap();
        c
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
