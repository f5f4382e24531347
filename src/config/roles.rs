//! `portal_users`: which uids hold the portal role (authd-web), and the check of its
//! entries. Entries are resolved per request by `crate::authz`, so a user or group
//! created after the daemon started counts at once; here they are only checked for form.

use super::{bad, ConfigError};

/// The key as the file spells it.
const KEY: &str = "portal_users";

/// Each entry is a user name, a numeric uid, or `@group`. Root (by name or uid 0) is
/// refused: root is always an admin, and the portal role is the narrowest there is.
pub fn validate_portal_users(entries: &[String]) -> Result<(), ConfigError> {
    for entry in entries {
        let name = entry.strip_prefix('@').unwrap_or(entry);
        if name.is_empty() {
            return bad(KEY, "an entry is empty (a user name, a uid, or @group)");
        }
        if name.starts_with('-')
            || name.len() > 256
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))
        {
            return bad(
                KEY,
                &format!(
                    "`{}` is not a user name, uid or @group",
                    crate::escape::clipped(entry, 64)
                ),
            );
        }
        if entry == "root" || entry.parse::<u32>() == Ok(0) {
            return bad(KEY, "root is always an admin and cannot be the portal");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(entries: &[&str]) -> Result<(), ConfigError> {
        let owned: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        validate_portal_users(&owned)
    }

    #[test]
    fn names_uids_and_groups_pass() {
        assert!(check(&[]).is_ok());
        assert!(check(&["authd-web", "998", "@authd-web", "web_1.x$"]).is_ok());
    }

    #[test]
    fn empty_odd_and_root_entries_are_refused_naming_the_key() {
        for entries in [
            &[""][..],
            &["@"],
            &["two words"],
            &["-x"],
            &["root"],
            &["0"],
            &["authd-web", "a\nb"],
        ] {
            match check(entries) {
                Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, KEY, "{entries:?}"),
                other => panic!("{entries:?} accepted: {other:?}"),
            }
        }
    }
}
