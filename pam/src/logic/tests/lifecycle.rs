//! The `account` step on authd's lifecycle state: disabled, expired, a password that
//! must change (by an admin's demand or by age), and the account's own request refused.

use authd_proto::protocol::Lifecycle;

use super::*;

/// An account open for logins, with nothing due.
pub(super) fn open() -> Lifecycle {
    Lifecycle {
        name: "alice".into(),
        disabled: false,
        disabled_reason: None,
        disabled_since: None,
        expires: None,
        expired: false,
        must_change_password: false,
        password_changed: Some(1_800_000_000),
        max_password_age_days: None,
        password_expires: None,
        password_change_required: false,
        last_login: None,
        last_login_service: None,
    }
}

fn account_with(lifecycle: Lifecycle, locked_until: Option<u64>) -> (Code, Vec<String>) {
    let mut pam = script(&[]);
    let mut d = daemon(vec![
        Ok(Response::Account(account_info(locked_until))),
        Ok(Response::Lifecycle(lifecycle)),
    ]);
    let code = account(&mut pam, || Ok(&mut d), &Options::default());
    (code, pam.shown)
}

#[test]
fn disabled_is_perm_denied_and_comes_before_expired_and_locked() {
    let disabled = Lifecycle {
        disabled: true,
        expired: true,
        ..open()
    };
    let (code, shown) = account_with(disabled, Some(4_000_000_000));
    assert_eq!(code, Code::PAM_PERM_DENIED);
    assert!(shown[0].contains("disabled"), "{shown:?}");
}

#[test]
fn expired_is_acct_expired() {
    let expired = Lifecycle {
        expired: true,
        expires: Some(1_800_000_000),
        ..open()
    };
    let (code, shown) = account_with(expired, None);
    assert_eq!(code, Code::PAM_ACCT_EXPIRED);
    assert!(shown[0].contains("expired"), "{shown:?}");
}

#[test]
fn a_password_that_must_change_is_new_authtok_reqd() {
    let demanded = Lifecycle {
        must_change_password: true,
        password_change_required: true,
        ..open()
    };
    let (code, shown) = account_with(demanded, None);
    assert_eq!(code, Code::PAM_NEW_AUTHTOK_REQD);
    assert!(shown[0].contains("administrator enforced"), "{shown:?}");
    let aged = Lifecycle {
        max_password_age_days: Some(30),
        password_expires: Some(1_800_000_000 + 30 * 86_400),
        password_change_required: true,
        ..open()
    };
    let (code, shown) = account_with(aged, None);
    assert_eq!(code, Code::PAM_NEW_AUTHTOK_REQD);
    assert!(shown[0].contains("expired"), "{shown:?}");
    assert_eq!(account_with(open(), None).0, Code::PAM_SUCCESS);
}

#[test]
fn the_account_s_own_request_refused_as_disabled_or_expired() {
    for (error, want) in [
        (ErrorCode::Disabled, Code::PAM_PERM_DENIED),
        (ErrorCode::Expired, Code::PAM_ACCT_EXPIRED),
    ] {
        let mut pam = script(&[]);
        let mut d = daemon(vec![remote(error)]);
        assert_eq!(account(&mut pam, || Ok(&mut d), &Options::default()), want);
    }
}

#[test]
fn a_login_whose_password_must_change_still_authenticates() {
    let mut pam = script(&["pw"]);
    let mut d = daemon(vec![Ok(Response::VerifiedChangeRequired {
        name: "alice".into(),
        reason: "an administrator requires a new password".into(),
    })]);
    assert_eq!(
        authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless),
        Code::PAM_SUCCESS
    );
    let mut pam = script(&["pw"]);
    let mut d = daemon(vec![remote(ErrorCode::Disabled)]);
    assert_eq!(
        authenticate(&mut pam, || Ok(&mut d), &Options::default(), &mut Keyless),
        Code::PAM_AUTH_ERR
    );
}
