//! Moving from pam_google_authenticator: files written by the real `google-authenticator`
//! command (libpam-google-authenticator) are imported with `authctl
//! import-google-authenticator`, then the user logs in with the codes oathtool computes
//! for the same secret (the phone they already have) and with a scratch code, once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::daemon::*;
use crate::oath::oathtool;

#[track_caller]
fn have_google_authenticator() -> bool {
    have("oathtool") && crate::peers::program("google-authenticator", "libpam-google-authenticator")
}

/// Run `google-authenticator` without questions (`-f -C -q -Q NONE`) with `args`, writing
/// `dir/name`; returns the file.
fn google_authenticator(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let file = dir.join(name);
    let out = Command::new("google-authenticator")
        .args(["-f", "-C", "-q", "-Q", "NONE", "-s"])
        .arg(&file)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "google-authenticator: {}",
        stderr(&out)
    );
    file
}

/// The file's secret (first line) and scratch codes (its 8-digit lines).
fn contents(file: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let secret = text.lines().next().unwrap().to_string();
    let codes = text
        .lines()
        .filter(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    (secret, codes)
}

fn import(d: &Daemon, name: &str, file: &Path, more: &[&str]) -> std::process::Output {
    let file = file.to_str().unwrap();
    let mut args = vec!["--json", "import-google-authenticator", name, file];
    args.extend_from_slice(more);
    d.ctl(&args)
}

fn verify(d: &Daemon, name: &str, code: &str) -> std::process::Output {
    d.ctl_stdin(&pw(), &["--json", "verify", name, "--code", code])
}

#[test]
fn the_phone_and_the_scratch_codes_keep_working_after_the_import() {
    if !have_google_authenticator() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("gail");
    let dir = tempfile::tempdir().unwrap();
    let file = google_authenticator(
        dir.path(),
        "gail",
        &["-t", "-d", "-r", "3", "-R", "30", "-w", "3", "-e", "5"],
    );
    let (secret, scratch) = contents(&file);
    assert_eq!(scratch.len(), 5);

    let out = import(&d, "gail", &file, &[]);
    assert_ok(&out);
    let answer = json(&out);
    assert_eq!(answer["totp"], "on");
    assert_eq!(answer["replaced"], false);
    assert_eq!(answer["recovery_codes_added"], 5);
    assert_eq!(
        answer["ignored_options"],
        serde_json::json!(["RATE_LIMIT", "WINDOW_SIZE"])
    );
    let account = show(&d, "gail");
    assert_eq!(account["totp"], "on");
    assert_eq!(account["recovery_codes_left"], 5);

    // The phone's code (oathtool, same secret) logs in, once.
    let code = oathtool(&secret, 0);
    assert_ok(&verify(&d, "gail", &code));
    assert_error(&verify(&d, "gail", &code), 1, "denied");
    // Without a code the password alone is not enough any more.
    let alone = d.ctl_stdin(&pw(), &["--json", "verify", "gail"]);
    assert_error(&alone, 1, "second_factor_required");

    // A scratch code is a recovery code: good once.
    assert_ok(&verify(&d, "gail", &scratch[2]));
    assert_error(&verify(&d, "gail", &scratch[2]), 1, "denied");
    assert_eq!(show(&d, "gail")["recovery_codes_left"], 4);

    // Audited, counting the codes, never showing them or the secret.
    let events = d.events("gail", "totp-imported");
    assert_eq!(events.len(), 1, "{events:?}");
    let detail = events[0]["detail"].as_str().unwrap();
    assert!(detail.contains("5 scratch codes"), "{detail}");
    let log = d.log();
    assert!(log.contains("totp-imported"), "{log}");
    for secret_part in std::iter::once(&secret).chain(&scratch) {
        assert!(
            !log.contains(secret_part.as_str()),
            "the log shows a secret"
        );
    }
}

#[test]
fn an_app_that_is_on_is_replaced_only_with_replace_and_recovery_codes_add_up() {
    if !have_google_authenticator() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("hal");
    let (own_secret, own_codes) = crate::oath::enrol(&d, "hal");
    let dir = tempfile::tempdir().unwrap();
    let file = google_authenticator(dir.path(), "hal", &["-t", "-d", "-u", "-W", "-e", "3"]);
    let (secret, scratch) = contents(&file);

    let refused = import(&d, "hal", &file, &[]);
    assert_error(&refused, 65, "exists");
    assert!(
        stderr(&refused).contains("--replace"),
        "{}",
        stderr(&refused)
    );

    let out = import(&d, "hal", &file, &["--replace"]);
    assert_ok(&out);
    assert_eq!(json(&out)["replaced"], true);
    assert_eq!(
        json(&out)["ignored_options"],
        serde_json::json!(["WINDOW_SIZE"])
    );
    // The earlier app's codes stop (this one was never used); the file's work; both
    // sets of recovery codes do.
    assert_error(&verify(&d, "hal", &oathtool(&own_secret, 1)), 1, "denied");
    assert_ok(&verify(&d, "hal", &oathtool(&secret, 1)));
    let left = own_codes.len() + scratch.len();
    assert_eq!(show(&d, "hal")["recovery_codes_left"], left);
    assert_ok(&verify(&d, "hal", &own_codes[0]));
    assert_ok(&verify(&d, "hal", &scratch[0]));
    assert_eq!(show(&d, "hal")["recovery_codes_left"], left - 2);
    let events = d.events("hal", "totp-imported");
    assert!(events[0]["detail"].as_str().unwrap().contains("replaced"));

    // The same file again: no scratch code is held twice; the one spent comes back, as
    // the file still lists it (authd never writes the file).
    let again = import(&d, "hal", &file, &["--replace"]);
    assert_ok(&again);
    assert_eq!(json(&again)["recovery_codes_added"], 1);
    assert_eq!(show(&d, "hal")["recovery_codes_left"], left - 1);
}

#[test]
fn a_counter_mode_file_is_refused_and_changes_nothing() {
    if !have_google_authenticator() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("ivy");
    let dir = tempfile::tempdir().unwrap();
    let file = google_authenticator(dir.path(), "ivy", &["-c", "-r", "3", "-R", "30", "-w", "3"]);
    let out = import(&d, "ivy", &file, &[]);
    assert_error(&out, 65, "hotp_unsupported");
    let message = json(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("counter-based"), "{message}");
    let text = d.ctl(&["import-google-authenticator", "ivy", file.to_str().unwrap()]);
    assert_exit(&text, 65);
    assert!(stderr(&text).contains("HOTP"), "{}", stderr(&text));
    let account = show(&d, "ivy");
    assert_eq!(account["totp"], "off");
    assert_eq!(account["recovery_codes_left"], 0);
}

#[test]
fn bad_files_and_callers_get_their_own_exit_codes() {
    let d = Daemon::start();
    d.user_with_password("jo");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };

    // Malformed: exit 65 with the line and the reason.
    let bad = write("bad", "GSDPYSGM7GP2ZWYFFESHUYASCU\n\" TOTP_AUTH\n1234\n");
    let out = import(&d, "jo", &bad, &[]);
    assert_error(&out, 65, "invalid_input");
    let message = json(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("line 3"), "{message}");
    assert!(
        !message.contains("GSDP"),
        "the secret in a message: {message}"
    );
    let not_base32 = write("not-base32", "hello world\n");
    assert_error(&import(&d, "jo", &not_base32, &[]), 65, "invalid_input");
    let big = write("big", &"A".repeat(5000));
    assert_error(&import(&d, "jo", &big, &[]), 65, "invalid_input");
    let missing = dir.path().join("missing");
    let out = import(&d, "jo", &missing, &[]);
    assert_error(&out, 65, "invalid_input");
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    // A step size other than authd's would give codes that never match.
    let minute = write("minute", "GSDPYSGM7GP2ZWYFFESHUYASCU\n\" STEP_SIZE 60\n");
    let out = import(&d, "jo", &minute, &[]);
    assert_error(&out, 65, "invalid_input");
    assert!(stderr(&out).contains("period"), "{}", stderr(&out));
    assert_eq!(show(&d, "jo")["totp"], "off");

    let good = write(
        "good",
        "GSDPYSGM7GP2ZWYFFESHUYASCU\n\" TOTP_AUTH\n12345678\n",
    );
    assert_error(&import(&d, "nobody-here", &good, &[]), 67, "no_such_user");
    assert_ok(&d.ctl(&["add-user", "sso-user", "--sso", "idp"]));
    assert_error(&import(&d, "sso-user", &good, &[]), 65, "sso_account");

    // The file never goes on a command line: authctl reads it (argv holds its path).
    assert!(!d.log().contains("GSDPYSGM7GP2ZWYFFESHUYASCU"));

    // Admins only, even for one's own account.
    if !crate::authz::can_switch_uid() {
        return;
    }
    d.user_with_password("nobody");
    let readable = dir.path().join("readable");
    std::fs::copy(&good, &readable).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = d.ctl_as(
        crate::authz::NOBODY,
        "",
        &[
            "--json",
            "import-google-authenticator",
            "nobody",
            readable.to_str().unwrap(),
        ],
    );
    assert_error(&out, 77, "permission_denied");
    assert_eq!(show(&d, "nobody")["totp"], "off");
}
