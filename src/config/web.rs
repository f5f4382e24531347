//! `[web]`: where authd-web, the browser front end, is reached, so mails can link to it;
//! and how long its portal sessions and their proofs last (`crate::portal::Limits`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::{bad, ConfigError};
use crate::portal::Limits;

/// The longest `session_lifetime`: a week (authd-web's session cookie lasts this long).
pub const MAX_SESSION_LIFETIME: u64 = 7 * 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// authd-web's public URL (e.g. `https://id.example.org`); when set, reset mails
    /// link to its landing page, `{public_url}/reset/link?token=...`.
    pub public_url: Option<String>,
    /// Seconds a portal session may go unused before it ends.
    #[serde(deserialize_with = "seconds")]
    pub session_idle: u64,
    /// Seconds after its sign-in a portal session ends, however busy.
    #[serde(deserialize_with = "seconds")]
    pub session_lifetime: u64,
    /// Seconds a proof (the sign-in, or the password again) allows sensitive acts.
    #[serde(deserialize_with = "seconds")]
    pub fresh_proof: u64,
}

/// Seconds: a whole number (`900`), or a duration as the other keys take it (`"15m"`).
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Seconds;
    impl Visitor<'_> for Seconds {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number of seconds or a duration such as \"15m\"")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is not a number of seconds")))
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
            let d = humantime::parse_duration(text)
                .map_err(|e| E::custom(format!("`{text}` is not a duration ({e})")))?;
            match d.subsec_nanos() {
                0 => Ok(d.as_secs()),
                _ => Err(E::custom(format!("`{text}` is not whole seconds"))),
            }
        }
    }
    d.deserialize_any(Seconds)
}

impl Default for WebConfig {
    fn default() -> Self {
        let limits = Limits::default();
        WebConfig {
            public_url: None,
            session_idle: limits.idle,
            session_lifetime: limits.lifetime,
            fresh_proof: limits.fresh,
        }
    }
}

impl WebConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.validate_limits()?;
        let Some(url) = &self.public_url else {
            return Ok(());
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let Some(rest) = rest else {
            return bad(
                "web.public_url",
                "must be an absolute http:// or https:// URL",
            );
        };
        let host = rest.split('/').next().unwrap_or("");
        if host.is_empty() || url.contains(['?', '#', '@']) || url.chars().any(char::is_whitespace)
        {
            return bad(
                "web.public_url",
                "must name a host, with no user, query, fragment or spaces",
            );
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("web.session_idle", self.session_idle),
            ("web.session_lifetime", self.session_lifetime),
            ("web.fresh_proof", self.fresh_proof),
        ] {
            if value == 0 {
                return bad(key, "must be at least 1 (seconds)");
            }
        }
        if self.session_lifetime > MAX_SESSION_LIFETIME {
            return bad(
                "web.session_lifetime",
                "must be at most 604800 seconds (a week)",
            );
        }
        if self.session_idle > self.session_lifetime {
            return bad(
                "web.session_idle",
                "must not be longer than web.session_lifetime",
            );
        }
        if self.fresh_proof > self.session_lifetime {
            return bad(
                "web.fresh_proof",
                "must not be longer than web.session_lifetime",
            );
        }
        Ok(())
    }

    /// The portal session limits these keys set.
    pub fn session_limits(&self) -> Limits {
        Limits {
            idle: self.session_idle,
            lifetime: self.session_lifetime,
            fresh: self.fresh_proof,
        }
    }

    /// The reset landing page's link for `token`, when a public URL is set.
    pub fn reset_link(&self, token: &str) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|url| format!("{}/reset/link?token={token}", url.trim_end_matches('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_goes_under_the_public_url() {
        let web = WebConfig {
            public_url: Some("https://id.example.org/auth/".into()),
            ..WebConfig::default()
        };
        assert_eq!(
            web.reset_link("TOK").as_deref(),
            Some("https://id.example.org/auth/reset/link?token=TOK")
        );
        assert_eq!(WebConfig::default().reset_link("TOK"), None);
    }

    #[test]
    fn the_session_limits_default_to_fifteen_minutes_eight_hours_five_minutes() {
        let limits = WebConfig::default().session_limits();
        assert_eq!(limits, Limits::default());
        assert_eq!(
            (limits.idle, limits.lifetime, limits.fresh),
            (900, 28800, 300)
        );
    }
}
