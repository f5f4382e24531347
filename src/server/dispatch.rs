//! One exhaustive match from `Request` to a `Service` handler, after authorization.
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

async fn handle(service: &Service, caller: &Caller, request: Request) -> Result<Response, Error> {
    caller.authorize(&request)?;
    match request {
        Request::Hello { .. } => Err(Error::BadRequest(
            "hello is only valid as the first frame".into(),
        )),
        Request::Status => service.status(),
        Request::AddUser {
            name,
            email,
            phone,
            sso,
        } => service.add_user(caller, name, email, phone, sso).await,
        Request::RemoveUser { name } => service.remove_user(caller, name).await,
        Request::ListUsers { after, limit } => service.list_users(after, limit),
        Request::ShowUser { name } => service.show_user(&name),
        Request::SetUser {
            name,
            email,
            phone,
            sso,
        } => service.set_user(caller, name, email, phone, sso).await,
        Request::SetPassword { name, password } => {
            service.set_password(caller, name, password).await
        }
        Request::ChangePassword {
            name,
            current,
            code,
            new,
        } => {
            service
                .change_password(caller, name, current, code, new)
                .await
        }
        Request::Verify {
            name,
            password,
            code,
            origin,
        } => service.verify(caller, name, password, code, origin).await,
        Request::VerifyCode {
            name,
            challenge,
            code,
            origin,
        } => {
            service
                .verify_code(caller, name, challenge, code, origin)
                .await
        }
        Request::EnableTotp { name, proof } => service.enable_totp(caller, name, proof).await,
        Request::ConfirmTotp { name, code } => service.confirm_totp(caller, name, code).await,
        Request::DisableTwoFactor {
            name,
            method,
            proof,
        } => {
            service
                .disable_two_factor(caller, name, method, proof)
                .await
        }
        Request::ResetTwoFactor { name } => service.reset_two_factor(caller, name).await,
        Request::RegenerateRecoveryCodes { name, proof } => {
            service.regenerate_recovery_codes(caller, name, proof).await
        }
        Request::EnableSms { name, phone, proof } => {
            service.enable_sms(caller, name, phone, proof).await
        }
        Request::ConfirmSms { name, code } => service.confirm_sms(caller, name, code).await,
        Request::SendCode { name } => service.send_code(caller, name).await,
        Request::SendReset { name, proof } => service.send_reset(caller, name, proof).await,
        Request::ResetPassword { token, password } => {
            service.reset_password(caller, token, password).await
        }
        Request::Outbox { after, limit } => service.outbox(after, limit),
        Request::Backup { session, offset } => service.backup(session, offset).await,
        Request::Unlock { name } => service.unlock(caller, name).await,
        Request::Log {
            name,
            before,
            limit,
        } => service.log(&name, before, limit),
    }
}
