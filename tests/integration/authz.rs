//! Authorization by peer credentials, with authctl run as another uid (`nobody`, via
//! setpriv). Needs root (see tests/support/peers.rs for what happens without).

use crate::daemon::*;

pub const NOBODY: (u32, u32) = (65534, 65534);

#[track_caller]
pub(crate) fn can_switch_uid() -> bool {
    let nobody = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(NOBODY.0))
        .ok()
        .flatten()
        .is_some_and(|u| u.name == "nobody");
    crate::peers::root()
        && have("setpriv")
        && crate::peers::need(nobody, "a `nobody` user with uid 65534")
}

fn as_nobody(d: &Daemon, input: &str, args: &[&str]) -> std::process::Output {
    d.ctl_as(NOBODY, input, args)
}

#[test]
fn a_user_acts_on_its_own_account_only() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    d.user_with_password("nobody");
    let pw = format!("{GOOD_PW}\n");

    assert_ok(&as_nobody(&d, "", &["status"]));
    assert_ok(&as_nobody(&d, "", &["show", "nobody"]));
    assert_ok(&as_nobody(&d, &pw, &["verify", "nobody"]));
    assert_ok(&as_nobody(&d, "", &["log", "nobody"]));
    assert_ok(&as_nobody(&d, "", &["keys", "nobody"]));

    let denied = as_nobody(&d, "", &["--json", "show", "alice"]);
    assert_exit(&denied, 77);
    assert_eq!(json(&denied)["error"]["code"], "permission_denied");
    for (input, args) in [
        ("", vec!["log", "alice"]),
        (pw.as_str(), vec!["verify", "alice"]),
        ("", vec!["add-user", "mallory"]),
        ("", vec!["remove-user", "alice"]),
        ("", vec!["list-users"]),
        ("", vec!["unlock", "nobody"]),
        (pw.as_str(), vec!["set-password", "nobody"]),
        ("", vec!["set-user", "nobody", "--email", "n@example.org"]),
        ("", vec!["keys", "alice"]),
        (pw.as_str(), vec!["remove-key", "alice", "0a1b2c3d"]),
        ("", vec!["add-key", "alice"]),
    ] {
        let out = as_nobody(&d, input, &[&["--json"][..], &args].concat());
        assert_error(&out, 77, "permission_denied");
    }
    // A refused verify is not a guess: it does not count toward alice's lockout.
    assert_eq!(json(&d.ctl(&["--json", "show", "alice"]))["failures"], 0);
    assert_eq!(json(&d.ctl(&["--json", "status"]))["accounts"], 2);

    // Self-service change-password works with the current password.
    let new = "Purple-Monkey-Dishwasher-42";
    let change = as_nobody(
        &d,
        &format!("{GOOD_PW}\n{new}\n"),
        &["change-password", "nobody"],
    );
    assert_ok(&change);
    let log = stdout(&d.ctl(&["log", "nobody"]));
    assert!(log.contains("uid 65534 (nobody)"), "{log}");
}

#[test]
fn members_of_the_admin_group_are_admins() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start_with("admin_group = \"nogroup\"");
    assert_ok(&as_nobody(&d, "", &["add-user", "bob"]));
    assert_ok(&as_nobody(&d, "", &["list-users"]));
    assert_ok(&as_nobody(
        &d,
        &format!("{GOOD_PW}\n"),
        &["set-password", "bob"],
    ));
}
