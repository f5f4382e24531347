//! Signed in: `GET /settings` shows the account of the session in the session cookie
//! (`PortalAct` `Show`) and its sessions (`Sessions`); without a live session it sends the browser (303) to `/login`.
//! `POST /logout` ends the session at authd (`PortalAct` `Logout`), clears the cookie
//! and sends the browser to `/login`. A session that authd no longer knows (it expired,
//! was signed out elsewhere or its password changed) leads there too, and the sign-in
//! page then says once that the session ended (the notice cookie).

use crate::listen::Peer;
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

/// Why the browser was sent to the sign-in page, said there once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    /// authd no longer knows the session.
    Ended,
    /// The user signed out.
    SignedOut,
}

impl Notice {
    fn word(self) -> &'static str {
        match self {
            Notice::Ended => "ended",
            Notice::SignedOut => "signed-out",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Notice::Ended => "Your session has ended. Sign in again to go on.",
            Notice::SignedOut => "You are signed out.",
        }
    }
}

/// To the sign-in page, the session cookies cleared, with `notice` for it.
fn leave(app: &App, notice: Notice) -> Response {
    let public = &app.settings.public;
    let clear = cookies::set(public, cookies::SESSION, "", 0);
    let number = cookies::set(public, cookies::SESSION_ID, "", 0);
    let note = cookies::set(
        public,
        cookies::NOTICE,
        notice.word(),
        cookies::NOTICE_MAX_AGE,
    );
    let away = with_cookie(with_cookie(see_other(app, "/login"), clear), number);
    with_cookie(away, note)
}

/// To the sign-in page: the session has ended (authd refused it, or the browser no
/// longer holds it); the session cookies cleared.
pub(crate) fn to_login(app: &App) -> Response {
    leave(app, Notice::Ended)
}

/// The notice the sign-in page shows, if the browser was sent there with one; and the
/// cookie that clears it (it is said once).
pub(crate) fn notice(app: &App, headers: &HeaderMap) -> Option<(pages::Message, String)> {
    let public = &app.settings.public;
    let word = cookies::get(headers, public, cookies::NOTICE)?;
    let notice = [Notice::Ended, Notice::SignedOut]
        .into_iter()
        .find(|n| n.word() == word)?;
    let clear = cookies::set(public, cookies::NOTICE, "", 0);
    Some((pages::Message::Status(notice.text().into()), clear))
}

/// `GET /settings`.
pub async fn show(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let Some(token) = session(&app, &headers) else {
        return see_other(&app, "/login");
    };
    let request = Request::PortalAct(PortalAct {
        session: token.clone(),
        action: PortalAction::Show,
    });
    match call(&app, &request).await {
        Ok(Reply::Account(account)) => {
            let listed = Request::PortalAct(PortalAct {
                session: token.clone(),
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
            let keys = if account.sso.is_none() {
                match crate::keys::list(&app, &token).await {
                    Ok(keys) => keys,
                    Err(answer) => return *answer,
                }
            } else {
                Vec::new()
            };
            let public = &app.settings.public;
            let here = current_id(&app, &headers);
            form_page(&app, &headers, StatusCode::OK, |csrf| {
                pages::settings(public, csrf, &account, &sessions, here, &keys)
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
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(sent): Form<LogoutForm>,
) -> Response {
    let ip = client_ip(peer, &headers, &app.settings.trusted_proxies);
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
            leave(&app, Notice::SignedOut)
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => to_login(&app),
        Err(e) => unavailable(&app, &e.to_string()),
    }
}
