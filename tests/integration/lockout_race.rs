//! The lockout holds against a flood of parallel guesses: 300 wrong passwords on 300
//! connections, then the right one while they are still being hashed. The right one was
//! in flight when the lock fell, so it must be answered `locked` — not with a challenge
//! (which would tell the attacker the password is right), not with an SMS, not granted.
//!
//! The hash is the real default cost here, so that the flood takes long enough to hash
//! for the right password to arrive before the fifth failure locks the account.

use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use authd::codec;
use authd::protocol::{
    ChangePassword, ErrorCode, Hello, Request, Response, Secret, PROTOCOL_VERSION,
};

use crate::daemon::*;

const GUESSES: usize = 300;

/// The documented argon2 cost on one worker: the lock falls only after five hashes in a
/// row, a window wide enough for the right password to arrive first (change-password
/// also checks the new password's strength before it hashes the current one).
const REAL_COST: &str = "[password]\nargon2_m_kib = 19456\nargon2_t = 2\nhash_workers = 1\n";

/// A connection that says hello, then lets the test write a request and read the answer
/// separately, so it knows when a request is on its way.
struct Raw(UnixStream);

impl Raw {
    fn connect(d: &Daemon) -> Raw {
        let stream = UnixStream::connect(&d.socket).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(300)))
            .unwrap();
        let mut raw = Raw(stream);
        raw.send(&Request::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: "lockout-race".into(),
        }));
        assert!(matches!(raw.answer(), Response::Welcome { .. }));
        raw
    }

    fn send(&mut self, request: &Request) {
        let frame = codec::encode(request).unwrap();
        codec::write_frame_blocking(&mut self.0, &frame).unwrap();
    }

    fn answer(&mut self) -> Response {
        let payload = codec::read_frame_blocking(&mut self.0).unwrap();
        codec::decode(&payload).unwrap()
    }
}

fn error_code(response: &Response) -> Option<ErrorCode> {
    match response {
        Response::Error(e) => Some(e.code),
        _ => None,
    }
}

/// Send `GUESSES` wrong passwords for `name` at once, each on its own connection; as soon
/// as every one is written, send `right`. Returns the wrong ones' answers and the right
/// one's.
fn flood_then(d: &Daemon, name: &str, right: Request) -> (Vec<Response>, Response) {
    let start = Arc::new(Barrier::new(GUESSES + 1));
    let (written, all_written) = mpsc::channel();
    let guesses: Vec<_> = (0..GUESSES)
        .map(|i| {
            let mut conn = Raw::connect(d);
            let start = Arc::clone(&start);
            let written = written.clone();
            let request = verify_request(name, &format!("wrong-guess-number-{i}"));
            std::thread::spawn(move || {
                start.wait();
                conn.send(&request);
                written.send(()).unwrap();
                conn.answer()
            })
        })
        .collect();
    let mut late = Raw::connect(d);
    start.wait();
    for _ in 0..GUESSES {
        all_written
            .recv_timeout(Duration::from_secs(60))
            .expect("a guess was never written");
    }
    late.send(&right);
    let right_answer = late.answer();
    let answers = guesses.into_iter().map(|t| t.join().unwrap()).collect();
    (answers, right_answer)
}

/// Exactly `max_failures` guesses were evaluated (denied); every other one was `locked`.
#[track_caller]
fn assert_five_denied_rest_locked(answers: &[Response]) {
    let denied = answers
        .iter()
        .filter(|a| error_code(a) == Some(ErrorCode::Denied))
        .count();
    let locked = answers
        .iter()
        .filter(|a| error_code(a) == Some(ErrorCode::Locked))
        .count();
    assert_eq!((denied, locked), (5, GUESSES - 5), "{answers:?}");
}

#[track_caller]
fn assert_locked(answer: &Response) {
    assert_eq!(
        error_code(answer),
        Some(ErrorCode::Locked),
        "the right password arrived while the guesses locked the account: {answer:?}"
    );
}

#[test]
fn a_flood_of_guesses_on_an_app_account_never_confirms_the_password() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start_with_config(REAL_COST);
    d.user_with_password("victim");
    crate::two_factor::enrol(&d, "victim");
    let (answers, right) = flood_then(&d, "victim", verify_request("victim", GOOD_PW));
    assert_five_denied_rest_locked(&answers);
    assert_locked(&right);
    let state = json(&d.ctl(&["--json", "show", "victim"]));
    assert_eq!(state["failures"], 5, "{state}");
}

#[test]
fn a_flood_of_guesses_on_a_password_only_account_never_grants() {
    let d = Daemon::start_with_config(REAL_COST);
    d.user_with_password("victim");
    let (answers, right) = flood_then(&d, "victim", verify_request("victim", GOOD_PW));
    assert_five_denied_rest_locked(&answers);
    assert_locked(&right);
}

#[test]
fn a_flood_of_guesses_on_an_sms_account_sends_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, sms) = crate::sms::Gateway::new(dir.path());
    let d = Daemon::start_with_config(&format!("{sms}min_interval = \"0s\"\n{REAL_COST}"));
    d.user_with_password("victim");
    assert_ok(&d.ctl(&["enable-sms", "victim", "--phone", crate::sms::PHONE]));
    assert_ok(&d.ctl(&["confirm-sms", "victim", &gateway.code(1)]));
    let (answers, right) = flood_then(&d, "victim", verify_request("victim", GOOD_PW));
    assert_five_denied_rest_locked(&answers);
    assert_locked(&right);
    // Only the enrolment code was ever queued: the locked login sent nothing.
    let outbox = json(&d.ctl(&["--json", "status"]));
    assert_eq!(outbox["outbox_queued"], 0, "{outbox}");
    assert_eq!(gateway.messages().len(), 1, "{:?}", gateway.messages());
}

#[test]
fn a_flood_of_guesses_never_confirms_the_password_to_change_password() {
    if !have("oathtool") {
        return;
    }
    let d = Daemon::start_with_config(REAL_COST);
    d.user_with_password("victim");
    crate::two_factor::enrol(&d, "victim");
    let change = Request::ChangePassword(ChangePassword {
        name: "victim".into(),
        current: Secret::new(GOOD_PW),
        code: None,
        new: Secret::new("Another-Horse-Battery-7"),
    });
    let (answers, right) = flood_then(&d, "victim", change);
    assert_five_denied_rest_locked(&answers);
    assert_locked(&right);
}
