//! A fresh proof by security key inside a session, for an account whose only second
//! factor may be a key: `POST /settings/prove-key` sends the password
//! (`PortalProveKeyStart`; authd answers a single-use challenge bound to the session's
//! account) and shows the key step with authd's assertion options (`PortalKeyStart`)
//! for `/static/keys.js`; `POST /settings/prove-key/finish` sends the key's answer
//! (`PortalProveKey`). Then the settings' sensitive changes need no password for a few
//! minutes, as after the password and a code.

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::protocol::{
    KeyAssertion, KeyLoginStart, PortalAction, PortalProveKey, PortalProveKeyStart, Request,
    Response as Reply, Secret,
};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;

use crate::app::App;
use crate::guard::client_ip;
use crate::keys::{key_error, said_page, MAX_CREDENTIAL};
use crate::keys_pages as view;
use crate::pages::Message;
use crate::reply::{call, form_page, unavailable};
use crate::settings::{act, admit, SettingsForm};
use crate::signin::origin;

/// The session's account name (the challenge is bound to it).
async fn account_name(app: &App, token: &Secret) -> Result<String, Box<Response>> {
    match call(app, &act(token, PortalAction::Show)).await {
        Ok(Reply::Account(info)) => Ok(info.name),
        Ok(other) => Err(Box::new(unavailable(
            app,
            &format!("unexpected answer {other:?}"),
        ))),
        Err(e) => Err(Box::new(key_error(app, "proof by key", e))),
    }
}

/// `POST /settings/prove-key`: the password, then the key step.
pub async fn start(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "proof by key") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    if sent.password.is_empty() {
        let text = "Type your current password, then touch your key.";
        return said_page(
            &app,
            StatusCode::UNPROCESSABLE_ENTITY,
            Message::Alert(text.into()),
        );
    }
    let ip = client_ip(peer, &headers, &app.settings.trusted_proxies);
    let request = Request::PortalProveKeyStart(PortalProveKeyStart {
        session: token.clone(),
        password: Secret::new(std::mem::take(&mut sent.password)),
        origin: origin(ip),
    });
    let challenge = match call(&app, &request).await {
        Ok(Reply::SecondFactorRequired {
            challenge: Some(challenge),
            ..
        }) => challenge,
        Ok(other) => return unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => return key_error(&app, "proof by key", e),
    };
    let name = match account_name(&app, &token).await {
        Ok(name) => name,
        Err(answer) => return *answer,
    };
    let request = Request::PortalKeyStart(KeyLoginStart {
        name,
        challenge: challenge.clone(),
    });
    match call(&app, &request).await {
        Ok(Reply::KeyAssertionOptions { options, .. }) => {
            tracing::info!("proof by security key started through the web");
            let public = &app.settings.public;
            form_page(&app, &headers, StatusCode::OK, |csrf| {
                view::prove(public, csrf, challenge.expose(), &options)
            })
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => key_error(&app, "proof by key", e),
    }
}

/// `POST /settings/prove-key/finish`: the key's answer.
pub async fn finish(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "proof by key answer") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let credential = std::mem::take(&mut sent.credential);
    if credential.is_empty() || credential.len() > MAX_CREDENTIAL {
        let text = "The security key gave no answer: try again (this needs JavaScript).";
        return said_page(
            &app,
            StatusCode::UNPROCESSABLE_ENTITY,
            Message::Alert(text.into()),
        );
    }
    let request = Request::PortalProveKey(PortalProveKey {
        session: token,
        key: KeyAssertion {
            challenge: Secret::new(std::mem::take(&mut sent.challenge)),
            assertion: Secret::new(credential),
        },
    });
    match call(&app, &request).await {
        Ok(Reply::Done) => {
            tracing::info!("fresh proof by security key through the web");
            let text = "You confirmed it is you with your security key: for the next few \
                        minutes, changes to your settings need no password.";
            said_page(&app, StatusCode::OK, Message::Status(text.into()))
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => key_error(&app, "proof by key answer", e),
    }
}
