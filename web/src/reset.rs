//! The reset landing page: the link from the mail, the form, its submission.
//!
//! `GET /reset/link?token=T` (the mail's link) keeps no trace of the token in the URL
//! the user then sees: it puts the token in a short-lived `HttpOnly`, `SameSite=Strict`
//! cookie and answers 303 to `/reset`. So the token is never in a Referer (none is sent
//! anyway), never in a later request's URL, and, with `access_log off` for the link's
//! path at the reverse proxy, in no access log. `GET /reset` shows the form; `POST
//! /reset` sends the token and the new password to authd (`ResetPassword`, which anyone
//! may call: the token is the proof) and shows what authd said: done, the password
//! policy's reasons (the token stays usable), or a token that is unknown, used or
//! expired, with how to get a new mail.

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::protocol::{ErrorCode, Request, ResetPassword, Response as Reply, Secret};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use zeroize::Zeroize;

use crate::app::App;
use crate::cookies;
use crate::guard::{check_post, client_ip};
use crate::pages::{self, Message};
use crate::reply::{call, form_page, html, refused, unavailable};

/// A reset token as authd issues it: base32, and never longer than this.
const MAX_TOKEN: usize = 128;

#[derive(Deserialize)]
pub struct Link {
    #[serde(default)]
    token: String,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

/// The submitted form; absent fields are empty, so a form without its CSRF token is
/// refused by the check (403), not by the parser.
#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

impl Drop for ResetForm {
    fn drop(&mut self) {
        self.password.zeroize();
        self.password2.zeroize();
    }
}

fn plausible_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN
        && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `GET /reset/link?token=T`: the token into a cookie, then 303 to the form.
pub async fn link(State(app): State<Arc<App>>, Query(link): Query<Link>) -> Response {
    let public = &app.settings.public;
    if !plausible_token(&link.token) {
        let why = "This link is incomplete: copy the whole link from the mail.";
        return html(StatusCode::BAD_REQUEST, pages::reset_invalid(public, why));
    }
    let cookie = cookies::set(public, cookies::RESET, &link.token, cookies::RESET_MAX_AGE);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, public.path("/reset")),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}

/// The form, with a CSRF token bound to a cookie (the one the browser has, or a new one).
fn form(app: &App, headers: &HeaderMap, status: StatusCode, note: Option<&Message>) -> Response {
    let public = &app.settings.public;
    form_page(app, headers, status, |csrf| {
        pages::reset_form(public, csrf, note)
    })
}

/// `GET /reset`: the form.
pub async fn show(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    form(&app, &headers, StatusCode::OK, None)
}

/// The reset cookie cleared: the token was used or is no good.
fn forget_token(app: &App, mut response: Response) -> Response {
    let clear = cookies::set(&app.settings.public, cookies::RESET, "", 0);
    if let Ok(value) = clear.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /reset`: the guard's checks, then authd.
pub async fn submit(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<ResetForm>,
) -> Response {
    let public = &app.settings.public;
    let ip = client_ip(peer, &headers, &app.settings.trusted_proxies);
    if let Err(refusal) = check_post(&headers, public, &app.rate, ip, &sent.csrf) {
        return refused(&app, "reset form", refusal);
    }
    let Some(token) = cookies::get(&headers, public, cookies::RESET) else {
        let why = "This page was not opened from a reset link, or the link was opened too \
                   long ago. Open the link from your mail again.";
        return html(StatusCode::BAD_REQUEST, pages::reset_invalid(public, why));
    };
    if sent.password.is_empty() || sent.password != sent.password2 {
        let why =
            Message::Alert("The two passwords differ: type the same new password twice.".into());
        return form(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why));
    }
    let request = Request::ResetPassword(ResetPassword {
        token: Secret::new(token),
        password: Secret::new(std::mem::take(&mut sent.password)),
    });
    match call(&app, &request).await {
        Ok(Reply::PasswordReset { name }) => {
            tracing::info!(account = %name, "password reset through the web");
            forget_token(&app, html(StatusCode::OK, pages::reset_done(public, &name)))
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => match e.remote_code() {
            Some(ErrorCode::WeakPassword) => {
                tracing::info!("reset refused by the password policy");
                let why = Message::Alert(e.to_string());
                form(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why))
            }
            Some(ErrorCode::Denied | ErrorCode::NoSuchUser) => {
                tracing::info!("reset refused: unknown, used or expired token");
                let why = "This reset link has expired or was already used.";
                forget_token(
                    &app,
                    html(StatusCode::BAD_REQUEST, pages::reset_invalid(public, why)),
                )
            }
            Some(
                ErrorCode::SsoAccount
                | ErrorCode::InvalidInput
                | ErrorCode::RateLimited
                | ErrorCode::Locked,
            ) => {
                tracing::info!(code = e.code_name(), "reset refused");
                let page = pages::problem(public, "The password was not changed", &e.to_string());
                html(StatusCode::UNPROCESSABLE_ENTITY, page)
            }
            _ => unavailable(&app, &e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_tokens_reach_a_cookie() {
        assert!(plausible_token("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
        assert!(!plausible_token(""));
        assert!(!plausible_token("AB;CD"));
        assert!(!plausible_token("AB CD"));
        assert!(!plausible_token(&"A".repeat(MAX_TOKEN + 1)));
    }
}
