//! Reading a pam_google_authenticator file (`~/.google_authenticator`), so a user keeps
//! the phone they enrolled there: the base32 TOTP secret on the first line, option lines
//! that start with `" ` (`RATE_LIMIT`, `WINDOW_SIZE`, `DISALLOW_REUSE`, `TOTP_AUTH`,
//! `HOTP_COUNTER`, `STEP_SIZE`), and 8-digit scratch codes, one per line.
//!
//! Pure parsing: nothing here seals, stores or logs, and no error message quotes the
//! secret or a scratch code (only line numbers and option names).

use zeroize::Zeroizing;

use crate::totp;

/// Shortest secret accepted: 80 bits, what google-authenticator wrote before 2018.
const MIN_SECRET: usize = 10;
/// Longest secret accepted (RFC 4226 allows more; no app needs it).
const MAX_SECRET: usize = 64;
/// The most scratch codes google-authenticator writes (`-e 10`).
pub const MAX_SCRATCH_CODES: usize = 10;

/// What a file holds, as authd uses it.
pub struct GoogleAuthenticatorFile {
    pub secret: Zeroizing<Vec<u8>>,
    /// Each exactly 8 ASCII digits, without duplicates, in file order.
    pub scratch_codes: Vec<Zeroizing<String>>,
    /// `STEP_SIZE`, when the file sets one (google-authenticator's default is 30).
    pub step_size: Option<u64>,
    /// The newest time step `DISALLOW_REUSE` recorded as used, if any: codes up to it
    /// were seen already and stay refused.
    pub last_step: Option<u64>,
    /// Options authd's own policy replaces, by name (`RATE_LIMIT`: `[lockout]`;
    /// `WINDOW_SIZE`: `[totp] skew`), and options it does not know.
    pub ignored: Vec<String>,
}

/// Why a file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Counter-based (HOTP) mode: authd has no HOTP yet.
    #[error(
        "the file is set up for counter-based codes (HOTP_COUNTER, google-authenticator -c); \
         authd supports time-based codes only: enrol the app again with `authctl enable-totp`"
    )]
    Hotp,
    #[error("not a google-authenticator file: line {line}: {reason}")]
    Malformed { line: usize, reason: String },
}

fn malformed(line: usize, reason: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        line,
        reason: reason.into(),
    }
}

/// Parse the whole file. A counter-mode file is refused as such whatever else it holds.
pub fn parse(text: &str) -> Result<GoogleAuthenticatorFile, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    if lines
        .iter()
        .any(|l| l.trim_end().starts_with("\" HOTP_COUNTER"))
    {
        return Err(ParseError::Hotp);
    }
    let first = lines.first().map(|l| l.trim_end()).unwrap_or_default();
    if first.is_empty() {
        return Err(malformed(1, "the first line must hold the base32 secret"));
    }
    let secret = Zeroizing::new(totp::base32_decode(first).ok_or_else(|| {
        malformed(
            1,
            "the secret is not base32 (A-Z and 2-7, as google-authenticator writes it)",
        )
    })?);
    if !(MIN_SECRET..=MAX_SECRET).contains(&secret.len()) {
        return Err(malformed(
            1,
            format!(
                "the secret has {} bits; {} to {} are accepted",
                secret.len() * 8,
                MIN_SECRET * 8,
                MAX_SECRET * 8
            ),
        ));
    }
    let mut file = GoogleAuthenticatorFile {
        secret,
        scratch_codes: Vec::new(),
        step_size: None,
        last_step: None,
        ignored: Vec::new(),
    };
    for (i, raw) in lines.iter().enumerate().skip(1) {
        let number = i + 1;
        let line = raw.trim_end();
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix("\" ") {
            Some(option) => read_option(&mut file, number, option)?,
            None => read_scratch_code(&mut file, number, line)?,
        }
    }
    Ok(file)
}

