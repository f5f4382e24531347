//! The account record as version 1 stored it, frozen: the shape of `Account` before
//! security keys. Accounts without keys and without lifecycle
//! state are still written in it (`encode_account`), so
//! their bytes never change; reading one gives an `Account` with no keys.

use serde::{Deserialize, Serialize};

use super::{Account, PendingCode, SmsEnrolment, TotpEnrolment};

#[derive(Serialize, Deserialize)]
pub(super) struct AccountV1 {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    sso: Option<String>,
    password_hash: Option<String>,
    created: u64,
    updated: u64,
    failures: u32,
    locked_until: Option<u64>,
    audit_seq: u64,
    totp: Option<TotpEnrolment>,
    recovery_codes: Vec<[u8; 32]>,
    reset_tokens: Vec<[u8; 32]>,
    last_reset_request: Option<u64>,
    sms: Option<SmsEnrolment>,
    sms_code: Option<PendingCode>,
    sms_sent: Vec<u64>,
}

impl From<AccountV1> for Account {
    fn from(a: AccountV1) -> Account {
        Account {
            name: a.name,
            email: a.email,
            phone: a.phone,
            sso: a.sso,
            password_hash: a.password_hash,
            created: a.created,
            updated: a.updated,
            failures: a.failures,
            locked_until: a.locked_until,
            audit_seq: a.audit_seq,
            totp: a.totp,
            recovery_codes: a.recovery_codes,
            reset_tokens: a.reset_tokens,
            last_reset_request: a.last_reset_request,
            sms: a.sms,
            sms_code: a.sms_code,
            sms_sent: a.sms_sent,
            ..Account::new(String::new(), 0)
        }
    }
}

/// Only for accounts without keys or lifecycle state (`encode_account` decides).
impl From<Account> for AccountV1 {
    fn from(a: Account) -> AccountV1 {
        AccountV1 {
            name: a.name,
            email: a.email,
            phone: a.phone,
            sso: a.sso,
            password_hash: a.password_hash,
            created: a.created,
            updated: a.updated,
            failures: a.failures,
            locked_until: a.locked_until,
            audit_seq: a.audit_seq,
            totp: a.totp,
            recovery_codes: a.recovery_codes,
            reset_tokens: a.reset_tokens,
            last_reset_request: a.last_reset_request,
            sms: a.sms,
            sms_code: a.sms_code,
            sms_sent: a.sms_sent,
        }
    }
}
