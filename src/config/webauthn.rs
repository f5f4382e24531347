//! `[webauthn]`: authd as a WebAuthn relying party for security keys. `rp_id` is what
//! keys bind their credentials to (a key registered under one rp_id never answers for
//! another); `origin` is what the key's answer must say it was made for. Browsers
//! (authd-web) present their page's origin; native clients (authctl, PAM) present the
//! one authd hands them with the options, so the same credential works in both when
//! `origin` is authd-web's.
//!
//! Defaults: from `[web] public_url` when set (its scheme, host and port; rp_id its host),
//! else `https://` and the machine's host name.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Url, Uuid};

use super::{ConfigError, WebConfig};

/// Whether keys must check their user (PIN or fingerprint) as well as presence (touch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserVerification {
    /// Asked for when the key can; not refused without.
    #[default]
    Preferred,
    /// Every registration and assertion must carry it; others are refused.
    Required,
    /// Never asked for: a touch is enough (keys without a PIN).
    Discouraged,
}

impl UserVerification {
    pub fn as_str(self) -> &'static str {
        match self {
            UserVerification::Preferred => "preferred",
            UserVerification::Required => "required",
            UserVerification::Discouraged => "discouraged",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebauthnConfig {
    /// The relying party id: a domain, the origin's host or a parent of it.
    pub rp_id: Option<String>,
    /// The origin assertions must come from, e.g. `https://id.example.org`.
    pub origin: Option<String>,
    pub user_verification: UserVerification,
    /// Key models (AAGUIDs) that may register; empty: any.
    pub allowed_aaguids: Vec<String>,
}

/// The relying party in force: rp_id and origin with the defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub rp_id: String,
    pub origin: Url,
    pub user_verification: UserVerification,
    pub allowed_aaguids: Vec<Uuid>,
}

impl WebauthnConfig {
    pub(super) fn validate(&self, web: &WebConfig) -> Result<(), ConfigError> {
        self.relying_party(web).map(|_| ())
    }

    /// rp_id and origin, the defaults applied; the error names the key at fault.
    pub fn relying_party(&self, web: &WebConfig) -> Result<RelyingParty, ConfigError> {
        // A public URL on an IP address (a local try-out, tests) cannot be a relying
        // party (WebAuthn ids are domains): the host-name default applies then, and keys
        // work from authd-web only once `origin` (or a public URL with a name) is set.
        let named_public_url = web
            .public_url
            .as_ref()
            .filter(|url| Url::parse(url).is_ok_and(|u| u.domain().is_some()));
        let (key, text) = match (&self.origin, named_public_url) {
            (Some(origin), _) => ("webauthn.origin", origin.clone()),
            (None, Some(url)) => ("web.public_url", url.clone()),
            (None, None) => ("webauthn.origin", format!("https://{}", host_name())),
        };
        let url = Url::parse(&text).map_err(|_| invalid(key, "is not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") || url.domain().is_none() {
            return Err(invalid(
                key,
                "must be an http(s) origin with a domain name (not an IP address)",
            ));
        }
        // The origin alone: scheme, host and port.
        let origin = match Url::parse(&url.origin().ascii_serialization()) {
            Ok(origin) => origin,
            Err(_) => return Err(invalid(key, "has no origin")),
        };
        let host = origin.domain().unwrap_or_default().to_string();
        let rp_id = self.rp_id.clone().unwrap_or(host.clone());
        if rp_id.is_empty() || !(host == rp_id || host.ends_with(&format!(".{rp_id}"))) {
            return Err(invalid(
                "webauthn.rp_id",
                &format!("must be the origin's host `{host}` or a parent domain of it"),
            ));
        }
        let allowed_aaguids = self
            .allowed_aaguids
            .iter()
            .map(|text| Uuid::parse_str(text.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                invalid(
                    "webauthn.allowed_aaguids",
                    "must list AAGUIDs such as \"cb69481e-8ff7-4039-93ec-0a2729a154a8\"",
                )
            })?;
        Ok(RelyingParty {
            rp_id,
            origin,
            user_verification: self.user_verification,
            allowed_aaguids,
        })
    }
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.to_string(),
    }
}

/// The machine's host name, lower case; `localhost` when it has none.
fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(webauthn: &str, public_url: Option<&str>) -> Result<RelyingParty, ConfigError> {
        let config: WebauthnConfig = toml::from_str(webauthn).unwrap();
        let web = WebConfig {
            public_url: public_url.map(str::to_string),
            ..WebConfig::default()
        };
        config.relying_party(&web)
    }

    #[test]
    fn the_defaults_come_from_the_public_url_then_the_host_name() {
        let r = rp("", Some("https://id.example.org:8443/auth/")).unwrap();
        assert_eq!(r.origin.as_str(), "https://id.example.org:8443/");
        assert_eq!(r.rp_id, "id.example.org");
        assert_eq!(r.user_verification, UserVerification::Preferred);
        let r = rp("", None).unwrap();
        assert_eq!(r.origin.scheme(), "https");
        assert_eq!(r.rp_id, host_name());
        // A public URL on an IP address (a try-out on 127.0.0.1) names no relying party:
        // the host name stands in, and the daemon still starts.
        let r = rp("", Some("http://127.0.0.1:8080")).unwrap();
        assert_eq!(r.rp_id, host_name());
    }

    #[test]
    fn an_rp_id_must_cover_the_origin() {
        let r = rp(
            "rp_id = \"example.org\"\norigin = \"https://id.example.org\"",
            None,
        );
        assert_eq!(r.unwrap().rp_id, "example.org");
        for bad in ["other.org", "xample.org", "id.example.org.evil"] {
            let text = format!("rp_id = \"{bad}\"\norigin = \"https://id.example.org\"");
            assert!(matches!(
                rp(&text, None),
                Err(ConfigError::Invalid {
                    key: "webauthn.rp_id",
                    ..
                })
            ));
        }
        for origin in ["id.example.org", "https://10.0.0.1", "ftp://id.example.org"] {
            let text = format!("origin = \"{origin}\"");
            assert!(matches!(
                rp(&text, None),
                Err(ConfigError::Invalid {
                    key: "webauthn.origin",
                    ..
                })
            ));
        }
        let text = "user_verification = \"sometimes\"";
        assert!(toml::from_str::<WebauthnConfig>(text).is_err());
        let text = "allowed_aaguids = [\"0fb9bcbc-a0d4-4042-bbb0-559bc1631e28\"]";
        assert_eq!(rp(text, None).unwrap().allowed_aaguids.len(), 1);
        assert!(matches!(
            rp("allowed_aaguids = [\"yubikey\"]", None),
            Err(ConfigError::Invalid {
                key: "webauthn.allowed_aaguids",
                ..
            })
        ));
    }
}
