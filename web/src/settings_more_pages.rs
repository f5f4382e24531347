//! The rest of the security settings' forms: turn the second factor off (with a warning
//! and a proof), new recovery codes (with a proof), and the portal sessions, each with a
//! sign-out button, and "sign out everywhere".
//!
//! Test contract: `#disable-2fa-form` (`password`, `code`), `#regenerate-codes-form`
//! (`password`, `code`), `#sessions` (a table; the row of this browser's session has
//! `.current`), `#sign-out-everywhere` (button).

use authd_proto::protocol::SessionInfo;
use authd_proto::time;
use maud::{html, Markup};

use crate::args::PublicUrl;
use crate::pages::{message, Message};

/// The password and a current code, the proof both sensitive forms carry.
fn proof_fields(prefix: &str) -> Markup {
    html! {
        div .field {
            label for={(prefix) "-password"} { "Password" }
            input id={(prefix) "-password"} type="password" name="password"
                autocomplete="current-password" required;
        }
        div .field {
            label for={(prefix) "-code"} { "Verification code" }
            input id={(prefix) "-code"} type="text" name="code" autocomplete="one-time-code"
                required aria-describedby={(prefix) "-code-hint"};
            p id={(prefix) "-code-hint"} .hint {
                "The code your app or SMS shows now, or a recovery code."
            }
        }
    }
}

/// Turn second factors off: a warning, then the proof; with both the app and SMS on,
/// the choice of which (`method`: `app`, `sms` or `all`).
pub fn disable_form(public: &PublicUrl, csrf: &str, both: bool, note: Option<&Message>) -> Markup {
    html! {
        section aria-labelledby="disable-2fa-title" {
            h2 #disable-2fa-title { "Turn off two-step verification" }
            @if let Some(note) = note { (message(note)) }
            p .warning {
                strong { "Warning: " }
                "without two-step verification, anyone who learns your password can sign in \
                 as you. This lowers the protection of your account."
            }
            form #disable-2fa-form method="post" action=(public.path("/settings/2fa/disable")) {
                input type="hidden" name="csrf" value=(csrf);
                @if both {
                    fieldset {
                        legend { "Which verification to turn off" }
                        @for (value, label, checked) in CHOICES {
                            div .choice {
                                input id={"disable-" (value)} type="radio" name="method"
                                    value=(value) checked[checked];
                                label for={"disable-" (value)} { (label) }
                            }
                        }
                    }
                }
                (proof_fields("disable"))
                button type="submit" { "Turn off two-step verification" }
            }
        }
    }
}

/// The choices of `#disable-2fa-form` when both factors are on: value, label, checked.
const CHOICES: [(&str, &str, bool); 3] = [
    ("app", "The authenticator app only (SMS stays on)", false),
    ("sms", "SMS only (the app stays on)", false),
    ("all", "Both: all two-step verification", true),
];

/// Replace the recovery codes: the proof, then the new codes shown once.
pub fn regenerate_form(public: &PublicUrl, csrf: &str, note: Option<&Message>) -> Markup {
    html! {
        section aria-labelledby="regenerate-title" {
            h2 #regenerate-title { "Recovery codes" }
            @if let Some(note) = note { (message(note)) }
            p { "New recovery codes replace the old ones: the old ones stop working." }
            form #regenerate-codes-form method="post"
                action=(public.path("/settings/recovery-codes")) {
                input type="hidden" name="csrf" value=(csrf);
                (proof_fields("regenerate"))
                button type="submit" { "Get new recovery codes" }
            }
        }
    }
}

/// The account's portal sessions, this browser's marked, each with a sign-out button.
pub fn sessions(
    public: &PublicUrl,
    csrf: &str,
    sessions: &[SessionInfo],
    current: Option<u64>,
) -> Markup {
    let action = public.path("/settings/sessions/end");
    html! {
        section aria-labelledby="sessions-title" {
            h2 #sessions-title { "Where you are signed in" }
            table #sessions {
                thead { tr {
                    th scope="col" { "Session" } th scope="col" { "Signed in" }
                    th scope="col" { "Last used" } th scope="col" { "Ends" }
                    th scope="col" { "Sign out" }
                } }
                tbody {
                    @for s in sessions {
                        @let here = current == Some(s.id);
                        tr .current[here] {
                            td data-label="Session" { (s.id) @if here { " (this browser)" } }
                            td data-label="Signed in" { (time::format(s.created)) }
                            td data-label="Last used" { (time::format(s.last_used)) }
                            td data-label="Ends" { (time::format(s.expires)) }
                            td {
                                form method="post" action=(action) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="id" value=(s.id);
                                    button type="submit" aria-label={"Sign out session " (s.id)} {
                                        "Sign out"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="id" value="all";
                button #sign-out-everywhere type="submit" { "Sign out everywhere" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_keep_the_test_contract() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let off = disable_form(&public, "t", false, None).into_string();
        assert!(off.contains(r#"<form id="disable-2fa-form" method="post""#));
        assert!(!off.contains(r#"name="method""#));
        let choose = disable_form(&public, "t", true, None).into_string();
        for value in ["app", "sms", "all"] {
            let radio =
                format!(r#"id="disable-{value}" type="radio" name="method" value="{value}""#);
            assert!(choose.contains(&radio), "{value}");
            assert!(choose.contains(&format!(r#"<label for="disable-{value}">"#)));
        }
        assert!(off.contains("lowers the protection"));
        assert!(off.contains(r#"name="password""#) && off.contains(r#"name="code""#));
        let again = regenerate_form(&public, "t", None).into_string();
        assert!(again.contains(r#"id="regenerate-codes-form""#));
        let one = SessionInfo {
            id: 7,
            created: 0,
            last_used: 0,
            expires: 0,
            origin: String::new(),
        };
        let two = SessionInfo {
            id: 8,
            ..one.clone()
        };
        let list = sessions(&public, "t", &[one, two], Some(8)).into_string();
        assert!(list.contains(r#"<tr class="current"><td data-label="Session">8 (this browser)"#));
        assert!(
            list.contains(r#"<td data-label="Session">7</td>"#),
            "{list}"
        );
        assert!(list.contains(r#"name="id" value="all""#));
        assert!(!list.contains("<script"));
    }
}
