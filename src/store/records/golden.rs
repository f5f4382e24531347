//! Golden bytes: each stored record, encoded from a fixed value, must give exactly the
//! bytes committed here, and those bytes must decode back to the value. The bytes are
//! what authd at schema 1 wrote (they were taken from main at b896e0c, before the store
//! had types of its own); a change to a stored shape fails here before it can make an
//! existing store undecodable. Such a change needs a new version (`V2`) and a migration,
//! never an edit of these constants.
//!
//! Each constant is hex, one field per line (bincode's standard configuration: varint
//! integers — `fb` u16 follows, `fc` u32 follows —, length-prefixed strings and vectors,
//! `00`/`01` for `None`/`Some`, the variant index for an enum), `#` starting a comment.

mod layout;

use super::*;

/// Bytes from a golden constant: hex digits, whitespace and `#` comments ignored.
pub(super) fn unhex(golden: &str) -> Vec<u8> {
    let digits: Vec<u8> = golden
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or("").bytes())
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `encode(value)` gives the golden bytes, and they decode to `value`.
#[track_caller]
fn golden<T: PartialEq>(
    value: &T,
    golden: &str,
    encode: fn(&T) -> Vec<u8>,
    decode: fn(&[u8]) -> Result<T, Error>,
) {
    let bytes = unhex(golden);
    assert_eq!(
        hex(&encode(value)),
        hex(&bytes),
        "the encoding changed: existing stores would not decode"
    );
    let decoded = decode(&bytes).unwrap_or_else(|e| panic!("golden bytes do not decode: {e}"));
    assert!(decoded == *value, "golden bytes decode to another value");
}

const T: u64 = 1_700_000_000;

