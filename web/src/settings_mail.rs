//! Signed in, "email me a link instead" (as the help page offers next to changing the
//! password): `POST /settings/password/email` asks authd to mail the session's account
//! a reset link (`PortalAction::SendReset`, under the reset mails' rate limit) and says
//! where it went, the address masked as authd reports it. No proof is needed: the link
//! goes only to the account's own address.

use std::sync::Arc;

use authd_proto::protocol::{ErrorCode, PortalAction, Response as Reply};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};

use crate::account::to_login;
use crate::app::App;
use crate::args::PublicUrl;
use crate::listen::Peer;
use crate::pages::{layout, message, Message};
use crate::reply::{call, form_page, unavailable};
use crate::settings::{act, admit, SettingsForm};

/// The form (`#email-link-form`), with `note` above it.
pub fn email_link_form(public: &PublicUrl, csrf: &str, note: Option<&Message>) -> Markup {
    html! {
        section aria-labelledby="email-link-title" {
            h2 #email-link-title { "Forgot the current password?" }
            @if let Some(note) = note { (message(note)) }
            form #email-link-form method="post"
                action=(public.path("/settings/password/email")) {
                input type="hidden" name="csrf" value=(csrf);
                p .hint { "We mail your address a link to choose a new password." }
                button type="submit" { "Email me a link instead" }
            }
        }
    }
}

/// `POST /settings/password/email`.
pub async fn send(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "email-link form") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let (status, note) = match call(&app, &act(&token, PortalAction::SendReset)).await {
        Ok(Reply::ResetMailed { to, .. }) => {
            tracing::info!("reset link mailed from the settings page");
            let text = format!("A link to choose a new password is on its way to {to}.");
            (StatusCode::OK, Message::Status(text))
        }
        Ok(other) => return unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => match e.remote_code() {
            Some(ErrorCode::SessionInvalid) => return to_login(&app),
            Some(ErrorCode::RateLimited) => {
                tracing::info!("reset link from the settings page refused: rate limited");
                let text = format!("A reset mail was sent a moment ago: {e}.");
                (StatusCode::TOO_MANY_REQUESTS, Message::Alert(text))
            }
            Some(ErrorCode::InvalidInput | ErrorCode::SsoAccount) => {
                tracing::info!(
                    code = e.code_name(),
                    "reset link from the settings page refused"
                );
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Message::Alert(e.to_string()),
                )
            }
            _ => return unavailable(&app, &e.to_string()),
        },
    };
    let public = &app.settings.public;
    form_page(&app, &headers, status, |csrf| {
        let body = html! {
            (email_link_form(public, csrf, Some(&note)))
            p { a href=(public.path("/settings")) { "Back to the security settings" } }
        };
        layout(public, "Change password", body)
    })
}
