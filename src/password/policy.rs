//! The password policy: length bounds, not containing the account name, and a zxcvbn
//! strength score. A rejected password gets a message that says why.

use crate::config::PasswordConfig;
use crate::error::Error;

/// Accept `password` for account `name`, or say what is wrong with it.
pub fn check(config: &PasswordConfig, name: &str, password: &str) -> Result<(), Error> {
    let weak = |why: String| Err(Error::WeakPassword(why));
    let chars = password.chars().count();
    if chars < config.min_length {
        return weak(format!(
            "it must be at least {} characters long",
            config.min_length
        ));
    }
    if chars > config.max_length {
        return weak(format!(
            "it must be at most {} characters long",
            config.max_length
        ));
    }
    if password.to_lowercase().contains(name) {
        return weak("it must not contain the account name".into());
    }
    let estimate = zxcvbn::zxcvbn(password, &[name]);
    let score = u8::from(estimate.score());
    if score < config.min_score {
        let mut why = format!(
            "it is too easy to guess (strength {score} of 4, at least {} needed)",
            config.min_score
        );
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                why.push_str(&format!(": {}", crate::words::clause(&warning.to_string())));
            }
            if let Some(hint) = feedback.suggestions().first() {
                why.push_str(&format!("; {}", crate::words::clause(&hint.to_string())));
            }
        }
        return weak(why);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(name: &str, pw: &str) -> String {
        match check(&PasswordConfig::default(), name, pw) {
            Err(Error::WeakPassword(why)) => why,
            other => panic!("expected a weak password, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_strong_password() {
        check(
            &PasswordConfig::default(),
            "alice",
            "Correct-Horse-Battery-9",
        )
        .unwrap();
    }

    #[test]
    fn says_why_a_password_is_refused() {
        assert!(reason("alice", "").contains("at least 10"));
        assert!(reason("alice", "short").contains("at least 10"));
        assert!(reason("alice", &"x".repeat(257)).contains("at most 256"));
        assert!(reason("alice", "xX-alice-Battery-Staple-9").contains("account name"));
        assert!(reason("alice", "password123").contains("too easy to guess"));
        assert!(reason("alice", "aaaaaaaaaaaa").contains("too easy to guess"));
        // zxcvbn's sentences continue ours: no ".;" and no capital after a colon.
        let why = reason("alice", "password123");
        assert!(!why.contains(".;") && !why.contains(": T"), "{why}");
        assert!(why.contains("; add another word"), "{why}");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let config = PasswordConfig {
            min_length: 4,
            min_score: 0,
            ..PasswordConfig::default()
        };
        check(&config, "alice", "äöüß").unwrap();
    }
}
