//! Security keys in the browser: `POST /settings/keys` (the password, and a code with
//! 2FA on, prove in this session, then `AddKey`; the registration page hands authd's
//! options to `/static/keys.js`), `POST /settings/keys/finish` (`FinishKey` with the
//! browser's answer; the recovery codes when it is the account's first factor),
//! `POST /settings/keys/remove` (prove, then `RemoveKey`) and `POST /login/key` (the
//! key step of a sign-in under way, `PortalKey`). A key's answer authd refuses (a
//! forged or foreign credential) is said in `role=alert`, never a 500.

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::protocol::{
    ErrorCode, KeyAssertion, KeyInfo, KeyLoginFinish, KeyLoginStart, PortalAction, Request,
    Response as Reply, Secret,
};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::account::to_login;
use crate::app::App;
use crate::cookies;
use crate::keys_pages as view;
use crate::pages::{layout, message, Message};
use crate::reply::{call, form_page, html, unavailable, with_cookie};
use crate::settings::{act, admit, codes_shown, prove, said, SettingsForm};
use crate::signin::{login_page, origin, pending_step, signed_in};

/// Longest key name and credential JSON passed on to authd.
const MAX_KEY_NAME: usize = 64;
pub(crate) const MAX_CREDENTIAL: usize = 8 * 1024;

/// The account's keys, or the answer to give instead (the session ended, authd down).
pub(crate) async fn list(app: &App, token: &Secret) -> Result<Vec<KeyInfo>, Box<Response>> {
    match call(app, &act(token, PortalAction::Keys)).await {
        Ok(Reply::Keys { keys }) => Ok(keys),
        Ok(other) => Err(Box::new(unavailable(
            app,
            &format!("unexpected answer {other:?}"),
        ))),
        Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => {
            Err(Box::new(to_login(app)))
        }
        Err(e) => Err(Box::new(unavailable(app, &e.to_string()))),
    }
}

/// The assertion options for the sign-in under way, when the account has a key and
/// authd gives them (else the code form alone is offered).
pub(crate) async fn assertion_options(app: &App, name: &str, challenge: &Secret) -> Option<String> {
    let request = Request::PortalKeyStart(KeyLoginStart {
        name: name.to_string(),
        challenge: challenge.clone(),
    });
    match call(app, &request).await {
        Ok(Reply::KeyAssertionOptions { options, .. }) => Some(options),
        Ok(_) => None,
        // No key on the account: the code form alone, as asked.
        Err(e) if e.remote_code() == Some(ErrorCode::NotEnrolled) => None,
        Err(e) => {
            tracing::warn!(
                code = e.code_name(),
                "no security-key options for the sign-in"
            );
            None
        }
    }
}

/// A page about keys that says `note`, with the way back to the settings.
pub(crate) fn said_page(app: &App, status: StatusCode, note: Message) -> Response {
    let public = &app.settings.public;
    let body = maud::html! {
        (message(&note))
        p { a href=(public.path("/settings")) { "Back to security settings" } }
    };
    html(status, layout(public, "Security keys", body))
}

/// What to answer an error from authd about keys.
pub(crate) fn key_error(app: &App, what: &str, e: authd_proto::client::ClientError) -> Response {
    let code = e.remote_code();
    match code {
        Some(ErrorCode::SessionInvalid) => to_login(app),
        Some(ErrorCode::FreshProofRequired) => {
            let text = "For your security, type your current password (and a code, with \
                        verification on) to change your keys, or confirm it is you with \
                        your password and your security key on the settings page.";
            said_page(
                app,
                StatusCode::UNPROCESSABLE_ENTITY,
                Message::Alert(text.into()),
            )
        }
        Some(_) => {
            tracing::info!(code = e.code_name(), "{what} refused");
            let text = said(&e).unwrap_or_else(|| format!("The security key was refused: {e}."));
            said_page(app, StatusCode::UNPROCESSABLE_ENTITY, Message::Alert(text))
        }
        None => unavailable(app, &e.to_string()),
    }
}

/// Prove with the form's password (and code) when one was typed; without, the
/// session's sign-in may still be fresh enough (authd says when it is not).
async fn prove_given(
    app: &App,
    token: &Secret,
    sent: &mut SettingsForm,
) -> Result<(), Box<Response>> {
    if sent.password.is_empty() {
        return Ok(());
    }
    let password = std::mem::take(&mut sent.password);
    let code = std::mem::take(&mut sent.code);
    prove(app, token, password, code)
        .await
        .map_err(|e| Box::new(key_error(app, "security key proof", e)))
}

