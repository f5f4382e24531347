//! Signing in: `GET /login` shows the form for name and password; `POST /login` sends
//! them to authd (`PortalSignIn`). When the account has a second factor, authd answers
//! with a single-use challenge: it goes, with the account name, into a short-lived
//! `HttpOnly`, `SameSite=Strict` cookie (never into a URL) and the code form is shown;
//! `POST /login/code` sends the code (`PortalCode`). When the account has SMS
//! verification, the code page offers `#send-sms-form`: `POST /login/sms` asks authd to
//! text a code for the pending sign-in (`PortalSendCode`, the challenge checked but not
//! spent) and shows the code page again with the masked number, or authd's refusal (a
//! code sent less than a minute ago: rate limited). When authd issues a session, its
//! token goes into the session cookie and the browser is sent (303) to `/settings`.
//!
//! A wrong name and a wrong password get the same message (authd answers both alike).
//! SSO accounts are told to sign in at their provider; a locked account or a rate limit
//! is said as authd says it.

use crate::listen::Peer;
use std::sync::Arc;

use authd_proto::client::ClientError;
use authd_proto::protocol::{
    ErrorCode, Origin, PortalCode, PortalSendCode, PortalSignIn, Request, Response as Reply,
    SecondFactor, Secret,
};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use zeroize::Zeroize;

use crate::app::App;
use crate::cookies;
use crate::guard::{check_account, check_post, client_ip};
use crate::pages::{self, Message, SmsStep};
use crate::reply::{call, form_page, refused, see_other, unavailable, with_cookie};

/// The one message for a wrong name or password.
pub const WRONG: &str = "The account name or the password is not right.";

/// The sign-in under way is gone (its cookie or its challenge expired).
pub(crate) const TOO_LONG: &str = "The sign-in took too long: please sign in again.";

/// Longest account name sent on to authd.
pub(crate) const MAX_NAME: usize = 256;

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

impl Drop for LoginForm {
    fn drop(&mut self) {
        self.password.zeroize();
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

impl Drop for CodeForm {
    fn drop(&mut self) {
        self.code.zeroize();
    }
}

pub(crate) fn login_page(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    note: Option<&Message>,
) -> Response {
    let public = &app.settings.public;
    form_page(app, headers, status, |csrf| {
        pages::login_form(public, csrf, note)
    })
}

/// `GET /login`, with the notice the browser was sent here with (said once).
pub async fn show(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match crate::account::notice(&app, &headers) {
        Some((note, clear)) => {
            let page = login_page(&app, &headers, StatusCode::OK, Some(&note));
            with_cookie(page, clear)
        }
        None => login_page(&app, &headers, StatusCode::OK, None),
    }
}

/// Where a request came from, as authd records it.
pub(crate) fn origin(ip: std::net::IpAddr) -> Origin {
    Origin {
        service: Some("authd-web".into()),
        remote_host: Some(ip.to_string()),
    }
}

/// `POST /login`: the password.
pub async fn submit(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<LoginForm>,
) -> Response {
    let ip = client_ip(peer, &headers, &app.settings.trusted_proxies);
    if let Err(refusal) = check_post(&headers, &app.settings.public, &app.rate, ip, &sent.csrf) {
        return refused(&app, "sign-in", refusal);
    }
    let name = sent.user.trim().to_string();
    if name.is_empty() || name.len() > MAX_NAME || sent.password.is_empty() {
        let why = Message::Alert(WRONG.into());
        return login_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why));
    }
    if let Err(refusal) = check_account(&app.account_rate, &name) {
        return refused(&app, "sign-in", refusal);
    }
    let request = Request::PortalSignIn(PortalSignIn {
        name: name.clone(),
        password: Secret::new(std::mem::take(&mut sent.password)),
        origin: origin(ip),
    });
    match call(&app, &request).await {
        Ok(Reply::SecondFactorRequired {
            challenge: Some(challenge),
            sms_sent_to,
            methods,
        }) => {
            let value = format!("{}.{}", hex(&name), challenge.expose());
            let cookie = cookies::set(
                &app.settings.public,
                cookies::SIGNIN,
                &value,
                cookies::SIGNIN_MAX_AGE,
            );
            let sms = SmsStep {
                sent_to: sms_sent_to.as_deref(),
                offer: methods.contains(&SecondFactor::Sms),
            };
            let key = if methods.contains(&SecondFactor::SecurityKey) {
                crate::keys::assertion_options(&app, &name, &challenge).await
            } else {
                None
            };
            let page = code_page(&app, &headers, StatusCode::OK, sms, key.as_deref(), None);
            with_cookie(page, cookie)
        }
        answer => signed_in(&app, &headers, answer),
    }
}

