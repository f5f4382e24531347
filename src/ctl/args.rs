//! The authctl command line (clap derive). Also the source for authctl(1) and the shell
//! completions, so `--help`, the man page and the parser never disagree.

use std::path::PathBuf;

use authd_proto::protocol::{Change, PasswordAge};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage and check accounts held by authd.
///
/// Secrets (passwords, codes) are asked for on the terminal without echo, or read one per
/// line from standard input with --password-stdin, in the order the command needs them.
/// Every user on the host can see a command line (ps): give a code as `-` (`--code -`,
/// `confirm-totp USER -`, `--token -`) to have it read the same way, not on the command
/// line.
#[derive(Debug, Parser)]
#[command(name = "authctl", version, after_help = super::exit::help_table())]
pub struct Cli {
    /// authd's socket [default: your own daemon's socket if it exists, else /run/authd/authd.sock]
    #[arg(long, global = true, env = "AUTHD_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// `socket` came from `AUTHD_SOCKET`, not `--socket` (set by `ctl::main`; for the
    /// message when nothing answers there).
    #[arg(skip)]
    pub socket_from_env: bool,
    /// Print one JSON object on stdout (errors too: {"error":{"code":..,"message":..}}).
    #[arg(long, global = true)]
    pub json: bool,
    /// Read passwords and codes from stdin, one per line, instead of prompting.
    #[arg(long, global = true)]
    pub password_stdin: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct User {
    /// Account name: 1-64 of a-z 0-9 . _ - @, starting with a letter or digit.
    #[arg(value_name = "USER")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account (admin).
    AddUser {
        #[command(flatten)]
        user: User,
        /// Email address, for password-reset mail: ASCII before the `@`, not quoted; an
        /// international domain is stored in punycode.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Mobile number in international form (+44 7911 123456); stored as E.164.
        #[arg(long, value_name = "NUMBER")]
        phone: Option<String>,
        /// The account signs in at this SSO provider and has no password here.
        #[arg(long, value_name = "PROVIDER")]
        sso: Option<String>,
    },
    /// Delete an account and everything stored for it (admin).
    RemoveUser {
        #[command(flatten)]
        user: User,
    },
    /// List account names (admin).
    ListUsers {
        /// One line per account with its status (active, disabled, locked until T,
        /// expired, must change password), second factors, password age and last login,
        /// like `passwd -S -a`; printed page by page as authd answers.
        #[arg(long)]
        long: bool,
    },
    /// Show an account's state and its security keys (admin, or the user themself).
    Show {
        #[command(flatten)]
        user: User,
    },
    /// Change an account's email, phone or SSO provider, its expiry date or its
    /// password-change policy (admin).
    SetUser {
        #[command(flatten)]
        user: User,
        /// New email address (the same rules as for add-user).
        #[arg(long, value_name = "ADDRESS", conflicts_with = "no_email")]
        email: Option<String>,
        /// Remove the email address.
        #[arg(long)]
        no_email: bool,
        #[arg(long, value_name = "NUMBER", conflicts_with = "no_phone")]
        phone: Option<String>,
        /// Remove the phone number.
        #[arg(long)]
        no_phone: bool,
        /// Make it an SSO account (its local password is removed).
        #[arg(long, value_name = "PROVIDER", conflicts_with = "no_sso")]
        sso: Option<String>,
        /// Make it a local account again (set a password afterwards).
        #[arg(long)]
        no_sso: bool,
        /// Refuse logins from this day (YYYY-MM-DD, from 00:00 UTC) or time (RFC 3339,
        /// e.g. 2027-03-31T18:00:00Z) on (error code `expired`); `never` removes the date.
        #[arg(long, value_name = "DATE|never", value_parser = super::dates::expires)]
        expires: Option<Change<u64>>,
        /// The next login must change the password: verify reports
        /// password_change_required, PAM's account step asks for a new one.
        #[arg(long, conflicts_with = "no_must_change_password")]
        must_change_password: bool,
        /// Withdraw --must-change-password.
        #[arg(long)]
        no_must_change_password: bool,
        /// Days a password may be used before a login asks for a change, or `never`;
        /// `default` goes back to [password] max_age of authd.toml.
        #[arg(long, value_name = "DAYS|never", value_parser = super::dates::max_age_change)]
        max_password_age: Option<Change<PasswordAge>>,
    },
    /// Set an account's password without the old one (admin); the policy applies.
    SetPassword {
        #[command(flatten)]
        user: User,
    },
    /// Change your password: the current one (and a code when 2FA is on), then the new
    /// one.
    ChangePassword {
        #[command(flatten)]
        user: User,
        /// Second-factor code (app, SMS or recovery code), when the account has 2FA; `-`
        /// reads it after the current password (prompt, or the next stdin line), out of
        /// sight of other users.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
        /// Instead of asking for the new password, check the current one and email a
        /// link to set a new one.
        #[arg(long)]
        email_link: bool,
    },
    /// Email the account a temporary link to set a new password (admin or self).
    SendReset {
        #[command(flatten)]
        user: User,
    },
    /// Set a new password with the token from a reset mail (anyone: the token is the
    /// proof).
    ResetPassword {
        /// The token from the mail; `-` asks for it instead (or reads it as the first
        /// stdin line with --password-stdin), keeping it out of the process list.
        #[arg(long, value_name = "TOKEN")]
        token: String,
    },
    /// List queued and failed outgoing mail and SMS (admin); `retry` and `purge` manage
    /// them.
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxAction>,
    },
    /// Write a consistent online backup of every record to FILE, mode 0600, atomically
    /// (admin). Secrets stay encrypted: back up the secret key file separately.
    ///
    /// FILE is replaced by a new file (never written into, so a file or link another user
    /// put there gets nothing); a FILE that is a symbolic link is refused (exit 65).
    Backup {
        /// Where to write the backup; `-` is standard output.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Check a password, then a verification code when the account has 2FA (admin, or
    /// the user themself); exit 0 when both are right.
    Verify {
        #[command(flatten)]
        user: User,
        /// Verification code (authenticator app, SMS or recovery code); asked for when
        /// needed and not given; `-` reads it after the password (prompt, or the next
        /// stdin line), out of sight of other users.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Start authenticator-app verification: shows a QR code to scan (admin or self;
    /// for your own account, your password first).
    ///
    /// Scan the QR code with Google Authenticator (or any TOTP app), or type the secret in
    /// by hand, then run confirm-totp with the six-digit code the app shows. Running it
    /// again before confirming replaces the pending secret.
    EnableTotp {
        #[command(flatten)]
        user: User,
        /// Also write the QR code as a PNG image to FILE (mode 0600, replaced atomically;
        /// a symbolic link is refused): it holds the secret.
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// For your own account, which needs your password and, when a second factor is
        /// on already, a current (or recovery) code; `-` reads it after the password.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Turn authenticator-app verification on with the code the app shows (admin or self).
    ///
    /// When this is the account's first second factor, recovery codes are printed once.
    ConfirmTotp {
        #[command(flatten)]
        user: User,
        /// The six-digit code from the authenticator app; `-` reads it (prompt, or the
        /// first stdin line with --password-stdin).
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// Start SMS verification: sends a six-digit code to the account's phone (admin or
    /// self; for your own account, your password first).
    ///
    /// Not every country is supported (see sms.countries in authd.toml); verification by
    /// authenticator app (enable-totp) is recommended.
    EnableSms {
        #[command(flatten)]
        user: User,
        /// Set the account's mobile number first (international form, +44 7911 123456).
        #[arg(long, value_name = "NUMBER")]
        phone: Option<String>,
        /// For your own account, which needs your password and, when a second factor is
        /// on already, a current (or recovery) code; `-` reads it after the password.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Turn SMS verification on with the code that was sent (admin or self).
    ///
    /// When this is the account's first second factor, recovery codes are printed once.
    ConfirmSms {
        #[command(flatten)]
        user: User,
        /// The six-digit code from the SMS; `-` reads it (prompt, or the first stdin line
        /// with --password-stdin).
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// Send a login code by SMS now (admin or self). verify sends one by itself only for
    /// accounts whose sole second factor is SMS.
    SendCode {
        #[command(flatten)]
        user: User,
    },
    /// Turn two-factor verification off: needs the password and a current (or recovery)
    /// code, from admins too (admin or self).
    #[command(name = "disable-2fa")]
    DisableTwoFactor {
        #[command(flatten)]
        user: User,
        /// Which verification to remove.
        #[arg(long, value_enum, default_value_t = MethodArg::All)]
        method: MethodArg,
        /// A current code (app or SMS), or a recovery code; `-` reads it after the
        /// password (prompt, or the next stdin line).
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Lost device: remove every second factor and the recovery codes (admin).
    #[command(name = "reset-2fa")]
    ResetTwoFactor {
        #[command(flatten)]
        user: User,
    },
    /// Replace the recovery codes with a new set; the old ones stop working (admin, or the
    /// user themself with password and code).
    RecoveryCodes {
        #[command(flatten)]
        user: User,
        /// Make a new set (required: codes are never shown again after they are made).
        #[arg(long, required = true)]
        regenerate: bool,
        /// A current code (app or SMS), or a recovery code (self-service only); `-` reads
        /// it after the password (prompt, or the next stdin line).
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Clear an account's lockout (admin).
    Unlock {
        #[command(flatten)]
        user: User,
    },
    /// Disable an account: every login and every request of its own is refused (error
    /// code `disabled`) until `enable` (admin). Its lockout, factors and password stay.
    Disable {
        #[command(flatten)]
        user: User,
        /// Why, for the audit log and `show` (at most 200 characters).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Enable a disabled account again (admin).
    Enable {
        #[command(flatten)]
        user: User,
    },
    /// Show an account's audit events, oldest first (admin, or the user themself).
    Log {
        #[command(flatten)]
        user: User,
        /// How many of the newest events to show.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: u32,
    },
    /// Show the daemon's version, uptime and counts (anyone; with --json, admins also
    /// get the metrics' samples).
    Status,
    /// Print the daemon's metrics in Prometheus text format, for node_exporter's textfile
    /// collector: logins by method and result, lockouts, the outbox by channel, request
    /// latency, connections, the hashing queue (admin).
    Metrics,
    /// List an account's portal sessions (authd-web sign-ins): id, created, last used,
    /// expires, origin (admin, or the user themself).
    Sessions {
        #[command(flatten)]
        user: User,
    },
    /// End one portal session of an account, or all of them (admin, or the user
    /// themself).
    Logout {
        #[command(flatten)]
        user: User,
        /// The session to end, as `sessions` lists it; without it, every session ends.
        #[arg(value_name = "ID")]
        id: Option<u64>,
    },
    /// Register a FIDO2 security key as a second factor: touch it when asked (admin, or
    /// the user themself with the password and a current code or a touch of a key
    /// already registered). The account's first second factor brings recovery codes.
    AddKey {
        #[command(flatten)]
        user: User,
        /// What to call the key (shown by `keys`) [default: security key].
        #[arg(long = "name", id = "key_name", value_name = "NAME")]
        key_name: Option<String>,
        /// Prove with a current code (app or SMS) or a recovery code instead of a
        /// touch; `-` reads it after the password.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// List an account's security keys: id, name, when registered and last used (admin,
    /// or the user themself).
    Keys {
        #[command(flatten)]
        user: User,
    },
    /// Remove a security key; needs the password and a touch of a registered key (or a
    /// current code), from admins too (admin, or the user themself).
    RemoveKey {
        #[command(flatten)]
        user: User,
        /// The key's id, as `keys` lists it.
        #[arg(value_name = "ID")]
        id: String,
        /// Prove with a current code (app or SMS) or a recovery code instead of a
        /// touch; `-` reads it after the password.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Turn an account's authenticator app on with the secret of a pam_google_authenticator
    /// file, so the user keeps the phone they enrolled there (admin).
    ///
    /// FILE is the user's ~/.google_authenticator, as google-authenticator wrote it; authctl
    /// reads it (authd need not be able to) and sends it over the socket. The file's
    /// scratch codes become recovery codes, beside any the account has. Time-based files
    /// only: a counter-based (HOTP) file is refused (exit 65, hotp_unsupported). authd's own
    /// [lockout] and [totp] skew replace the file's RATE_LIMIT and WINDOW_SIZE.
    ImportGoogleAuthenticator {
        #[command(flatten)]
        user: User,
        /// The pam_google_authenticator file (e.g. /home/USER/.google_authenticator).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace the account's authenticator app when it is on already (otherwise
        /// refused, exit 65).
        #[arg(long)]
        replace: bool,
    },
    /// Create or update many accounts from standard input, all or nothing (admin).
    ///
    /// Every line is checked before anything is written: one bad line (reported with its
    /// line number) means nothing is written and exit 65. Lines that set a plain password
    /// are hashed by authd under the password policy, which takes a while for thousands
    /// of accounts: a progress bar shows on a terminal. Hashes given with -e are stored
    /// as they are (nothing is hashed) and replaced by argon2id at the first login.
    ///
    /// chpasswd format: `name:password` per line, or with -e `name:HASH` (an argon2id
    /// PHC string, or a $6$, $5$ or $y$ hash from /etc/shadow; a whole shadow line works
    /// too). jsonl format: one JSON object per line with "name" and any of "password",
    /// "password_hash", "email", "phone" (a string, or null to remove it), "sso" (true,
    /// false, or the provider's name) and "disabled". Empty lines and lines starting with
    /// `#` are skipped.
    Import {
        /// How the lines on standard input are written.
        #[arg(long, value_enum, default_value_t = ImportFormat::Chpasswd)]
        format: ImportFormat,
        /// chpasswd lines carry password hashes, not passwords.
        #[arg(short = 'e', long = "encrypted")]
        encrypted: bool,
        /// Check every line and say what would be created or updated; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `outbox retry` and `outbox purge`.
#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Put messages back in the queue, due now (admin). A given-up mail gets a new retry
    /// period; an SMS login code past its validity is dropped instead, never sent.
    Retry {
        #[command(flatten)]
        target: OutboxSelect,
    },
    /// Remove messages from the outbox (admin): one, every given-up one, or the records
    /// of messages delivered before a date (kept for `outbox.keep_delivered`).
    Purge {
        #[command(flatten)]
        target: PurgeSelect,
    },
}

/// Which outbox messages `purge` removes.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PurgeSelect {
    /// The message's id, as `authctl outbox` lists it.
    #[arg(value_name = "ID")]
    pub id: Option<u64>,
    /// Every message given up on (listed as failed).
    #[arg(long)]
    pub failed: bool,
    /// Every delivered message delivered before DATE (YYYY-MM-DD, from 00:00 UTC, or an
    /// RFC 3339 time).
    #[arg(long, value_name = "DATE", value_parser = super::dates::date)]
    pub delivered_before: Option<u64>,
}

/// Which outbox messages: one by id, or every given-up one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct OutboxSelect {
    /// The message's id, as `authctl outbox` lists it.
    #[arg(value_name = "ID")]
    pub id: Option<u64>,
    /// Every message given up on (listed as failed).
    #[arg(long)]
    pub failed: bool,
}

/// `import --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// `name:password` (or `name:HASH` with -e), as chpasswd(8) reads.
    Chpasswd,
    /// One JSON object per line.
    Jsonl,
}

/// `disable-2fa --method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Totp,
    Sms,
    All,
    /// Every security key.
    Key,
}
