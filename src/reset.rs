//! Password-reset tokens and the mails around them. A token is 256 random bits, shown
//! only in the mail and stored only as a keyed hash; it expires, is single use, and every
//! password change voids all of an account's tokens.

use crate::config::{ResetConfig, WebConfig};
use crate::vault::{random_bytes, Vault, VaultError};

/// Outstanding tokens kept per account; requesting more drops the oldest.
pub const MAX_OUTSTANDING: usize = 5;

/// A new token (52 base32 characters) and its keyed hash.
pub fn new_token(vault: &Vault) -> Result<(String, [u8; 32]), VaultError> {
    let token = base32::encode(
        base32::Alphabet::Rfc4648 { padding: false },
        &random_bytes::<32>()?,
    );
    let hash = hash(vault, &token);
    Ok((token, hash))
}

/// The keyed hash a token is stored under; input is trimmed and case-insensitive.
pub fn hash(vault: &Vault, token: &str) -> [u8; 32] {
    vault.keyed_hash(b"reset-token", token.trim().to_ascii_uppercase().as_bytes())
}

pub const RESET_SUBJECT: &str = "Reset your password";
pub const CHANGED_SUBJECT: &str = "Your password was changed";

/// The reset mail: the link when one is configured (`[reset] url`, else authd-web's
/// landing page under `[web] public_url`), always the authctl command line, and when it
/// expires.
pub fn reset_body(
    config: &ResetConfig,
    web: &WebConfig,
    account: &str,
    token: &str,
    expires: u64,
) -> String {
    let mut body =
        format!("Someone (hopefully you) asked to reset the password of account {account}.\n\n");
    let link = match &config.url {
        Some(url) => Some(url.replace("{token}", token)),
        None => web.reset_link(token),
    };
    if let Some(link) = link {
        body.push_str(&format!(
            "Follow this link to set a new password:\n\n  {link}\n\nor run:\n\n"
        ));
    } else {
        body.push_str("To set a new password, run:\n\n");
    }
    // The token goes to a prompt, not to the command line, where every user of the host
    // can read it (ps) while authctl runs.
    body.push_str(&format!(
        "  authctl reset-password --token -\n\n\
         and paste this token when it asks for it:\n\n  {token}\n\n\
         It works once and expires at {} (UTC).\n\
         If you did not ask for this, ignore this mail: your password stays as it is.\n",
        crate::time::format(expires)
    ));
    body
}

/// The notice after any password change, so a fraudulent reset is noticed.
pub fn changed_body(account: &str, how: &str, at: u64) -> String {
    format!(
        "The password of account {account} was changed at {} (UTC) ({how}).\n\n\
         If this was not you, contact your administrator at once.\n",
        crate::time::format(at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_unique_and_hash_case_insensitively() {
        let vault = Vault::from_key(&[5u8; 32]);
        let (a, ha) = new_token(&vault).unwrap();
        let (b, _) = new_token(&vault).unwrap();
        assert_eq!(a.len(), 52);
        assert_ne!(a, b);
        assert_eq!(hash(&vault, &format!(" {} ", a.to_lowercase())), ha);
        assert_ne!(hash(&vault, &b), ha, "another token, another hash");
        let other = Vault::from_key(&[6u8; 32]);
        assert_ne!(hash(&other, &a), ha, "another key, another hash");
    }

    #[test]
    fn the_changed_mail_names_the_account_the_time_and_how() {
        let body = changed_body("alice", "reset by mail", 0);
        assert!(body.contains("account alice"), "{body}");
        assert!(body.contains("1970-01-01T00:00:00Z"), "{body}");
        assert!(body.contains("(reset by mail)"), "{body}");
        assert!(body.contains("contact your administrator"), "{body}");
    }

    #[test]
    fn the_mail_has_the_command_the_link_and_the_expiry() {
        let config = ResetConfig {
            url: Some("https://id.example.org/reset?t={token}".into()),
            ..ResetConfig::default()
        };
        let web = WebConfig {
            public_url: Some("https://web.example.org".into()),
            ..WebConfig::default()
        };
        let body = reset_body(&config, &web, "alice", "TOKEN123", 0);
        assert!(
            body.contains("https://id.example.org/reset?t=TOKEN123"),
            "{body}"
        );
        assert!(
            !body.contains("web.example.org"),
            "[reset] url comes first: {body}"
        );
        assert!(body.contains("authctl reset-password --token -\n"));
        assert!(body.contains("asks for it:\n\n  TOKEN123\n"));
        assert!(body.contains("1970-01-01T00:00:00Z"));
        let plain = reset_body(
            &ResetConfig::default(),
            &WebConfig::default(),
            "alice",
            "T",
            0,
        );
        assert!(!plain.contains("link:") && plain.contains("asks for it:\n\n  T\n"));
        let landing = reset_body(&ResetConfig::default(), &web, "alice", "T", 0);
        let link = landing
            .find("https://web.example.org/reset/link?token=T")
            .unwrap();
        assert!(
            link < landing.find("authctl reset-password").unwrap(),
            "{landing}"
        );
    }
}