/// `POST /login/code`: the second factor.
pub async fn code(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(mut sent): Form<CodeForm>,
) -> Response {
    let public = &app.settings.public;
    let (name, challenge, ip) = match pending_step(&app, peer, &headers, &sent.csrf, "sign-in code")
    {
        Ok(step) => step,
        Err(answer) => return *answer,
    };
    let request = Request::PortalCode(PortalCode {
        name,
        challenge: Secret::new(challenge),
        code: Secret::new(std::mem::take(&mut sent.code).trim().to_string()),
        origin: origin(ip),
    });
    let answer = call(&app, &request).await;
    // The challenge is single use: whatever authd said, it is spent.
    let clear = cookies::set(public, cookies::SIGNIN, "", 0);
    let answer = match answer {
        Err(e) if e.remote_code() == Some(ErrorCode::Denied) => {
            tracing::info!("sign-in code refused");
            let why = Message::Alert(
                "That code is not right or has expired: please sign in again.".into(),
            );
            login_page(&app, &headers, StatusCode::UNPROCESSABLE_ENTITY, Some(&why))
        }
        other => signed_in(&app, &headers, other),
    };
    with_cookie(answer, clear)
}

fn code_page(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    sms: SmsStep<'_>,
    key: Option<&str>,
    note: Option<&Message>,
) -> Response {
    let public = &app.settings.public;
    form_page(app, headers, status, |csrf| {
        pages::code_form(public, csrf, sms, key, note, &app.settings.support)
    })
}

/// A POST for the sign-in under way (the code, an SMS, the key), past the guard's
/// checks: its account name and challenge, and the client's address; or the answer to
/// give instead (`what` names the form in the log).
pub(crate) fn pending_step(
    app: &App,
    peer: Peer,
    headers: &HeaderMap,
    csrf: &str,
    what: &str,
) -> Result<(String, String, std::net::IpAddr), Box<Response>> {
    let ip = client_ip(peer, headers, &app.settings.trusted_proxies);
    check_post(headers, &app.settings.public, &app.rate, ip, csrf)
        .map_err(|refusal| Box::new(refused(app, what, refusal)))?;
    let (name, challenge) = pending(app, headers)?;
    check_account(&app.account_rate, &name)
        .map_err(|refusal| Box::new(refused(app, what, refusal)))?;
    Ok((name, challenge, ip))
}

/// The account name and challenge of the sign-in under way, from its cookie; or the
/// sign-in page that says to start again.
fn pending(app: &App, headers: &HeaderMap) -> Result<(String, String), Box<Response>> {
    let public = &app.settings.public;
    cookies::get(headers, public, cookies::SIGNIN)
        .and_then(|v| parse_pending(&v))
        .ok_or_else(|| {
            let why = Message::Alert(TOO_LONG.into());
            Box::new(login_page(
                app,
                headers,
                StatusCode::BAD_REQUEST,
                Some(&why),
            ))
        })
}

