//! "Forgot your password?": `GET /forgot` shows the form for the account name; `POST
//! /forgot` asks authd for a reset mail (`PortalForgot`). authd answers alike whether or
//! not the name exists, has an address or may get another mail yet, and so does this
//! page: "If that account has an email address, a link is on its way." The mail's link
//! leads to the reset landing page (`crate::reset`).

use std::sync::Arc;

use authd_proto::protocol::{ErrorCode, PortalForgot, Request, Response as Reply};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::app::App;
use crate::guard::{check_account, check_post, client_ip};
use crate::help_pages;
use crate::listen::Peer;
use crate::pages::Message;
use crate::reply::{call, form_page, html, refused, unavailable};
use crate::signin::{origin, MAX_NAME};

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
}

fn form(app: &App, headers: &HeaderMap, status: StatusCode, note: Option<&Message>) -> Response {
    let public = &app.settings.public;
    let help = &app.settings.support;
    form_page(app, headers, status, |csrf| {
        help_pages::forgot_form(public, csrf, note, help)
    })
}

/// `GET /forgot`.
pub async fn show(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    form(&app, &headers, StatusCode::OK, None)
}

/// `POST /forgot`: the guard's checks, the per-account limit, then authd.
pub async fn submit(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(sent): Form<ForgotForm>,
) -> Response {
    let ip = client_ip(peer, &headers, &app.settings.trusted_proxies);
    if let Err(refusal) = check_post(&headers, &app.settings.public, &app.rate, ip, &sent.csrf) {
        return refused(&app, "forgot-password form", refusal);
    }
    let name = sent.user.trim();
    if name.is_empty() || name.len() > MAX_NAME {
        let why = Message::Alert("Type the name of your account.".into());
        return form(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why));
    }
    if let Err(refusal) = check_account(&app.account_rate, name) {
        return refused(&app, "forgot-password form", refusal);
    }
    let request = Request::PortalForgot(PortalForgot {
        name: name.to_string(),
        origin: origin(ip),
    });
    match call(&app, &request).await {
        Ok(Reply::Done) => {
            tracing::info!("forgot-password request passed to authd");
            html(
                StatusCode::OK,
                help_pages::forgot_sent(&app.settings.public),
            )
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        // A name no account can have (authd's name rules): saying so tells nothing.
        Err(e) if e.remote_code() == Some(ErrorCode::InvalidInput) => {
            tracing::info!("forgot-password request refused: not an account name");
            let why = Message::Alert(format!("That is not an account name: {e}"));
            form(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why))
        }
        Err(e) => unavailable(&app, &e.to_string()),
    }
}
