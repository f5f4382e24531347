//! Files authctl and authd write, in a shared sticky directory like /tmp where another
//! user (`nobody`, via setpriv) planted files and symlinks first: the planted file is
//! never written through, a secret never lands in a file someone else owns or can read,
//! and root never writes to where a planted symlink points.
//!
//! The kernel's fs.protected_symlinks / fs.protected_regular would block some of these
//! for root on their own; the tests do not rely on them (they may be off: they are on
//! many distributions, off in many containers) and hold either way.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::daemon::*;

const NOBODY: u32 = 65534;
const PRECIOUS: &str = "root's own file\n";

#[track_caller]
fn can_switch_uid() -> bool {
    let ok = crate::authz::can_switch_uid();
    let protections = ["protected_symlinks", "protected_regular"]
        .map(|p| {
            let v = std::fs::read_to_string(format!("/proc/sys/fs/{p}")).unwrap_or_default();
            format!("{p}={}", v.trim())
        })
        .join(" ");
    eprintln!("kernel: {protections} (not relied on)");
    ok
}

/// `argv` run as nobody.
fn as_nobody(argv: &[&str]) -> Output {
    Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
        ])
        .args(argv)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A world-writable sticky directory (like /tmp) in a directory only root writes, and
/// a file of root's beside it for planted links to point at.
struct Shared {
    _base: tempfile::TempDir,
    dir: PathBuf,
    victim: PathBuf,
}

impl Shared {
    fn new() -> Shared {
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = base.path().join("shared");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let victim = base.path().join("victim");
        std::fs::write(&victim, PRECIOUS).unwrap();
        Shared {
            _base: base,
            dir,
            victim,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// nobody creates `name`, readable and writable by all, and keeps it open: the
    /// returned handle reads whatever anyone ever writes into that file.
    fn plant_file(&self, name: &str) -> File {
        let path = self.path(name);
        assert_ok(&as_nobody(&["touch", s(&path)]));
        assert_ok(&as_nobody(&["chmod", "666", s(&path)]));
        assert_eq!(std::fs::metadata(&path).unwrap().uid(), NOBODY);
        File::open(&path).unwrap()
    }

    /// nobody makes `name` a symlink to root's file.
    fn plant_link(&self, name: &str) {
        let path = self.path(name);
        assert_ok(&as_nobody(&["ln", "-s", s(&self.victim), s(&path)]));
        assert!(std::fs::symlink_metadata(&path).unwrap().is_symlink());
    }

    fn victim_intact(&self) {
        assert_eq!(
            std::fs::read_to_string(&self.victim).unwrap(),
            PRECIOUS,
            "root wrote through a planted symlink"
        );
    }
}

/// Written by root, 0600, a file of its own (not a link), unreadable to nobody.
#[track_caller]
fn private_to_root(path: &Path) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(meta.is_file(), "{} is not a plain file", path.display());
    assert_eq!(
        (meta.uid(), meta.mode() & 0o7777),
        (0, 0o600),
        "{}",
        path.display()
    );
    let read = as_nobody(&["cat", s(path)]);
    assert!(
        !read.status.success() && read.stdout.is_empty(),
        "nobody read {}",
        path.display()
    );
}

#[track_caller]
fn never_written(mut held: File) {
    let mut got = Vec::new();
    held.read_to_end(&mut got).unwrap();
    assert!(
        got.is_empty(),
        "{} bytes landed in a planted file",
        got.len()
    );
}

#[track_caller]
fn refused_as_invalid_input(out: &Output) {
    assert_exit(out, 65);
    assert_eq!(json(out)["error"]["code"], "invalid_input");
}

#[test]
fn a_backup_never_writes_through_files_planted_in_a_shared_directory() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    let sh = Shared::new();
    let backup = |name: &str| d.ctl(&["--json", "backup", "--output", s(&sh.path(name))]);

    // Where authctl used to put its temporary: a file nobody holds open, a link to
    // root's file.
    let held = sh.plant_file(".stolen.backup.partial");
    assert_ok(&backup("stolen.backup"));
    never_written(held);
    private_to_root(&sh.path("stolen.backup"));

    sh.plant_link(".linked.backup.partial");
    assert_ok(&backup("linked.backup"));
    sh.victim_intact();
    private_to_root(&sh.path("linked.backup"));

    // The target itself: nobody's file is replaced, never written; a link is refused.
    let held = sh.plant_file("theirs.backup");
    assert_ok(&backup("theirs.backup"));
    never_written(held);
    private_to_root(&sh.path("theirs.backup"));

