//! Signed in, the security settings' POSTs: `/settings/password` (the current password
//! proves, `PortalProve`, then `ChangePassword`; authd then ends every session of the
//! account, so the cookie is cleared and the user signs in again), `/settings/totp`
//! (`EnableTotp`; when authd wants a fresh proof, the password form, whose POST proves
//! and retries), `/settings/totp/confirm` (`ConfirmTotp`, then the recovery codes shown
//! once) and `/settings/recorded` (refused until the "recorded" box is ticked).

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::client::ClientError;
use authd_proto::protocol::{
    ErrorCode, PortalAct, PortalAction, PortalProve, Proof, Request, Response as Reply, Secret,
};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use zeroize::Zeroize;

use crate::account::{session, to_login};
use crate::app::App;
use crate::cookies;
use crate::guard::{check_post, client_ip};
use crate::pages::Message;
use crate::reply::{call, form_page, refused, see_other, unavailable, with_cookie};
use crate::{qr, settings_pages as view};

/// Every settings form: its fields, all optional (each handler reads its own).
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) current: String,
    #[serde(default)]
    pub(crate) password: String,
    #[serde(default)]
    pub(crate) password2: String,
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) codes: String,
    #[serde(default)]
    pub(crate) recorded: String,
    /// Which session to end (`/settings/sessions/end`): a number, or `all`.
    #[serde(default)]
    pub(crate) id: String,
    /// The number SMS codes go to (`/settings/sms`); empty: the account's own.
    #[serde(default)]
    pub(crate) phone: String,
    /// Which second factor to turn off (`/settings/2fa/disable`): `app`, `sms` or `all`.
    #[serde(default)]
    pub(crate) method: String,
    /// The name for a new security key (`/settings/keys`).
    #[serde(default)]
    pub(crate) key_name: String,
    /// The registration under way (`/settings/keys/finish`), as `KeyRegistration` gave it.
    #[serde(default)]
    pub(crate) challenge: String,
    /// The browser's answer, JSON (`/settings/keys/finish`).
    #[serde(default)]
    pub(crate) credential: String,
}

impl Drop for SettingsForm {
    fn drop(&mut self) {
        for s in [
            &mut self.current,
            &mut self.password,
            &mut self.password2,
            &mut self.code,
            &mut self.codes,
            &mut self.challenge,
        ] {
            s.zeroize();
        }
    }
}

/// The guard's checks and the session cookie: the token, or the answer to give instead.
pub(crate) fn admit(
    app: &App,
    peer: Peer,
    headers: &HeaderMap,
    sent: &SettingsForm,
    what: &str,
) -> Result<Secret, Box<Response>> {
    let ip = client_ip(peer, headers, &app.settings.trusted_proxies);
    check_post(headers, &app.settings.public, &app.rate, ip, &sent.csrf)
        .map_err(|refusal| Box::new(refused(app, what, refusal)))?;
    session(app, headers).ok_or_else(|| Box::new(to_login(app)))
}

pub(crate) fn act(token: &Secret, action: PortalAction) -> Request {
    Request::PortalAct(PortalAct {
        session: token.clone(),
        action,
    })
}

/// Prove with the password (and the code, if given) in this session.
pub(crate) async fn prove(
    app: &App,
    token: &Secret,
    password: String,
    code: String,
) -> Result<(), ClientError> {
    let code = code.trim().to_string();
    let request = Request::PortalProve(PortalProve {
        session: token.clone(),
        proof: Proof {
            password: Secret::new(password),
            code: (!code.is_empty()).then(|| Secret::new(code)),
        },
    });
    call(app, &request).await.map(|_| ())
}

/// The proof form again (`note` above it), posting back to `proving.action`.
pub(crate) fn prove_again(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    proving: &view::Proving<'_>,
    note: Option<Message>,
) -> Response {
    let public = &app.settings.public;
    form_page(app, headers, status, |csrf| {
        view::prove_form(public, csrf, proving, note.as_ref())
    })
}

