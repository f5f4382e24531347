//! The router, its shared state and the listener.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::args::Settings;
use crate::keys_pages::KEYS_JS;
use crate::listen::{bind_unix, Listen, Peer};
use crate::pages::STYLE_CSS;
use crate::rate::RateLimit;
use crate::{
    account, forgot, guard, keys, keys_prove, reset, settings, settings_mail, settings_more,
    settings_sms, signin,
};

/// The largest request body accepted: a form with two passwords and a token fits many
/// times over.
pub const MAX_BODY: usize = 16 * 1024;

/// What every handler shares.
pub struct App {
    pub settings: Settings,
    /// POSTs per client address.
    pub rate: RateLimit<std::net::IpAddr>,
    /// Sign-in and reset-mail POSTs per account name, whatever the address.
    pub account_rate: RateLimit<String>,
    /// For each exchange with authd (connect, each request).
    pub timeout: Duration,
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/reset/link", get(reset::link))
        .route("/reset", get(reset::show).post(reset::submit))
        .route("/login", get(signin::show).post(signin::submit))
        .route("/login/code", post(signin::code))
        .route("/login/sms", post(signin::send_sms))
        .route("/forgot", get(forgot::show).post(forgot::submit))
        .route("/settings", get(account::show))
        .route("/settings/password", post(settings::change_password))
        .route("/settings/password/email", post(settings_mail::send))
        .route("/settings/totp", post(settings::enable_totp))
        .route("/settings/totp/confirm", post(settings::confirm_totp))
        .route("/settings/sms", post(settings_sms::enable_sms))
        .route("/settings/sms/confirm", post(settings_sms::confirm_sms))
        .route("/settings/recorded", post(settings::recorded))
        .route(
            "/settings/2fa/disable",
            post(settings_more::disable_two_factor),
        )
        .route(
            "/settings/recovery-codes",
            post(settings_more::regenerate_codes),
        )
        .route("/settings/sessions/end", post(settings_more::end_session))
        .route("/settings/keys", post(keys::add_key))
        .route("/settings/keys/finish", post(keys::finish_key))
        .route("/settings/keys/remove", post(keys::remove_key))
        .route("/settings/prove-key", post(keys_prove::start))
        .route("/settings/prove-key/finish", post(keys_prove::finish))
        .route("/login/key", post(keys::login_key))
        .route("/logout", post(account::logout))
        .route("/static/style.css", get(style))
        .route("/static/keys.js", get(script))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(guard::headers))
        .with_state(app)
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE_CSS,
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        KEYS_JS,
    )
}

/// Serve until SIGTERM or SIGINT.
pub fn run(settings: Settings) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listen = settings.listen.clone();
        tracing::info!(
            listen = %listen,
            public_url = %format!("{}{}", settings.public.origin, settings.public.prefix),
            socket = %settings.socket.display(),
            "authd-web serving"
        );
        let app = Arc::new(App {
            rate: RateLimit::new(settings.posts_per_minute),
            account_rate: RateLimit::new(settings.posts_per_account_per_minute),
            settings,
            timeout: Duration::from_secs(30),
        });
        let service = router(app).into_make_service_with_connect_info::<Peer>();
        match listen {
            Listen::Tcp(addr) => {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown())
                    .await
            }
            Listen::Unix(path) => {
                let listener = bind_unix(&path)?;
                let served = axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown())
                    .await;
                let _ = std::fs::remove_file(&path);
                served
            }
        }
    })
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("authd-web stopping");
}
