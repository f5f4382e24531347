//! Signed in: `GET /settings` shows the account of the session in the session cookie
//! (`PortalAct` `Show`) and its sessions (`Sessions`); without a live session it sends the browser (303) to `/login`.
//! `POST /logout` ends the session at authd (`PortalAct` `Logout`), clears the cookie
//! and sends the browser to `/login`.

use std::net::SocketAddr;
use std::sync::Arc;

use authd_proto::protocol::{
    ErrorCode, PortalAct, PortalAction, Request, Response as Reply, Secret,
};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::app::App;
use crate::cookies;
use crate::guard::{check_post, client_ip};
use crate::pages;
use crate::reply::{call, form_page, refused, see_other, unavailable, with_cookie};

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// The session token the browser holds, if it is plausible (authd's are base32).
pub(crate) fn session(app: &App, headers: &HeaderMap) -> Option<Secret> {
    cookies::get(headers, &app.settings.public, cookies::SESSION)
        .filter(|t| t.len() <= 128 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(Secret::new)
}

/// The number of this browser's session, as the sign-in left it (a label only).
pub(crate) fn current_id(app: &App, headers: &HeaderMap) -> Option<u64> {
    cookies::get(headers, &app.settings.public, cookies::SESSION_ID)?
        .parse()
        .ok()
}

/// To the sign-in page, the session cookies cleared.
pub(crate) fn to_login(app: &App) -> Response {
    let clear = cookies::set(&app.settings.public, cookies::SESSION, "", 0);
    let number = cookies::set(&app.settings.public, cookies::SESSION_ID, "", 0);
    with_cookie(with_cookie(see_other(app, "/login"), clear), number)
}

/// `GET /settings`.
pub async fn show(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let Some(token) = session(&app, &headers) else {
        return to_login(&app);
    };
    let request = Request::PortalAct(PortalAct {
        session: token.clone(),
        action: PortalAction::Show,
    });
    match call(&app, &request).await {
        Ok(Reply::Account(account)) => {
            let listed = Request::PortalAct(PortalAct {
                session: token,
                action: PortalAction::Sessions,
            });
            let sessions = match call(&app, &listed).await {
                Ok(Reply::Sessions { sessions }) => sessions,
                Ok(other) => return unavailable(&app, &format!("unexpected answer {other:?}")),
                Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => {
                    return to_login(&app)
                }
                Err(e) => return unavailable(&app, &e.to_string()),
            };
            let public = &app.settings.public;
            let here = current_id(&app, &headers);
            form_page(&app, &headers, StatusCode::OK, |csrf| {
                pages::settings(public, csrf, &account, &sessions, here)
            })
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => to_login(&app),
        Err(e) => unavailable(&app, &e.to_string()),
    }
}

/// `POST /logout`.
pub async fn logout(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(sent): Form<LogoutForm>,
) -> Response {
    let ip = client_ip(peer.ip(), &headers, &app.settings.trusted_proxies);
    if let Err(refusal) = check_post(&headers, &app.settings.public, &app.rate, ip, &sent.csrf) {
        return refused(&app, "sign-out", refusal);
    }
    let Some(token) = session(&app, &headers) else {
        return to_login(&app);
    };
    let request = Request::PortalAct(PortalAct {
        session: token,
        action: PortalAction::Logout { id: None },
    });
    match call(&app, &request).await {
        Ok(Reply::SessionsEnded { count }) => {
            tracing::info!(count, "signed out through the web");
            to_login(&app)
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => to_login(&app),
        Err(e) => unavailable(&app, &e.to_string()),
    }
}