/// A sensitive act's form came back with a password (from `#prove-form`): prove with
/// it (and the code) first. A refused proof: the proof form again, with why.
pub(crate) async fn prove_if_given(
    app: &App,
    headers: &HeaderMap,
    token: &Secret,
    sent: &mut SettingsForm,
    proving: &view::Proving<'_>,
) -> Result<(), Box<Response>> {
    if sent.password.is_empty() {
        return Ok(());
    }
    let password = std::mem::take(&mut sent.password);
    let code = std::mem::take(&mut sent.code);
    let Err(e) = prove(app, token, password, code).await else {
        return Ok(());
    };
    if e.remote_code() == Some(ErrorCode::SessionInvalid) {
        return Err(Box::new(to_login(app)));
    }
    let Some(text) = said(&e) else {
        return Err(Box::new(unavailable(app, &e.to_string())));
    };
    tracing::info!(code = e.code_name(), "proof refused");
    let note = Some(Message::Alert(text));
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    Err(Box::new(prove_again(app, headers, status, proving, note)))
}

/// What an error from authd means to the person at the form; `None`: not theirs to mend.
pub(crate) fn said(e: &ClientError) -> Option<String> {
    match e.remote_code()? {
        ErrorCode::Denied | ErrorCode::SecondFactorRequired => {
            Some("The current password (or the verification code) is not right.".into())
        }
        ErrorCode::WeakPassword | ErrorCode::Locked | ErrorCode::RateLimited => Some(e.to_string()),
        ErrorCode::InvalidInput => Some(e.to_string()),
        _ => None,
    }
}

/// The settings page again, with `note` above the change-password form.
fn password_again(app: &App, headers: &HeaderMap, with_code: bool, note: Message) -> Response {
    let public = &app.settings.public;
    form_page(app, headers, StatusCode::UNPROCESSABLE_ENTITY, |csrf| {
        crate::pages::layout(
            public,
            "Change password",
            view::change_password_form(public, csrf, with_code, Some(&note)),
        )
    })
}

/// `POST /settings/password`.
pub async fn change_password(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "password change") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let with_code = !sent.code.is_empty();
    if sent.password != sent.password2 {
        let why = Message::Alert("The two new passwords are not the same.".into());
        return password_again(&app, &headers, with_code, why);
    }
    let current = std::mem::take(&mut sent.current);
    let code = std::mem::take(&mut sent.code);
    let answer = match prove(&app, &token, current, code).await {
        Ok(()) => {
            let new = Secret::new(std::mem::take(&mut sent.password));
            call(&app, &act(&token, PortalAction::ChangePassword { new })).await
        }
        Err(e) => Err(e),
    };
    match answer {
        Ok(Reply::Done) => {
            tracing::info!("password changed through the web");
            let public = &app.settings.public;
            let clear = cookies::set(public, cookies::SESSION, "", 0);
            let page = crate::reply::html(StatusCode::OK, view::password_changed(public));
            with_cookie(page, clear)
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) if e.remote_code() == Some(ErrorCode::SessionInvalid) => to_login(&app),
        Err(e) => match said(&e) {
            Some(text) => {
                tracing::info!(code = e.code_name(), "password change refused");
                let with_code =
                    with_code || e.remote_code() == Some(ErrorCode::SecondFactorRequired);
                password_again(&app, &headers, with_code, Message::Alert(text))
            }
            None => unavailable(&app, &e.to_string()),
        },
    }
}

