//! SIGHUP: take a freshly loaded configuration while running. What the running daemon
//! can change in place (lockout, password policy, TOTP skew, rate limits, timeouts, the
//! admin group, the mail and SMS transports, the portal session limits, ...) takes effect for the next request or
//! delivery attempt; what was fixed at start (the socket, the state directory, the
//! connection limit, the cache, the argon2 parameters and hash workers) keeps its
//! running value and is named as needing a restart. Connections stay open throughout.

use std::sync::Arc;

use super::Service;
use crate::config::{Config, ConfigError};
use crate::outbox::Settings;

/// What a reload did, key by key.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reloaded {
    /// Changed in the file and now in effect.
    pub applied: Vec<&'static str>,
    /// Changed in the file, but the running value stays until a restart.
    pub need_restart: Vec<&'static str>,
}

/// The configuration to run with after `loaded` was read: every live key from `loaded`,
/// every other key at its running value; and what changed, key by key.
pub fn reconcile(running: &Config, mut loaded: Config) -> (Config, Reloaded) {
    let mut out = Reloaded::default();
    let mut next = running.clone();
    // `loaded` ends up holding the running value of every fixed key, so that comparing it
    // with `next` finds any key that is named in neither list.
    macro_rules! fixed {
        ($key:literal, $($field:tt)+) => {
            if running.$($field)+ != loaded.$($field)+ {
                out.need_restart.push($key);
                loaded.$($field)+ = running.$($field)+.clone();
            }
        };
    }
    macro_rules! live {
        ($key:literal, $($field:tt)+) => {
            if running.$($field)+ != loaded.$($field)+ {
                out.applied.push($key);
                next.$($field)+ = loaded.$($field)+.clone();
            }
        };
    }
    fixed!("socket", socket);
    fixed!("state_dir", state_dir);
    fixed!("max_connections", max_connections);
    fixed!("max_connections_per_uid", max_connections_per_uid);
    fixed!("cache_capacity_mib", cache_capacity_mib);
    fixed!("store", store);
    fixed!("password.argon2_m_kib", password.argon2_m_kib);
    fixed!("password.argon2_t", password.argon2_t);
    fixed!("password.argon2_p", password.argon2_p);
    fixed!("password.hash_workers", password.hash_workers);
    live!("admin_group", admin_group);
    live!("portal_users", portal_users);
    live!("idle_timeout", idle_timeout);
    live!("hello_timeout", hello_timeout);
    live!("frame_timeout", frame_timeout);
    live!("password.min_length", password.min_length);
    live!("password.max_length", password.max_length);
    live!("password.min_score", password.min_score);
    live!("password.max_age", password.max_age);
    live!("lockout", lockout);
    live!("totp", totp);
    live!("recovery", recovery);
    live!("reset", reset);
    live!("mail", mail);
    live!("sms.transport", sms.transport);
    live!("sms.dir", sms.dir);
    live!("sms.command", sms.command);
    live!("sms.countries", sms.countries);
    live!("sms.code_ttl", sms.code_ttl);
    live!("sms.min_interval", sms.min_interval);
    live!("sms.daily_limit", sms.daily_limit);
    live!("outbox", outbox);
    live!("web.session_idle", web.session_idle);
    live!("web.session_lifetime", web.session_lifetime);
    live!("web.fresh_proof", web.fresh_proof);
    // A key added to the config but to neither list above keeps its running value and is
    // reported, never silently half-applied.
    if next != loaded {
        out.need_restart.push("(a key reload does not know)");
    }
    (next, out)
}

impl Service {
    /// Take `loaded` (already validated) as the configuration for the next requests,
    /// keeping the running value of every key that needs a restart. New message
    /// transports are built first: if one cannot be set up, nothing changes.
    pub fn reload(&self, loaded: Config) -> Result<Reloaded, ConfigError> {
        let running = self.config();
        let (next, outcome) = reconcile(&running, loaded);
        if outcome.applied.is_empty() {
            return Ok(outcome);
        }
        let messages_changed =
            next.mail != running.mail || next.sms != running.sms || next.outbox != running.outbox;
        if messages_changed {
            self.outbox.reconfigure(Settings::from_config(&next)?);
        }
        self.set_config(Arc::new(next));
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_keys_apply_and_fixed_keys_keep_their_running_value() {
        let running = Config::default();
        let mut loaded = running.clone();
        loaded.lockout.max_failures = 2;
        loaded.password.min_length = 12;
        loaded.password.argon2_t = 9;
        loaded.max_connections = 7;
        loaded.sms.countries = vec!["DE".into()];
        loaded.web.session_idle = 60;
        let (next, out) = reconcile(&running, loaded);
        assert_eq!(
            out.applied,
            [
                "password.min_length",
                "lockout",
                "sms.countries",
                "web.session_idle"
            ]
        );
        assert_eq!(next.web.session_limits().idle, 60);
        assert_eq!(out.need_restart, ["max_connections", "password.argon2_t"]);
        assert_eq!(next.lockout.max_failures, 2);
        assert_eq!(next.password.min_length, 12);
        assert_eq!(next.password.argon2_t, running.password.argon2_t);
        assert_eq!(next.max_connections, running.max_connections);
    }

    #[test]
    fn an_unchanged_file_changes_nothing() {
        let running = Config::default();
        let (next, out) = reconcile(&running, running.clone());
        assert_eq!(out, Reloaded::default());
        assert_eq!(next, running);
    }
}
