//! What the handlers share: an HTML answer, a refused POST explained (403, 429), authd
//! unreachable (503), a page with a form and its CSRF token, and one call to authd.

use authd_proto::async_client::AsyncClient;
use authd_proto::client::ClientError;
use authd_proto::protocol::{Request, Response as Reply};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::cookies;
use crate::guard::Refusal;
use crate::pages;

/// How long a fresh CSRF cookie lives.
const CSRF_MAX_AGE: u32 = 60 * 60;

pub fn html(status: StatusCode, page: maud::Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

/// A 303 to `path` under the public prefix.
pub fn see_other(app: &App, path: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, app.settings.public.path(path))],
    )
        .into_response()
}

/// Add a `Set-Cookie` header.
pub fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A POST the guard refused, explained; `what` names the form in the log.
pub fn refused(app: &App, what: &str, refusal: Refusal) -> Response {
    let public = &app.settings.public;
    match refusal {
        Refusal::Forbidden(why) => {
            tracing::warn!("{what} refused: {why}");
            html(
                StatusCode::FORBIDDEN,
                pages::problem(public, "Request refused", why),
            )
        }
        Refusal::TooMany(seconds) | Refusal::TooManyForAccount(seconds) => {
            let whose = match refusal {
                Refusal::TooMany(_) => "from your address",
                _ => "for this account",
            };
            // Never the name itself: it may be a password typed into the wrong field.
            tracing::warn!("{what} refused: rate limited ({whose})");
            let why = format!("Too many attempts {whose}: try again in {seconds} seconds.");
            let mut response = html(
                StatusCode::TOO_MANY_REQUESTS,
                pages::problem(public, "Slow down", &why),
            );
            if let Ok(value) = seconds.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// authd cannot be reached or answered something unexpected: 503, try again later.
pub fn unavailable(app: &App, why: &str) -> Response {
    tracing::error!("cannot serve the request: {why}");
    let page = pages::problem(
        &app.settings.public,
        "Try again later",
        "The password service cannot be reached right now. Please try again in a few minutes.",
    );
    html(StatusCode::SERVICE_UNAVAILABLE, page)
}

/// A page with a form, given the CSRF token bound to a cookie: the browser's, or a new
/// one (and the cookie is set).
pub fn form_page(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    page: impl FnOnce(&str) -> maud::Markup,
) -> Response {
    let public = &app.settings.public;
    if let Some(csrf) = cookies::get(headers, public, cookies::CSRF) {
        return html(status, page(&csrf));
    }
    let Ok(csrf) = cookies::random_token() else {
        return unavailable(app, "no randomness");
    };
    let cookie = cookies::set(public, cookies::CSRF, &csrf, CSRF_MAX_AGE);
    with_cookie(html(status, page(&csrf)), cookie)
}

/// One request to authd on a new connection.
pub async fn call(app: &App, request: &Request) -> Result<Reply, ClientError> {
    let name = concat!("authd-web ", env!("CARGO_PKG_VERSION"));
    let mut client = AsyncClient::connect(&app.settings.socket, name, app.timeout).await?;
    client.call(request).await
}
