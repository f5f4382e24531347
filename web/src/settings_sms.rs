//! Signed in, turning on SMS verification: `POST /settings/sms` (`EnableSms`, with the
//! number typed or the account's own; when authd wants a fresh proof, the password form,
//! whose POST proves and retries with the same number) shows the code form;
//! `POST /settings/sms/confirm` (`ConfirmSms`) turns it on and, when it is the first
//! second factor, shows the recovery codes once (the same page and "recorded" box as
//! for the app). A number in a country outside authd's `[sms] countries` is told to use
//! the authenticator app.

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::protocol::{ErrorCode, PortalAction, Response as Reply};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;

use crate::account::to_login;
use crate::app::App;
use crate::pages::Message;
use crate::reply::{call, form_page, unavailable};
use crate::settings::{
    act, admit, codes_shown, confirm, prove_again, prove_if_given, said, SettingsForm,
};
use crate::settings_pages::Proving;
use crate::settings_sms_pages as view;

/// Longest phone number passed on (authd checks the format).
const MAX_PHONE: usize = 32;

/// `POST /settings/sms`: send a code to the number; with a password in the form, prove
/// first.
pub async fn enable_sms(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "SMS verification") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let public = &app.settings.public;
    let typed = sent.phone.trim().to_string();
    let phone = (!typed.is_empty()).then_some(typed.as_str());
    let again = |status, text: String| {
        form_page(&app, &headers, status, |csrf| {
            view::enable_again(public, csrf, phone, &Message::Alert(text))
        })
    };
    if typed.len() > MAX_PHONE {
        let text = "That phone number is too long.".to_string();
        return again(StatusCode::UNPROCESSABLE_ENTITY, text);
    }
    let proving = Proving {
        action: "/settings/sms",
        what: "turn on SMS verification",
        phone,
    };
    if let Err(answer) = prove_if_given(&app, &headers, &token, &mut sent, &proving).await {
        return *answer;
    }
    let action = PortalAction::EnableSms {
        phone: phone.map(str::to_string),
    };
    match call(&app, &act(&token, action)).await {
        Ok(Reply::SmsSent { to, .. }) => {
            tracing::info!("SMS verification enrolment started through the web");
            form_page(&app, &headers, StatusCode::OK, |csrf| {
                view::confirm(public, csrf, Some(&to), None)
            })
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => {
            let refused = |status, text| {
                tracing::info!(code = e.code_name(), "SMS verification refused");
                again(status, text)
            };
            match e.remote_code() {
                Some(ErrorCode::SessionInvalid) => to_login(&app),
                Some(ErrorCode::FreshProofRequired) => {
                    prove_again(&app, &headers, StatusCode::OK, &proving, None)
                }
                Some(ErrorCode::SmsUnavailable) => {
                    refused(StatusCode::UNPROCESSABLE_ENTITY, view::NOT_AVAILABLE.into())
                }
                Some(ErrorCode::InvalidInput) => {
                    refused(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
                }
                Some(ErrorCode::RateLimited) => refused(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("No new code was sent ({e})."),
                ),
                Some(ErrorCode::Exists) => refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "SMS verification is already on.".into(),
                ),
                _ => match said(&e) {
                    Some(text) => {
                        let note = Some(Message::Alert(text));
                        let status = StatusCode::UNPROCESSABLE_ENTITY;
                        prove_again(&app, &headers, status, &proving, note)
                    }
                    None => unavailable(&app, &e.to_string()),
                },
            }
        }
    }
}

/// `POST /settings/sms/confirm`.
pub async fn confirm_sms(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "SMS verification code") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let public = &app.settings.public;
    let action = |code| PortalAction::ConfirmSms { code };
    match confirm(&app, &token, &mut sent, action).await {
        Ok(codes) => {
            tracing::info!("SMS verification turned on through the web");
            codes_shown(&app, &headers, &codes, "SMS verification is on.")
        }
        Err(e) => {
            let why = match e.remote_code() {
                Some(ErrorCode::SessionInvalid) => return to_login(&app),
                Some(ErrorCode::Denied | ErrorCode::InvalidInput) => {
                    "That code is not right, or it has expired: enter the code from the \
                     latest SMS, or start again for a new one."
                }
                Some(ErrorCode::NotEnrolled) => {
                    "No SMS verification is waiting to be turned on: start again."
                }
                Some(ErrorCode::Locked) => {
                    "Too many wrong codes: the account is locked for a while."
                }
                _ => return unavailable(&app, &e.to_string()),
            };
            tracing::info!(code = e.code_name(), "SMS verification code refused");
            let note = Message::Alert(why.into());
            form_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, |csrf| {
                view::confirm(public, csrf, None, Some(&note))
            })
        }
    }
}
