//! The HTML pages, compiled into the binary (maud escapes every interpolated value), and
//! the one stylesheet. No inline script, no inline style, no external font or file: the
//! Content-Security-Policy allows only this origin's own files.
//!
//! The one script, for security keys only, is [`crate::keys_pages::KEYS_JS`].
//!
//! Test contract (scripts and browser tests rely on these): the reset form is
//! `#reset-form` with inputs `password` and `password2`; every message is in an element
//! with `role=status` (success) or `role=alert` (a problem). Sign-in: `#login-form`
//! (`user`, `password`), `#code-form` (`code`), `#send-sms-form`; signed in:
//! `#settings`, `#logout`, and the forms of [`crate::settings_pages`],
//! [`crate::settings_sms_pages`] and [`crate::settings_more_pages`].

use maud::{html, Markup, DOCTYPE};

use authd_proto::protocol::{AccountInfo, FactorState, KeyInfo, SessionInfo};

use crate::args::{PublicUrl, Support};

pub const STYLE_CSS: &str = include_str!("../assets/style.css");

/// A message shown above a form or as a page's answer.
pub enum Message {
    /// Something went wrong: `role=alert`.
    Alert(String),
    /// Done: `role=status`.
    Status(String),
}

pub(crate) fn message(m: &Message) -> Markup {
    match m {
        Message::Alert(text) => html! { p role="alert" { (text) } },
        Message::Status(text) => html! { p role="status" { (text) } },
    }
}

pub(crate) fn layout(public: &PublicUrl, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href=(public.path("/static/style.css"));
            }
            body {
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The form for a new password, typed twice.
pub fn reset_form(public: &PublicUrl, csrf: &str, note: Option<&Message>) -> Markup {
    let body = html! {
        @if let Some(note) = note { (message(note)) }
        form #reset-form method="post" action=(public.path("/reset")) {
            input type="hidden" name="csrf" value=(csrf);
            div .field {
                label for="password" { "New password" }
                input #password type="password" name="password" autocomplete="new-password"
                    required aria-describedby="password-hint";
                p #password-hint .hint {
                    "At least 10 characters, hard to guess: several unrelated words work well."
                }
            }
            div .field {
                label for="password2" { "New password again" }
                input #password2 type="password" name="password2" autocomplete="new-password"
                    required;
            }
            button type="submit" { "Set new password" }
        }
    };
    layout(public, "Choose a new password", body)
}

/// The password was changed.
pub fn reset_done(public: &PublicUrl, account: &str) -> Markup {
    let text = format!(
        "The password of account {account} was changed. You can now sign in with your new password."
    );
    layout(public, "Password changed", message(&Message::Status(text)))
}

/// How to get a new mail; said wherever a link no longer works: the forgot page first,
/// then the ways that need someone else or a shell.
fn ask_again(public: &PublicUrl) -> Markup {
    html! {
        p {
            "To get a new link, use "
            a #forgot-link href=(public.path("/forgot")) { "Forgot your password?" } "."
        }
        p .hint {
            "Your administrator can also send you a new reset mail, or, if you can sign in \
             to the host, run "
            code { "authctl send-reset YOUR-ACCOUNT" } "."
        }
    }
}

/// The link's token is unknown, used or expired (or the page was not opened from one).
pub fn reset_invalid(public: &PublicUrl, why: &str) -> Markup {
    let body = html! {
        (message(&Message::Alert(why.to_string())))
        (ask_again(public))
    };
    layout(public, "This reset link does not work", body)
}

/// The sign-in form: name and password.
pub fn login_form(public: &PublicUrl, csrf: &str, note: Option<&Message>) -> Markup {
    let body = html! {
        @if let Some(note) = note { (message(note)) }
        form #login-form method="post" action=(public.path("/login")) {
            input type="hidden" name="csrf" value=(csrf);
            div .field {
                label for="user" { "Account name" }
                input #user type="text" name="user" autocomplete="username" required
                    autocapitalize="none" spellcheck="false";
            }
            div .field {
                label for="password" { "Password" }
                input #password type="password" name="password"
                    autocomplete="current-password" required;
            }
            button type="submit" { "Sign in" }
        }
        (crate::help_pages::forgot_link(public))
    };
    layout(public, "Sign in", body)
}

