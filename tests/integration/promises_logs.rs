//! "No log line ever contains a password, code, reset token, TOTP secret, key or the
//! text of a message" (authd(8), LOGGING and SECRET KEY), checked the hard way: authd at
//! `RUST_LOG=debug`, where every request is logged, through every flow that handles a
//! secret; then its whole log and the account's history are searched for each of them.
//! The same search over the database files and a backup checks the secrets at rest: TOTP
//! secrets and queued messages sealed, codes and tokens kept only as keyed hashes. And
//! `authctl outbox` never shows a message's text.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::daemon::*;
use crate::promises_reset::next_token;
use crate::two_factor::oathtool;

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";
const NEWER_PW: &str = "Another-Fine-Password-7";

/// Does `needle` occur in `haystack` as a whole word (no letter or digit either side)?
/// Short numeric codes would otherwise match inside timestamps or ids.
fn contains_word(haystack: &str, needle: &str) -> bool {
    let bytes = haystack.as_bytes();
    haystack.match_indices(needle).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + needle.len()).copied();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

/// The text of the only `.sms` file in `dir`, once it is there.
fn sms_text(dir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<_> = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(file) = found
            .iter()
            .find(|p| p.extension().is_some_and(|x| x == "sms"))
        {
            return std::fs::read_to_string(file).unwrap();
        }
        assert!(Instant::now() < deadline, "no SMS written");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn codes(out: &std::process::Output) -> Vec<String> {
    assert_ok(out);
    serde_json::from_value(json(out)["recovery_codes"].clone()).unwrap()
}

#[test]
fn no_password_code_token_secret_or_key_reaches_the_log_the_history_or_the_store() {
    if crate::daemon::sled_only("greps the sled store files") {
        return;
    }
    if !have("oathtool") {
        return;
    }
    let mut d = Daemon::launch(
        &format!("[reset]\nmin_interval = \"0s\"\n{TEST_CONFIG}"),
        "077",
        "debug",
    );
    let state = d.state_dir();
    let pw = |p: &str| format!("{p}\n");
    assert_ok(&d.ctl(&[
        "add-user",
        "vic",
        "--email",
        "vic@example.org",
        "--phone",
        crate::sms::PHONE,
    ]));
    assert_ok(&d.ctl_stdin(&pw(GOOD_PW), &["set-password", "vic"]));

    // The app: its secret, its codes, the recovery codes of two sets.
    let secret = json(&d.ctl(&["--json", "enable-totp", "vic"]))["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let first_code = oathtool(&secret, 0);
    let mut recovery = codes(&d.ctl(&["--json", "confirm-totp", "vic", &first_code]));
    let login_code = oathtool(&secret, 1);
    assert_ok(&d.ctl_stdin(&pw(GOOD_PW), &["verify", "vic", "--code", &login_code]));
    assert_ok(&d.ctl_stdin(&pw(GOOD_PW), &["verify", "vic", "--code", &recovery[0]]));
    let regenerated = codes(&d.ctl(&["--json", "recovery-codes", "vic", "--regenerate"]));

    // SMS: the code and the text of the message.
    assert_ok(&d.ctl(&["enable-sms", "vic"]));
    let text = sms_text(&state.join("outbox/sms"));
    let sms_code = crate::sms::code_in(&text);
    assert_ok(&d.ctl(&["confirm-sms", "vic", &sms_code]));

    // A reset token, used; a password change with a recovery code as the second factor.
    let mut known = Vec::new();
    assert_ok(&d.ctl(&["send-reset", "vic"]));
    let token = next_token(&state.join("outbox/mail"), &mut known);
    assert_ok(&d.ctl_stdin(
        &format!("{token}\n{NEW_PW}\n"),
        &["reset-password", "--token", "-"],
    ));
    assert_ok(&d.ctl_stdin(
        &format!("{NEW_PW}\n{}\n{NEWER_PW}\n", regenerated[0]),
        &["change-password", "vic"],
    ));
    let backup = d.dir.path().join("vic.backup");
    assert_ok(&d.ctl(&["backup", "--output", backup.to_str().unwrap()]));
    let history = stdout(&d.ctl(&["--json", "log", "vic", "--limit", "200"]));
    d.stop();

    let log = d.log();
    assert!(
        log.contains("DEBUG") && log.contains("<redacted>"),
        "not a debug log: {log}"
    );
    let key = std::fs::read(state.join("secret.key")).unwrap();
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    recovery.extend(regenerated);
    let mut secrets = vec![
        GOOD_PW.to_string(),
        NEW_PW.to_string(),
        NEWER_PW.to_string(),
        secret.clone(),
        secret.to_lowercase(),
        token.clone(),
        token.to_lowercase(),
        text.trim().to_string(),
        format!("verification code: {sms_code}"),
        key_hex.clone(),
        key_hex.to_uppercase(),
    ];
    for code in &recovery {
        secrets.push(code.clone());
        secrets.push(code.replace('-', ""));
    }
    // The database files and the backup: bytes, searched as text (sled stores values
    // uncompressed, so a secret kept in the clear would be there as it is).
    let mut store = String::new();
    for file in std::fs::read_dir(state.join("db")).unwrap().flatten() {
        if file.path().is_file() {
            store.push_str(&String::from_utf8_lossy(
                &std::fs::read(file.path()).unwrap(),
            ));
        }
    }
    assert!(
        store.contains("vic@example.org"),
        "the search would not find text"
    );
    let backup = String::from_utf8_lossy(&std::fs::read(&backup).unwrap()).into_owned();
    // (The passwords are argon2 hashes there, and the key is not in the store at all.)
    let at_rest = &secrets[3..];
    for (what, text) in [("daemon log", &log), ("history", &history)] {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} holds a secret: {s}");
        }
        for code in [&first_code, &login_code, &sms_code] {
            assert!(!contains_word(text, code), "{what} holds the code {code}");
        }
        let raw = text.as_bytes();
        assert!(
            !raw.windows(key.len()).any(|w| w == key.as_slice()),
            "{what} holds the raw key"
        );
    }
    for (what, text) in [("database", &store), ("backup", &backup)] {
        for s in at_rest.iter().chain([&GOOD_PW.to_string()]) {
            assert!(!text.contains(s.as_str()), "{what} holds in the clear: {s}");
        }
    }
}

#[test]
fn the_outbox_listing_never_shows_a_messages_text() {
    // A sendmail that keeps a copy of what it is given and then fails for now, so the
    // reset mail stays queued and the test still learns its token.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("taken.eml");
    let script = dir.path().join("sendmail.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh
cat > '{}'
echo try later >&2
exit 75
",
            copy.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let d = Daemon::start_with_config(&format!(
        "[mail]
transport = \"sendmail\"
sendmail = \"{}\"
{TEST_CONFIG}",
        script.display()
    ));
    assert_ok(&d.ctl(&["add-user", "una", "--email", "una@example.org"]));
    assert_ok(&d.ctl(&["send-reset", "una"]));
    let token = next_token(dir.path(), &mut Vec::new());
    let body_line = "reset-password --token";
    for args in [&["outbox"][..], &["--json", "outbox"][..]] {
        let out = d.ctl(args);
        assert_ok(&out);
        let shown = format!("{}{}", stdout(&out), stderr(&out));
        assert!(shown.contains("Reset your password"), "{shown}");
        assert!(shown.contains("una@example.org"), "{shown}");
        assert!(
            !shown.contains(&token) && !shown.contains(body_line),
            "{args:?} shows the message: {shown}"
        );
    }
    let listed = json(&d.ctl(&["--json", "outbox"]));
    assert_eq!(listed["messages"][0]["state"], "queued", "{listed}");
}
