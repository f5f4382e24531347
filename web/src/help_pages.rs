//! The pages for a user who cannot sign in: "Forgot your password?" (`#forgot-form`,
//! `name=user`) and its answer, and the "Lost your device?" line with the help
//! `--support-text` / `--support-url` name (the sign-in code page and the forgot page).

use maud::{html, Markup};

use crate::args::{PublicUrl, Support};
use crate::pages::{layout, message, Message};

/// Said when no `--support-text` is given.
pub const DEFAULT_SUPPORT: &str = "Contact your administrator.";

/// The one answer to a forgot-password request, whatever the name.
pub const SENT: &str = "If that account has an email address, a link is on its way.";

/// "Lost your device?" and where to get help: the text, linked when a URL is given.
pub fn support(support: &Support) -> Markup {
    let text = support.text.as_deref().unwrap_or(DEFAULT_SUPPORT);
    html! {
        p #support .hint {
            "Lost your device? "
            @if let Some(url) = &support.url {
                a href=(url) rel="noreferrer" { (text) }
            } @else {
                (text)
            }
        }
    }
}

/// The link to the forgot page, as the sign-in and expired-link pages show it.
pub fn forgot_link(public: &PublicUrl) -> Markup {
    html! {
        p { a #forgot-link href=(public.path("/forgot")) { "Forgot your password?" } }
    }
}

/// The form: the account name; a reset mail goes to its address.
pub fn forgot_form(
    public: &PublicUrl,
    csrf: &str,
    note: Option<&Message>,
    help: &Support,
) -> Markup {
    let body = html! {
        @if let Some(note) = note { (message(note)) }
        form #forgot-form method="post" action=(public.path("/forgot")) {
            input type="hidden" name="csrf" value=(csrf);
            div .field {
                label for="user" { "Account name" }
                input #user type="text" name="user" autocomplete="username" required
                    autocapitalize="none" spellcheck="false" aria-describedby="user-hint";
                p #user-hint .hint {
                    "If your account has an email address, we mail it a link to choose a \
                     new password."
                }
            }
            button type="submit" { "Email me a link" }
        }
        (support(help))
        p { a href=(public.path("/login")) { "Back to sign in" } }
    };
    layout(public, "Forgot your password?", body)
}

/// The answer: the same whether or not the account exists or has an address.
pub fn forgot_sent(public: &PublicUrl) -> Markup {
    let body = html! {
        (message(&Message::Status(SENT.into())))
        p { "The link works once and for a limited time. No mail? Check the spam folder, \
             or ask again in a few minutes." }
        p { a href=(public.path("/login")) { "Back to sign in" } }
    };
    layout(public, "Check your mail", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forgot_pages_keep_the_contract_and_the_support_line_its_link() {
        let public = PublicUrl::parse("https://id.example.org/auth").unwrap();
        let none = Support::default();
        let page = forgot_form(&public, "t", None, &none).into_string();
        assert!(page.contains(r#"<form id="forgot-form" method="post" action="/auth/forgot">"#));
        assert!(page.contains(r#"name="user""#) && page.contains(r#"<label for="user">"#));
        assert!(page.contains(&format!("Lost your device? {DEFAULT_SUPPORT}")));
        let desk =
            Support::new(Some("Call <the desk>"), Some("https://help.example.org/")).unwrap();
        let line = support(&desk).into_string();
        assert!(line.contains(r#"<a href="https://help.example.org/" rel="noreferrer">"#));
        assert!(line.contains("Call &lt;the desk&gt;"));
        let sent = forgot_sent(&public).into_string();
        assert!(sent.contains(&format!(r#"<p role="status">{SENT}</p>"#)));
    }
}
