//! The security settings' forms and answers: change the password, turn on app
//! verification (the QR code, the secret, the otpauth link, the confirming code), and
//! the recovery codes, shown once.
//!
//! Test contract: `#change-password-form` (`current`, `password`, `password2`, and
//! `code` when the account has a second factor), `#enable-totp` (button), `#prove-form`
//! (`password`, `code`), `#totp-qr` (img), `#totp-secret`, `#totp-link`,
//! `#confirm-totp-form` (`code`), `#recovery-codes` (list), `#recorded` (checkbox in
//! `#recorded-form`).

use maud::{html, Markup};

use crate::args::PublicUrl;
use crate::pages::{layout, message, Message};

/// The optional code field of a proof, for accounts with a second factor.
fn code_field(id: &str) -> Markup {
    html! {
        div .field {
            label for=(id) { "Verification code" }
            input id=(id) type="text" name="code" autocomplete="one-time-code"
                aria-describedby={(id) "-hint"};
            p id={(id) "-hint"} .hint {
                "Your verification is on: the code your app or SMS shows now, or a recovery code."
            }
        }
    }
}

/// The current password and the new one, twice.
pub fn change_password_form(
    public: &PublicUrl,
    csrf: &str,
    with_code: bool,
    note: Option<&Message>,
) -> Markup {
    html! {
        section aria-labelledby="change-password-title" {
            h2 #change-password-title { "Change password" }
            @if let Some(note) = note { (message(note)) }
            form #change-password-form method="post"
                action=(public.path("/settings/password")) {
                input type="hidden" name="csrf" value=(csrf);
                div .field {
                    label for="current" { "Current password" }
                    input #current type="password" name="current"
                        autocomplete="current-password" required;
                }
                @if with_code { (code_field("change-code")) }
                div .field {
                    label for="new-password" { "New password" }
                    input #new-password type="password" name="password"
                        autocomplete="new-password" required aria-describedby="new-password-hint";
                    p #new-password-hint .hint {
                        "At least 10 characters, hard to guess: several unrelated words work well."
                    }
                }
                div .field {
                    label for="new-password2" { "New password again" }
                    input #new-password2 type="password" name="password2"
                        autocomplete="new-password" required;
                }
                p .hint { "Changing the password signs you out everywhere." }
                button type="submit" { "Change password" }
            }
        }
    }
}

/// The button that starts an authenticator-app enrolment.
pub fn enable_totp_form(public: &PublicUrl, csrf: &str) -> Markup {
    html! {
        section aria-labelledby="totp-title" {
            h2 #totp-title { "Authenticator app" }
            form method="post" action=(public.path("/settings/totp")) {
                input type="hidden" name="csrf" value=(csrf);
                button #enable-totp type="submit" { "Turn on app verification" }
            }
        }
    }
}

/// The password changed: the session is gone, sign in again.
pub fn password_changed(public: &PublicUrl) -> Markup {
    let body = html! {
        (message(&Message::Status(
            "Your password was changed and you were signed out everywhere. \
             Sign in again with your new password.".into())))
        p { a href=(public.path("/login")) { "Sign in" } }
    };
    layout(public, "Password changed", body)
}

/// What a proof form is for: where it posts back to (the act is retried there after the
/// proof), the words for it, and the phone number to carry over (turning on SMS).
pub struct Proving<'a> {
    pub action: &'a str,
    pub what: &'a str,
    pub phone: Option<&'a str>,
}

/// Turning on app verification.
pub const PROVE_TOTP: Proving<'static> = Proving {
    action: "/settings/totp",
    what: "turn on app verification",
    phone: None,
};

/// A sensitive act needs the password again (and a code, with 2FA on): `#prove-form`.
pub fn prove_form(
    public: &PublicUrl,
    csrf: &str,
    proving: &Proving<'_>,
    note: Option<&Message>,
) -> Markup {
    let body = html! {
        @if let Some(note) = note { (message(note)) }
        p { "For your security, confirm your password to " (proving.what) "." }
        form #prove-form method="post" action=(public.path(proving.action)) {
            input type="hidden" name="csrf" value=(csrf);
            @if let Some(phone) = proving.phone {
                input type="hidden" name="phone" value=(phone);
            }
            div .field {
                label for="password" { "Password" }
                input #password type="password" name="password"
                    autocomplete="current-password" required;
            }
            (code_field("prove-code"))
            button type="submit" { "Continue" }
        }
        p { a href=(public.path("/settings")) { "Back to security settings" } }
    };
    layout(public, "Confirm your password", body)
}

