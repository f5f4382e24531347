//! A PostgreSQL server of the test's own: a private cluster (Debian's
//! `/usr/lib/postgresql/*/bin` initdb and pg_ctl, package `postgresql`) in a temporary
//! directory, run as the `postgres` user (setpriv; the tests run as root), listening on
//! a free port of 127.0.0.1 (and 127.0.0.2, which its certificate does not name) with
//! trust authentication for the superuser `root`.
//! A test may stop, start and restart it (the shared server at 5432 is never touched),
//! and may have it speak TLS only, with a certificate from a CA made at test time
//! (`openssl`), for `localhost` and 127.0.0.1. Stopped and removed when dropped.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The server's TLS: its CA, and another CA that did not sign its certificate.
pub struct Tls {
    /// The CA that signed the server's certificate (PEM).
    pub ca: PathBuf,
    /// A CA of its own, unrelated to the server.
    pub other_ca: PathBuf,
}

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// Set when the server speaks TLS (and only TLS: `hostssl` in pg_hba.conf).
    pub tls: Option<Tls>,
}

/// The newest `/usr/lib/postgresql/VERSION/bin`, or `None`.
fn server_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn postgres_ids() -> (u32, u32) {
    let user = nix::unistd::User::from_name("postgres")
        .unwrap()
        .expect("a user postgres (Debian's postgresql package makes it)");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// Give `path` to the postgres user.
fn give(path: &Path) {
    let (uid, gid) = postgres_ids();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

#[track_caller]
fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[track_caller]
fn openssl(dir: &Path, args: &[&str]) {
    run(
        Command::new("openssl").args(args).current_dir(dir),
        &format!("openssl {}", args.join(" ")),
    );
}

/// A CA named `name` in `dir`: `name.crt` and `name.key`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            &format!("/CN=authd test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(crt)
}

/// `server.crt` and `server.key` in `dir`, signed by the CA `ca`, for localhost and
/// 127.0.0.1.
fn make_server_cert(dir: &Path, ca: &str) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
         keyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    for file in ["server.crt", "server.key"] {
        give(&dir.join(file));
    }
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

impl Cluster {
    /// A new cluster, started; with `tls`, it accepts TLS connections only. `None`
    /// (after the test has failed, or skipped visibly) when the server binaries or
    /// openssl are missing.
    #[track_caller]
    pub fn start(tls: bool) -> Option<Cluster> {
        let bin = server_bin();
        if !crate::peers::need(
            bin.is_some(),
            "the PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian package \
             postgresql)",
        ) || (tls && !crate::peers::program("openssl", "openssl"))
        {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        give(dir.path());
        let cluster = Cluster {
            bin: bin.unwrap(),
            port: free_port(),
            tls: tls.then(|| {
                let certs = dir.path().join("tls");
                std::fs::create_dir(&certs).unwrap();
                give(&certs);
                let ca = make_ca(&certs, "ca");
                make_server_cert(&certs, "ca");
                let other_ca = make_ca(&certs, "other-ca");
                Tls { ca, other_ca }
            }),
            dir,
        };
        cluster.init();
        cluster.pg_ctl(&["start", "-w", "-t", "60"]);
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` from the server binaries, as the postgres user.
    fn as_postgres(&self, program: &str) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(self.bin.join(program))
        .current_dir(self.dir.path())
        .env("LC_ALL", "C");
        cmd
    }

    fn init(&self) {
        run(
            self.as_postgres("initdb").arg("-D").arg(self.data()).args([
                "-U",
                "root",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]),
            "initdb",
        );
        let socket_dir = self.dir.path().join("socket");
        std::fs::create_dir(&socket_dir).unwrap();
        give(&socket_dir);
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1,127.0.0.2'\nport = {}\nunix_socket_directories = '{}'\n\
             max_connections = 40\nshared_buffers = 16MB\nfsync = on\n",
            self.port,
            socket_dir.display()
        );
        let host = match &self.tls {
            Some(_) => {
                let certs = self.dir.path().join("tls");
                conf.push_str(&format!(
                    "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                    certs.join("server.crt").display(),
                    certs.join("server.key").display()
                ));
                "hostssl"
            }
            None => "host",
        };
        let data = self.data();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(&mut file, conf.as_bytes()).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            format!("local all all trust\n{host} all all 127.0.0.0/8 trust\n"),
        )
        .unwrap();
    }

    /// `pg_ctl ARGS` on this cluster (its log in the cluster's directory).
    #[track_caller]
    fn pg_ctl(&self, args: &[&str]) {
        let log = self.dir.path().join("server.log");
        run(
            self.as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(&log)
                .args(args)
                .stdout(Stdio::null()),
            &format!("pg_ctl {} (log: {})", args.join(" "), self.log()),
        );
    }

    /// Stop the server (`mode`: smart, fast or immediate), and wait until it has.
    #[track_caller]
    pub fn stop(&self, mode: &str) {
        self.pg_ctl(&["stop", "-w", "-t", "60", "-m", mode]);
    }

    /// Start the stopped server, and wait until it accepts connections.
    #[track_caller]
    pub fn resume(&self) {
        self.pg_ctl(&["start", "-w", "-t", "60"]);
    }

    /// `pg_ctl restart -m mode`: the server stops (ending every connection) and starts.
    #[track_caller]
    pub fn restart(&self, mode: &str) {
        self.pg_ctl(&["restart", "-w", "-t", "60", "-m", mode]);
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The URL of database `db` as `root` on 127.0.0.1 (no sslmode in it).
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://root@127.0.0.1:{}/{db}", self.port)
    }

    /// Run `sql` on `db` (over the Unix socket, so whatever TLS the server demands on
    /// TCP); its output, unaligned, tuples only.
    #[track_caller]
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = run(
            Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-t",
                    "-A",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-U",
                    "root",
                ])
                .arg("-h")
                .arg(self.dir.path().join("socket"))
                .args(["-p", &self.port.to_string(), "-d", db, "-c", sql]),
            &format!("psql `{sql}`"),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new database `name`.
    #[track_caller]
    pub fn create_db(&self, name: &str) {
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
    }

    /// The `[store]` section for database `db`, with `extra` keys (`sslmode = ...`).
    pub fn store_config(&self, db: &str, extra: &str) -> String {
        format!(
            "[store]\nbackend = \"postgres\"\nurl = \"{}\"\npool_size = 4\n{extra}\n",
            self.url(db)
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Not pg_ctl(): nothing may panic while a failed test unwinds.
        let _ = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["stop", "-w", "-t", "60", "-m", "immediate"])
            .stdin(Stdio::null())
            .output();
    }
}
