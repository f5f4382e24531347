//! `[web]`: where authd-web, the browser front end, is reached, so mails can link to it.

use serde::Deserialize;

use super::{bad, ConfigError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// authd-web's public URL (e.g. `https://id.example.org`); when set, reset mails
    /// link to its landing page, `{public_url}/reset/link?token=...`.
    pub public_url: Option<String>,
}

impl WebConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
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
        };
        assert_eq!(
            web.reset_link("TOK").as_deref(),
            Some("https://id.example.org/auth/reset/link?token=TOK")
        );
        assert_eq!(WebConfig::default().reset_link("TOK"), None);
    }
}
