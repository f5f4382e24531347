//! Mail with lettre: composing RFC 5322 messages, and the three transports — `file`
//! (one private .eml per message, the default, needing no mail server; written through
//! `private_file`, as a reset mail holds a token), `sendmail` (run like any delivery
//! program, see `command`) and `smtp` (STARTTLS, implicit TLS with rustls, or
//! plain for a local relay).
//!
//! Each attempt is bounded by `outbox.attempt_timeout` and tells a permanent refusal
//! (an SMTP 5xx to the message) from trouble worth another try. Sending is blocking;
//! the mail courier runs it on the blocking pool.

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};

use super::SendError;
use crate::config::{ConfigError, MailConfig, MailTransportKind, Tls};
use crate::email::{mailable, mailable_sender, AddressError};

/// A message ready to queue: envelope and the exact bytes to send.
pub struct Composed {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub bytes: Vec<u8>,
}

/// Why a message could not be composed. Never a reason to fail the change that asked
/// for the mail: the caller records it and carries on (or, when the mail is the whole
/// request, refuses the request).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the recipient address cannot be mailed: {0}")]
    To(AddressError),
    #[error("mail.from cannot be mailed from: {0}")]
    From(AddressError),
    #[error("the message cannot be built: {0}")]
    Message(String),
}

/// A plain-text UTF-8 message with Date and Message-ID, as it will be sent on every
/// attempt. Both addresses pass the same rule as at input (`email::mailable`), and the
/// envelope keeps the form they were checked in (an IDN domain in punycode).
pub fn compose(
    from: &str,
    to: &str,
    subject: &str,
    body: String,
) -> Result<Composed, ComposeError> {
    let sender = mailable_sender(from).map_err(ComposeError::From)?;
    let recipient = mailable(to).map_err(ComposeError::To)?;
    // Plain 7bit (RFC 5322 allows lines up to 998 characters) rather than
    // quoted-printable, so a token stays whole on its line even in a raw .eml file;
    // anything else is left to lettre's choice.
    let body = if body.is_ascii() && body.lines().all(|l| l.len() < 998) {
        let crlf = body.lines().map(|l| format!("{l}\r\n")).collect::<String>();
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(body)
    };
    let (from, to) = (sender.email.to_string(), recipient.to_string());
    let message = Message::builder()
        .from(sender)
        .to(Mailbox::new(None, recipient))
        .subject(subject)
        .date_now()
        .message_id(None)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| ComposeError::Message(e.to_string()))?;
    Ok(Composed {
        from,
        to,
        subject: subject.to_string(),
        bytes: message.formatted(),
    })
}

pub enum MailTransport {
    /// A directory: one `RANDOM.eml` per message, mode 0600.
    File(PathBuf),
    /// The program, and the attempt timeout it runs under.
    Sendmail(PathBuf, Duration),
    Smtp(Box<Smtp>),
}

fn config_error(key: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { key, reason }
}

impl MailTransport {
    /// Build the configured transport, bounding each attempt by `timeout`; errors name
    /// the config key.
    pub fn from_config(
        config: &MailConfig,
        state_dir: &Path,
        timeout: Duration,
    ) -> Result<MailTransport, ConfigError> {
        Ok(match config.transport {
            MailTransportKind::File => {
                let dir = config.file_dir(state_dir);
                // The files hold reset links: private.
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&dir)
                    .map_err(|e| {
                        config_error("mail.dir", format!("cannot create {}: {e}", dir.display()))
                    })?;
                MailTransport::File(dir)
            }
            MailTransportKind::Sendmail => {
                MailTransport::Sendmail(config.sendmail.clone(), timeout)
            }
            MailTransportKind::Smtp => {
                MailTransport::Smtp(Box::new(Smtp::from_config(config, timeout)?))
            }
        })
    }

    /// Send `bytes` from `from` to `to`; the error text is for logs (no message content).
    pub fn send(&self, from: &str, to: &str, bytes: &[u8]) -> Result<(), SendError> {
        // `from` may carry a display name ("Auth Daemon <authd@example.org>").
        let parse = |a: &str| {
            a.parse::<Mailbox>()
                .map(|m| m.email)
                .or_else(|_| a.parse::<Address>())
                .map_err(|e| SendError::Permanent(format!("bad address: {e}")))
        };
        let (from, to) = (parse(from)?, parse(to)?);
        match self {
            MailTransport::File(dir) => write_eml(dir, bytes).map_err(SendError::Transient),
            MailTransport::Sendmail(program, timeout) => {
                // As lettre's sendmail transport: `sendmail -i -f FROM -- TO`.
                let argv = [
                    program.display().to_string(),
                    "-i".into(),
                    "-f".into(),
                    from.to_string(),
                    "--".into(),
                    to.to_string(),
                ];
                super::command::run(&argv, bytes, *timeout)
            }
            MailTransport::Smtp(smtp) => {
                let envelope = Envelope::new(Some(from), vec![to])
                    .map_err(|e| SendError::Permanent(e.to_string()))?;
                smtp.send(&envelope, bytes)
            }
        }
    }
}