/// The code form that activates the pending enrolment.
fn confirm_form(public: &PublicUrl, csrf: &str) -> Markup {
    html! {
        form #confirm-totp-form method="post" action=(public.path("/settings/totp/confirm")) {
            input type="hidden" name="csrf" value=(csrf);
            div .field {
                label for="code" { "Code from the app" }
                input #code type="text" name="code" autocomplete="one-time-code"
                    inputmode="numeric" required;
            }
            button type="submit" { "Turn on" }
        }
    }
}

/// A pending enrolment: scan the QR code (or type the secret), then confirm with a code.
pub fn enrolment(
    public: &PublicUrl,
    csrf: &str,
    qr_data_url: Option<&str>,
    secret: &str,
    uri: &str,
) -> Markup {
    let body = html! {
        ol {
            li { "Scan this QR code with your authenticator app:" }
        }
        @if let Some(src) = qr_data_url {
            img #totp-qr src=(src) alt="QR code of your authenticator app's new entry";
        }
        p { "Or type this secret into the app: " code #totp-secret { (secret) } }
        p { "On this device: " a #totp-link href=(uri) { "add to your authenticator app" } }
        p { "Then enter the code the app shows to turn app verification on." }
        (confirm_form(public, csrf))
    };
    layout(public, "Turn on app verification", body)
}

/// The confirming code was wrong: try again (the enrolment stays pending).
pub fn confirm_again(public: &PublicUrl, csrf: &str, why: &str) -> Markup {
    let body = html! {
        (message(&Message::Alert(why.to_string())))
        (confirm_form(public, csrf))
        p { a href=(public.path("/settings")) { "Back to security settings" } }
    };
    layout(public, "Turn on app verification", body)
}

/// A second factor is on; the recovery codes, if any (the first factor's), shown once,
/// with the box that must be ticked before going on. The codes ride in the form so that
/// a refusal (box not ticked) can show them again.
pub fn recovery_codes(
    public: &PublicUrl,
    csrf: &str,
    codes: &[String],
    note: Option<&Message>,
) -> Markup {
    let on = Message::Status("Two-step verification is on.".into());
    recovery_codes_page(
        public,
        csrf,
        codes,
        note.unwrap_or(&on),
        "Two-step verification is on",
    )
}

/// The recovery codes shown once (after app verification or new ones), `note` above.
pub fn recovery_codes_page(
    public: &PublicUrl,
    csrf: &str,
    codes: &[String],
    note: &Message,
    title: &str,
) -> Markup {
    let body = html! {
        (message(note))
        @if !codes.is_empty() {
            p {
                "These recovery codes let you sign in if you lose your device. Each works once. "
                strong { "They are shown only this once:" }
                " write them down or store them somewhere safe now."
            }
            ul #recovery-codes { @for code in codes { li { code { (code) } } } }
            form #recorded-form method="post" action=(public.path("/settings/recorded")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="codes" value=(codes.join(" "));
                div .field {
                    input #recorded type="checkbox" name="recorded" value="yes" required;
                    label for="recorded" { "I have safely recorded these codes" }
                }
                button type="submit" { "Continue" }
            }
        } @else {
            p { a href=(public.path("/settings")) { "Back to security settings" } }
        }
    };
    layout(public, title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_forms_keep_the_test_contract() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let form = change_password_form(&public, "t", false, None).into_string();
        assert!(form.contains(r#"<form id="change-password-form" method="post""#));
        for name in ["current", "password", "password2"] {
            assert!(form.contains(&format!(r#"name="{name}""#)), "{name}");
        }
        assert!(!form.contains(r#"name="code""#));
        let with_code = change_password_form(&public, "t", true, None).into_string();
        assert!(with_code.contains(r#"name="code""#));
        let enrol = enrolment(
            &public,
            "t",
            Some("data:image/png;base64,AA"),
            "SECRET",
            "otpauth://x",
        )
        .into_string();
        assert!(enrol.contains(r#"<img id="totp-qr" src="data:image/png;base64,AA""#));
        assert!(enrol.contains(r#"<code id="totp-secret">SECRET</code>"#));
        assert!(enrol.contains(r#"id="confirm-totp-form""#) && enrol.contains(r#"name="code""#));
        let codes = ["ab-cd".to_string(), "<x>".to_string()];
        let shown = recovery_codes(&public, "t", &codes, None).into_string();
        assert!(shown.contains(r#"<ul id="recovery-codes"><li><code>ab-cd</code></li>"#));
        assert!(shown.contains("&lt;x&gt;") && !shown.contains("<x>"));
        assert!(
            shown.contains(r#"id="recorded" type="checkbox" name="recorded" value="yes" required"#)
        );
        assert!(!shown.contains("<script"));
    }
}