/// What the code page says about SMS: where a code was just sent, and whether the
/// account has SMS verification (then `#send-sms-form` offers to send one).
#[derive(Debug, Clone, Copy, Default)]
pub struct SmsStep<'a> {
    pub sent_to: Option<&'a str>,
    pub offer: bool,
}

/// The second step of a sign-in: a code from the app, an SMS or a recovery code.
pub fn code_form(
    public: &PublicUrl,
    csrf: &str,
    sms: SmsStep<'_>,
    key: Option<&str>,
    note: Option<&Message>,
    help: &Support,
) -> Markup {
    let body = html! {
        @if let Some(note) = note { (message(note)) }
        @if let Some(options) = key { (crate::keys_pages::signin_step(public, csrf, options)) }
        @if let Some(to) = sms.sent_to {
            (message(&Message::Status(format!("A code was sent by SMS to {to}."))))
        }
        form #code-form method="post" action=(public.path("/login/code")) {
            input type="hidden" name="csrf" value=(csrf);
            div .field {
                label for="code" { "Verification code" }
                input #code type="text" name="code" autocomplete="one-time-code"
                    inputmode="text" required aria-describedby="code-hint";
                p #code-hint .hint {
                    "The code your authenticator app shows now, the code from the SMS, \
                     or one of your recovery codes."
                }
            }
            button type="submit" { "Verify" }
        }
        @if sms.offer {
            form #send-sms-form method="post" action=(public.path("/login/sms")) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" {
                    @if sms.sent_to.is_some() { "Send me a new code by SMS" }
                    @else { "Send me a code by SMS" }
                }
            }
        }
        (crate::help_pages::support(help))
    };
    layout(public, "Enter your verification code", body)
}

/// The signed-in account, and the way out.
pub fn settings(
    public: &PublicUrl,
    csrf: &str,
    account: &AccountInfo,
    sessions: &[SessionInfo],
    current: Option<u64>,
    keys: &[KeyInfo],
) -> Markup {
    let body = html! {
        section #settings {
            dl {
                dt { "Account" } dd { (account.name) }
                @if let Some(email) = &account.email { dt { "Email" } dd { (email) } }
                @if let Some(sso) = &account.sso {
                    dt { "Single sign-on" } dd { (sso) }
                } @else {
                    dt { "Authenticator app" } dd { (account.totp.as_str()) }
                    dt { "SMS verification" } dd { (account.sms.as_str()) }
                    dt { "Recovery codes left" } dd { (account.recovery_codes_left) }
                }
            }
        }
        @if account.sso.is_none() {
            (crate::settings_pages::change_password_form(public, csrf, two_factor(account), None))
            @if account.email.is_some() {
                (crate::settings_mail::email_link_form(public, csrf, None))
            }
            @if account.totp != FactorState::On {
                (crate::settings_pages::enable_totp_form(public, csrf))
            }
            @if account.sms != FactorState::On {
                (crate::settings_sms_pages::enable_form(public, csrf, account.phone.as_deref(), None))
            }
            (crate::keys_pages::section(public, csrf, keys, two_factor(account) || !keys.is_empty(), None))
            @if two_factor(account) {
                (crate::settings_more_pages::regenerate_form(public, csrf, None))
                (crate::settings_more_pages::disable_form(public, csrf, both_factors(account), None))
            }
        }
        (crate::settings_more_pages::sessions(public, csrf, sessions, current))
        form method="post" action=(public.path("/logout")) {
            input type="hidden" name="csrf" value=(csrf);
            button #logout type="submit" { "Sign out" }
        }
    };
    layout(public, "Security settings", body)
}

/// Does a proof of this account need a code as well as the password?
pub fn two_factor(account: &AccountInfo) -> bool {
    account.totp == FactorState::On || account.sms == FactorState::On
}

/// Are both the app and SMS on (so that turning 2FA off asks which)?
pub fn both_factors(account: &AccountInfo) -> bool {
    account.totp == FactorState::On && account.sms == FactorState::On
}