/// `POST /settings/keys`: prove, then start registering a key.
pub async fn add_key(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "security key") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let key_name = sent.key_name.trim().to_string();
    if key_name.is_empty() || key_name.chars().count() > MAX_KEY_NAME {
        let text = format!("Give the key a name of 1 to {MAX_KEY_NAME} characters.");
        return said_page(&app, StatusCode::UNPROCESSABLE_ENTITY, Message::Alert(text));
    }
    if let Err(answer) = prove_given(&app, &token, &mut sent).await {
        return *answer;
    }
    let action = PortalAction::AddKey {
        key_name: key_name.clone(),
    };
    match call(&app, &act(&token, action)).await {
        Ok(Reply::KeyRegistration {
            challenge, options, ..
        }) => {
            tracing::info!("security key registration started through the web");
            let public = &app.settings.public;
            form_page(&app, &headers, StatusCode::OK, |csrf| {
                view::register(public, csrf, &key_name, challenge.expose(), &options)
            })
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => key_error(&app, "security key", e),
    }
}

/// `POST /settings/keys/finish`: the browser's answer to the registration.
pub async fn finish_key(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "security key answer") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let credential = std::mem::take(&mut sent.credential);
    if credential.is_empty() || credential.len() > MAX_CREDENTIAL {
        let text = "The security key gave no answer: add it again (this needs JavaScript).";
        return said_page(
            &app,
            StatusCode::UNPROCESSABLE_ENTITY,
            Message::Alert(text.into()),
        );
    }
    let action = PortalAction::FinishKey {
        challenge: Secret::new(std::mem::take(&mut sent.challenge)),
        credential,
    };
    match call(&app, &act(&token, action)).await {
        Ok(Reply::Confirmed { recovery_codes }) => {
            tracing::info!("security key added through the web");
            let codes: Vec<String> = recovery_codes
                .iter()
                .map(|c| c.expose().to_string())
                .collect();
            codes_shown(&app, &headers, &codes, "Your security key was added.")
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => key_error(&app, "security key answer", e),
    }
}

/// `POST /settings/keys/remove`: prove, then remove the key `id`.
pub async fn remove_key(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "security key removal") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let id = sent.id.trim().to_string();
    if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        let text = "Choose the key to remove.";
        return said_page(
            &app,
            StatusCode::UNPROCESSABLE_ENTITY,
            Message::Alert(text.into()),
        );
    }
    if let Err(answer) = prove_given(&app, &token, &mut sent).await {
        return *answer;
    }
    match call(&app, &act(&token, PortalAction::RemoveKey { id })).await {
        Ok(Reply::Done) => {
            tracing::info!("security key removed through the web");
            let text = "The security key was removed.";
            said_page(&app, StatusCode::OK, Message::Status(text.into()))
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => key_error(&app, "security key removal", e),
    }
}

#[derive(Deserialize)]
pub struct KeyLoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    credential: String,
}

/// `POST /login/key`: the key's answer for the sign-in under way.
pub async fn login_key(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<KeyLoginForm>,
) -> Response {
    let public = &app.settings.public;
    let (name, challenge, ip) = match pending_step(&app, peer, &headers, &sent.csrf, "sign-in key")
    {
        Ok(step) => step,
        Err(answer) => return *answer,
    };
    let request = Request::PortalKey(KeyLoginFinish {
        name,
        key: KeyAssertion {
            challenge: Secret::new(challenge),
            assertion: Secret::new(std::mem::take(&mut sent.credential)),
        },
        origin: origin(ip),
    });
    let answer = call(&app, &request).await;
    // The challenge is spent whatever authd said.
    let clear = cookies::set(public, cookies::SIGNIN, "", 0);
    let answer = match answer {
        // Whatever authd finds wrong with the key's answer (a forged one too) is said;
        // a lockout or a rate limit, and authd unreachable, as for a code.
        Err(e)
            if e.remote_code()
                .is_some_and(|c| !matches!(c, ErrorCode::Locked | ErrorCode::RateLimited)) =>
        {
            tracing::info!(code = e.code_name(), "sign-in key refused");
            let why = Message::Alert(
                "Your security key was not accepted. Sign in again, then use a registered \
                 key or a verification code."
                    .into(),
            );
            login_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why))
        }
        other => signed_in(&app, &headers, other),
    };
    with_cookie(answer, clear)
}
