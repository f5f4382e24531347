//! Signed in, the rest of the security settings' POSTs: `/settings/2fa/disable` (the
//! password and a current code prove, `PortalProve`, then `DisableTwoFactor` of every
//! factor, or, when both are on, of the one the form's `method` names: `app`, `sms`),
//! `/settings/recovery-codes` (the same proof, then `RegenerateRecoveryCodes`, the new
//! codes shown once with the "recorded" box) and `/settings/sessions/end` (`Logout` of
//! one session by number, or of every session: "sign out everywhere").

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::client::ClientError;
use authd_proto::protocol::{ErrorCode, FactorChoice, PortalAction, Response as Reply, Secret};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;

use crate::account::{current_id, to_login};
use crate::app::App;
use crate::pages::{layout, Message};
use crate::reply::{call, form_page, see_other, unavailable};
use crate::settings::{act, admit, prove, said, SettingsForm};
use crate::{settings_more_pages as view, settings_pages};

/// Prove with the form's password and code, then `action`.
async fn proved(
    app: &App,
    token: &Secret,
    sent: &mut SettingsForm,
    action: PortalAction,
) -> Result<Reply, ClientError> {
    let password = std::mem::take(&mut sent.password);
    let code = std::mem::take(&mut sent.code);
    prove(app, token, password, code).await?;
    call(app, &act(token, action)).await
}

/// An error of a proved act: to the sign-in page, the form again with an alert, or 503.
fn refused_act(
    app: &App,
    headers: &HeaderMap,
    e: &ClientError,
    title: &str,
    form: impl Fn(&str, Option<&Message>) -> maud::Markup,
) -> Response {
    if e.remote_code() == Some(ErrorCode::SessionInvalid) {
        return to_login(app);
    }
    let text = match e.remote_code() {
        Some(ErrorCode::NotEnrolled) => Some("Two-step verification is not on.".to_string()),
        _ => said(e),
    };
    let Some(text) = text else {
        return unavailable(app, &e.to_string());
    };
    tracing::info!(code = e.code_name(), "{title} refused");
    let public = &app.settings.public;
    let note = Message::Alert(text);
    form_page(app, headers, StatusCode::UNPROCESSABLE_ENTITY, |csrf| {
        let body = maud::html! {
            (form(csrf, Some(&note)))
            p { a href=(public.path("/settings")) { "Back to security settings" } }
        };
        layout(public, title, body)
    })
}

/// `POST /settings/2fa/disable`.
pub async fn disable_two_factor(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "turning off 2FA") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let title = "Turn off two-step verification";
    let public = &app.settings.public;
    // A choice is offered only when both factors are on: the refused form offers it again.
    let both = !sent.method.is_empty();
    let form = |csrf: &str, note: Option<&Message>| view::disable_form(public, csrf, both, note);
    let (method, done) = match sent.method.as_str() {
        "" | "all" => (
            FactorChoice::All,
            "Two-step verification is off. Your account is now protected by your \
             password alone.",
        ),
        "app" => (
            FactorChoice::Totp,
            "App verification is off. SMS verification stays on.",
        ),
        "sms" => (
            FactorChoice::Sms,
            "SMS verification is off. App verification stays on.",
        ),
        _ => {
            let note = Message::Alert("Choose which verification to turn off.".into());
            return form_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, |csrf| {
                layout(public, title, form(csrf, Some(&note)))
            });
        }
    };
    let action = PortalAction::DisableTwoFactor { method };
    match proved(&app, &token, &mut sent, action).await {
        Ok(Reply::Done) => {
            tracing::info!(?method, "two-step verification turned off through the web");
            let body = maud::html! {
                (crate::pages::message(&Message::Status(done.into())))
                p { a href=(public.path("/settings")) { "Back to security settings" } }
            };
            crate::reply::html(StatusCode::OK, layout(public, title, body))
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => refused_act(&app, &headers, &e, title, form),
    }
}

/// `POST /settings/recovery-codes`.
pub async fn regenerate_codes(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "new recovery codes") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let title = "New recovery codes";
    match proved(
        &app,
        &token,
        &mut sent,
        PortalAction::RegenerateRecoveryCodes,
    )
    .await
    {
        Ok(Reply::RecoveryCodes { codes }) => {
            tracing::info!("recovery codes replaced through the web");
            let codes: Vec<String> = codes.iter().map(|c| c.expose().to_string()).collect();
            let public = &app.settings.public;
            let note = Message::Status("New recovery codes: the old ones no longer work.".into());
            form_page(&app, &headers, StatusCode::OK, |csrf| {
                settings_pages::recovery_codes_page(public, csrf, &codes, &note, title)
            })
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => {
            let public = &app.settings.public;
            let form =
                |csrf: &str, note: Option<&Message>| view::regenerate_form(public, csrf, note);
            refused_act(&app, &headers, &e, title, form)
        }
    }
}

/// `POST /settings/sessions/end`: one session (`id`), or all (`id=all`); ending this
/// browser's own session leads to the sign-in page.
pub async fn end_session(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "sign-out") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let ids = if sent.id == "all" {
        match call(&app, &act(&token, PortalAction::Sessions)).await {
            // Every other session first, this one last (it authorises the others).
            Ok(Reply::Sessions { sessions }) => {
                let here = current_id(&app, &headers);
                let mut ids: Vec<u64> = sessions.iter().map(|s| s.id).collect();
                ids.sort_by_key(|id| Some(*id) == here);
                ids
            }
            Ok(other) => return unavailable(&app, &format!("unexpected answer {other:?}")),
            Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => return to_login(&app),
            Err(e) => return unavailable(&app, &e.to_string()),
        }
    } else {
        match sent.id.parse::<u64>() {
            Ok(id) => vec![id],
            Err(_) => return see_other(&app, "/settings"),
        }
    };
    let mut ended = 0;
    for id in ids {
        let request = act(&token, PortalAction::Logout { id: Some(id) });
        match call(&app, &request).await {
            Ok(Reply::SessionsEnded { count }) => ended += count,
            Ok(other) => return unavailable(&app, &format!("unexpected answer {other:?}")),
            // This one ended (or was already gone): nothing more can be done from here.
            Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => break,
            // Another that ended meanwhile.
            Err(e) if e.remote_code() == Some(ErrorCode::InvalidInput) => {}
            Err(e) => return unavailable(&app, &e.to_string()),
        }
    }
    tracing::info!(count = ended, "sessions ended through the web");
    see_other(&app, "/settings")
}
