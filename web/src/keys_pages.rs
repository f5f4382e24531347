//! Security keys' markup: the settings section (the list, adding one, removing one),
//! the registration page and the key step of the sign-in code page. The WebAuthn part
//! is done by the one embedded script, `/static/keys.js` ([`KEYS_JS`]): it reads the
//! options from `data-options` on `#key-ceremony`, asks the authenticator, and posts
//! its answer in the hidden `credential` field of the form the box names. Without
//! JavaScript `#key-nojs` says a key needs it, and every other form works.
//!
//! Test contract: `#add-key-form` (`key_name` in `#key-name`, `password`, `code`),
//! `#add-key` (button), `#keys` (one `li` per key: name, created, last used),
//! `#remove-key-form` (`id`, `password`, `code`); the registration page
//! `#add-key-start` (button) and `#finish-key-form`; the sign-in code page
//! `#key-signin` (button) and `#key-form`; a fresh proof by key: `#prove-key-form`
//! (`password` in `#prove-key-password`, button `#prove-key`), then `#prove-key-start`
//! (button) and `#prove-key-finish-form`.

use authd_proto::protocol::KeyInfo;
use maud::{html, Markup};

use crate::args::PublicUrl;
use crate::pages::{layout, message, Message};

pub const KEYS_JS: &str = include_str!("../assets/keys.js");

/// The password (and a code, `with_code`) a sensitive act on keys needs; `id` prefixes
/// the inputs' ids.
fn proof_fields(id: &str, with_code: bool) -> Markup {
    html! {
        div .field {
            label for={(id) "-password"} { "Current password" }
            input id={(id) "-password"} type="password" name="password"
                autocomplete="current-password" aria-describedby={(id) "-password-hint"};
            p id={(id) "-password-hint"} .hint {
                "Needed when you signed in more than a few minutes ago."
            }
        }
        @if with_code {
            div .field {
                label for={(id) "-code"} { "Verification code" }
                input id={(id) "-code"} type="text" name="code" autocomplete="one-time-code"
                    aria-describedby={(id) "-code-hint"};
                p id={(id) "-code-hint"} .hint {
                    "Your verification is on: the code your app or SMS shows now, or a recovery code."
                }
            }
        }
    }
}

/// A date from unix seconds, as `YYYY-MM-DD` (UTC).
pub fn day(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The settings' security-key section: the keys, a form to add one, one to remove one.
pub fn section(
    public: &PublicUrl,
    csrf: &str,
    keys: &[KeyInfo],
    with_code: bool,
    note: Option<&Message>,
) -> Markup {
    html! {
        section aria-labelledby="keys-title" {
            h2 #keys-title { "Security keys" }
            @if let Some(note) = note { (message(note)) }
            ul #keys {
                @for key in keys {
                    li data-id=(key.id) {
                        strong { (key.name) }
                        " (" (key.id) "), added " (day(key.created)) ", "
                        @match key.last_used {
                            Some(at) => { "last used " (day(at)) }
                            None => { "never used" }
                        }
                    }
                }
            }
            @if keys.is_empty() { p .hint { "No security key yet." } }
            form #add-key-form method="post" action=(public.path("/settings/keys")) {
                input type="hidden" name="csrf" value=(csrf);
                div .field {
                    label for="key-name" { "Name for the new key" }
                    input #key-name type="text" name="key_name" maxlength="64" required
                        aria-describedby="key-name-hint";
                    p #key-name-hint .hint {
                        "For example \"blue USB key\". Adding a key needs JavaScript."
                    }
                }
                (proof_fields("add-key", with_code))
                button #add-key type="submit" { "Add a security key" }
            }
            @if !keys.is_empty() {
                form #remove-key-form method="post" action=(public.path("/settings/keys/remove")) {
                    input type="hidden" name="csrf" value=(csrf);
                    div .field {
                        label for="remove-key-id" { "Key to remove" }
                        select #remove-key-id name="id" {
                            @for key in keys { option value=(key.id) { (key.name) " (" (key.id) ")" } }
                        }
                    }
                    (proof_fields("remove-key", with_code))
                    button #remove-key type="submit" { "Remove the key" }
                }
                form #prove-key-form method="post" action=(public.path("/settings/prove-key")) {
                    input type="hidden" name="csrf" value=(csrf);
                    p .hint {
                        "Signed in more than a few minutes ago? Confirm it is you with your \
                         password and a touch of your key; then change your settings without \
                         a code. This needs JavaScript."
                    }
                    div .field {
                        label for="prove-key-password" { "Current password" }
                        input #prove-key-password type="password" name="password"
                            autocomplete="current-password" required;
                    }
                    button #prove-key type="submit" { "Confirm with your security key" }
                }
            }
        }
    }
}

