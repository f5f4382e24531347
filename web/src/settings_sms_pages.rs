//! The SMS verification forms: the section of the settings page that turns it on
//! (the number, prefilled with the account's own), and the page that confirms it with
//! the code that was sent.
//!
//! Test contract: `#enable-sms-form` (`phone`), `#confirm-sms-form` (`code`).

use maud::{html, Markup};

use crate::args::PublicUrl;
use crate::pages::{layout, message, Message};

/// What an account is told when its number's country gets no SMS codes.
pub const NOT_AVAILABLE: &str = "SMS codes are not available for phone numbers in that \
    country. Use the authenticator app instead (\"Turn on app verification\").";

/// The "Turn on SMS verification" section: the number (the account's own, if it has
/// one), then a code is sent to it.
pub fn enable_form(
    public: &PublicUrl,
    csrf: &str,
    phone: Option<&str>,
    note: Option<&Message>,
) -> Markup {
    html! {
        section aria-labelledby="sms-title" {
            h2 #sms-title { "SMS verification" }
            @if let Some(note) = note { (message(note)) }
            form #enable-sms-form method="post" action=(public.path("/settings/sms")) {
                input type="hidden" name="csrf" value=(csrf);
                div .field {
                    label for="sms-phone" { "Mobile phone number" }
                    input #sms-phone type="tel" name="phone" autocomplete="tel" value=[phone]
                        required aria-describedby="sms-phone-hint";
                    p #sms-phone-hint .hint {
                        "In international format, such as +44 7700 900123. \
                         A code is sent to it by SMS to confirm it."
                    }
                }
                button #enable-sms type="submit" { "Turn on SMS verification" }
            }
        }
    }
}

/// The enable form alone on a page, `note` above it (a refused number).
pub fn enable_again(public: &PublicUrl, csrf: &str, phone: Option<&str>, note: &Message) -> Markup {
    let body = html! {
        (enable_form(public, csrf, phone, Some(note)))
        p { a href=(public.path("/settings")) { "Back to security settings" } }
    };
    layout(public, "Turn on SMS verification", body)
}

/// A code is on its way (to `sent_to`, masked): enter it to turn SMS verification on.
pub fn confirm(
    public: &PublicUrl,
    csrf: &str,
    sent_to: Option<&str>,
    note: Option<&Message>,
) -> Markup {
    let body = html! {
        @if let Some(note) = note { (message(note)) }
        @if let Some(to) = sent_to {
            (message(&Message::Status(format!("A code was sent by SMS to {to}."))))
        }
        form #confirm-sms-form method="post" action=(public.path("/settings/sms/confirm")) {
            input type="hidden" name="csrf" value=(csrf);
            div .field {
                label for="sms-code" { "Code from the SMS" }
                input #sms-code type="text" name="code" autocomplete="one-time-code"
                    inputmode="numeric" required;
            }
            button type="submit" { "Turn on" }
        }
        p { a href=(public.path("/settings")) { "Back to security settings" } }
    };
    layout(public, "Turn on SMS verification", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sms_forms_keep_the_test_contract() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let form = enable_form(&public, "t", Some("+4930901820"), None).into_string();
        assert!(
            form.contains(r#"<form id="enable-sms-form" method="post" action="/settings/sms">"#)
        );
        assert!(form.contains(r#"<label for="sms-phone">"#));
        assert!(form.contains(r#"name="phone" autocomplete="tel" value="+4930901820""#));
        let empty = enable_form(&public, "t", None, None).into_string();
        assert!(!empty.contains("value=\"+"));
        let page = confirm(&public, "t", Some("+49*****820"), None).into_string();
        assert!(page.contains(r#"<form id="confirm-sms-form" method="post""#));
        assert!(page.contains(r#"name="code""#) && page.contains(r#"<label for="sms-code">"#));
        assert!(page.contains(r#"<p role="status">A code was sent by SMS to +49*****820.</p>"#));
        assert!(!page.contains("<script"));
    }
}