/// A refused or failed request (403, 429, 503) explained.
pub fn problem(public: &PublicUrl, title: &str, why: &str) -> Markup {
    layout(public, title, message(&Message::Alert(why.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_keeps_the_test_contract_and_escapes_what_it_shows() {
        let public = PublicUrl::parse("https://id.example.org/auth").unwrap();
        let note = Message::Alert("<b>too short</b>".into());
        let page = reset_form(&public, "tok\"en", Some(&note)).into_string();
        assert!(page.contains(r#"<form id="reset-form" method="post" action="/auth/reset">"#));
        assert!(page.contains(r#"name="password""#) && page.contains(r#"name="password2""#));
        assert!(page.contains(r#"<label for="password2">"#));
        assert!(page.contains(r#"value="tok&quot;en""#));
        assert!(page.contains(r#"<p role="alert">&lt;b&gt;too short&lt;/b&gt;</p>"#));
        assert!(page.contains(r#"href="/auth/static/style.css""#));
        assert!(!page.contains("<script") && !page.contains("style="));
        let done = reset_done(&public, "alice").into_string();
        assert!(done.contains(r#"role="status""#) && done.contains("account alice"));
        let gone = reset_invalid(&public, "expired").into_string();
        assert!(gone.contains("authctl send-reset"));
        assert!(gone.contains(r#"<a id="forgot-link" href="/auth/forgot">"#));
    }

    #[test]
    fn the_sign_in_pages_keep_the_test_contract() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let login = login_form(&public, "t", None).into_string();
        assert!(login.contains(r#"<form id="login-form" method="post" action="/login">"#));
        assert!(login.contains(r#"name="user""#) && login.contains(r#"name="password""#));
        assert!(login.contains(r#"<label for="user">"#));
        assert!(login.contains(r#"<a id="forgot-link" href="/forgot">"#));
        let sms = SmsStep {
            sent_to: Some("+49 *** 12"),
            offer: false,
        };
        let code = code_form(&public, "t", sms, None, None, &Support::default()).into_string();
        assert!(code.contains(r#"<form id="code-form" method="post" action="/login/code">"#));
        assert!(code.contains(r#"name="code""#) && code.contains("+49 *** 12"));
        assert!(!code.contains("send-sms-form"));
        let offer = SmsStep {
            sent_to: None,
            offer: true,
        };
        let offered = code_form(&public, "t", offer, None, None, &Support::default()).into_string();
        assert!(offered.contains(r#"<form id="send-sms-form" method="post" action="/login/sms">"#));
        assert!(code.contains("Lost your device?"));
        assert!(!code.contains("<script") && !login.contains("style="));
    }

    #[test]
    fn the_settings_offer_sms_until_it_is_on_and_never_to_sso_accounts() {
        let public = PublicUrl::parse("https://id.example.org").unwrap();
        let account = |sms, totp, sso: Option<&str>| AccountInfo {
            name: "alice".into(),
            email: None,
            phone: Some("+4930901820".into()),
            sso: sso.map(str::to_string),
            password_set: true,
            totp,
            sms,
            recovery_codes_left: 0,
            sms_number: None,
            locked_until: None,
            failures: 0,
            created: 0,
        };
        let page = |a: &AccountInfo| settings(&public, "t", a, &[], None, &[]).into_string();
        let off = page(&account(FactorState::Off, FactorState::Off, None));
        assert!(off.contains(r#"id="enable-sms-form""#));
        assert!(off.contains(r#"value="+4930901820""#), "prefilled");
        let pending = page(&account(FactorState::Pending, FactorState::Off, None));
        assert!(pending.contains(r#"id="enable-sms-form""#));
        let on = page(&account(FactorState::On, FactorState::Off, None));
        assert!(!on.contains("enable-sms-form"));
        assert!(on.contains(r#"id="disable-2fa-form""#) && !on.contains(r#"name="method""#));
        let both = page(&account(FactorState::On, FactorState::On, None));
        assert!(both.contains(r#"name="method" value="sms""#));
        let sso = page(&account(FactorState::Off, FactorState::Off, Some("idp")));
        assert!(!sso.contains("enable-sms-form") && !sso.contains("enable-totp"));
    }
}