/// The box the script reads: the options, which form to post, which button starts it.
fn ceremony(public: &PublicUrl, kind: &str, options: &str, form: &str, button: &str) -> Markup {
    html! {
        div #key-ceremony data-kind=(kind) data-options=(options) data-form=(form)
            data-button=(button) {
            p #key-nojs role="alert" {
                "A security key needs JavaScript (and a browser that supports security keys)."
            }
            p #key-note role="alert" hidden {}
        }
        script src=(public.path("/static/keys.js")) defer {}
    }
}

/// The registration under way: touch the key, then the answer is posted.
pub fn register(
    public: &PublicUrl,
    csrf: &str,
    key_name: &str,
    challenge: &str,
    options: &str,
) -> Markup {
    let body = html! {
        p { "Insert your security key \"" (key_name) "\", press the button, then touch the key." }
        (settings_ceremony(public, csrf, challenge, &Ceremony {
            kind: "create",
            options,
            form: "finish-key-form",
            action: "/settings/keys/finish",
            button: "add-key-start",
            label: "Use the security key",
        }))
    };
    layout(public, "Add a security key", body)
}

/// A key ceremony of the settings, and where its answer goes.
struct Ceremony<'a> {
    kind: &'a str,
    options: &'a str,
    form: &'a str,
    action: &'a str,
    button: &'a str,
    label: &'a str,
}

/// The form a settings ceremony posts (with its challenge), the box the script reads,
/// and the way back.
fn settings_ceremony(public: &PublicUrl, csrf: &str, challenge: &str, c: &Ceremony) -> Markup {
    html! {
        form id=(c.form) method="post" action=(public.path(c.action)) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="challenge" value=(challenge);
            input type="hidden" name="credential" value="";
            button id=(c.button) type="button" hidden { (c.label) }
        }
        (ceremony(public, c.kind, c.options, c.form, c.button))
        p { a href=(public.path("/settings")) { "Back to security settings" } }
    }
}

/// A proof by key under way (`/settings/prove-key`): touch the key, then the answer is
/// posted.
pub fn prove(public: &PublicUrl, csrf: &str, challenge: &str, options: &str) -> Markup {
    let body = html! {
        p { "Press the button, then touch your security key." }
        (settings_ceremony(public, csrf, challenge, &Ceremony {
            kind: "get",
            options,
            form: "prove-key-finish-form",
            action: "/settings/prove-key/finish",
            button: "prove-key-start",
            label: "Confirm with your security key",
        }))
    };
    layout(public, "Confirm with your security key", body)
}

/// The key step on the sign-in code page (the code form stays below as the fallback).
pub fn signin_step(public: &PublicUrl, csrf: &str, options: &str) -> Markup {
    html! {
        section aria-labelledby="key-signin-title" {
            h2 #key-signin-title { "Security key" }
            form #key-form method="post" action=(public.path("/login/key")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="credential" value="";
                button #key-signin type="button" hidden { "Sign in with your security key" }
            }
            (ceremony(public, "get", options, "key-form", "key-signin"))
            p .hint { "Or enter a verification code:" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_calendar_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(951_782_400), "2000-02-29");
        assert_eq!(day(1_764_460_800), "2025-11-30");
    }
}