/// `POST /login/sms`: text a code for the sign-in under way.
pub async fn send_sms(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(sent): Form<CodeForm>,
) -> Response {
    let public = &app.settings.public;
    let (name, challenge, _) = match pending_step(&app, peer, &headers, &sent.csrf, "sign-in SMS") {
        Ok(step) => step,
        Err(answer) => return *answer,
    };
    let challenge = Secret::new(challenge);
    let request = Request::PortalSendCode(PortalSendCode {
        name: name.clone(),
        challenge: challenge.clone(),
    });
    let offer = SmsStep {
        sent_to: None,
        offer: true,
    };
    match call(&app, &request).await {
        Ok(Reply::SmsSent { to, .. }) => {
            tracing::info!("sign-in code sent by SMS");
            let sms = SmsStep {
                sent_to: Some(&to),
                offer: true,
            };
            // The key stays offered beside the texted code (its options ride on the
            // same, still unspent challenge).
            let key = crate::keys::assertion_options(&app, &name, &challenge).await;
            code_page(&app, &headers, StatusCode::OK, sms, key.as_deref(), None)
        }
        Ok(other) => unavailable(&app, &format!("unexpected answer {other:?}")),
        Err(e) => match e.remote_code() {
            Some(ErrorCode::RateLimited) => {
                tracing::info!("sign-in SMS refused: rate limited");
                let text = format!("No new code was sent ({e}). Use the code you already have.");
                let why = Message::Alert(text);
                code_page(
                    &app,
                    &headers,
                    StatusCode::TOO_MANY_REQUESTS,
                    offer,
                    None,
                    Some(&why),
                )
            }
            Some(ErrorCode::Locked | ErrorCode::InvalidInput) => {
                tracing::info!(code = e.code_name(), "sign-in SMS refused");
                let why = Message::Alert(e.to_string());
                code_page(
                    &app,
                    &headers,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    offer,
                    None,
                    Some(&why),
                )
            }
            Some(ErrorCode::NotEnrolled) => {
                tracing::info!("sign-in SMS refused: no SMS verification");
                let why = Message::Alert("This account does not use SMS codes.".into());
                let none = SmsStep::default();
                code_page(
                    &app,
                    &headers,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    none,
                    None,
                    Some(&why),
                )
            }
            Some(ErrorCode::Denied) => {
                tracing::info!("sign-in SMS refused: the sign-in is no longer pending");
                let clear = cookies::set(public, cookies::SIGNIN, "", 0);
                let why = Message::Alert(TOO_LONG.into());
                let page = login_page(&app, &headers, StatusCode::BAD_REQUEST, Some(&why));
                with_cookie(page, clear)
            }
            _ => unavailable(&app, &e.to_string()),
        },
    }
}

/// What authd answered a sign-in step, other than a challenge.
pub(crate) fn signed_in(
    app: &App,
    headers: &HeaderMap,
    answer: Result<Reply, ClientError>,
) -> Response {
    let public = &app.settings.public;
    let again =
        |status, text: String| login_page(app, headers, status, Some(&Message::Alert(text)));
    match answer {
        Ok(Reply::SessionIssued {
            name, id, token, ..
        }) => {
            tracing::info!(account = %name, session = id, "signed in through the web");
            let cookie = cookies::set(
                public,
                cookies::SESSION,
                token.expose(),
                cookies::SESSION_MAX_AGE,
            );
            let number = cookies::set(
                public,
                cookies::SESSION_ID,
                &id.to_string(),
                cookies::SESSION_MAX_AGE,
            );
            with_cookie(with_cookie(see_other(app, "/settings"), cookie), number)
        }
        Ok(other) => unavailable(app, &format!("unexpected answer {other:?}")),
        Err(e) => match e.remote_code() {
            Some(ErrorCode::Denied | ErrorCode::NoSuchUser | ErrorCode::InvalidInput) => {
                tracing::info!("sign-in refused");
                again(StatusCode::UNPROCESSABLE_ENTITY, WRONG.into())
            }
            Some(ErrorCode::SsoAccount) => {
                tracing::info!("sign-in refused: an SSO account");
                let text = "This account signs in with its single sign-on (SSO) provider: \
                            sign in there instead.";
                again(StatusCode::UNPROCESSABLE_ENTITY, text.into())
            }
            Some(ErrorCode::Locked | ErrorCode::RateLimited) => {
                tracing::info!(code = e.code_name(), "sign-in refused");
                again(StatusCode::TOO_MANY_REQUESTS, e.to_string())
            }
            _ => unavailable(app, &e.to_string()),
        },
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The account name and challenge in the sign-in cookie.
fn parse_pending(value: &str) -> Option<(String, String)> {
    let (name, challenge) = value.split_once('.')?;
    if name.len() % 2 != 0 || challenge.is_empty() || challenge.len() > 128 {
        return None;
    }
    if !challenge.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..name.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(name.get(i..i + 2)?, 16).ok())
        .collect();
    let name = String::from_utf8(bytes?).ok()?;
    Some((name, challenge.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_sign_in_survives_its_cookie_and_junk_does_not() {
        let value = format!("{}.{}", hex("älice"), "ABC234");
        assert_eq!(
            parse_pending(&value),
            Some(("älice".to_string(), "ABC234".to_string()))
        );
        assert_eq!(parse_pending("616.ABC"), None);
        assert_eq!(parse_pending("61.AB;C"), None);
        assert_eq!(parse_pending("61."), None);
        assert_eq!(parse_pending("zz.ABC"), None);
        assert_eq!(parse_pending("nodot"), None);
    }
}
