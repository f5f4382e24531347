//! The `account` step's decision on what authd reports: disabled, expired, locked, or a
//! password that must change (Linux-PAM's `pam_unix` gives the same answers for the
//! same states in /etc/shadow).

use authd_proto::protocol::{AccountInfo, Lifecycle};
use pam::constants::PamResultCode as Code;

use super::Pam;

pub(super) fn account_step(pam: &mut impl Pam, info: &AccountInfo, l: &Lifecycle) -> Code {
    if l.disabled {
        pam.error("Your account has been disabled; contact your administrator.");
        return Code::PAM_PERM_DENIED;
    }
    if l.expired {
        pam.error("Your account has expired; contact your administrator.");
        return Code::PAM_ACCT_EXPIRED;
    }
    if let Some(until) = info.locked_until {
        pam.error(&format!(
            "Account locked until {} after failed attempts.",
            authd_proto::time::format(until)
        ));
        return Code::PAM_PERM_DENIED;
    }
    if l.password_change_required {
        let why = if l.must_change_password {
            "You are required to change your password immediately (administrator enforced)."
        } else {
            "Your password has expired; you must change it now."
        };
        pam.error(why);
        return Code::PAM_NEW_AUTHTOK_REQD;
    }
    Code::PAM_SUCCESS
}
