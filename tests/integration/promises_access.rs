//! Who may do what, as the docs promise it (authctl(1) DESCRIPTION and COMMANDS,
//! authd.toml(5) `admin_group`, README): `outbox` is for admins only, `reset-password
//! --token` for anyone (also a uid with no passwd entry), a member of `admin_group`
//! through a supplementary group is an admin; and authctl exits 69 (`busy`) when authd is
//! at its connection limit. Needs root, for setpriv and throwaway Unix users.

use std::time::{Duration, Instant};

use authd::client::{Client, ClientError};
use authd::protocol::ErrorCode;

use crate::authz::{can_switch_uid, NOBODY};
use crate::daemon::*;
use crate::other_uids::{call, connections_as, hello, UnixGroup, UnixUser};
use crate::promises_reset::next_token;

const NEW_PW: &str = "Purple-Monkey-Dishwasher-42";

/// A uid (and gid) with no entry in the user database.
fn unknown_ids() -> (u32, u32) {
    let uid = (54321..60000)
        .find(|&u| {
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(u))
                .ok()
                .flatten()
                .is_none()
        })
        .unwrap();
    (uid, uid)
}

#[test]
fn outbox_is_for_admins_and_reset_password_with_a_token_is_for_anyone() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    assert_ok(&d.ctl(&["add-user", "alice", "--email", "alice@example.org"]));
    assert_ok(&d.ctl_stdin(&format!("{GOOD_PW}\n"), &["set-password", "alice"]));
    assert_ok(&d.ctl(&["send-reset", "alice"]));
    let token = next_token(&d.state_dir().join("outbox/mail"), &mut Vec::new());
    let stranger = unknown_ids();

    for ids in [NOBODY, stranger] {
        let outbox = d.ctl_as(ids, "", &["--json", "outbox"]);
        assert_exit(&outbox, 77);
        assert_eq!(json(&outbox)["error"]["code"], "permission_denied");
        assert_ok(&d.ctl_as(ids, "", &["status"]));
    }
    assert_ok(&d.ctl(&["outbox"]));

    // A uid the system does not even know sets alice's password with the token.
    let reset = d.ctl_as(
        stranger,
        &format!("{token}\n{NEW_PW}\n"),
        &["--json", "reset-password", "--token", "-"],
    );
    assert_ok(&reset);
    assert_eq!(json(&reset)["message"], "password reset for alice");
    assert_ok(&d.ctl_stdin(&format!("{NEW_PW}\n"), &["verify", "alice"]));
    let log = stdout(&d.ctl(&["log", "alice"]));
    assert!(log.contains(&format!("uid {}", stranger.0)), "{log}");
}

#[test]
fn a_member_of_admin_group_through_a_supplementary_group_is_an_admin() {
    if !can_switch_uid() {
        return;
    }
    let group = UnixGroup::create("authd-prm-admins");
    let member = UnixUser::create("authd-prm-member");
    let other = UnixUser::create("authd-prm-other");
    group.add(&member);
    // The membership is a supplementary one: the member's primary group is another.
    let gid = nix::unistd::Group::from_name(&group.name)
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    assert_ne!(member.ids.1, gid);

    let d = Daemon::start_with(&format!("admin_group = \"{}\"", group.name));
    assert_ok(&d.ctl_as(member.ids, "", &["add-user", "carl"]));
    let list = d.ctl_as(member.ids, "", &["--json", "list-users"]);
    assert_ok(&list);
    assert_eq!(json(&list)["users"], serde_json::json!(["carl"]));
    assert_ok(&d.ctl_as(member.ids, "", &["outbox"]));

    let refused = d.ctl_as(other.ids, "", &["--json", "list-users"]);
    assert_exit(&refused, 77);
    assert_eq!(json(&refused)["error"]["code"], "permission_denied");
}