/// `POST /settings/totp`: start the enrolment; with a password in the form, prove first.
pub async fn enable_totp(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "app verification") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let public = &app.settings.public;
    let prove_again = |status, note: Option<Message>| {
        prove_again(&app, &headers, status, &view::PROVE_TOTP, note)
    };
    let proving = &view::PROVE_TOTP;
    if let Err(answer) = prove_if_given(&app, &headers, &token, &mut sent, proving).await {
        return *answer;
    }
    match call(&app, &act(&token, PortalAction::EnableTotp)).await {
        Ok(Reply::TotpEnrolment {
            secret,
            otpauth_uri,
        }) => {
            tracing::info!("app verification enrolment started through the web");
            let image = qr::data_url(otpauth_uri.expose());
            let mut page = form_page(&app, &headers, StatusCode::OK, |csrf| {
                view::enrolment(
                    public,
                    csrf,
                    image.as_deref(),
                    secret.expose(),
                    otpauth_uri.expose(),
                )
            });
            page.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(qr::IMG_CSP),
            );
            page
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => match e.remote_code() {
            Some(ErrorCode::SessionInvalid) => to_login(&app),
            Some(ErrorCode::FreshProofRequired) => prove_again(StatusCode::OK, None),
            _ => match said(&e) {
                Some(text) => {
                    prove_again(StatusCode::UNPROCESSABLE_ENTITY, Some(Message::Alert(text)))
                }
                None => unavailable(&app, &e.to_string()),
            },
        },
    }
}

/// `POST /settings/totp/confirm`.
pub async fn confirm_totp(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<SettingsForm>,
) -> Response {
    let token = match admit(&app, peer, &headers, &sent, "app verification code") {
        Ok(token) => token,
        Err(answer) => return *answer,
    };
    let public = &app.settings.public;
    let action = |code| PortalAction::ConfirmTotp { code };
    match confirm(&app, &token, &mut sent, action).await {
        Ok(codes) => {
            tracing::info!("app verification turned on through the web");
            codes_shown(&app, &headers, &codes, "App verification is on.")
        }
        Err(e) => match e.remote_code() {
            Some(ErrorCode::SessionInvalid) => to_login(&app),
            Some(ErrorCode::Denied | ErrorCode::InvalidInput | ErrorCode::NotEnrolled) => {
                tracing::info!(code = e.code_name(), "app verification code refused");
                let why = match e.remote_code() {
                    Some(ErrorCode::NotEnrolled) => {
                        "No app verification is waiting to be turned on: start again."
                    }
                    _ => "That code is not right: enter the code the app shows now.",
                };
                form_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, |csrf| {
                    view::confirm_again(public, csrf, why)
                })
            }
            _ => unavailable(&app, &e.to_string()),
        },
    }
}

/// Turn a pending second factor on with the form's code (`action` carries it): the
/// recovery codes authd answers (none unless it is the account's first factor).
pub(crate) async fn confirm(
    app: &App,
    token: &Secret,
    sent: &mut SettingsForm,
    action: impl FnOnce(Secret) -> PortalAction,
) -> Result<Vec<String>, ClientError> {
    let code = Secret::new(std::mem::take(&mut sent.code).trim().to_string());
    match call(app, &act(token, action(code))).await? {
        Reply::Confirmed { recovery_codes } => Ok(recovery_codes
            .iter()
            .map(|c| c.expose().to_string())
            .collect()),
        other => Err(ClientError::Unexpected(format!("{other:?}"))),
    }
}

/// A second factor is on (`on` says which): the recovery codes, if any, shown once.
pub(crate) fn codes_shown(app: &App, headers: &HeaderMap, codes: &[String], on: &str) -> Response {
    let public = &app.settings.public;
    let on = Message::Status(on.into());
    form_page(app, headers, StatusCode::OK, |csrf| {
        view::recovery_codes(public, csrf, codes, Some(&on))
    })
}

/// `POST /settings/recorded`: on to the settings once the box is ticked.
pub async fn recorded(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(sent): Form<SettingsForm>,
) -> Response {
    if let Err(answer) = admit(&app, peer, &headers, &sent, "recovery codes") {
        return *answer;
    }
    if sent.recorded == "yes" {
        return see_other(&app, "/settings");
    }
    let public = &app.settings.public;
    let codes: Vec<String> = sent
        .codes
        .split_ascii_whitespace()
        .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .take(32)
        .map(str::to_string)
        .collect();
    let why = Message::Alert(
        "Tick \"I have safely recorded these codes\" first: they will not be shown again.".into(),
    );
    form_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, |csrf| {
        view::recovery_codes(public, csrf, &codes, Some(&why))
    })
}