    sh.plant_link("target.backup");
    refused_as_invalid_input(&backup("target.backup"));
    sh.victim_intact();
    assert!(std::fs::symlink_metadata(sh.path("target.backup"))
        .unwrap()
        .is_symlink());

    // Each backup verifies, and no temporary is left behind.
    let bytes = std::fs::read(sh.path("theirs.backup")).unwrap();
    authd::backup_file::read_all(&bytes[..], authd::store::SCHEMA_VERSION).unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&sh.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".linked.backup.partial",
            ".stolen.backup.partial",
            "linked.backup",
            "stolen.backup",
            "target.backup",
            "theirs.backup"
        ]
    );
}

#[test]
fn a_qr_code_png_never_lands_in_a_file_someone_else_planted() {
    if !can_switch_uid() {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("alice");
    d.user_with_password("bob");
    let sh = Shared::new();

    let held = sh.plant_file("alice.png");
    let out = d.ctl(&[
        "--json",
        "enable-totp",
        "alice",
        "--qr-png",
        s(&sh.path("alice.png")),
    ]);
    assert_ok(&out);
    never_written(held);
    private_to_root(&sh.path("alice.png"));
    if have("zbarimg") {
        let decoded = Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(sh.path("alice.png"))
            .output()
            .unwrap();
        assert_eq!(stdout(&decoded).trim(), json(&out)["otpauth_uri"]);
    }

    // A link is refused before a secret is made: bob's enrolment does not start.
    sh.plant_link("bob.png");
    let out = d.ctl(&[
        "--json",
        "enable-totp",
        "bob",
        "--qr-png",
        s(&sh.path("bob.png")),
    ]);
    refused_as_invalid_input(&out);
    sh.victim_intact();
    assert_eq!(json(&d.ctl(&["--json", "show", "bob"]))["totp"], "off");
}

#[test]
fn backup_output_dash_is_standard_output() {
    let d = Daemon::start();
    d.user_with_password("alice");
    for args in [
        &["backup", "--output", "-"][..],
        &["--json", "backup", "--output", "-"][..],
    ] {
        let out = d.ctl(args);
        assert_ok(&out);
        let backup =
            authd::backup_file::read_all(&out.stdout[..], authd::store::SCHEMA_VERSION).unwrap();
        assert!(!backup.records.is_empty());
        assert!(
            stderr(&out).contains("written to standard output"),
            "{}",
            stderr(&out)
        );
    }
    // No file named `-` appears anywhere.
    assert!(!Path::new("-").exists());
}

/// The spool files in `dir` with extension `ext`, waiting until there are `n`.
fn spooled(dir: &Path, ext: &str, n: usize) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        if found.len() >= n {
            return found;
        }
        assert!(Instant::now() < deadline, "{n} .{ext} files never came");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn authd_writes_sms_and_mail_into_a_shared_spool_privately() {
    if !can_switch_uid() {
        return;
    }
    let sh = Shared::new();
    let (sms, mail) = (sh.path("sms"), sh.path("mail"));
    for dir in [&sms, &mail] {
        std::fs::create_dir(dir).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    // Message ids count up from 0: plant the names authd used to write through first.
    let mut held = Vec::new();
    for id in 0..16u64 {
        let name = format!("sms/{id:020}.part");
        if id % 2 == 0 {
            sh.plant_link(&name);
        } else {
            held.push(sh.plant_file(&name));
        }
    }
    let d = Daemon::start_with_config(&format!(
        "[sms]\ntransport = \"file\"\ndir = \"{}\"\n\
         [mail]\ntransport = \"file\"\ndir = \"{}\"\nfrom = \"authd@example.org\"\n\
         [reset]\nurl = \"https://id.example.org/reset?token={{token}}\"\n{TEST_CONFIG}",
        sms.display(),
        mail.display()
    ));
    for (name, phone) in [("alice", "+4930901820"), ("bob", "+4930901821")] {
        assert_ok(&d.ctl(&["add-user", name, "--email", &format!("{name}@example.org")]));
        assert_ok(&d.ctl(&["enable-sms", name, "--phone", phone]));
    }
    assert_ok(&d.ctl(&["send-reset", "alice"]));

    for path in spooled(&sms, "sms", 2) {
        private_to_root(&path);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("To: +49309018"));
    }
    for path in spooled(&mail, "eml", 1) {
        private_to_root(&path);
        assert!(std::fs::read_to_string(&path).unwrap().contains("token="));
    }
    sh.victim_intact();
    held.into_iter().for_each(never_written);
}