/// Connections that completed their hello, until `n` are held (a refused one, such as
/// the readiness probe's slot not yet given back, is tried again).
fn hold(d: &Daemon, n: usize) -> Vec<Client> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut held = Vec::new();
    while held.len() < n {
        match Client::connect(&d.socket, "holder", Duration::from_secs(30)) {
            Ok(c) => held.push(c),
            Err(ClientError::Remote(e)) if e.code == ErrorCode::Busy => {
                assert!(Instant::now() < deadline, "never got {n} connections");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
    held
}

#[track_caller]
fn assert_busy(out: &std::process::Output) {
    assert_exit(out, 69);
    assert_eq!(json(out)["error"]["code"], "busy", "{}", stdout(out));
}

#[test]
fn authctl_exits_69_busy_when_authd_is_at_its_connection_limit() {
    let d = Daemon::start_with("max_connections = 2");
    let mut held = hold(&d, 2);
    assert_busy(&d.ctl(&["--json", "status"]));
    // A slot given back serves the next command.
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(30);
    while code(&d.ctl(&["status"])) != 0 {
        assert!(Instant::now() < deadline, "the freed slot never served");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn authctl_exits_69_busy_when_its_user_holds_its_quota() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start_with("max_connections_per_uid = 1");
    let mut mine = connections_as(NOBODY, &d, 1);
    assert!(matches!(
        call(&mut mine[0], &hello()),
        Some(authd::protocol::Response::Welcome { .. })
    ));
    assert_busy(&d.ctl_as(NOBODY, "", &["--json", "status"]));
    // Root is not held to a quota.
    assert_ok(&d.ctl(&["status"]));
}

/// Kills the daemon it holds when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_user_who_runs_the_daemon_is_its_admin() {
    if !can_switch_uid() {
        return;
    }
    // authd run by nobody on its defaults for an ordinary user.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let authd = exposed_copy(AUTHD, dir.path());
    let authctl = exposed_copy(AUTHCTL, dir.path());
    let mut daemon = Running(
        command_as(&authd, Some(NOBODY))
            .env("XDG_RUNTIME_DIR", dir.path().join("run"))
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env_remove("NOTIFY_SOCKET")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = dir.path().join("run/authd/authd.sock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Client::connect(&socket, "test", Duration::from_secs(5)).is_err() {
        assert!(daemon.0.try_wait().unwrap().is_none(), "authd exited");
        assert!(Instant::now() < deadline, "authd not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ctl = |ids, args: &[&str]| run_ctl(&authctl, &socket, ids, "", args);
    assert_ok(&ctl(Some(NOBODY), &["add-user", "bob"]));
    let list = ctl(Some(NOBODY), &["--json", "list-users"]);
    assert_eq!(json(&list)["users"], serde_json::json!(["bob"]));
    let refused = ctl(Some(unknown_ids()), &["--json", "add-user", "eve"]);
    assert_exit(&refused, 77);
    assert_eq!(json(&refused)["error"]["code"], "permission_denied");
    assert_ok(&ctl(None, &["list-users"]));
}

#[test]
fn a_login_challenge_is_good_only_for_the_uid_that_asked() {
    use authd::protocol::{Origin, Request, Response, Secret, Verify, VerifyCode};
    if !can_switch_uid() || !have("oathtool") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("nobody");
    let (secret, _) = crate::two_factor::enrol(&d, "nobody");
    let password = Request::Verify(Verify {
        name: "nobody".into(),
        password: Secret::new(GOOD_PW),
        code: None,
        origin: Origin::default(),
    });
    let challenge_of = |answer| match answer {
        Some(Response::SecondFactorRequired {
            challenge: Some(c), ..
        }) => c,
        other => panic!("no challenge: {other:?}"),
    };
    let code_for = |challenge| {
        Request::VerifyCode(VerifyCode {
            name: "nobody".into(),
            challenge,
            code: Secret::new(crate::two_factor::oathtool(&secret, 1)),
            origin: Origin::default(),
        })
    };
    // Root (PAM's uid) asked; nobody, whose account it is, may not redeem it.
    let roots = challenge_of(d.client().call(&password).ok());
    let mut nobodys = connections_as(NOBODY, &d, 1).remove(0);
    assert!(matches!(
        call(&mut nobodys, &hello()),
        Some(Response::Welcome { .. })
    ));
    match call(&mut nobodys, &code_for(roots)) {
        Some(Response::Error(e)) => assert_eq!(e.code, ErrorCode::Denied),
        other => panic!("a foreign challenge redeemed: {other:?}"),
    }
    // Its own challenge, with the same code, logs in.
    let own = challenge_of(call(&mut nobodys, &password));
    assert_eq!(
        call(&mut nobodys, &code_for(own)),
        Some(Response::Verified {
            name: "nobody".into()
        })
    );
}

#[test]
fn authctl_takes_a_users_own_socket_only_from_a_directory_no_one_else_controls() {
    use std::os::unix::fs::PermissionsExt;
    if !can_switch_uid() {
        return;
    }
    let base = tempfile::tempdir().unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let authctl = exposed_copy(AUTHCTL, base.path());
    let stranger = unknown_ids();
    // (owner, mode of $XDG_RUNTIME_DIR/authd, is it nobody's own daemon's?)
    let cases = [
        (0, 0o777, false),          // root's, but anyone may swap the socket
        (stranger.0, 0o755, false), // someone else's
        (NOBODY.0, 0o700, true),    // nobody's own
        (0, 0o755, true),           // root's, closed to others
    ];
    for (i, (owner, mode, trusted)) in cases.into_iter().enumerate() {
        let runtime = base.path().join(format!("rt{i}"));
        let dir = runtime.join("authd");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A listener standing in for whatever answers there.
        let planted = std::os::unix::net::UnixListener::bind(dir.join("authd.sock")).unwrap();
        planted.set_nonblocking(true).unwrap();
        std::fs::set_permissions(
            dir.join("authd.sock"),
            std::fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(owner)), None).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut child = command_as(&authctl, Some(NOBODY))
            .args(["--json", "status"])
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("AUTHD_SOCKET")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if trusted {
            // authctl connects and waits for a welcome: accept, then hang up on it.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                match planted.accept() {
                    Ok((conn, _)) => break drop(conn),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "case {i}: authctl never came");
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            wait_timeout(&mut child, Duration::from_secs(30));
        } else {
            // It goes to the system socket (absent here: exit 69), never to this one.
            let status = wait_timeout(&mut child, Duration::from_secs(30));
            assert!(
                planted.accept().is_err(),
                "case {i}: authctl connected to a socket in an untrusted directory"
            );
            if !std::path::Path::new("/run/authd/authd.sock").exists() {
                assert_eq!(status.code(), Some(69), "case {i}");
            }
        }
    }
}

#[test]
fn a_login_challenge_dies_with_a_restart() {
    use authd::protocol::{Origin, Request, Response, Secret, Verify, VerifyCode};
    if !have("oathtool") {
        return;
    }
    let mut d = Daemon::start();
    d.user_with_password("rory");
    let (secret, _) = crate::two_factor::enrol(&d, "rory");
    let challenge = match d.client().call(&Request::Verify(Verify {
        name: "rory".into(),
        password: Secret::new(GOOD_PW),
        code: None,
        origin: Origin::default(),
    })) {
        Ok(Response::SecondFactorRequired {
            challenge: Some(c), ..
        }) => c,
        other => panic!("no challenge: {other:?}"),
    };
    assert!(d.terminate().success());
    d.spawn();
    let redeemed = d.client().call(&Request::VerifyCode(VerifyCode {
        name: "rory".into(),
        challenge,
        code: Secret::new(crate::two_factor::oathtool(&secret, 1)),
        origin: Origin::default(),
    }));
    assert_eq!(
        redeemed.unwrap_err().remote_code(),
        Some(ErrorCode::Denied),
        "a challenge outlived the restart"
    );
}