fn read_option(
    file: &mut GoogleAuthenticatorFile,
    number: usize,
    option: &str,
) -> Result<(), ParseError> {
    let mut words = option.split_ascii_whitespace();
    let name = words.next().unwrap_or_default();
    match name {
        "TOTP_AUTH" => {}
        "STEP_SIZE" => {
            let size = words
                .next()
                .and_then(|w| w.parse::<u64>().ok())
                .filter(|s| (1..=60).contains(s))
                .ok_or_else(|| malformed(number, "STEP_SIZE needs a number of seconds, 1 to 60"))?;
            file.step_size = Some(size);
        }
        "DISALLOW_REUSE" => {
            // The time steps used so far follow the name.
            for word in words {
                let step = word.parse::<u64>().map_err(|_| {
                    malformed(number, "DISALLOW_REUSE is followed by time steps only")
                })?;
                file.last_step = file.last_step.max(Some(step));
            }
        }
        "RATE_LIMIT" | "WINDOW_SIZE" => file.ignored.push(name.to_string()),
        "" => return Err(malformed(number, "an option line without an option")),
        other => {
            let shown: String = other
                .chars()
                .take(32)
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            file.ignored.push(format!("{shown} (unknown)"));
        }
    }
    Ok(())
}

fn read_scratch_code(
    file: &mut GoogleAuthenticatorFile,
    number: usize,
    line: &str,
) -> Result<(), ParseError> {
    if line.len() != 8 || !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(
            number,
            "expected an option line (\" NAME) or an 8-digit scratch code",
        ));
    }
    if file.scratch_codes.iter().any(|c| c.as_str() == line) {
        return Ok(());
    }
    if file.scratch_codes.len() == MAX_SCRATCH_CODES {
        return Err(malformed(
            number,
            format!("more than {MAX_SCRATCH_CODES} scratch codes"),
        ));
    }
    file.scratch_codes.push(Zeroizing::new(line.to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `google-authenticator -t -d -f -C -r 3 -R 30 -w 3 -e 3` writes it.
    const TOTP_FILE: &str = "GSDPYSGM7GP2ZWYFFESHUYASCU\n\" RATE_LIMIT 3 30\n\
        \" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n66570032\n97790318\n52012835\n";

    #[test]
    fn a_totp_file_gives_its_secret_codes_and_the_options_authd_overrides() {
        let file = parse(TOTP_FILE).unwrap();
        assert_eq!(totp::base32(&file.secret), "GSDPYSGM7GP2ZWYFFESHUYASCU");
        let codes: Vec<&str> = file.scratch_codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, ["66570032", "97790318", "52012835"]);
        assert_eq!(file.ignored, ["RATE_LIMIT", "WINDOW_SIZE"]);
        assert_eq!((file.step_size, file.last_step), (None, None));
    }

    #[test]
    fn used_steps_and_the_step_size_are_read() {
        let text = "GSDPYSGM7GP2ZWYFFESHUYASCU\n\" STEP_SIZE 60\n\
                    \" DISALLOW_REUSE 29000001 29000003 29000002\n\" FOO 1\n";
        let file = parse(text).unwrap();
        assert_eq!(file.step_size, Some(60));
        assert_eq!(file.last_step, Some(29000003));
        assert_eq!(file.ignored, ["FOO (unknown)"]);
        assert!(file.scratch_codes.is_empty());
    }

    #[test]
    fn a_counter_mode_file_is_refused_as_such() {
        let text = "SG3MZ4KODWDQK4OTUGHXNYLLUM\n\" HOTP_COUNTER 1\n80210700\n";
        assert_eq!(parse(text).err(), Some(ParseError::Hotp));
    }

    #[test]
    fn malformed_files_name_the_line_and_never_the_secret() {
        let cases = [
            ("", 1),
            ("not base32!\n", 1),
            ("GSDPYSGM\n", 1), // 40 bits
            ("GSDPYSGM7GP2ZWYFFESHUYASCU\n1234567\n", 2),
            ("GSDPYSGM7GP2ZWYFFESHUYASCU\n\" TOTP_AUTH\nhello\n", 3),
            ("GSDPYSGM7GP2ZWYFFESHUYASCU\n\" STEP_SIZE x\n", 2),
            ("GSDPYSGM7GP2ZWYFFESHUYASCU\n\" \n", 2),
        ];
        for (text, line) in cases {
            match parse(text) {
                Err(ParseError::Malformed { line: l, reason }) => {
                    assert_eq!(l, line, "{text:?}: {reason}");
                    assert!(!reason.contains("GSDP"), "{reason}");
                }
                Err(e) => panic!("{text:?}: {e}"),
                Ok(_) => panic!("{text:?} was accepted"),
            }
        }
        let many: String = (0..11).map(|i| format!("{:08}\n", 10000000 + i)).collect();
        let text = format!("GSDPYSGM7GP2ZWYFFESHUYASCU\n{many}");
        assert!(matches!(
            parse(&text),
            Err(ParseError::Malformed { line: 12, .. })
        ));
    }
}