/// Every field set, each optional one to `Some`.
fn full_account() -> Account {
    Account {
        name: "alice".into(),
        email: Some("alice@example.org".into()),
        phone: Some("+4930901820".into()),
        sso: Some("corp".into()),
        password_hash: Some("$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        created: T,
        updated: T + 100,
        failures: 2,
        locked_until: Some(T + 700),
        audit_seq: 300,
        totp: Some(TotpEnrolment {
            sealed_secret: vec![0xa1, 0xa2, 0xa3],
            active: true,
            last_step: Some(56_666_669),
            since: T + 10,
        }),
        recovery_codes: vec![[0x11; 32], [0x12; 32]],
        reset_tokens: vec![[0x21; 32]],
        last_reset_request: Some(T + 20),
        sms: Some(SmsEnrolment {
            active: true,
            since: T + 30,
        }),
        sms_code: Some(PendingCode {
            hash: [0x31; 32],
            expires: T + 330,
            tries: 2,
        }),
        sms_sent: vec![T + 30, T + 90],
        security_keys: Vec::new(),
        ..Account::new(String::new(), 0)
    }
}

const ACCOUNT_FULL: &str = "
    00                                  # AccountRecord::V1
    05 616c696365                       # name
    01 11 616c696365406578616d706c652e6f7267    # email
    01 0b 2b34393330393031383230        # phone
    01 04 636f7270                      # sso
    01 2f 246172676f6e32696424763d3139246d3d3235362c743d312c703d3124
          6332467364484e68624851246147467a6141  # password_hash
    fc 00f15365                         # created
    fc 64f15365                         # updated
    02                                  # failures
    01 fc bcf35365                      # locked_until
    fb 2c01                             # audit_seq
    01                                  # totp: Some
       03 a1a2a3                        #   sealed_secret
       01                               #   active
       01 fc 2daa6003                   #   last_step
       fc 0af15365                      #   since
    02                                  # recovery_codes: 2
       1111111111111111111111111111111111111111111111111111111111111111
       1212121212121212121212121212121212121212121212121212121212121212
    01                                  # reset_tokens: 1
       2121212121212121212121212121212121212121212121212121212121212121
    01 fc 14f15365                      # last_reset_request
    01                                  # sms: Some
       01                               #   active
       fc 1ef15365                      #   since
    01                                  # sms_code: Some
       3131313131313131313131313131313131313131313131313131313131313131  # hash
       fc 4af25365                      #   expires
       02                               #   tries
    02 fc 1ef15365 fc 5af15365          # sms_sent
";

/// A new account: every optional field `None`, every list empty.
const ACCOUNT_NEW: &str = "
    00                                  # AccountRecord::V1
    03 626f62                           # name
    00 00 00 00                         # email, phone, sso, password_hash
    fc 00f15365                         # created
    fc 00f15365                         # updated
    00 00 00 00                         # failures, locked_until, audit_seq, totp
    00 00 00                            # recovery_codes, reset_tokens, last_reset_request
    00 00 00                            # sms, sms_code, sms_sent
";

/// Only the pending SMS code set: the stored shape of a code, on its own.
const ACCOUNT_PENDING_CODE: &str = "
    00                                  # AccountRecord::V1
    03 626f62                           # name
    00 01 0b 2b34393330393031383230 00 00  # email, phone, sso, password_hash
    fc 00f15365 fc 00f15365             # created, updated
    00 00 00 00 00 00 00                # failures .. last_reset_request
    01 00 fc 00f15365                   # sms: pending since T
    01                                  # sms_code: Some
       3131313131313131313131313131313131313131313131313131313131313131  # hash
       fc 2cf25365                      #   expires
       00                               #   tries
    01 fc 00f15365                      # sms_sent
";

const AUDIT: &str = "
    00                                  # AuditRecord::V1
    fb 2c01                             # seq
    fc 64f15365                         # at
    06 766572696679                     # action
    06 64656e696564                     # outcome
    13 75696420302028726f6f742920706964203432  # actor
    19 77726f6e672070617373776f72643b206661696c7572652032  # detail
";

const RESET_TOKEN: &str = "
    00                                  # TokenRecord::V1
    05 6361726f6c                       # account
    fc 08f85365                         # expires
";

const OUTBOX_MAIL: &str = "
    00                                  # OutboxRecord::V1
    06                                  # id
    05 6672616e6b                       # account
    00                                  # channel: Mail
       11 6175746864406578616d706c652e6f7267    # from
       11 6672616e6b406578616d706c652e6f7267    # to
       13 526573657420796f75722070617373776f7264  # subject
    02 b1b2                             # sealed
    fc 00f15365                         # created
    00                                  # attempts
    fc 00f15365                         # next_attempt
    00                                  # last_error
    00                                  # failed
";

const OUTBOX_SMS: &str = "
    00                                  # OutboxRecord::V1
    fb 2c01                             # id
    04 6572696e                         # account
    01                                  # channel: Sms
       0c 2b3333363132333435363738      #   to
    01 c1                               # sealed
    fc 00f15365                         # created
    03                                  # attempts
    fc 3cf15365                         # next_attempt
    01 07 72656675736564                # last_error
    01                                  # failed
";

const OUTBOX_DELIVERED: &str = "
    01                                  # OutboxRecord::V2
    07                                  # id
    05 6672616e6b                       # account
    00                                  # channel: Mail
       11 6175746864406578616d706c652e6f7267    # from
       11 6672616e6b406578616d706c652e6f7267    # to
       13 526573657420796f75722070617373776f7264  # subject
    00                                  # sealed: the body is not kept
    fc 00f15365                         # created
    01                                  # attempts
    fc 00f15365                         # next_attempt
    00                                  # last_error
    00                                  # failed
    01 fc 3cf15365                      # delivered
";

#[test]
fn an_account_with_every_field_set() {
    golden(
        &full_account(),
        ACCOUNT_FULL,
        encode_account,
        decode_account,
    );
}

#[test]
fn a_new_account() {
    let account = Account::new("bob".into(), T);
    golden(&account, ACCOUNT_NEW, encode_account, decode_account);
}

#[test]
fn a_pending_sms_code_inside_an_account() {
    let mut account = Account::new("bob".into(), T);
    account.phone = Some("+4930901820".into());
    account.sms = Some(SmsEnrolment {
        active: false,
        since: T,
    });
    account.sms_code = Some(PendingCode {
        hash: [0x31; 32],
        expires: T + 300,
        tries: 0,
    });
    account.sms_sent = vec![T];
    golden(
        &account,
        ACCOUNT_PENDING_CODE,
        encode_account,
        decode_account,
    );
}

/// Record version 2: an account with a security key (the only thing version 1 lacks).
const ACCOUNT_WITH_KEY: &str = "
    01                                  # AccountRecord::V2
    03 626f62                           # name
    00 00 00 00                         # email, phone, sso, password_hash
    fc 00f15365                         # created
    fc 00f15365                         # updated
    00 00 00 00                         # failures, locked_until, audit_seq, totp
    00 00 00                            # recovery_codes, reset_tokens, last_reset_request
    00 00 00                            # sms, sms_code, sms_sent
    01                                  # security_keys: 1
       08 3061316232633364              #   id
       02 796b                          #   name
       03 c1c2c3                        #   credential_id
       02 d1d2                          #   sealed_credential
       07                               #   counter
       01 03 757362                     #   transports
       fc 0af15365                      #   created
       01 fc 14f15365                   #   last_used
";

#[test]
fn an_account_with_a_security_key() {
    let mut account = Account::new("bob".into(), T);
    account.security_keys.push(SecurityKeyRecord {
        id: "0a1b2c3d".into(),
        name: "yk".into(),
        credential_id: vec![0xc1, 0xc2, 0xc3],
        sealed_credential: vec![0xd1, 0xd2],
        counter: 7,
        transports: vec!["usb".into()],
        created: T + 10,
        last_used: Some(T + 20),
    });
    golden(&account, ACCOUNT_WITH_KEY, encode_account, decode_account);
}

/// Record version 3: the lifecycle fields, every one set, after version 2's fields.
const ACCOUNT_LIFECYCLE: &str = "
    02                                  # AccountRecord::V3
    03 626f62                           # name
    00 00 00 00                         # email, phone, sso, password_hash
    fc 00f15365                         # created
    fc 00f15365                         # updated
    00 00 00 00                         # failures, locked_until, audit_seq, totp
    00 00 00                            # recovery_codes, reset_tokens, last_reset_request
    00 00 00                            # sms, sms_code, sms_sent
    00                                  # security_keys: 0
    01                                  # disabled: Some
       fc 0af15365                      #   since
       01 04 6c656674                   #   reason
    01 fc 14f15365                      # expires
    01                                  # must_change_password
    01 01 5a                            # max_password_age: Days(90)
    01 fc 1ef15365                      # password_changed
    01                                  # last_login: Some
       fc 28f15365                      #   at
       01 04 73736864                   #   service
";

#[test]
fn an_account_with_its_lifecycle() {
    let mut account = Account::new("bob".into(), T);
    account.disabled = Some(Disabled {
        since: T + 10,
        reason: Some("left".into()),
    });
    account.expires = Some(T + 20);
    account.must_change_password = true;
    account.max_password_age = Some(MaxPasswordAge::Days(90));
    account.password_changed = Some(T + 30);
    account.last_login = Some(LastLogin {
        at: T + 40,
        service: Some("sshd".into()),
    });
    golden(&account, ACCOUNT_LIFECYCLE, encode_account, decode_account);
}

#[test]
fn an_audit_entry() {
    let entry = AuditEntry {
        seq: 300,
        at: T + 100,
        action: "verify".into(),
        outcome: "denied".into(),
        actor: "uid 0 (root) pid 42".into(),
        detail: "wrong password; failure 2".into(),
    };
    golden(&entry, AUDIT, encode_audit, decode_audit);
}

#[test]
fn a_reset_token() {
    let token = ResetToken {
        account: "carol".into(),
        expires: T + 1800,
    };
    golden(&token, RESET_TOKEN, encode_token, decode_token);
}

#[test]
fn a_queued_mail() {
    let item = OutboxItem {
        id: 6,
        account: "frank".into(),
        channel: Channel::Mail {
            from: "authd@example.org".into(),
            to: "frank@example.org".into(),
            subject: "Reset your password".into(),
        },
        sealed: vec![0xb1, 0xb2],
        ..OutboxItem::queued("x", Channel::Sms { to: String::new() }, vec![], T)
    };
    golden(&item, OUTBOX_MAIL, encode_outbox, decode_outbox);
}

#[test]
fn a_delivered_mail_keeps_no_body() {
    let queued = OutboxItem {
        id: 7,
        account: "frank".into(),
        channel: Channel::Mail {
            from: "authd@example.org".into(),
            to: "frank@example.org".into(),
            subject: "Reset your password".into(),
        },
        sealed: vec![0xb1, 0xb2],
        attempts: 1,
        last_error: Some("421 try later".into()),
        ..OutboxItem::queued("x", Channel::Sms { to: String::new() }, vec![], T)
    };
    let item = queued.delivered_at(T + 60);
    assert!(item.sealed.is_empty() && item.last_error.is_none());
    golden(&item, OUTBOX_DELIVERED, encode_outbox, decode_outbox);
}

#[test]
fn a_failed_sms() {
    let item = OutboxItem {
        id: 300,
        account: "erin".into(),
        channel: Channel::Sms {
            to: "+33612345678".into(),
        },
        sealed: vec![0xc1],
        created: T,
        attempts: 3,
        next_attempt: T + 60,
        last_error: Some("refused".into()),
        failed: true,
        delivered: None,
    };
    golden(&item, OUTBOX_SMS, encode_outbox, decode_outbox);
}