fn write_eml(dir: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| e.to_string())?;
    let name: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("{name}.eml"));
    crate::private_file::write(&path, |f| f.write_all(bytes))
        .map_err(|e| crate::error::DisplayChain(&e).to_string())
}

enum SmtpTls {
    None,
    Starttls(TlsParameters),
    Wrapper(TlsParameters),
}

/// An SMTP client that tells the server's answer to the message from trouble reaching
/// the server: lettre's connection, driven in two steps.
pub struct Smtp {
    host: String,
    port: u16,
    tls: SmtpTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

impl Smtp {
    fn from_config(config: &MailConfig, timeout: Duration) -> Result<Smtp, ConfigError> {
        let host = config.host.clone().unwrap_or_default();
        let params = || {
            TlsParameters::new(host.clone()).map_err(|e| config_error("mail.host", e.to_string()))
        };
        let tls = match config.tls {
            Tls::None => SmtpTls::None,
            Tls::Starttls => SmtpTls::Starttls(params()?),
            Tls::Tls => SmtpTls::Wrapper(params()?),
        };
        let credentials = match (&config.username, &config.password_file) {
            (Some(user), Some(file)) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| config_error("mail.password_file", e.to_string()))?;
                let password = text.lines().next().unwrap_or("").to_string();
                Some(Credentials::new(user.clone(), password))
            }
            _ => None,
        };
        Ok(Smtp {
            port: config.smtp_port(),
            host,
            tls,
            credentials,
            hello: ClientId::default(),
            timeout,
        })
    }

    /// Connect, greet, switch to TLS and log in: trouble here concerns the server or
    /// our configuration, never this message, so it is always transient.
    fn connect(&self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = match &self.tls {
            SmtpTls::Wrapper(params) => Some(params),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )?;
        if let SmtpTls::Starttls(params) = &self.tls {
            conn.starttls(params, &self.hello)?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)?;
        }
        Ok(conn)
    }

    /// One attempt: a 5xx answer to the message (MAIL FROM, RCPT TO, DATA) is permanent;
    /// everything else is transient.
    fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let transient =
            |e: lettre::transport::smtp::Error| SendError::Transient(describe(&e, self.timeout));
        let mut conn = self.connect().map_err(transient)?;
        match conn.send(envelope, bytes) {
            Ok(_) => {
                conn.abort();
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(transient(e)),
        }
    }
}

/// lettre's error, or "no answer within 30s" when a read or write timed out (which it
/// reports as an OS error).
fn describe(e: &lettre::transport::smtp::Error, timeout: Duration) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                return format!(
                    "no answer within {} ({e})",
                    humantime::format_duration(timeout)
                );
            }
        }
        source = err.source();
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_mail_is_rfc5322_with_date_and_message_id() {
        let m = compose(
            "authd@example.org",
            "alice@example.org",
            "Reset your password",
            "Hello äöü\nline two\n".into(),
        )
        .unwrap();
        let long = format!("authctl reset-password --token {}", "T".repeat(80));
        let m2 = compose(
            "Auth Daemon <authd@example.org>",
            "b@example.org",
            "S",
            long.clone(),
        );
        let m2 = String::from_utf8(m2.unwrap().bytes).unwrap();
        assert!(m2.contains(&long), "token split: {m2}");
        let text = String::from_utf8(m.bytes).unwrap();
        for header in [
            "From: ",
            "To: ",
            "Subject: ",
            "Date: ",
            "Message-ID: ",
            "Content-Type: text/plain; charset=utf-8",
        ] {
            assert!(text.contains(header), "missing {header}: {text}");
        }
    }

    #[test]
    fn file_transport_writes_an_eml() {
        let dir = tempfile::tempdir().unwrap();
        let config = MailConfig {
            dir: Some(dir.path().join("mail")),
            ..MailConfig::default()
        };
        let t = MailTransport::from_config(&config, dir.path(), Duration::from_secs(5)).unwrap();
        let m = compose("authd@example.org", "bob@example.org", "Hi", "body".into()).unwrap();
        t.send(&m.from, &m.to, &m.bytes).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
        let path = files[0].as_ref().unwrap().path();
        assert_eq!(path.extension().unwrap(), "eml");
        assert!(std::fs::read_to_string(path)
            .unwrap()
            .contains("Subject: Hi"));
    }
}
