//! One exhaustive match from `Request` to a `Service` handler, after authorization; each
//! handler takes its request's struct whole.
//! Errors become wire errors here and nowhere else.

use std::time::Instant;

use crate::account;
use crate::authz::Caller;
use crate::error::Error;
use crate::log_limit;
use crate::protocol::{Request, Response};
use crate::service::Service;

/// Answer one request from an authenticated connection.
pub async fn dispatch(service: &Service, caller: &Caller, request: Request) -> Response {
    let started = Instant::now();
    let response = answer(service, caller, request).await;
    let ok = !matches!(response, Response::Error(_));
    crate::metrics::request_done(started.elapsed(), ok);
    response
}

async fn answer(service: &Service, caller: &Caller, request: Request) -> Response {
    let named = request.account().map(str::to_owned);
    // A named account must be a name authd can hold before anything else (authorization,
    // a log line) looks at it: the caller chose its length and its bytes.
    if let Some(Err(invalid)) = named.as_deref().map(account::check_name) {
        return Response::Error(invalid.to_wire());
    }
    match handle(service, caller, request).await {
        Ok(response) => response,
        Err(error) => {
            if let Error::PermissionDenied(_) = error {
                refused(service, caller, named.as_deref());
            }
            Response::Error(error.to_wire())
        }
    }
}

/// Audit a refused request, at most `log_limit::BURST` lines per uid a minute.
fn refused(service: &Service, caller: &Caller, account: Option<&str>) {
    let Some(left_out) = service.warnings().allow(caller.peer().uid, Instant::now()) else {
        return;
    };
    tracing::warn!(
        target: "audit",
        account = account.unwrap_or("-"),
        actor = %caller.describe(),
        outcome = "permission-denied",
        "refused{}",
        log_limit::note(left_out)
    );
}

/// A disabled account's own requests are all refused (`disabled`); admins still act on
/// it, and the portal's sign-ins are refused in the login path (`PortalForgot` answers
/// the same whatever the account, so it stays out of this).
fn refuse_disabled_self(
    service: &Service,
    caller: &Caller,
    request: &Request,
) -> Result<(), Error> {
    if caller.is_admin() || matches!(request, Request::PortalForgot(_)) {
        return Ok(());
    }
    match request.account() {
        Some(name) => service.refuse_if_disabled(name),
        None => Ok(()),
    }
}

async fn handle(service: &Service, caller: &Caller, request: Request) -> Result<Response, Error> {
    caller.authorize(&request)?;
    refuse_disabled_self(service, caller, &request)?;
    match request {
        Request::Hello(_) => Err(Error::BadRequest(
            "hello is only valid as the first frame".into(),
        )),
        Request::Status => service.status(),
        Request::AddUser(req) => service.add_user(caller, req).await,
        Request::RemoveUser(req) => service.remove_user(caller, req).await,
        Request::ListUsers(req) => service.list_users(req),
        Request::ShowUser(req) => service.show_user(req),
        Request::SetUser(req) => service.set_user(caller, req).await,
        Request::SetPassword(req) => service.set_password(caller, req).await,
        Request::ChangePassword(req) => service.change_password(caller, req).await,
        Request::Verify(req) => service.verify(caller, req).await,
        Request::VerifyCode(req) => service.verify_code(caller, req).await,
        Request::EnableTotp(req) => service.enable_totp(caller, req).await,
        Request::ConfirmTotp(req) => service.confirm_totp(caller, req).await,
        Request::DisableTwoFactor(req) => service.disable_two_factor(caller, req).await,
        Request::ResetTwoFactor(req) => service.reset_two_factor(caller, req).await,
        Request::RegenerateRecoveryCodes(req) => {
            service.regenerate_recovery_codes(caller, req).await
        }
        Request::EnableSms(req) => service.enable_sms(caller, req).await,
        Request::ConfirmSms(req) => service.confirm_sms(caller, req).await,
        Request::SendCode(req) => service.send_code(caller, req).await,
        Request::SendReset(req) => service.send_reset(caller, req).await,
        Request::ResetPassword(req) => service.reset_password(caller, req).await,
        Request::Outbox(req) => service.outbox(req),
        Request::Backup(req) => service.backup(req).await,
        Request::Unlock(req) => service.unlock(caller, req).await,
        Request::Log(req) => service.log(req),
        Request::PortalSignIn(req) => service.portal_sign_in(caller, req).await,
        Request::PortalCode(req) => service.portal_code(caller, req).await,
        Request::PortalProve(req) => service.portal_prove(caller, req).await,
        Request::PortalAct(req) => service.portal_act(caller, req).await,
        Request::PortalSendCode(req) => service.portal_send_code(caller, req).await,
        Request::ListSessions(req) => service.list_sessions(req),
        Request::Logout(req) => service.logout(caller, req).await,
        Request::PortalForgot(req) => service.portal_forgot(caller, req).await,
        Request::KeyRegisterStart(req) => service.key_register_start(caller, req).await,
        Request::KeyRegisterFinish(req) => service.key_register_finish(caller, req).await,
        Request::ListKeys(req) => service.list_keys(req),
        Request::RemoveKey(req) => service.remove_key(caller, req).await,
        Request::KeyLoginStart(req) => service.key_login_start(caller, req).await,
        Request::KeyLoginFinish(req) => service.key_login_finish(caller, req).await,
        Request::PortalKeyStart(req) => service.portal_key_start(caller, req).await,
        Request::PortalKey(req) => service.portal_key(caller, req).await,
        Request::PortalProveKeyStart(req) => service.portal_prove_key_start(caller, req).await,
        Request::PortalProveKey(req) => service.portal_prove_key(caller, req).await,
        Request::ImportGoogleAuthenticator(req) => {
            service.import_google_authenticator(caller, req).await
        }
        Request::OutboxRetry(req) => service.outbox_retry(caller, req).await,
        Request::OutboxPurge(req) => service.outbox_purge(caller, req).await,
        Request::Metrics => service.metrics(),
        Request::Import(req) => service.import(caller, req).await,
        Request::CheckResetToken(req) => service.check_reset_token(caller, req).await,
        Request::Disable(req) => service.disable(caller, req).await,
        Request::Enable(req) => service.enable(caller, req).await,
        Request::SetLifecycle(req) => service.set_lifecycle(caller, req).await,
        Request::ShowLifecycle(req) => service.show_lifecycle(req),
        Request::ListAccounts(req) => service.list_accounts(req),
    }
}
